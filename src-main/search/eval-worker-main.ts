/** Entry of a subnet-evaluation worker thread (built to out/main/eval-worker.js); see eval-worker.ts. */
import { parentPort } from 'node:worker_threads';
import { serveEvalWorker } from './eval-worker';

if (!parentPort) throw new Error('eval-worker.js runs as a worker thread of a search runner');
serveEvalWorker(parentPort);
