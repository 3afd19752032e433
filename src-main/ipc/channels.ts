/**
 * Every IPC channel between the preload bridge and the main process. The renderer never sees these names: the
 * preload exposes domain functions only (see api-types.ts).
 */
export enum IpcChannel {
  /** invoke, no payload → `AppInfo` (api-types.ts). */
  AppInfo = 'app:info',
}
