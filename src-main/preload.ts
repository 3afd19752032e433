/**
 * The preload bridge. Runs sandboxed (so: CommonJS, one bundled file, only `electron` required) and exposes domain
 * functions as `window.api`, never `ipcRenderer` itself, so page code cannot reach arbitrary channels.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { AppInfo, WorkbenchApi } from './ipc/api-types';
import { IpcChannel } from './ipc/channels';

const api: WorkbenchApi = {
  app: {
    info: () => ipcRenderer.invoke(IpcChannel.AppInfo) as Promise<AppInfo>,
  },
};

contextBridge.exposeInMainWorld('api', api);
