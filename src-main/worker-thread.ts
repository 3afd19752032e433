/**
 * The protocol of the engine's worker-thread pools (train/data-parallel.ts, search/eval-pool.ts), both sides: the
 * parent posts one `init` and waits for `ready`, then one request at a time, each answered `done` or `failed` with
 * its id; `failed` with id −1 means the thread could not start. A thread that exits, errors or cannot start breaks
 * its pool: the request in flight and every later one fail with an error naming the thread. A leaf module: every
 * layer may use it.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * The calling thread's scheduler counters (Linux `/proc/thread-self/schedstat`), ms: time on a CPU, and time runnable
 * but waiting for one. Undefined where the file is missing. How the pools' timings tell a thread slowed by contention
 * (more CPU for the same work) from one slowed by waiting for a core (load, or another thread of the process).
 */
export function threadSchedstat(): { cpuMs: number; waitMs: number } | undefined {
  try {
    const [cpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return { cpuMs: cpu / 1e6, waitMs: wait / 1e6 };
  } catch {
    return undefined;
  }
}

/** CPU time of this whole process so far, ms: every thread, V8's GC and compiler threads included (`process.cpuUsage`). */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export type ThreadReply<Done extends { type: 'done'; id: number }> = { type: 'ready' } | Done | { type: 'failed'; id: number; message: string };

/** The parent's handle on one worker thread. */
export class PoolThread<Request extends { id: number }, Done extends { type: 'done'; id: number }> {
  /** The first error that broke the thread (exit, error, failed start); every later request rejects with it. */
  broken?: Error;
  private pending?: { resolve: (d: Done) => void; reject: (e: Error) => void };
  private closing = false;

  private constructor(readonly worker: Worker) {}

  /**
   * Starts the thread at `path`, posts `init`; `ready` resolves once the thread is ready. Errors are `error(text)`
   * with the text naming the thread (`name`, e.g. `training worker 1`): `<name> exited (code 1)`, `<name> could not
   * start: …`, `<name>: <a failed request's message>`. `onBroken` hears the first breaking error (the pool then
   * refuses further work).
   */
  static start<Request extends { id: number }, Done extends { type: 'done'; id: number }>(
    path: string,
    init: unknown,
    o: { name: string; error: (text: string) => Error; onBroken: (e: Error) => void },
  ): { thread: PoolThread<Request, Done>; ready: Promise<void> } {
    const thread = new PoolThread<Request, Done>(new Worker(path));
    const fail = (why: string) => o.error(`${o.name} ${why}`);
    const onBroken = o.onBroken;
    const ready = new Promise<void>((resolve, reject) => {
      let started = false;
      const breakWith = (why: string) => {
        const err = fail(why);
        thread.broken ??= err;
        onBroken(err);
        if (!started) reject(err);
        thread.settle((p) => p.reject(err));
      };
      thread.worker.on('message', (m: ThreadReply<Done>) => {
        if (m.type === 'ready') {
          started = true;
          resolve();
        } else if (m.type === 'failed') {
          if (m.id === -1) breakWith(`could not start: ${m.message}`);
          else thread.settle((p) => p.reject(o.error(`${o.name}: ${m.message}`)));
        } else {
          thread.settle((p) => p.resolve(m));
        }
      });
      thread.worker.on('error', (e) => breakWith(`failed: ${e.message}`));
      thread.worker.on('exit', (code) => {
        if (!thread.closing) breakWith(`exited (code ${code})`);
      });
      thread.worker.postMessage(init);
    });
    return { thread, ready };
  }

  private settle(f: (p: NonNullable<PoolThread<Request, Done>['pending']>) => void): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) f(p);
  }

  /** Posts one request and resolves with its `done` reply (one request at a time). */
  request(req: Request): Promise<Done> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<Done>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(req);
    });
  }

  /** Stops the thread; its exit then breaks nothing. */
  terminate(): Promise<number> {
    this.closing = true;
    return this.worker.terminate();
  }
}

/** The thread side: `start(init)` once, then `handle(request)` for each request; errors become `failed` replies. */
export function servePoolThread<Init extends { type: 'init' }, Request extends { id: number }, Done extends { type: 'done'; id: number }>(
  port: { postMessage(m: ThreadReply<Done>): void; on(event: 'message', f: (m: unknown) => void): void },
  start: (init: Init) => Promise<void>,
  handle: (req: Request) => Done,
): void {
  port.on('message', (raw) => {
    const m = raw as Init | Request;
    if ((m as Init).type === 'init') {
      start(m as Init).then(
        () => port.postMessage({ type: 'ready' }),
        (e: unknown) => port.postMessage({ type: 'failed', id: -1, message: (e as Error)?.message ?? String(e) }),
      );
      return;
    }
    const req = m as Request;
    try {
      port.postMessage(handle(req));
    } catch (e) {
      port.postMessage({ type: 'failed', id: req.id, message: (e as Error)?.message ?? String(e) });
    }
  });
}
