/**
 * The protocol of a worker process: a child that does one operation at a time for its parent and answers with
 * typed, validated messages (the engine worker, service/engine-worker-main.ts, is one). Generic over an *op table*:
 * for each operation name, the zod schema of its input and of its result. Both ends validate what they receive
 * against the same table, so the table is the one definition of the interface.
 *
 * Parent → worker: `request` (an id, the op, its input) and `shutdown`.
 * Worker → parent: `ready` once it listens, then per request `progress`* and one `result` or `error`.
 *
 * Every message of a request carries its id, so a pool can route replies, and a worker refuses a second request
 * while one is running (`busy`): it does one thing at a time, and parallelism comes from more workers. No TF.js here
 * (the service and Electron main import it).
 */
import { z } from 'zod';

/** An op table: for each operation, the schema of its input and of its result. */
export type OpTable = Record<string, { input: z.ZodType; result: z.ZodType }>;
/** What a caller passes for `op` (before defaults). */
export type OpInput<T extends OpTable, K extends keyof T> = z.input<T[K]['input']>;
/** What a handler receives for `op` (validated, defaults applied). */
export type OpParsedInput<T extends OpTable, K extends keyof T> = z.output<T[K]['input']>;
/** What `op` answers. */
export type OpResult<T extends OpTable, K extends keyof T> = z.output<T[K]['result']>;

/**
 * Why a request failed:
 * - `input`: the caller's input is refused (with `field`, the dotted path of the input at fault, when one is);
 * - `failed`: the operation failed for another reason (a bug, the environment);
 * - `busy`: the worker was already running a request (it runs one at a time);
 * - `unknown-op`: the worker has no such operation;
 * - `exited`, `timeout`, `cancelled`, `closed`: said by the parent's side: the worker died during the request, took
 *   longer than allowed (and was killed), the caller cancelled it, or the client was closed.
 */
export const WORKER_ERROR_KINDS = ['input', 'failed', 'busy', 'unknown-op', 'exited', 'timeout', 'cancelled', 'closed'] as const;
export type WorkerErrorKind = (typeof WORKER_ERROR_KINDS)[number];

export const WorkerErrorInfoSchema = z.object({
  kind: z.enum(WORKER_ERROR_KINDS),
  /** For the user; it does not repeat the field (callers that show one field prefix it: `<field>: <message>`). */
  message: z.string(),
  field: z.string().optional(),
});
export type WorkerErrorInfo = z.infer<typeof WorkerErrorInfoSchema>;

/** A failed request, as the caller sees it. */
export class WorkerError extends Error {
  override name = 'WorkerError';
  readonly kind: WorkerErrorKind;
  readonly field: string | undefined;
  constructor(info: WorkerErrorInfo) {
    super(info.message);
    this.kind = info.kind;
    this.field = info.field;
  }
  get info(): WorkerErrorInfo {
    return this.field === undefined ? { kind: this.kind, message: this.message } : { kind: this.kind, message: this.message, field: this.field };
  }
}

const id = z.number().int().positive();

export const ParentToWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('request'), id, op: z.string(), input: z.unknown() }),
  /** Finish nothing more and exit (a running request is abandoned). */
  z.object({ type: z.literal('shutdown') }),
]);
export type ParentToWorker = z.infer<typeof ParentToWorkerSchema>;

export const WorkerToParentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int(), ops: z.array(z.string()) }),
  z.object({ type: z.literal('progress'), id, message: z.string(), done: z.number().optional(), total: z.number().optional() }),
  z.object({ type: z.literal('result'), id, result: z.unknown() }),
  z.object({ type: z.literal('error'), id, error: WorkerErrorInfoSchema }),
]);
export type WorkerToParent = z.infer<typeof WorkerToParentSchema>;

/** A progress event of a running request. */
export type WorkerProgress = Omit<Extract<WorkerToParent, { type: 'progress' }>, 'type' | 'id'>;

/** The dotted path of a zod issue (`budget.mflopsMax`), as the `field` of an input error. */
export function zodField(e: z.ZodError): string | undefined {
  const path = e.issues[0]?.path ?? [];
  return path.length ? path.map(String).join('.') : undefined;
}

/** What is wrong with a result that does not fit its schema, in a few words (a failure on the worker's side). */
export function resultIssue(e: z.ZodError): string {
  const issue = e.issues[0];
  return `${issue?.path.map(String).join('.') || 'result'}: ${issue?.message ?? 'malformed'}`;
}

/** A zod refusal of an op's input as an `input` error naming the field (the message does not repeat it). */
export function inputError(e: z.ZodError): WorkerErrorInfo {
  const field = zodField(e);
  const message = e.issues[0]?.message ?? e.message;
  return field ? { kind: 'input', message, field } : { kind: 'input', message };
}
