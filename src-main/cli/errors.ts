/**
 * The CLI's errors: {@link CliError} for a refusal of its own, and {@link userMessage}, which decides what `runCli`
 * prints as one line with exit code 1 (the CLI's own refusals, the modules' user-facing errors — the one list of
 * service/errors.ts — and an engine operation's refusal of its input) instead of a stack.
 */
import { WorkerError } from '../jobs/worker-protocol';
import { isUserError } from '../service/errors';

/** An error meant for the user: printed without a stack, exit code 1 (2 for usage errors, by commander). */
export class CliError extends Error {
  override name = 'CliError';
}

/** The message to print for an error meant for the user; undefined for a bug or an environment failure. */
export function userMessage(e: unknown): string | undefined {
  return e instanceof CliError || isUserError(e) || (e instanceof WorkerError && e.kind === 'input') ? e.message : undefined;
}
