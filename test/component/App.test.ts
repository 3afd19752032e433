import { render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../../src-renderer/App.svelte';
import type { AppInfo, WorkbenchApi } from '../../src-main/ipc/api-types';

const info: AppInfo = {
  name: 'AlphaNet Workbench',
  version: '0.1.0',
  versions: { electron: '45.5.0', chrome: '152.0.0.0', node: '24.18.0' },
  platform: 'linux',
  dataDir: '/home/ada/.config/AlphaNet Workbench',
};

function stubBridge(infoImpl: () => Promise<AppInfo>): void {
  const api: WorkbenchApi = { app: { info: infoImpl } };
  window.api = api;
}

afterEach(() => {
  delete window.api;
});

describe('App', () => {
  it('shows the title and, without a preload bridge, browser mode', async () => {
    render(App);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('AlphaNet Workbench');
    const status = await screen.findByText(/^browser mode/);
    expect(status.getAttribute('data-mode')).toBe('browser');
  });

  it("shows the app's version, Electron version and data directory from the bridge", async () => {
    stubBridge(async () => info);
    render(App);
    const status = await screen.findByText(/Electron 45\.5\.0/);
    expect(status.textContent).toBe(
      'AlphaNet Workbench 0.1.0 · Electron 45.5.0 · data in /home/ada/.config/AlphaNet Workbench',
    );
  });

  it('says so when the bridge fails instead of hanging on "connecting…"', async () => {
    stubBridge(() => Promise.reject(new Error('app:info: refused a call from about:blank')));
    render(App);
    const status = await screen.findByText(/^status unavailable/);
    expect(status.textContent).toBe('status unavailable: app:info: refused a call from about:blank');
    expect(status.getAttribute('data-mode')).toBe('error');
  });
});
