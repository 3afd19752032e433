/**
 * The renderer's one door to the app: the preload bridge (`window.api`) inside Electron. In a plain browser there is
 * no bridge, and the page says so instead of failing. Components and tests go through this module, never
 * `window.api` directly, so the bridge can be stubbed.
 */
import type { AppInfo, WorkbenchApi } from '../../src-main/ipc/api-types';

declare global {
  interface Window {
    /** Set by the Electron preload; absent when the page is opened in an ordinary browser. */
    api?: WorkbenchApi;
  }
}

export type AppStatus =
  | { mode: 'electron'; info: AppInfo }
  | { mode: 'browser' }
  | { mode: 'error'; message: string };

/** The preload bridge, or undefined outside Electron. */
export function bridge(): WorkbenchApi | undefined {
  return window.api;
}

/**
 * What the status line shows. Never rejects: a failing bridge becomes an `error` status.
 * @param api defaults to {@link bridge}().
 */
export async function loadStatus(api: WorkbenchApi | undefined = bridge()): Promise<AppStatus> {
  if (!api) return { mode: 'browser' };
  try {
    return { mode: 'electron', info: await api.app.info() };
  } catch (e) {
    return { mode: 'error', message: e instanceof Error ? e.message : String(e) };
  }
}

/** One line of text for a status. */
export function describeStatus(status: AppStatus): string {
  switch (status.mode) {
    case 'electron': {
      const { name, version, versions, dataDir } = status.info;
      return `${name} ${version} · Electron ${versions.electron} · data in ${dataDir}`;
    }
    case 'browser':
      return 'browser mode: the desktop bridge is not available in this page';
    case 'error':
      return `status unavailable: ${status.message}`;
  }
}
