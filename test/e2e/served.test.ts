/**
 * The whole app in Chromium against the real served mode (`alphanet serve`, out/main/cli.js): the demo dataset is
 * created, a 1-epoch run is configured from the demo preset in the form, started, watched to 100 % on the runs
 * page and opened on its charts; a second run is cancelled mid-way; invalid input is refused at its field and
 * never starts a run. A screenshot of each page goes to test-results/. No page may log an error or break the CSP.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspViolations, openServedApp, pageShot, servedUnavailable, SHOTS, WAIT, type Served, type ServedApp } from './chromium';

const unavailable = servedUnavailable();
if (unavailable) console.warn(`served-mode e2e skipped: ${unavailable}`);

let app: ServedApp | undefined;
let served: Served;
let page: Page;
let problems: string[];

/** A call to the served API from the test itself (to look behind the page). */
const call = <T>(method: string, ...args: unknown[]): Promise<T> => served.call<T>(method, ...args);
const shot = (name: string): Promise<void> => pageShot(page, name);

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
    app = await openServedApp('alphanet-served-');
    ({ served, page, problems } = app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('takes the token out of the address bar and shows the service in the status line', async () => {
    await expect.poll(() => page.getByRole('status').first().textContent(), WAIT).toMatch(/^AlphaNet Workbench 0\.1\.0 · served by Node .* · backend \S+ · data in /);
    expect(page.url()).not.toContain('token=');
    expect(page.url()).toBe(`${served.origin}/`);
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

  it('says where distillation is chosen what the fidelity study measured, and the demo preset why it uses its loss', async () => {
    await fillSmallRun('evidence only', 3);
    const note = page.getByRole('note', { name: 'What the fidelity study measured' });
    await expect.poll(() => note.textContent(), WAIT).toMatch(
      /Short schedules, measured: .*Real data, .*Fashion-MNIST after 1 epoch .*Longer schedules, 3 seeds: .*after 3 epochs.*No distillation, the study’s control: /s,
    );
    // The demo preset trains with the loss its sentence names (the one the study shows best on its short schedule).
    const why = (await page.locator('.preset.chosen .preset-desc').textContent()) ?? '';
    const named = /(KL|Adaptive α|No) distillation[:,]/.exec(why);
    expect(named, why).not.toBeNull();
    const radio = { KL: /^KL/, 'Adaptive α': /^Adaptive/, No: /^None/ }[named![1] as 'KL' | 'Adaptive α' | 'No'];
    expect(await page.getByRole('radio', { name: radio }).isChecked()).toBe(true);
    await page.locator('[data-group="distillation"]').screenshot({ path: path.join(SHOTS, 'new-run-distillation-evidence.png') });
    await shot('page-new-run-evidence');
  });

  it('offers the α losses a KL warm-up, refused at its field when it would cover the whole run', async () => {
    // The 10-epoch preset starts with one: adaptive α after 5 epochs of KL, as the study's 10-epoch cell says.
    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByRole('link', { name: 'New run' }).click();
    await page.getByRole('radio', { name: /^Small 28×28/ }).check();
    await expect.poll(() => page.getByRole('textbox', { name: 'KL warm-up' }).inputValue(), WAIT).toBe('5');
    expect(await page.getByRole('radio', { name: /^Adaptive α/ }).isChecked()).toBe(true);
    expect(await page.getByText(/Adaptive α after a KL warm-up of 5 epochs: in the fidelity study’s 10-epoch schedule/).count()).toBeGreaterThan(0);
    await shot('page-new-run-preset-small-28');
    await fillSmallRun('kl warm-up', 3);
    await page.getByRole('radio', { name: /^Adaptive α/ }).check();
    const warm = page.getByRole('textbox', { name: 'KL warm-up' });
    await expect.poll(() => warm.inputValue(), WAIT).toBe('0');
    await warm.fill('1'); // the small run is 1 epoch long
    const field = page.locator('[data-field="distillation.klWarmupEpochs"]');
    await expect.poll(() => field.getByRole('alert').textContent(), WAIT).toMatch(/must be below epochs \(1\), got 1: the run would distil with KL throughout/);
    expect(await page.getByRole('button', { name: 'Start run' }).isDisabled()).toBe(true);
    await warm.fill('0.5');
    await expect.poll(() => field.getByRole('alert').count(), WAIT).toBe(0);
    await page.locator('[data-group="distillation"]').screenshot({ path: path.join(SHOTS, 'new-run-kl-warmup.png') });
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
