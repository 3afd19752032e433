/**
 * The preload bridge. Runs sandboxed (so: CommonJS, one bundled file, only `electron` required) and exposes the
 * domain functions of `WorkbenchApi` as `window.api` — built from the one method/topic list by ipc/bridge.ts —
 * never `ipcRenderer` itself, so page code cannot reach arbitrary channels.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { buildBridge } from './ipc/bridge';

const api = buildBridge({
  invoke: (channel, ...args) => ipcRenderer.invoke(channel, ...args),
  subscribe: (channel, cb) => {
    // The event object (with its `sender`) stays here: the page gets the payload only.
    const listener = (_e: IpcRendererEvent, payload: unknown) => cb(payload);
    ipcRenderer.on(channel, listener);
    return () => {
      ipcRenderer.removeListener(channel, listener);
    };
  },
});

contextBridge.exposeInMainWorld('api', api);
