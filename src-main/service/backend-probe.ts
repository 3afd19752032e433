/**
 * The backend report for `app.info`, computed in a child process (`alphanet doctor`) so that TF.js is never loaded
 * into the process that answers the UI: in the desktop app that is Electron's main process, where a native
 * tfjs-node build would also have to match Electron's ABI. Under Electron the child is Electron itself in Node mode
 * (`ELECTRON_RUN_AS_NODE`); under Node the variable is ignored.
 */
import type { AppInfo } from '../ipc/api-types';
import { defaultCliPath, execCli } from './cli-child';

/** How long `doctor` may take (loading TF.js and initialising WASM takes 1–3 s), in ms. */
export const PROBE_TIMEOUT_MS = 60_000;

/**
 * Runs `alphanet --home <home> doctor` and returns the chosen backend with the doctor's text as the detail. Never
 * rejects: a failing probe becomes `{ name: 'unknown', detail: <why> }`.
 */
export async function probeBackendInChild(home: string): Promise<AppInfo['backend']> {
  let cli: string;
  try {
    cli = defaultCliPath();
  } catch (e) {
    return { name: 'unknown', detail: (e as Error).message };
  }
  const { code, stdout, stderr, error } = await execCli(cli, home, ['doctor'], { timeoutMs: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 }).done;
  const text = stdout.trim();
  const name = /^backend:\s+(\S+)/m.exec(text)?.[1];
  if (code !== 0 || !name) {
    const why = stderr.trim() || error?.message || (code !== 0 ? `alphanet doctor exited with code ${code}` : '') || text || 'alphanet doctor printed nothing';
    return { name: 'unknown', detail: why.slice(0, 2000) };
  }
  return { name, detail: text };
}
