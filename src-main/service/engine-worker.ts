/**
 * The service's engine worker: one child process (engine-worker-main.ts) that does the work needing TF.js — the
 * backend probe, subnet evaluation, export, the latency table — one request at a time (two evaluations never
 * compete for the cores, and the evaluation cache sees them in order), started on first use and again after it
 * died. Under Node it is a `child_process.fork` (Electron in Node mode when the parent is Electron); the desktop app
 * passes a `utilityProcess` spawner (utility-runner.ts).
 *
 * Its errors become what the API answers: an `input` error is the caller's (400, at the call's field), a cancelled
 * request 400 ("… was cancelled"), anything else a failure on our side (500).
 *
 * A request started with a `cancelKey` (e.g. `latency:<runId>`) can be cancelled by that key ({@link EngineWorker.cancel}):
 * the long operations the app starts (latency table, predictor build, export) are cancelled by what the user sees
 * (the run, the export's folder), not by a request id the page never had.
 */
import { forkRunner } from '../jobs/runner-process';
import { WorkerClient, type SpawnWorker } from '../jobs/worker-client';
import { WorkerError, type OpInput, type OpResult, type ParentToWorker, type WorkerProgress } from '../jobs/worker-protocol';
import { findBuilt } from './built-paths';
import { ENGINE_OPS, type EngineOp, type EngineOps } from './engine-protocol';
import { resolve } from 'node:path';
import { ApiError } from './errors';

/** Cancel keys of the long operations the app starts: one per run (latency table, predictor) or per target folder. */
export const latencyBuildKey = (runId: number): string => `latency.build:${runId}`;
export const predictorBuildKey = (runId: number): string => `predictor.build:${runId}`;
export const exportKey = (dir: string): string => `export:${resolve(dir)}`;

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
  /** The requests in flight or queued that can be cancelled, by key. */
  private readonly cancellable = new Map<string, Set<AbortController>>();

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
    o: { what: string; field?: string; timeoutMs?: number; onProgress?: (p: WorkerProgress) => void; cancelKey?: string },
  ): Promise<OpResult<EngineOps, K>> {
    const abort = new AbortController();
    const key = o.cancelKey;
    if (key !== undefined) this.cancellable.set(key, (this.cancellable.get(key) ?? new Set()).add(abort));
    try {
      return await this.client.request(op, { ...input, home: this.o.home } as OpInput<EngineOps, K>, { timeoutMs: o.timeoutMs, onProgress: o.onProgress, signal: abort.signal });
    } catch (e) {
      if (!(e instanceof WorkerError)) throw e;
      if (e.kind === 'input') {
        throw new ApiError(400, o.field ? `${o.field}: ${e.message}` : e.message, o.field);
      }
      if (e.kind === 'cancelled') throw new ApiError(400, `${o.what} was cancelled`);
      if (e.kind === 'closed') throw new ApiError(500, `${o.what}: stopped because the service shut down`);
      throw new ApiError(500, `${o.what} failed: ${e.message}`);
    } finally {
      if (key !== undefined) {
        const set = this.cancellable.get(key);
        set?.delete(abort);
        if (set?.size === 0) this.cancellable.delete(key);
      }
    }
  }

  /**
   * Cancels every request started with `key`, queued or running (a running one's worker is killed; the next request
   * gets a fresh one). Each rejects with "… was cancelled" once its worker has exited. False when none was pending.
   */
  cancel(key: string): boolean {
    const set = this.cancellable.get(key);
    if (!set?.size) return false;
    for (const a of set) a.abort();
    return true;
  }

  /** Kills the worker; running and queued requests fail. */
  close(): void {
    this.client.close();
  }
}
