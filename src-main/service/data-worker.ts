/**
 * Entry of the dataset worker thread (built to out/main/data-worker.js): runs one import or demo generation, which
 * decode and hash synchronously for seconds, away from the thread that answers the UI. It opens its own connection
 * to the home's database (WAL: the main thread keeps reading meanwhile) and reports through `parentPort`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ensureDemoDataset } from '../data/demo';
import { listDatasets } from '../store/datasets';
import { importDataset } from '../data/import';
import { openHomeDatabase } from '../store/db';
import { DataJobSchema, type DataWorkerMessage } from './data-messages';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('data-worker.js must run as a worker thread of the workbench service');
  const send = (m: DataWorkerMessage) => port.postMessage(m);
  try {
    const job = DataJobSchema.parse(workerData);
    const db = openHomeDatabase(job.home);
    try {
      if (job.kind === 'demo') {
        const before = new Set(listDatasets(db).filter((d) => d.format === 'demo').map((d) => d.id));
        send({ type: 'progress', progress: { phase: 'decode', done: 0, total: 1, etaSeconds: null } });
        const info = await ensureDemoDataset(job.home, db);
        send({ type: 'progress', progress: { phase: 'write', done: 1, total: 1, etaSeconds: 0 } });
        send({ type: 'done', datasetId: info.id, reused: before.has(info.id) });
      } else {
        const r = await importDataset(job.home, db, job.path, {
          format: job.format,
          name: job.name,
          valFraction: job.valFraction,
          size: job.size,
          channels: job.channels,
          within: job.within,
          onProgress: (progress) => send({ type: 'progress', progress }),
        });
        send({ type: 'done', datasetId: r.info.id, reused: r.existing });
      }
    } finally {
      db.close();
    }
  } catch (e) {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

void main();
