/**
 * Predictor-guided search from the Search page, in Chromium against the served mode: a tiny run of the demo preset
 * (2 steps; BN calibration on 8 images, top-1 on the 1,000-image val split: about a second per evaluation on a quiet
 * machine, tens of seconds on a loaded one); its Search page offers
 * "Predictor-guided" only once the run has an accuracy predictor, so the test follows the page's link to the Pareto
 * explorer, starts a large build there and cancels it mid-sampling (the engine worker is killed: no predictor, no
 * error; screenshot test-results/page-explorer-predictor-cancelled.png), builds the predictor (real evaluations,
 * real TF.js fit, progress shown), comes back, ticks the box,
 * sets the screen factor and starts the search, which must finish with every candidate measured. Screenshot
 * test-results/page-search-guided.png. No page may log an error or break the CSP.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictorView, RunDetail, RunPreset, RunSummary, SearchDetail } from '../../src-main/ipc/api-types';
import { cspViolations, openServedApp, pageShot, servedUnavailable, WAIT, type ServedApp } from './chromium';

const unavailable = servedUnavailable();
if (unavailable) console.warn(`guided-search e2e skipped: ${unavailable}`);

let app: ServedApp | undefined;
let page: Page;

describe.skipIf(unavailable !== null)('predictor-guided search from the Search page, served by `alphanet serve`', () => {
  beforeAll(async () => {
    app = await openServedApp('alphanet-guided-');
    page = app.page;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('builds the predictor from the link on the Search page, then starts a guided search there and sees it finish', { timeout: 900_000 }, async () => {
    const a = app!;
    await a.served.call('datasets.createDemo');
    await expect.poll(async () => (await a.served.call<{ name: string }[]>('datasets.list')).map((d) => d.name), { timeout: 60_000, interval: 500 }).toContain('demo');
    const preset = (await a.served.call<RunPreset[]>('runs.presets')).find((p) => p.id === 'demo');
    if (!preset) throw new Error('no demo preset');
    const c = preset.config;
    const run = await a.served.call<RunSummary>('runs.start', {
      ...c,
      name: 'guided e2e',
      batchSize: 8,
      stepsPerEpoch: 2,
      epochs: 1,
      validation: { ...(c['validation'] as Record<string, unknown>), calibrationBatches: 1, calibrationBatchSize: 8, randomSubnets: 0, maxImages: 16 },
    });
    await expect.poll(async () => (await a.served.call<RunDetail>('runs.get', run.id)).summary.status, { timeout: 120_000, interval: 1000 }).toBe('finished');

    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(`${a.served.origin}/#/search/${run.id}`);
    const guided = page.getByRole('checkbox', { name: 'Predictor-guided' });
    const note = page.getByTestId('guided-note');
    await expect.poll(async () => (await note.textContent()) ?? '', WAIT).toMatch(/This run has no accuracy predictor yet\./);
    expect(await guided.isDisabled()).toBe(true);

    // Build it where the page points: the explorer's predictor card, with its progress line.
    await note.getByRole('link', { name: 'Build it in the Pareto explorer' }).click();
    await expect.poll(() => new URL(page.url()).hash, WAIT).toBe(`#/explorer/${run.id}`);
    const card = page.locator('section.predictor');
    // A build far too large to finish here, cancelled once it is evaluating subnets.
    await card.getByLabel('Subnets').fill('2000');
    await card.getByRole('button', { name: 'Build predictor' }).click();
    await expect.poll(async () => ((await card.getByRole('status').count()) ? ((await card.getByRole('status').textContent()) ?? '') : ''), { timeout: 120_000, interval: 250 }).toMatch(/evaluating random subnets: [1-9]\d* \/ 2000/);
    await card.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(async () => (await page.getByTestId('predictor-cancelled').count()) > 0, WAIT).toBe(true);
    expect(await card.getByRole('alert').count()).toBe(0);
    await pageShot(page, 'page-explorer-predictor-cancelled');
    expect(await a.served.call<PredictorView | null>('predictor.get', run.id)).toBeNull();
    expect(await a.served.call<boolean>('predictor.cancelBuild', run.id)).toBe(false);

    await card.getByLabel('Subnets').fill('12');
    await card.getByRole('button', { name: 'Build predictor' }).click();
    await expect.poll(async () => card.getByRole('status').count(), WAIT).toBe(1);
    // The card's text while waiting, so a failed build says why instead of timing out silently.
    const cardText = async () => ((await page.getByTestId('tau-badge').count()) ? ((await page.getByTestId('tau-badge').textContent()) ?? '') : ((await card.textContent()) ?? ''));
    await expect.poll(cardText, { timeout: 480_000, interval: 1000 }).toMatch(/^τ (-|−)?\d\.\d{3}$|^τ —$/);
    const view = await a.served.call<PredictorView | null>('predictor.get', run.id);
    expect(view?.predictor.trainSize).toBeGreaterThan(0);
    expect(view!.predictor.trainSize + view!.predictor.metrics.n).toBeGreaterThanOrEqual(12);

    // Back on the Search page the box is on offer; a small guided search: 4 + 1·(1 + 1) = 6 real evaluations.
    await page.goto(`${a.served.origin}/#/search/${run.id}`);
    await expect.poll(async () => guided.isDisabled(), WAIT).toBe(false);
    expect(await note.textContent()).toMatch(/Kendall τ .* on \d+ held-out subnets/);
    await guided.check();
    await page.getByLabel('Screen factor', { exact: true }).fill('4');
    for (const [label, value] of Object.entries({ Population: '4', Generations: '1', Mutations: '1', Crossovers: '1', 'Search name': 'guided from the page' })) {
      await page.getByLabel(label, { exact: true }).fill(value);
    }
    await page.getByRole('button', { name: 'Start search' }).click();
    await expect.poll(() => new URL(page.url()).hash, WAIT).toMatch(new RegExp(`^#/search/${run.id}/\\d+$`));
    const searchId = Number(new URL(page.url()).hash.split('/')[3]);
    await expect.poll(async () => (await page.getByTestId('search-status').textContent()) ?? '', { timeout: 300_000, interval: 1000 }).toBe('finished');
    expect(await page.getByText(/^evolution · predictor-guided \(screen 4\) · cost MFLOPs/).count()).toBe(1);
    await pageShot(page, 'page-search-guided');

    const d = await a.served.call<SearchDetail>('searches.get', searchId);
    expect(d.summary.config.screen).toBe(4);
    expect(d.summary.evaluations).toBe(6);
    // Predictions only choose: every evaluation of the search is a BN-calibrated measurement of the predictor's checkpoint.
    expect(d.evaluations).toHaveLength(6);
    for (const e of d.evaluations) {
      expect(e.checkpointStep).toBe(view!.predictor.checkpointStep);
      expect(e.calibration.batches).toBe(1);
    }

    expect(await cspViolations(page)).toEqual([]);
    // The one expected: Chromium logs the cancelled build's reply (400, "… was cancelled") as a failed resource.
    const cancelledReply = /^console error: Failed to load resource: the server responded with a status of 400/;
    expect(a.problems.filter((p) => cancelledReply.test(p))).toHaveLength(1);
    expect(a.problems.filter((p) => !cancelledReply.test(p))).toEqual([]);
  });
});
