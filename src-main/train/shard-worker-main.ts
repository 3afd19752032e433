/** Entry of a data-parallel training worker thread (built to out/main/train-worker.js); see shard-worker.ts. */
import { parentPort } from 'node:worker_threads';
import { serveShardWorker } from './shard-worker';

if (!parentPort) throw new Error('train-worker.js runs as a worker thread of the training runner');
serveShardWorker(parentPort);
