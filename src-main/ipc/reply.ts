/**
 * The reply envelope both transports carry: `{ ok: true, result }` or `{ ok: false, error: { message, field? } }`
 * (the served mode's HTTP body, see protocol.ts; the Electron handlers' return value). Errors travel as data rather
 * than as thrown exceptions because Electron prefixes a thrown error's message with "Error invoking remote method"
 * and drops its other properties. Node-free: the preload bundles it.
 */
import type { ApiErrorInfo } from './api-types';

export type ApiReply<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiErrorInfo };

/** The error a refused call rejects with, rebuilt from the envelope. */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
  constructor(
    message: string,
    /** Dotted path of the offending input, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The result of a reply, or throws its error as an {@link ApiCallError}. A reply of any other shape is a bug. */
export function unwrapReply<T>(reply: unknown): T {
  const r = reply as Partial<{ ok: boolean; result: T; error: Partial<ApiErrorInfo> }> | null;
  if (r && r.ok === true) return r.result as T;
  if (r && r.ok === false && typeof r.error?.message === 'string') {
    throw new ApiCallError(r.error.message, typeof r.error.field === 'string' ? r.error.field : undefined);
  }
  throw new ApiCallError(`malformed reply from the app: ${JSON.stringify(reply)?.slice(0, 200)}`);
}
