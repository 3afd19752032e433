/**
 * Entry of the training runner process (built to out/main/runner.js). The CLI starts it with `child_process.fork`,
 * the desktop app with `utilityProcess.fork`; either way it speaks only through `childTransport()`.
 */
import { childTransport } from './transport';
import { serveRunner } from './runner';
import { runTorch } from '../jobs/torch-run';

// The entry point sits above every layer, so it hands train/ the torch engine's process driver (jobs/).
serveRunner(childTransport(), undefined, runTorch);
