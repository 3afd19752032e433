/**
 * The built renderer (out/renderer) in a real Chromium, served as static files with the CSP header main sends, with
 * a stub preload bridge (`window.api`) or none. What needs the real service is in served.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../../src-main/bench/chromium';
import { ELECTRON_INFO } from '../component/app-info';
import { cspViolations, launchChromium, openPage, SHOTS, type Browser } from './chromium';

const ROOT = path.resolve('out/renderer');
/** A bridge with no data: every list is empty, every subscription silent. */
const STUB_BRIDGE = `
  const none = async () => [];
  window.api = {
    app: { info: async () => (${JSON.stringify(ELECTRON_INFO)}), openExternal: async () => false, revealPath: async () => false, pickPath: async () => null },
    datasets: { list: none, get: none, samples: none, import: none, createDemo: none, delete: none, onJob: () => () => {} },
    spaces: { list: none },
    runs: { list: none, get: none, metrics: none, presets: none, check: none, start: none, pause: none, resume: none,
            cancel: none, delete: none, saveConfig: none, onEvent: () => () => {} },
  };`;

let server: Server;
let baseUrl: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'index.html'))) {
    throw new Error(`${ROOT}/index.html is missing: build the app first with \`npx electron-vite build\` (.ci/run does)`);
  }
  server = await serveStatic(ROOT);
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

describe('renderer in Chromium', () => {
  it('without a bridge or token: the shell renders, styled, and the status line says how to connect', async () => {
    const { page, problems } = await openPage(browser.context, baseUrl);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Datasets');
    await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/^status unavailable: no session token: open the full address/);
    expect(await page.title()).toBe('AlphaNet Workbench');
    // The built stylesheet loaded under style-src 'self': the light palette and the shell's grid.
    const look = await page.evaluate(`({
      background: getComputedStyle(document.documentElement).backgroundColor,
      nav: getComputedStyle(document.querySelector('nav')).borderRightStyle,
    })`);
    expect(look).toEqual({ background: 'rgb(246, 248, 250)', nav: 'solid' });
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'renderer-no-token.png'), fullPage: true });
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('follows the system’s dark setting', async () => {
    const { page } = await openPage(browser.context, baseUrl, (p) => p.emulateMedia({ colorScheme: 'dark' }));
    await expect.poll(() => page.locator('h1').textContent()).toBe('Datasets');
    expect(await page.evaluate('getComputedStyle(document.documentElement).backgroundColor')).toBe('rgb(15, 23, 32)');
    await page.close();
  });

  it('shows what the preload bridge reports', async () => {
    const { page, problems } = await openPage(browser.context, baseUrl, (p) => p.addInitScript({ content: STUB_BRIDGE }));
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toBe(`AlphaNet Workbench 0.1.0 · Electron 45.5.0 · backend wasm · data in ${ELECTRON_INFO.dataDir}`);
    await expect.poll(() => page.getByText('No datasets yet.', { exact: false }).count()).toBe(1);
    // Inside Electron the native picker is offered next to the path field.
    await expect.poll(() => page.getByRole('button', { name: 'Choose folder…' }).count()).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });
});
