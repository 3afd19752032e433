/**
 * The backend report for `app.info`, computed by the engine worker (engine-worker.ts: `doctor`) so that TF.js is
 * never loaded into the process that answers the UI: in the desktop app that is Electron's main process, where a
 * native tfjs-node build would also have to match Electron's ABI.
 */
import type { AppInfo } from '../ipc/api-types';
import type { EngineWorker } from './engine-worker';

/** How long loading TF.js may take (initialising WASM takes 1–3 s), in ms. */
export const PROBE_TIMEOUT_MS = 60_000;

/**
 * The chosen backend with the backend part of `alphanet doctor`'s text (ladder, versions, SIMD/threads) as the detail. Never rejects: a failing probe becomes
 * `{ name: 'unknown', detail: <why> }`.
 */
export async function probeBackend(engine: EngineWorker): Promise<AppInfo['backend']> {
  try {
    const r = await engine.run('doctor', {}, { what: 'probing the TF.js backend', timeoutMs: PROBE_TIMEOUT_MS });
    return { name: r.chosen, detail: r.text };
  } catch (e) {
    return { name: 'unknown', detail: ((e as Error).message || 'the backend probe failed').slice(0, 2000) };
  }
}
