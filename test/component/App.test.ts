import { render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../../src-renderer/App.svelte';
import { ELECTRON_INFO } from './app-info';
import { fakeApi, INFO } from './fake-api';

afterEach(() => {
  delete window.api;
  window.location.hash = '';
});

describe('App', () => {
  it('shows the navigation, the datasets page first, and the status line from app.info', async () => {
    window.api = fakeApi().api;
    render(App);
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect([...nav.querySelectorAll('a')].map((a) => a.textContent)).toEqual(['Datasets', 'New run', 'Runs', 'Search', 'Pareto explorer', 'Compare', 'Settings']);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Datasets');
    const status = await screen.findByText(/^AlphaNet Workbench 0\.1\.0/);
    expect(status.textContent).toBe(`AlphaNet Workbench 0.1.0 · served by Node 20.20.2 · backend wasm · data in ${INFO.dataDir}`);
    expect(screen.getByRole('link', { name: 'Datasets' }).getAttribute('aria-current')).toBe('page');
  });

  it('names Electron in the status line of the desktop app', async () => {
    const fake = fakeApi();
    fake.api.app.info = async () => ELECTRON_INFO;
    window.api = fake.api;
    render(App);
    const status = await screen.findByText(/Electron 45\.5\.0/);
    expect(status.textContent).toBe(`AlphaNet Workbench 0.1.0 · Electron 45.5.0 · backend wasm · data in ${INFO.dataDir}`);
  });

  it('says so when app.info fails instead of hanging on "connecting…"', async () => {
    const fake = fakeApi();
    fake.api.app.info = () => Promise.reject(new Error('app:info: refused a call from about:blank'));
    window.api = fake.api;
    render(App);
    const status = await screen.findByText(/^status unavailable/);
    expect(status.textContent).toBe('status unavailable: app:info: refused a call from about:blank');
    expect(status.getAttribute('data-mode')).toBe('error');
  });

  it('follows the hash to the runs page', async () => {
    window.api = fakeApi().api;
    render(App);
    window.location.hash = '#/runs';
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Runs'));
    expect(screen.getByRole('link', { name: 'Runs' }).getAttribute('aria-current')).toBe('page');
    window.location.hash = '#/nowhere';
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Page not found'));
  });
});
