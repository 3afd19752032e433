/**
 * Dataset jobs (imports and demo generation) run one at a time, each in a fresh worker thread (data-worker.ts), so
 * the seconds of synchronous decoding never block the thread that answers the UI, and a crash in a decoder takes down
 * only its worker. Progress, the result and failures arrive as `datasets.job` events.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { getDataset } from '../data/files';
import type { DatasetInfo } from '../data/types';
import type { DatasetJob, DatasetJobEvent } from '../ipc/api-types';
import type { Db } from '../store/db';
import { findBuilt } from './built-paths';
import { DataWorkerMessageSchema, type DataJob } from './data-messages';
import { ApiError } from './errors';

/** Where the built worker is (out/main/data-worker.js); `$ALPHANET_DATA_WORKER` overrides. */
export const defaultDataWorkerPath = (): string => findBuilt('data-worker.js', { env: 'ALPHANET_DATA_WORKER', what: 'the dataset worker' });

export interface DataJobsOptions {
  home: string;
  /** The service's connection, to read the finished dataset's row. */
  db: Db;
  emit: (e: DatasetJobEvent) => void;
  /** Default {@link defaultDataWorkerPath}. */
  workerPath?: () => string;
}

export interface StartedJob {
  job: DatasetJob;
  /** Settles when the job ends: the dataset, or an {@link ApiError} carrying the job's error message. */
  done: Promise<{ dataset: DatasetInfo; reused: boolean }>;
}

export class DataJobs {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly workers = new Set<Worker>();
  private closed = false;

  constructor(private readonly o: DataJobsOptions) {}

  /** Queues a job and returns at once; throws (before queueing) when the worker is not built. */
  start(job: Omit<Extract<DataJob, { kind: 'import' }>, 'home'> | { kind: 'demo' }): StartedJob {
    const path = (this.o.workerPath ?? defaultDataWorkerPath)();
    const info: DatasetJob = { jobId: `job-${randomUUID()}`, kind: job.kind, source: job.kind === 'import' ? job.path : 'demo' };
    const done = this.chain.then(() => this.run(path, info, { ...job, home: this.o.home } as DataJob));
    this.chain = done.catch(() => undefined);
    return { job: info, done };
  }

  private run(path: string, info: DatasetJob, job: DataJob): Promise<{ dataset: DatasetInfo; reused: boolean }> {
    const { jobId } = info;
    if (this.closed) return Promise.reject(new ApiError(500, 'the service is shutting down'));
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        this.o.emit({ jobId, type: 'error', error: { message } });
        reject(new ApiError(400, message));
      };
      const worker = new Worker(path, { workerData: job });
      this.workers.add(worker);
      worker.on('message', (raw: unknown) => {
        const m = DataWorkerMessageSchema.safeParse(raw);
        if (!m.success) return fail(`malformed message from the dataset worker: ${JSON.stringify(raw).slice(0, 200)}`);
        const msg = m.data;
        if (msg.type === 'progress') {
          if (!settled) this.o.emit({ jobId, type: 'progress', progress: msg.progress });
        } else if (msg.type === 'error') {
          fail(msg.message);
        } else if (!settled) {
          try {
            const dataset = getDataset(this.o.db, msg.datasetId);
            settled = true;
            this.o.emit({ jobId, type: 'done', dataset, reused: msg.reused });
            resolve({ dataset, reused: msg.reused });
          } catch (e) {
            fail((e as Error).message);
          }
        }
      });
      worker.on('error', (e) => fail(`the dataset worker failed: ${e.message}`));
      worker.on('exit', (code) => {
        this.workers.delete(worker);
        fail(this.closed ? 'the service shut down before the job finished' : `the dataset worker stopped (exit code ${code}) before finishing`);
      });
    });
  }

  /** Stops running workers (their imports leave nothing behind: storage is all-or-nothing) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }
}
