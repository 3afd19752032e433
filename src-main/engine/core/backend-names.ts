/**
 * The names of the backend ladder's rungs (`backend.ts`), without TF.js: configs, settings and messages validate a
 * backend name in processes that never compute — the Electron main process above all, which must not load TF.js
 * (about half a second and its memory) just to check a string.
 */

/** The rungs, best first: libtensorflow with CUDA, libtensorflow on the CPU, WASM, plain JavaScript. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export class BackendError extends Error {
  override name = 'BackendError';
}

/** Parses the ALPHANET_BACKEND setting; `auto` or empty means the ladder. */
export function parseBackendChoice(value: string | undefined): BackendChoice | undefined {
  if (!value || value === 'auto') return undefined;
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendChoice;
  throw new BackendError(`unknown backend '${value}'; use auto or one of: ${BACKENDS.join(', ')}`);
}
