/**
 * Electron main process. Deliberately thin: windows, menu, security policy, native dialogs and IPC wiring only. The
 * API itself is the workbench service (src-main/service, plain Node and unit-tested), which this file exposes over IPC
 * — one `ipcMain.handle` per method of the one list in ipc/protocol.ts, each behind the sender and argument guard —
 * and whose events it forwards to the windows. TF.js is not loaded here: training and search run in `utilityProcess`
 * runners, and subnet evaluation, export and the backend report run the CLI in a child process.
 */
import { join } from 'node:path';
import { BrowserWindow, Menu, app, dialog, ipcMain, protocol, session, shell, type WebContents } from 'electron';
import { resolveHomeDir } from './app-paths';
import { argsParser } from './ipc/api-schemas';
import { isAppBlobUrl, isAppUrl } from './ipc/app-url';
import { EVENT_CHANNELS, INVOKE_CHANNELS } from './ipc/channels';
import { isAllowedExternalUrl } from './ipc/external-links';
import { guardHandler } from './ipc/guard';
import { API_METHODS, type EventTopic } from './ipc/protocol';
import { buildAppMenu } from './menu';
import { APP_SCHEME, APP_URL, appResponse } from './security/app-protocol';
import { contentSecurityPolicy } from './security/csp';
import { createWorkbenchService, type WorkbenchService } from './service';
import { spawnUtilityEngineWorker, spawnUtilityRunner, spawnUtilitySearchRunner } from './utility-runner';

// electron-vite's dev server sets ELECTRON_RENDERER_URL; a packaged app must never load from a URL taken from the
// environment, so it is honoured only when running unpackaged.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
/** The one page the windows may show; navigation and IPC are both checked against it. The built renderer is served
 * by the app's own scheme (security/app-protocol.ts), not from file://. */
const appUrl = devServerUrl ?? APP_URL;
const rendererDir = join(__dirname, '../renderer');

// Before the app is ready: `app:` is a standard (relative URLs, an origin of its own) and secure scheme (like https:).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

/** The CLI honours ALPHANET_HOME too, so both see the same data; otherwise Electron's userData. */
const dataDir = resolveHomeDir({}, process.env, () => app.getPath('userData'));

function openExternal(url: string): void {
  if (isAllowedExternalUrl(url)) void shell.openExternal(url);
  else console.warn(`[main] refused to open external URL: ${url}`);
}

/** Navigation and new-window rules for every web contents the app creates. */
function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url, appUrl)) return;
    event.preventDefault();
    // A plain link to an allow-listed page still works: it opens in the system browser instead.
    openExternal(event.url);
  });
  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    show: false,
    backgroundColor: '#0f1720',
    title: app.getName(),
    // Linux uses this for the taskbar; macOS and Windows take the icon from the packaged app.
    icon: join(__dirname, '../../resources/icon.png'),
    webPreferences: {
      preload: join(__dirname, '../preload/preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      // A middle click would otherwise open a link through a new-window path (electronegativity AUXCLICK_JS_CHECK);
      // window opening is denied anyway (lockDown), this keeps the click from reaching it.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(appUrl);
  return win;
}

/** The focused window, else the first: the parent of native dialogs. */
const dialogParent = (): BrowserWindow | undefined => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];

function createService(): WorkbenchService {
  return createWorkbenchService({
    home: dataDir,
    mode: 'electron',
    spawnRunner: spawnUtilityRunner,
    spawnSearchRunner: spawnUtilitySearchRunner,
    spawnEngineWorker: spawnUtilityEngineWorker,
    openExternal: (url) => shell.openExternal(url),
    revealPath: (path) => {
      shell.showItemInFolder(path);
      return true;
    },
    pickPath: async ({ title, directory }) => {
      const opts: Electron.OpenDialogOptions = { title, properties: [directory ? 'openDirectory' : 'openFile'] };
      const parent = dialogParent();
      const r = parent ? await dialog.showOpenDialog(parent, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
    },
    saveDialog: async (defaultName) => {
      const opts: Electron.SaveDialogOptions = { title: 'Save run config', defaultPath: defaultName, filters: [{ name: 'JSON', extensions: ['json'] }] };
      const parent = dialogParent();
      const r = parent ? await dialog.showSaveDialog(parent, opts) : await dialog.showSaveDialog(opts);
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  });
}

/** Every API method as an IPC handler: sender and arguments checked by the guard, errors answered as data. */
function registerApi(service: WorkbenchService): void {
  for (const method of API_METHODS) {
    const channel = INVOKE_CHANNELS[method];
    ipcMain.handle(
      channel,
      guardHandler(channel, appUrl, argsParser(method), async (...args) => (await service.run(method, args)).reply),
    );
  }
  for (const topic of Object.keys(EVENT_CHANNELS) as EventTopic[]) {
    service.events.on(topic, (payload: unknown) => {
      for (const win of BrowserWindow.getAllWindows()) if (!win.isDestroyed()) win.webContents.send(EVENT_CHANNELS[topic], payload);
    });
  }
}

/** Created once the app is ready. */
let service: WorkbenchService | undefined;

// One instance only: a second one would share (and later race on) the same data directory.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('web-contents-created', (_event, contents) => lockDown(contents));

  void app.whenReady().then(() => {
    const csp = contentSecurityPolicy({ dev: devServerUrl !== undefined, header: true });
    // The renderer's files, with the CSP and framing headers, from the renderer folder only.
    protocol.handle(APP_SCHEME, (request) => {
      const r = appResponse(request.url, rendererDir, csp);
      return new Response(r.body, { status: r.status, headers: r.headers });
    });
    // The header covers the dev server too; index.html also carries the policy in a <meta> (without frame-ancestors).
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
    });
    // The app needs no camera, notifications, geolocation, ...: refuse every permission request and check.
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    // The one download the app makes is its own page's `blob:` (the run page's metrics export): Electron's save
    // dialog asks where, as no save path is set here. Anything else (a link to a file elsewhere) is cancelled.
    session.defaultSession.on('will-download', (event, item) => {
      if (isAppBlobUrl(item.getURL(), appUrl)) return;
      event.preventDefault();
      console.warn(`[main] refused a download from ${item.getURL()}`);
    });

    service = createService();
    registerApi(service);

    Menu.setApplicationMenu(buildAppMenu({ openExternal, dev: !app.isPackaged, platform: process.platform }));
    createWindow();

    // macOS keeps apps alive without windows and reopens one from the dock.
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  // On quit, running runs pause with a checkpoint and searches with their saved state (resumable later), as
  // `alphanet serve` does on Ctrl-C.
  let quitting = false;
  app.on('before-quit', (event) => {
    if (!service || quitting) return;
    event.preventDefault();
    quitting = true;
    const s = service;
    void s
      .close({ pauseRuns: true })
      .catch((e: unknown) => console.error('[main] closing the service failed:', e))
      .finally(() => app.quit());
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
