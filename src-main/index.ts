/**
 * Electron main process. Deliberately thin: windows, menu, security policy and IPC wiring only. Everything that
 * can be tested without Electron lives in plain modules (app-paths, ipc/*, security/csp), and the engine is not
 * loaded here yet.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow, Menu, app, ipcMain, session, shell, type WebContents } from 'electron';
import { resolveHomeDir } from './app-paths';
import type { AppInfo } from './ipc/api-types';
import { isAppUrl } from './ipc/app-url';
import { IpcChannel } from './ipc/channels';
import { isAllowedExternalUrl } from './ipc/external-links';
import { guardHandler, noArgs } from './ipc/guard';
import { buildAppMenu } from './menu';
import { contentSecurityPolicy } from './security/csp';

// electron-vite's dev server sets ELECTRON_RENDERER_URL; a packaged app must never load from a URL taken from the
// environment, so it is honoured only when running unpackaged.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
/** The one page the windows may show; navigation and IPC are both checked against it. */
const appUrl = devServerUrl ?? pathToFileURL(join(__dirname, '../renderer/index.html')).href;

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
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(appUrl);
  return win;
}

function appInfo(): AppInfo {
  return {
    name: app.getName(),
    version: app.getVersion(),
    versions: {
      electron: process.versions.electron,
      chrome: process.versions.chrome,
      node: process.versions.node,
    },
    platform: process.platform,
    dataDir,
  };
}

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
    const csp = contentSecurityPolicy({ dev: devServerUrl !== undefined });
    // The header covers the dev server; `file:` pages get no headers, so index.html carries the same policy.
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
    });
    // The app needs no camera, notifications, geolocation, ...: refuse every permission request and check.
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);

    ipcMain.handle(IpcChannel.AppInfo, guardHandler(IpcChannel.AppInfo, appUrl, noArgs, appInfo));

    Menu.setApplicationMenu(buildAppMenu({ openExternal, dev: !app.isPackaged, platform: process.platform }));
    createWindow();

    // macOS keeps apps alive without windows and reopens one from the dock.
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
