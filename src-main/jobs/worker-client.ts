/**
 * The parent's side of worker-protocol.ts: one worker process, started on the first request (and again after it
 * died), fed one request at a time from a FIFO queue. Whatever happens to the worker, every request settles:
 * - its result, validated against the op table (output that does not fit is a `failed` error on our side);
 * - the worker's typed error (`input` with the field at fault, `failed`, …);
 * - `exited` when the worker dies during the request (crash, out of memory, killed), with the end of its stderr;
 *   the requests behind it go to a fresh worker;
 * - `timeout` when it runs longer than allowed (the worker is killed);
 * - `cancelled` when the caller's signal aborts it: a queued request leaves the queue, a running one is stopped by
 *   killing its worker. There is no cancel message to the worker: TF.js kernels run synchronously, so a worker could
 *   read one only after the work it should stop; the requests behind it get a fresh worker, as after a timeout.
 *   A stopped request (cancel or timeout) settles once its process has exited, so the caller may remove what it
 *   was writing (an export's temporary folder) without the dying process adding a file after that;
 * - `closed` once {@link WorkerClient.close} was called.
 * A pool is several clients: each worker runs one request at a time (it refuses a second as `busy`).
 */
import type { RunnerHandle } from './runner-process';
import { WorkerError, WorkerToParentSchema, inputError, resultIssue, type OpInput, type OpResult, type OpTable, type ParentToWorker, type WorkerProgress, type WorkerToParent } from './worker-protocol';

/** Starts one worker process (a Node fork, or an Electron utilityProcess in the desktop app). */
export type SpawnWorker = () => RunnerHandle<ParentToWorker>;

export interface WorkerClientOptions<T extends OpTable> {
  ops: T;
  spawn: SpawnWorker;
  /** The worker in words, for messages (`the engine worker`). */
  name: string;
  /** Default limit of one request, in ms (default 30 min); a request may set its own. */
  timeoutMs?: number;
  /** How long a fresh worker may take to say `ready`, in ms (default 60 s). */
  readyTimeoutMs?: number;
}

export interface RequestOptions {
  onProgress?: (p: WorkerProgress) => void;
  /** Limit of this request in ms (default: the client's). */
  timeoutMs?: number;
  /** Aborting it cancels the request (`cancelled`), queued or running. */
  signal?: AbortSignal;
}

interface Pending {
  id: number;
  op: string;
  input: unknown;
  opts: RequestOptions;
  resolve: (v: unknown) => void;
  reject: (e: WorkerError) => void;
}

interface Live {
  handle: RunnerHandle<ParentToWorker>;
  ready: Promise<void>;
  /** Set when the process has exited: its description. */
  exited?: string;
  /** Resolves when the process has exited. */
  gone: Promise<void>;
  /** Rejects the request in flight (the process exited or was killed). */
  abort?: (e: WorkerError) => void;
  /** Receives the messages of the request in flight. */
  deliver?: (m: WorkerToParent) => void;
}

export class WorkerClient<T extends OpTable> {
  private nextId = 1;
  private readonly queue: Pending[] = [];
  private live: Live | undefined;
  private pumping = false;
  private closed = false;

  constructor(private readonly o: WorkerClientOptions<T>) {}

  /** The running worker's pid (undefined before the first request and after it exited). */
  get pid(): number | undefined {
    return this.live && !this.live.exited ? this.live.handle.pid : undefined;
  }

  /** Requests waiting or running. */
  get pending(): number {
    return this.queue.length + (this.pumping ? 1 : 0);
  }

  /**
   * Queues `op` behind the requests before it and resolves with its result. The input is checked here first, so a
   * refused input costs no process.
   */
  request<K extends keyof T & string>(op: K, input: OpInput<T, K>, opts: RequestOptions = {}): Promise<OpResult<T, K>> {
    if (this.closed) return Promise.reject(new WorkerError({ kind: 'closed', message: `${this.o.name} is closed` }));
    const checked = this.o.ops[op].input.safeParse(input);
    if (!checked.success) return Promise.reject(new WorkerError(inputError(checked.error)));
    if (opts.signal?.aborted) return Promise.reject(this.cancelled(op));
    return new Promise<OpResult<T, K>>((resolve, reject) => {
      const pending: Pending = { id: this.nextId++, op, input, opts, resolve: resolve as (v: unknown) => void, reject };
      // Cancelled while queued: it leaves the queue (once running, run() stops it).
      opts.signal?.addEventListener(
        'abort',
        () => {
          const at = this.queue.indexOf(pending);
          if (at >= 0) this.queue.splice(at, 1)[0].reject(this.cancelled(op));
        },
        { once: true },
      );
      this.queue.push(pending);
      void this.pump();
    });
  }

