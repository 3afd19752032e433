/**
 * What `app.info()` reports in the tests: the served mode (the component tests' fake API) and the desktop app (the
 * e2e stub bridge, and App.test's Electron status line). One place, so the status-line expectations agree.
 */
import type { AppInfo } from '../../src-main/ipc/api-types';

/** The served mode under Node 20, on the wasm backend because tfjs-node is missing. */
export const INFO: AppInfo = {
  name: 'AlphaNet Workbench',
  version: '0.1.0',
  versions: { electron: '', chrome: '', node: '20.20.2' },
  platform: 'linux',
  dataDir: '/home/ada/.config/AlphaNet Workbench',
  mode: 'served',
  backend: { name: 'wasm', detail: 'tfjs-node not installed' },
  cores: { machine: 2, jobs: 2 },
};

/** The same data directory in the desktop app (Electron 45). */
export const ELECTRON_INFO: AppInfo = {
  ...INFO,
  mode: 'electron',
  versions: { electron: '45.5.0', chrome: '152.0.0.0', node: '24.18.0' },
};
