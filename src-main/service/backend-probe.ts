/**
 * The backend report for `app.info`, computed in a child process (`alphanet doctor`) so that TF.js is never loaded
 * into the process that answers the UI: in the desktop app that is Electron's main process, where a native
 * tfjs-node build would also have to match Electron's ABI. Under Electron the child is Electron itself in Node mode
 * (`ELECTRON_RUN_AS_NODE`); under Node the variable is ignored.
 */
import { execFile } from 'node:child_process';
import type { AppInfo } from '../ipc/api-types';
import { findBuilt } from './built-paths';

/** How long `doctor` may take (loading TF.js and initialising WASM takes 1–3 s), in ms. */
export const PROBE_TIMEOUT_MS = 60_000;

/**
 * Runs `alphanet --home <home> doctor` and returns the chosen backend with the doctor's text as the detail. Never
 * rejects: a failing probe becomes `{ name: 'unknown', detail: <why> }`.
 */
export function probeBackendInChild(home: string): Promise<AppInfo['backend']> {
  return new Promise((resolve) => {
    let cli: string;
    try {
      cli = findBuilt('cli.js', { what: 'the alphanet CLI' });
    } catch (e) {
      resolve({ name: 'unknown', detail: (e as Error).message });
      return;
    }
    execFile(
      process.execPath,
      [cli, '--home', home, 'doctor'],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const text = String(stdout).trim();
        const name = /^backend:\s+(\S+)/m.exec(text)?.[1];
        if (err || !name) resolve({ name: 'unknown', detail: (String(stderr).trim() || err?.message || text || 'alphanet doctor printed nothing').slice(0, 2000) });
        else resolve({ name, detail: text });
      },
    );
  });
}
