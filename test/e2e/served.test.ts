/**
 * The whole app in Chromium against the real served mode (`alphanet serve`, out/main/cli.js): the demo dataset is
 * created, a 1-epoch run is configured from the demo preset in the form, started, watched to 100 % on the runs
 * page and opened on its charts; a second run is cancelled mid-way; invalid input is refused at its field and
 * never starts a run. A screenshot of each page goes to test-results/. No page may log an error or break the CSP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspViolations, launchChromium, openPage, SHOTS, type Browser } from './chromium';

const CLI = path.resolve('out/main/cli.js');
/** Why the suite cannot run here, or null. `serve` is checked, so a build without it says so instead of hanging. */
const unavailable = !existsSync(CLI)
  ? `${CLI} is missing: build first with \`npx electron-vite build\``
  : spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' }).status !== 0
    ? '`alphanet serve` does not exist in this build (out/main/cli.js serve --help failed)'
    : null;
if (unavailable) console.warn(`served-mode e2e skipped: ${unavailable}`);

/** expect.poll's default (1 s) is too short for a loaded 2-core machine. */
const WAIT = { timeout: 15_000 };

let server: ChildProcess;
let home: string;
let url: string;
let origin: string;
let token: string;
let browser: Browser;
let page: Page;
let problems: string[];

/** Starts `alphanet serve` on a free port and resolves with the URL from its first line of stdout. */
function startServer(): Promise<string> {
  server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^serving at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)\n/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    server.once('exit', (code) => reject(new Error(`alphanet serve exited (${code}) before serving:\n${stderr}`)));
  });
}