  /** Kills the worker; the request in flight and the queued ones fail as `closed`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const e = new WorkerError({ kind: 'closed', message: `${this.o.name} was closed` });
    for (const p of this.queue.splice(0)) p.reject(e);
    const live = this.live;
    this.live = undefined;
    if (live && !live.exited) {
      live.abort?.(e);
      live.handle.send({ type: 'shutdown' });
      live.handle.kill();
    }
  }

  private cancelled(op: string): WorkerError {
    return new WorkerError({ kind: 'cancelled', message: `${this.o.name}: '${op}' was cancelled` });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let p = this.queue.shift(); p; p = this.queue.shift()) {
        try {
          p.resolve(await this.run(p));
        } catch (e) {
          // A worker killed by `close` reports its exit: say why it went.
          if (this.closed) p.reject(new WorkerError({ kind: 'closed', message: `${this.o.name} was closed` }));
          else p.reject(e instanceof WorkerError ? e : new WorkerError({ kind: 'failed', message: (e as Error)?.message ?? String(e) }));
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The worker, started if there is none (or the last one exited); resolves once it said `ready`. */
  private worker(): Live {
    if (this.live && !this.live.exited) return this.live;
    const handle = this.o.spawn();
    let markGone!: () => void;
    const live: Live = { handle, ready: Promise.resolve(), gone: new Promise<void>((r) => (markGone = r)) };
    live.ready = new Promise<void>((resolve, reject) => {
      const ms = this.o.readyTimeoutMs ?? 60_000;
      const timer = setTimeout(() => {
        reject(new WorkerError({ kind: 'timeout', message: `${this.o.name} did not start within ${ms / 1000} s` }));
        handle.kill();
      }, ms);
      handle.onMessage((raw) => {
        const m = WorkerToParentSchema.safeParse(raw);
        if (!m.success) {
          process.stderr.write(`${this.o.name}: ignored a malformed message: ${m.error.issues[0]?.message ?? 'malformed'}\n`);
        } else if (m.data.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else {
          live.deliver?.(m.data);
        }
      });
      handle.onExit((code, signal, detail) => {
        clearTimeout(timer);
        live.exited = `${this.o.name} exited (${signal ? `signal ${signal}` : `code ${code}`})${detail ? `: ${detail}` : ''}`;
        const e = new WorkerError({ kind: 'exited', message: live.exited });
        markGone();
        reject(e);
        live.abort?.(e);
      });
    });
    // A start that fails is reported to the request that waited for it; keep it from being an unhandled rejection.
    live.ready.catch(() => undefined);
    this.live = live;
    return live;
  }

  private async run(p: Pending): Promise<unknown> {
    if (this.closed) throw new WorkerError({ kind: 'closed', message: `${this.o.name} was closed` });
    if (p.opts.signal?.aborted) throw this.cancelled(p.op);
    const live = this.worker();
    await live.ready;
    // Cancelled while its worker was starting.
    if (p.opts.signal?.aborted) throw this.cancelled(p.op);
    const spec = this.o.ops[p.op];
    return new Promise<unknown>((resolve, reject) => {
      let done = false;
      const settle = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        p.opts.signal?.removeEventListener('abort', cancel);
        live.abort = undefined;
        live.deliver = undefined;
        fn();
      };
      const stop = (e: WorkerError, why: string) =>
        settle(() => {
          // Dead from now on, for the requests behind this one too: they get a fresh worker.
          live.exited ??= `${this.o.name} was stopped ${why}`;
          live.handle.kill();
          // Answered once the process is gone; SIGKILL if it ignores the first signal, and an answer regardless after
          // 10 s (a process that never reports its exit must not hold the queue).
          const hard = setTimeout(() => live.handle.kill('SIGKILL'), 5_000);
          const last = setTimeout(finish, 10_000);
          hard.unref?.();
          last.unref?.();
          function finish(): void {
            clearTimeout(hard);
            clearTimeout(last);
            reject(e);
          }
          void live.gone.then(finish);
        });
      const ms = p.opts.timeoutMs ?? this.o.timeoutMs ?? 30 * 60_000;
      const timer = setTimeout(() => stop(new WorkerError({ kind: 'timeout', message: `${this.o.name}: '${p.op}' took longer than ${Math.round(ms / 1000)} s and was stopped` }), 'after a timeout'), ms);
      const cancel = () => stop(this.cancelled(p.op), 'by a cancel');
      p.opts.signal?.addEventListener('abort', cancel, { once: true });
      live.abort = (e) => settle(() => reject(e));
      live.deliver = (msg) => {
        if (msg.type === 'ready' || msg.id !== p.id) return;
        if (msg.type === 'progress') {
          const { type: _t, id: _i, ...progress } = msg;
          p.opts.onProgress?.(progress);
        } else if (msg.type === 'error') {
          settle(() => reject(new WorkerError(msg.error)));
        } else {
          const r = spec.result.safeParse(msg.result);
          settle(() => (r.success ? resolve(r.data) : reject(new WorkerError({ kind: 'failed', message: `${this.o.name}: unexpected result of '${p.op}' (${resultIssue(r.error)})` }))));
        }
      };
      live.handle.send({ type: 'request', id: p.id, op: p.op, input: p.input });
    });
  }
}
