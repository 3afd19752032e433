/**
 * The service's engine worker: one child process (engine-worker-main.ts) that does the work needing TF.js — the
 * backend probe, subnet evaluation, export, the latency table — one request at a time (two evaluations never
 * compete for the cores, and the evaluation cache sees them in order), started on first use and again after it
 * died. Under Node it is a `child_process.fork` (Electron in Node mode when the parent is Electron); the desktop app
 * passes a `utilityProcess` spawner (utility-runner.ts).
 *
 * Its errors become what the API answers: an `input` error is the caller's (400, at the call's field), anything else
 * a failure on our side (500).
 */
import { forkRunner } from '../jobs/runner-process';
import { WorkerClient, type SpawnWorker } from '../jobs/worker-client';
import { WorkerError, type OpInput, type OpResult, type ParentToWorker, type WorkerProgress } from '../jobs/worker-protocol';
import { findBuilt } from './built-paths';
import { ENGINE_OPS, type EngineOp, type EngineOps } from './engine-protocol';
import { ApiError } from './errors';

/** The built worker (out/main/engine-worker.js); `$ALPHANET_ENGINE_WORKER` overrides. */
export const defaultEngineWorkerPath = (): string => findBuilt('engine-worker.js', { env: 'ALPHANET_ENGINE_WORKER', what: 'the engine worker' });

/** How long one evaluation, export or table build may take before the worker is killed (30 min: a large split on `cpu`). */
export const ENGINE_JOB_TIMEOUT_MS = 30 * 60_000;

/** A Node child process running the engine worker, with `env` on top of this process's environment. */
export function forkEngineWorker(env: NodeJS.ProcessEnv = {}, path: string = defaultEngineWorkerPath()): ReturnType<SpawnWorker> {
  return forkRunner<ParentToWorker>(path, { env: { ...process.env, ...env, ELECTRON_RUN_AS_NODE: '1' } });
}

export interface EngineWorkerOptions {
  home: string;
  /** Default: {@link forkEngineWorker} with `env`. */
  spawn?: SpawnWorker;
  /** Extra environment of a forked worker (e.g. `ALPHANET_BACKEND`); default none. */
  env?: NodeJS.ProcessEnv;
}

export class EngineWorker {
  readonly client: WorkerClient<EngineOps>;

  constructor(private readonly o: EngineWorkerOptions) {
    this.client = new WorkerClient({ ops: ENGINE_OPS, spawn: o.spawn ?? (() => forkEngineWorker(o.env)), name: 'the engine worker', timeoutMs: ENGINE_JOB_TIMEOUT_MS });
  }

  /**
   * Runs `op` for this service's home, queued behind the requests before it. Failures reject with an {@link ApiError}:
   * an input error 400 at `field`, the API argument the call took it from (the worker's own field names its input,
   * which the caller built), with the message prefixed `<field>: `; anything else 500, naming `what`.
   */
  async run<K extends EngineOp>(
    op: K,
    input: Omit<OpInput<EngineOps, K>, 'home'>,
    o: { what: string; field?: string; timeoutMs?: number; onProgress?: (p: WorkerProgress) => void },
  ): Promise<OpResult<EngineOps, K>> {
    try {
      return await this.client.request(op, { ...input, home: this.o.home } as OpInput<EngineOps, K>, { timeoutMs: o.timeoutMs, onProgress: o.onProgress });
    } catch (e) {
      if (!(e instanceof WorkerError)) throw e;
      if (e.kind === 'input') {
        throw new ApiError(400, o.field ? `${o.field}: ${e.message}` : e.message, o.field);
      }
      if (e.kind === 'closed') throw new ApiError(500, `${o.what}: stopped because the service shut down`);
      throw new ApiError(500, `${o.what} failed: ${e.message}`);
    }
  }

  /** Kills the worker; running and queued requests fail. */
  close(): void {
    this.client.close();
  }
}