/** A call to the served API from the test itself (to look behind the page). */
async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  const res = await fetch(`${origin}/api/${method}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ args }),
  });
  const body = (await res.json()) as { ok: boolean; result: T; error?: { message: string } };
  if (!body.ok) throw new Error(`${method}: ${body.error?.message}`);
  return body.result;
}

/**
 * A screenshot of the whole page. The viewport is stretched to the page's height first: a full-page capture of a
 * taller page would draw the sticky status line and side panel where the viewport happened to end.
 */
async function shot(name: string): Promise<void> {
  const viewport = page.viewportSize() ?? { width: 1280, height: 860 };
  const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  await page.setViewportSize(viewport);
}

/** Opens the new-run form with the demo preset and makes it a small, fast run. */
async function fillSmallRun(name: string, stepsPerEpoch: number): Promise<void> {
  // Through the datasets page, so the form is a fresh one even when the last test ended on it.
  await page.getByRole('link', { name: 'Datasets' }).click();
  await page.getByRole('link', { name: 'New run' }).click();
  await expect.poll(() => page.locator('h1').textContent(), WAIT).toBe('New run');
  const preset = page.getByRole('radio', { name: /Demo quick-start/ });
  await preset.check();
  await expect.poll(() => page.getByLabel('Run name').inputValue(), WAIT).toBe('demo quick-start');
  await page.getByLabel('Run name').fill(name);
  await page.getByLabel('Epochs', { exact: true }).fill('1');
  await page.getByLabel('Batch size', { exact: true }).fill('16');
  await page.getByLabel('Steps per epoch').fill(String(stepsPerEpoch));
  await page.getByLabel('BN calibration batches').fill('1');
  await page.getByLabel('Calibration batch size').fill('16');
  await page.getByLabel('Validation batch size').fill('64');
  await page.getByLabel('Validate on at most').fill('64');
  await expect.poll(() => page.getByText('Ready to start.').count(), { timeout: 10_000 }).toBe(1);
}

/** The id of the run the page shows (`#/runs/<id>`). */
async function runIdFromHash(): Promise<number> {
  await expect.poll(() => new URL(page.url()).hash, { timeout: 15_000 }).toMatch(/^#\/runs\/\d+$/);
  return Number(new URL(page.url()).hash.split('/')[2]);
}

describe.skipIf(unavailable !== null)('the app in Chromium, served by `alphanet serve`', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'alphanet-served-'));
    url = await startServer();
    origin = new URL(url).origin;
    token = new URL(url).searchParams.get('token') ?? '';
    browser = await launchChromium();
    await mkdir(SHOTS, { recursive: true });
    ({ page, problems } = await openPage(browser.context, url));
  });

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('takes the token out of the address bar and shows the service in the status line', async () => {
    await expect.poll(() => page.getByRole('status').first().textContent(), WAIT).toMatch(/^AlphaNet Workbench 0\.1\.0 · served by Node .* · backend \S+ · data in /);
    expect(page.url()).not.toContain('token=');
    expect(page.url()).toBe(`${origin}/`);
  });

  it('creates the demo dataset with progress, and shows its classes and thumbnails', async () => {
    await page.getByRole('button', { name: 'Create demo dataset' }).click();
    await expect.poll(() => page.getByText(/^ready: “demo”|^already imported as/).count(), { timeout: 60_000 }).toBe(1);
    await page.getByRole('link', { name: 'demo', exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { level: 2, name: 'demo' }).count(), WAIT).toBe(1);
    await expect.poll(() => page.getByAltText('checker sample 8').count(), { timeout: 15_000 }).toBe(1);
    // Thumbnails are real decoded images, not broken ones.
    expect(await page.evaluate(`document.querySelector('img[alt="disk sample 1"]').naturalWidth`)).toBe(32);
    await shot('page-datasets');
  });

  it('refuses invalid input at its field and never starts a run', async () => {
    const before = (await call<unknown[]>('runs.list')).length;
    await fillSmallRun('never started', 3);
    const epochs = page.getByLabel('Epochs', { exact: true });
    await epochs.fill('0');
    const field = page.locator('[data-field="epochs"]');
    await expect.poll(() => field.getByRole('alert').textContent(), WAIT).toMatch(/Too small/);
    expect(await epochs.getAttribute('aria-invalid')).toBe('true');
    const start = page.getByRole('button', { name: 'Start run' });
    expect(await start.isDisabled()).toBe(true);
    // A search-space list that is not a list of numbers is refused in its cell.
    await epochs.fill('1');
    await page.getByLabel('mb3 depths').fill('1, two');
    await expect.poll(() => page.locator('#sp-2-depth-err').textContent(), WAIT).toMatch(/expected array/);
    expect(await start.isDisabled()).toBe(true);
    await shot('page-new-run-invalid');
    await page.getByLabel('mb3 depths').fill('1, 2, 3');
    await expect.poll(() => start.isDisabled(), WAIT).toBe(false);
    // Back to the registered space's own values: it is sent by id again.
    expect(await page.getByText(/edited: sent as/).count()).toBe(0);
    expect((await call<unknown[]>('runs.list')).length).toBe(before);
  });

  it('trains a 1-epoch run from the demo preset to 100 % and opens its charts', { timeout: 240_000 }, async () => {
    await fillSmallRun('e2e small run', 3);
    await expect.poll(() => page.getByTestId('max-mflops').textContent(), WAIT).toMatch(/MFLOPs/);
    await shot('page-new-run');
    await page.getByRole('button', { name: 'Start run' }).click();
    const id = await runIdFromHash();

    await page.getByRole('link', { name: 'Runs' }).click();
    const row = page.locator(`tr[data-run-id="${id}"]`);
    await expect.poll(() => row.count(), WAIT).toBe(1);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 200_000, interval: 1000 }).toBe('finished');
    expect(await row.locator('.pct').textContent()).toBe('100 %');

    await row.getByRole('link', { name: 'e2e small run' }).click();
    await expect.poll(() => page.locator('h1').textContent(), WAIT).toBe('e2e small run');
    await expect.poll(() => page.getByTestId('run-progress').textContent(), WAIT).toBe('100 %');
    await expect.poll(() => page.locator('.chart canvas').count(), WAIT).toBeGreaterThanOrEqual(5);
    // Every chart has data: no "No data yet." placeholder is left.
    await expect.poll(() => page.getByText('No data yet.').count(), { timeout: 10_000 }).toBe(0);
    expect(await page.getByText(/has finished; its record is read-only/).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await shot('page-run-detail');
    // A tooltip (drawn on the canvas, see lib/charts/echarts.ts) must not break the CSP (checked in the last test).
    await page.locator('.chart .canvas').nth(1).hover();
    await page.waitForTimeout(300);
    await page.locator('.chart').nth(1).screenshot({ path: path.join(SHOTS, 'chart-tooltip.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await shot('page-run-detail-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('cancels a second run mid-way', { timeout: 180_000 }, async () => {
    await fillSmallRun('e2e cancelled run', 400);
    await page.getByRole('button', { name: 'Start run' }).click();
    const id = await runIdFromHash();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 120_000, interval: 500 }).toBe('running');
    // Wait for the first steps, so the cancel lands in the middle of training.
    await expect.poll(async () => (await call<{ summary: { step: number } }>('runs.get', id)).summary.step, { timeout: 120_000, interval: 500 }).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('cancelled');
    const run = (await call<{ summary: { status: string; progress: number } }>('runs.get', id)).summary;
    expect(run.status).toBe('cancelled');
    expect(run.progress).toBeGreaterThan(0);
    expect(run.progress).toBeLessThan(1);
    await page.getByRole('link', { name: 'Runs' }).click();
    await expect.poll(() => page.locator(`tr[data-run-id="${id}"]`).getAttribute('data-status'), WAIT).toBe('cancelled');
    await shot('page-runs');
  });

  it('logged no errors and broke no CSP rule on the way', async () => {
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
