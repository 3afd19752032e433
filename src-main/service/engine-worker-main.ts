/**
 * Entry of the engine worker process (built to out/main/engine-worker.js): serves the operations of
 * engine-protocol.ts (backend report, subnet evaluation, export, latency table) one request at a time, for the
 * service's `WorkerClient` (engine-worker.ts). The service and `alphanet serve` start it with `child_process.fork`,
 * the desktop app with `utilityProcess.fork`, so TF.js loads here and never in the process that answers the UI.
 * It leaves when its parent goes (a Node fork's IPC channel closes; a utilityProcess ends with the app).
 */
import { serveWorker } from '../jobs/worker-host';
import { childTransport } from '../jobs/transport';
import { engineHandlers } from './engine-ops';
import { ENGINE_OPS } from './engine-protocol';
import { isUserError } from './errors';

const transport = childTransport();
serveWorker(transport, { ops: ENGINE_OPS, handlers: engineHandlers({ env: process.env }), isInputError: isUserError });
process.on('disconnect', () => process.exit(0));
