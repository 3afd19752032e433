/**
 * The worker's side of worker-protocol.ts: listens on its parent channel, validates each request against the op
 * table, runs the handler, and answers with progress, the result or a typed error. Transport-agnostic (a Node fork's
 * IPC channel or an Electron utilityProcess's parentPort, jobs/transport.ts), so it is unit-tested in-process too.
 */
import { ZodError } from 'zod';
import { ParentToWorkerSchema, WorkerError, inputError, resultIssue, type OpInput, type OpParsedInput, type OpResult, type OpTable, type WorkerErrorInfo, type WorkerProgress, type WorkerToParent } from './worker-protocol';

/** A handler's view of its request: report progress. */
export interface OpContext {
  progress(p: WorkerProgress): void;
}

export type OpHandlers<T extends OpTable> = { [K in keyof T]: (input: OpParsedInput<T, K>, ctx: OpContext) => Promise<OpResult<T, K>> | OpResult<T, K> };

export interface WorkerChannel {
  send(msg: WorkerToParent): void;
  onMessage(cb: (msg: unknown) => void): void;
}

export interface ServeWorkerOptions<T extends OpTable> {
  ops: T;
  handlers: OpHandlers<T>;
  /**
   * Whether an error a handler threw is the caller's fault (its message is for the user): it answers as kind `input`;
   * anything else as `failed`. A {@link WorkerError} thrown by a handler keeps its own kind and field.
   */
  isInputError?: (e: unknown) => boolean;
  /** Called on `shutdown` (default: exit the process). */
  exit?: () => void;
}

export function describeError(e: unknown, isInputError: (e: unknown) => boolean): WorkerErrorInfo {
  if (e instanceof WorkerError) return e.info;
  if (e instanceof ZodError) return inputError(e);
  const message = e instanceof Error ? e.message || e.name : String(e);
  return { kind: isInputError(e) ? 'input' : 'failed', message };
}

/**
 * Runs `op` in this process the way a worker does (input checked against the table; a refusal is a `WorkerError`
 * of kind `input` naming the field), and checks the result against the table too, so a caller that has the handlers
 * at hand (the CLI) gets exactly what a worker's client would.
 */
export async function callOp<T extends OpTable, K extends keyof T & string>(ops: T, handlers: OpHandlers<T>, op: K, input: OpInput<T, K>, ctx: OpContext): Promise<OpResult<T, K>> {
  const parsed = ops[op].input.safeParse(input);
  if (!parsed.success) throw new WorkerError(inputError(parsed.error));
  const result = ops[op].result.safeParse(await handlers[op](parsed.data as OpParsedInput<T, K>, ctx));
  if (!result.success) throw new WorkerError({ kind: 'failed', message: `unexpected result of '${op}': ${resultIssue(result.error)}` });
  return result.data as OpResult<T, K>;
}

/** Serves `ops` on `channel`, one request at a time; sends `ready` first. */
export function serveWorker<T extends OpTable>(channel: WorkerChannel, o: ServeWorkerOptions<T>): void {
  const isInputError = o.isInputError ?? (() => false);
  let running: number | null = null;
  channel.onMessage((raw) => {
    const parsed = ParentToWorkerSchema.safeParse(raw);
    if (!parsed.success) {
      // Not ours to answer (no id to answer to): say so on stderr, where the parent keeps the tail.
      process.stderr.write(`worker: ignored a malformed message: ${parsed.error.issues[0]?.message ?? 'malformed'}\n`);
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'shutdown') {
      (o.exit ?? (() => process.exit(0)))();
      return;
    }
    const { id, op } = msg;
    const fail = (error: WorkerErrorInfo) => channel.send({ type: 'error', id, error });
    if (running !== null) return fail({ kind: 'busy', message: `the worker is running request ${running}; it runs one request at a time` });
    if (!Object.hasOwn(o.ops, op)) return fail({ kind: 'unknown-op', message: `the worker has no operation '${op}' (it has ${Object.keys(o.ops).join(', ')})` });
    const input = o.ops[op].input.safeParse(msg.input);
    if (!input.success) return fail(inputError(input.error));
    running = id;
    const ctx: OpContext = { progress: (p) => channel.send({ type: 'progress', id, ...p }) };
    void (async () => {
      try {
        // The table's schema for `op` parsed the input: it is that op's input.
        const handler = o.handlers[op as keyof T] as (input: unknown, ctx: OpContext) => Promise<unknown> | unknown;
        const result = await handler(input.data, ctx);
        channel.send({ type: 'result', id, result });
      } catch (e) {
        fail(describeError(e, isInputError));
      } finally {
        running = null;
      }
    })();
  });
  channel.send({ type: 'ready', pid: process.pid, ops: Object.keys(o.ops) });
}
