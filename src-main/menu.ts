/**
 * The application menu. Thin: standard roles, plus Help links that go through the caller's `openExternal`, which
 * applies the external-link allow-list.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';
import { EXTERNAL_LINKS } from './ipc/external-links';

export interface AppMenuOptions {
  /** Opens an allow-listed https URL in the system browser. */
  openExternal: (url: string) => void;
  /** Adds developer items (reload, dev tools) when true; the packaged app leaves them out. */
  dev: boolean;
  /** `process.platform`; macOS gets the app menu Electron's HIG expects. */
  platform: NodeJS.Platform;
}

export function buildAppMenu({ openExternal, dev, platform }: AppMenuOptions): Menu {
  const mac = platform === 'darwin';
  const view: MenuItemConstructorOptions[] = [
    ...(dev ? ([{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }] as const) : []),
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  const template: MenuItemConstructorOptions[] = [
    ...(mac ? [{ role: 'appMenu' } as const] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'AlphaNet Paper (arXiv 2102.07954)', click: () => openExternal(EXTERNAL_LINKS.paper) },
        { label: 'AlphaNet Reference Code (GitHub)', click: () => openExternal(EXTERNAL_LINKS.referenceCode) },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
