/**
 * Errors as both transports deliver them: `{ message, field? }` plus an HTTP status (the served mode uses it; IPC
 * carries only the info). One mapping from the modules' error classes, so a refused call reads the same in the
 * desktop app and in a browser.
 */
import { ZodError } from 'zod';
import { describeFsError } from '../fs-errors';
import { ExportError } from '../atomic-files';
import { DatasetError } from '../data/types';
import { BackendError, SpaceError, CheckpointError, ConfigError } from '../engine/core';
import type { ApiErrorInfo } from '../ipc/api-types';
import { ApiArgsError, issuePath } from '../ipc/api-schemas';
import { isAbsolute } from 'node:path';
import { BudgetError } from '../search/evolution';
import { SearchManagerError } from '../jobs/search-manager';
import { RunSubnetError } from '../search/run-info';
import { StoreError } from '../store/db';
import { RunNotFoundError } from '../store/runs';
import { EvaluationNotFoundError } from '../store/evaluations';
import { SearchNotFoundError } from '../store/searches';
import { ClusterNotFoundError } from '../store/clusters';
import { SlurmError } from '../jobs/slurm/scheduler';
import { ClusterShellError } from '../jobs/slurm/shell';
import { RunManagerError } from '../jobs/run-manager';
import { SettingsError } from '../settings';

/**
 * 400: the input or the request is refused; 403: a path outside the folders the served mode may touch; 404: the
 * object does not exist; 507: the disk is full; 500: a failure on our side (a bug).
 */
export type ApiStatus = 400 | 403 | 404 | 500 | 507;

/** An error the service raises on purpose, with its status and the offending field (dotted path), if any. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: ApiStatus,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const USER_ERRORS = [ExportError, ConfigError, DatasetError, RunManagerError, StoreError, SpaceError, SearchManagerError, BudgetError, RunSubnetError, CheckpointError, BackendError, SettingsError, SlurmError, ClusterShellError];

/**
 * Whether `e` is one of the modules' own error classes, whose message is written for the user (a bad config, a
 * missing run, an impossible budget, a broken settings file, …) rather than a bug or an environment failure. The one
 * list behind the service's 400s, the CLI's one-line refusals (cli/errors.ts) and the engine worker's input errors.
 */
export function isUserError(e: unknown): e is Error {
  return USER_ERRORS.some((C) => e instanceof C);
}

export interface MappedError {
  status: ApiStatus;
  error: ApiErrorInfo;
}

/**
 * Maps anything thrown by a handler to what the caller sees. The modules' own error classes are messages meant for
 * the user (400, or 404 for a missing run); anything else is a bug or an environment failure (500), reported by its
 * message only: stacks stay in the main process's log.
 */
/**
 * A Node file-system error (errno code and syscall) as a status and a message that names no path: Node's own message
 * carries the paths it touched (temp names inside the data directory, or files outside the folders the served mode
 * may name), which are none of a caller's business. A 4xx (507 for a full disk), not a 500: the environment refused,
 * nothing is broken.
 */
export function fileSystemError(e: unknown): { status: ApiStatus; message: string } | null {
  const d = describeFsError(e);
  return d && { status: d.diskFull ? 507 : 400, message: d.message };
}

export function toApiError(e: unknown): MappedError {
  const info = (status: ApiStatus, message: string, field?: string): MappedError => ({ status, error: field ? { message, field } : { message } });
  if (e instanceof ApiError) return info(e.status, e.message, e.field);
  if (e instanceof ApiArgsError) return info(400, e.message, e.field);
  if (e instanceof ZodError) {
    const issue = e.issues[0];
    const field = issue ? issuePath(issue.path) : '';
    return info(400, field ? `${field}: ${issue.message}` : (issue?.message ?? e.message), field || undefined);
  }
  if (e instanceof RunNotFoundError || e instanceof SearchNotFoundError || e instanceof EvaluationNotFoundError || e instanceof ClusterNotFoundError) return info(404, e.message);
  if (isUserError(e)) return info(400, e.message);
  const fs = fileSystemError(e);
  if (fs) return info(fs.status, fs.message);
  const message = e instanceof Error ? e.message : String(e);
  return info(500, message || 'internal error');
}


/** Refuses a relative path: paths name files on the machine that runs main, whatever the renderer's working folder. */
export function requireAbsolute(path: string, field: string): void {
  if (!isAbsolute(path)) throw new ApiError(400, `${field}: must be an absolute path on the machine running the app, got '${path}'`, field);
}
