/**
 * Shared by the e2e suites: launching Debian's Chromium through playwright-core (src-main/bench/chromium.ts, shared
 * with the explorer benchmark; a 1280×860 viewport and a fresh profile by default), opening a page that records
 * everything that goes wrong on it (page errors, console errors and warnings, and CSP violations, which Chromium
 * reports as `securitypolicyviolation` events and console errors), starting the served mode and taking screenshots.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type Browser } from '../../src-main/bench/chromium';

/** The launcher (executables, flags, profile) is the one the explorer benchmark uses too. */
export { launchChromium, type Browser };

/** Where the suites save their screenshots. */
export const SHOTS = path.resolve('test-results');

/** A new page that records problems: `problems` (errors, warnings) and, per page, CSP violations. */
export async function openPage(
  context: BrowserContext,
  url: string,
  setup?: (page: Page) => Promise<unknown>,
): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  // Page-side code is passed as a string: this file is type-checked without the DOM library.
  await page.addInitScript({
    content: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));`,
  });
  await setup?.(page);
  await page.goto(url);
  return { page, problems };
}

/** CSP violations the page has seen so far. */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate('window.__csp') as Promise<string[]>;
}

/** The built CLI the served-mode suites start. */
export const CLI = path.resolve('out/main/cli.js');

/**
 * Why the served-mode suites cannot run here, or null. `serve` is checked, so a build without it says so instead of
 * hanging.
 */
export function servedUnavailable(): string | null {
  if (!existsSync(CLI)) return `${CLI} is missing: build first with \`npx electron-vite build\``;
  if (spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' }).status !== 0)
    return '`alphanet serve` does not exist in this build (out/main/cli.js serve --help failed)';
  return null;
}

/** expect.poll's default (1 s) is too short for a loaded 2-core machine. */
export const WAIT = { timeout: 15_000 };

/** A running `alphanet serve` (out/main/cli.js) on a free port, with a caller for its API (to look behind the page). */
export interface Served {
  /** The full address it printed, token included. */
  url: string;
  origin: string;
  token: string;
  call<T>(method: string, ...args: unknown[]): Promise<T>;
  /** SIGTERM (the server pauses its runs and searches first), resolved once it has exited. */
  stop(): Promise<void>;
}

/** Starts `node <cli> serve --port 0 --home <home>` and resolves once it prints its address. */
export function startServed(cli: string, home: string): Promise<Served> {
  const server: ChildProcess = spawn(process.execPath, [cli, 'serve', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async (): Promise<void> => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^serving at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)\n/.exec(out);
      if (!m?.[1]) return;
      const url = m[1];
      const origin = new URL(url).origin;
      const token = new URL(url).searchParams.get('token') ?? '';
      const call = async <T>(method: string, ...args: unknown[]): Promise<T> => {
        const res = await fetch(`${origin}/api/${method}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ args }),
        });
        const body = (await res.json()) as { ok: boolean; result: T; error?: { message: string } };
        if (!body.ok) throw new Error(`${method}: ${body.error?.message}`);
        return body.result;
      };
      resolve({ url, origin, token, call, stop });
    });
    server.once('exit', (code) => reject(new Error(`alphanet serve exited (${code}) before serving:\n${stderr}`)));
  });
}

/** The served app open in Chromium, on a fresh data directory. */
export interface ServedApp {
  /** The data directory (a new temp folder), removed by `close`. */
  home: string;
  served: Served;
  browser: Browser;
  page: Page;
  /** What went wrong on the page so far (see {@link openPage}). */
  problems: string[];
  /** Closes the browser, stops the server and removes `home`. */
  close(): Promise<void>;
}

/**
 * Starts `alphanet serve` on a new temp data directory named `<homePrefix>…`, launches Chromium and opens the app in a
 * page that records problems. On failure, whatever had started is closed again before the error is thrown.
 */
export async function openServedApp(homePrefix: string): Promise<ServedApp> {
  const home = await mkdtemp(path.join(tmpdir(), homePrefix));
  let served: Served | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await served?.stop();
    await rm(home, { recursive: true, force: true });
  };
  try {
    served = await startServed(CLI, home);
    browser = await launchChromium();
    await mkdir(SHOTS, { recursive: true });
    const { page, problems } = await openPage(browser.context, served.url);
    return { home, served, browser, page, problems, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * A screenshot of the whole page to test-results/<name>.png. The viewport is stretched to the page's height first:
 * a full-page capture of a taller page would draw the sticky status line where the viewport happened to end.
 */
export async function pageShot(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize() ?? { width: 1280, height: 860 };
  const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  await page.setViewportSize(viewport);
}
