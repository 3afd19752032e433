/**
 * The API the preload script exposes to the renderer as `window.api`. Types only, and free of Node and DOM types,
 * so the renderer (which must not bundle main-process code) imports it with `import type`.
 */

/** What the app reports about itself: shown in the renderer's status line. */
export interface AppInfo {
  /** `productName` from package.json. */
  name: string;
  /** `version` from package.json. */
  version: string;
  /** Versions of the runtime the main process runs in. */
  versions: { electron: string; chrome: string; node: string };
  /** `process.platform` of the main process. */
  platform: string;
  /** Absolute path of the per-user data directory (Electron's userData unless `ALPHANET_HOME` overrides it). */
  dataDir: string;
}

export interface WorkbenchApi {
  app: {
    /** Facts about the running app; never rejects in a correctly wired app. */
    info(): Promise<AppInfo>;
  };
}
