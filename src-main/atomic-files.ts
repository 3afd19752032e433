/** Atomic file writes (exports, saved configs, latency tables): a reader never sees a half-written file. A leaf module
 * every layer may use. */
import { chmodSync, linkSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/** An export that could not be written; its message says why and that the output folder was left as it was. (Here,
 * in the TF.js-free part of export/, so that the service's error mapping can name it without loading TF.js.) */
export class ExportError extends Error {
  override name = 'ExportError';
}

export interface AtomicWriteOptions {
  /** Default true: replace a file already at `path`. False: fail with EEXIST instead, atomically (the temporary file
   * is hard-linked to the name, which the OS refuses when the name is taken, even by a file created meanwhile). */
  overwrite?: boolean;
  /** Default true: create the parent folders. */
  mkdir?: boolean;
}

/**
 * Writes to a temporary file in the same folder, then renames it over the target (atomic on one filesystem). A file
 * that is replaced keeps its permission bits (a config saved over a 600 file stays 600). On any failure (a full disk
 * included) the temporary file is removed and the target is as it was.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  if (opts.mkdir ?? true) mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let mode: number | undefined;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    mode = undefined; // no file there yet: the process's default mode
  }
  try {
    writeFileSync(tmp, data);
    if (mode !== undefined) chmodSync(tmp, mode);
    if (opts.overwrite ?? true) renameSync(tmp, path);
    else linkSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** JSON with two-space indentation and a final newline. */
export function writeJsonAtomic(path: string, value: unknown, opts: AtomicWriteOptions = {}): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, opts);
}
