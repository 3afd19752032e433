/**
 * The built renderer (out/renderer) in a real Chromium, served over http like the dev server serves it, with the
 * CSP header main would send. There is no Electron binary here, so `window.api` is absent (browser mode) unless a
 * test injects a stub bridge.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppInfo } from '../../src-main/ipc/api-types';
import { contentSecurityPolicy } from '../../src-main/security/csp';

const ROOT = path.resolve('out/renderer');
const SHOTS = path.resolve('test-results');
/** Debian's binary without its wrapper script (the wrapper prints a harmless shell error), then the wrapper. */
const CHROMIUM_CANDIDATES = [process.env['CHROMIUM_PATH'], '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** What the stub bridge reports in the bridge test. */
const INFO: AppInfo = {
  name: 'AlphaNet Workbench',
  version: '0.1.0',
  versions: { electron: '45.5.0', chrome: '152.0.0.0', node: '24.18.0' },
  platform: 'linux',
  dataDir: '/home/ada/.config/AlphaNet Workbench',
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** A static file server for ROOT on 127.0.0.1; refuses paths outside ROOT. */
function serve(): Promise<Server> {
  const server = createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(ROOT, urlPath === '/' ? 'index.html' : urlPath);
    if (!file.startsWith(ROOT + path.sep)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': contentSecurityPolicy(),
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server: Server;
let baseUrl: string;
let profile: string;
let context: BrowserContext;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'index.html'))) {
    throw new Error(`${ROOT}/index.html is missing: build the app first with \`npx electron-vite build\` (.ci/run does)`);
  }
  const executablePath = CHROMIUM_CANDIDATES.find((p): p is string => !!p && existsSync(p));
  if (!executablePath) {
    throw new Error(
      `no Chromium found at ${CHROMIUM_CANDIDATES.filter(Boolean).join(' or ')}: ` +
        'install it with `apt-get install -y chromium fonts-liberation` or set CHROMIUM_PATH',
    );
  }
  server = await serve();
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  profile = await mkdtemp(path.join(tmpdir(), 'alphanet-e2e-'));
  context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Opens the app and collects everything that went wrong on the page. */
async function open(setup?: (page: Page) => Promise<unknown>): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  await setup?.(page);
  await page.goto(baseUrl);
  return { page, problems };
}

describe('renderer in Chromium', () => {
  it('renders the title and browser-mode status, styled, with no CSP violations or errors', async () => {
    const { page, problems } = await open();
    await expect.poll(() => page.locator('h1').textContent()).toBe('AlphaNet Workbench');
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^browser mode/);
    expect(await page.title()).toBe('AlphaNet Workbench');
    // The built stylesheet loaded under style-src 'self': page background and the component's scoped h1 size.
    // Page-side code is passed as strings: this file is type-checked without the DOM library.
    const look = await page.evaluate(`({
      background: getComputedStyle(document.documentElement).backgroundColor,
      h1: getComputedStyle(document.querySelector('h1')).fontSize,
    })`);
    expect(look).toEqual({ background: 'rgb(15, 23, 32)', h1: '36px' });
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'renderer.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows what the preload bridge reports', async () => {
    const { page, problems } = await open((p) =>
      p.addInitScript({ content: `window.api = { app: { info: async () => (${JSON.stringify(INFO)}) } };` }),
    );
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toBe(`AlphaNet Workbench 0.1.0 · Electron 45.5.0 · data in ${INFO.dataDir}`);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('enforces the policy: inline styles and inline scripts are refused', async () => {
    const { page } = await open();
    await expect.poll(() => page.locator('h1').textContent()).toBe('AlphaNet Workbench');
    const result = await page.evaluate(`(() => {
      const style = document.createElement('style');
      style.textContent = ':root { background-color: rgb(255, 0, 0) }';
      document.head.append(style);
      const script = document.createElement('script');
      script.textContent = 'document.documentElement.dataset.inlineRan = "yes"';
      document.head.append(script);
      return {
        background: getComputedStyle(document.documentElement).backgroundColor,
        inlineScriptRan: document.documentElement.dataset.inlineRan === 'yes',
      };
    })()`);
    expect(result).toEqual({ background: 'rgb(15, 23, 32)', inlineScriptRan: false });
    await page.close();
  });
});
