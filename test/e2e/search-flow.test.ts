/**
 * Search, Pareto explorer, export and Compare end to end in Chromium against the real served mode (`alphanet serve`,
 * out/main/cli.js): two tiny runs on the demo set, one with adaptive α and one with KL distillation (started through the API: the run form has its own
 * e2e in served.test.ts), each searched from the Search page under a MFLOPs budget; then the Pareto explorer (a point
 * hovered with the mouse shows its tooltip, a click opens the panel), an export of that subnet in both formats whose
 * files are loaded here (TF.js `loadLayersModel`, onnxruntime-node), and the Compare page with two fronts.
 * Last, a latency table build from the Search page shows, while it runs, that it is timed with one worker and nothing
 * else running. Screenshots of each page go to test-results/page-*.png. No page may log an error or break the CSP.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail, RunPreset, RunSummary, SearchDetail } from '../../src-main/ipc/api-types';
import { loadTfjsModel } from '../../src-main/export/tfjs';
import { cspViolations, openServedApp, pageShot, servedUnavailable, WAIT, type Served, type ServedApp } from './chromium';

const unavailable = servedUnavailable();
if (unavailable) console.warn(`search-flow e2e skipped: ${unavailable}`);

const slow = process.env['ALPHANET_SLOW_TESTS'] === '1';

let app: ServedApp | undefined;
let served: Served;
let home: string;
let exportDir: string;
let page: Page;
let problems: string[];
/** The two runs: adaptive α first, KL second. */
const runs: { id: number; name: string }[] = [];

/** A 1-epoch, 3-step run of the demo preset with small validation, so training and each evaluation take seconds. */
function tinyRun(preset: RunPreset, name: string, distillation: Record<string, unknown>): Record<string, unknown> {
  const c = preset.config;
  return {
    ...c,
    name,
    batchSize: 16,
    stepsPerEpoch: 3,
    distillation,
    validation: { ...(c['validation'] as Record<string, unknown>), calibrationBatches: 1, calibrationBatchSize: 16, batchSize: 64, maxImages: 64 },
  };
}

/**
 * Search settings: 6 evaluations per search by default (population 4, one generation of one mutation and one
 * crossover), 10 under ALPHANET_SLOW_TESTS=1 (population 6, two of each), which CI sets.
 */
const SETTINGS = slow
  ? { Population: '6', Generations: '1', Mutations: '2', Crossovers: '2' }
  : { Population: '4', Generations: '1', Mutations: '1', Crossovers: '1' };

/**
 * Opens a run's search page from its detail page and starts a search under a budget of 60 % of its MFLOPs range;
 * resolves with the search's id once its first point is on the chart (the chart fills in live).
 */
async function startSearchFromPage(runId: number, workers?: string): Promise<number> {
  await page.goto(`${served.origin}/#/runs/${runId}`);
  await page.getByRole('link', { name: 'Search subnets' }).click();
  const upTo = page.getByLabel('MFLOPs up to', { exact: true });
  await expect.poll(() => upTo.inputValue(), WAIT).not.toBe('');
  const lo = Number(await page.getByLabel('MFLOPs from', { exact: true }).inputValue());
  const hi = Number(await upTo.inputValue());
  expect(hi).toBeGreaterThan(lo);
  await upTo.fill(String(Number((lo + 0.6 * (hi - lo)).toFixed(2))));
  for (const [label, value] of Object.entries(SETTINGS)) await page.getByLabel(label, { exact: true }).fill(value);
  if (workers !== undefined) await page.getByLabel('Evaluation workers', { exact: true }).fill(workers);
  await page.getByRole('button', { name: 'Start search' }).click();
  await expect.poll(() => new URL(page.url()).hash, WAIT).toMatch(new RegExp(`^#/search/${runId}/\\d+$`));
  const searchId = Number(new URL(page.url()).hash.split('/')[3]);
  // The status travels with the count, so a failed search says why instead of timing out silently.
  const plot = page.getByRole('group', { name: /Subnets evaluated by/ });
  await expect
    .poll(async () => `${await page.getByTestId('search-status').textContent()}: ${/for (\d+) subnets/.exec((await plot.getAttribute('aria-label')) ?? '')?.[1]}`, {
      timeout: 150_000,
      interval: 500,
    })
    .toMatch(/^(running|finished): [1-9]\d*$/);
  return searchId;
}

describe.skipIf(unavailable !== null)('search, explore, export and compare in Chromium, served by `alphanet serve`', () => {
  beforeAll(async () => {
    app = await openServedApp('alphanet-search-flow-');
    ({ home, served, page, problems } = app);
    // A new folder in an existing one: an export creates its own folder, never a chain of parents.
    exportDir = path.join(home, 'exported-subnet');
  });

  afterAll(async () => {
    await app?.close();
  });

  it('trains two tiny runs on the demo set, adaptive α and KL', { timeout: 150_000 }, async () => {
    const job = await served.call<{ jobId: string }>('datasets.createDemo');
    expect(job.jobId).toBeTruthy();
    await expect.poll(async () => (await served.call<{ name: string }[]>('datasets.list')).some((d) => d.name === 'demo'), { timeout: 60_000, interval: 500 }).toBe(true);
    const preset = (await served.call<RunPreset[]>('runs.presets')).find((p) => p.id === 'demo');
    if (!preset) throw new Error('no demo preset');
    for (const [name, distillation] of [
      // Named, not the preset's: the demo preset's distillation follows the fidelity study (KL today).
      ['e2e adaptive', { kind: 'adaptive-alpha' }],
      ['e2e kl', { kind: 'kl' }],
    ] as const) {
      const r = await served.call<RunSummary>('runs.start', tinyRun(preset, name, distillation));
      runs.push({ id: r.id, name });
    }
    for (const r of runs) {
      await expect.poll(async () => (await served.call<RunDetail>('runs.get', r.id)).summary.status, { timeout: 120_000, interval: 1000 }).toBe('finished');
    }
    const kinds = await Promise.all(runs.map(async (r) => (await served.call<RunDetail>('runs.get', r.id)).summary.distillation));
    expect(kinds).toEqual(['adaptive-alpha', 'kl']);
  });

  it('searches each run under a MFLOPs budget from the Search page, filling the chart live', { timeout: 300_000 }, async () => {
    // Both searches run side by side in the service; each page is watched until its first point arrives.
    // The first asks for one evaluation worker; the second leaves the field empty (`auto`).
    const ids = [await startSearchFromPage(runs[0]!.id, '1'), await startSearchFromPage(runs[1]!.id)];
    for (const id of ids) {
      await expect
        .poll(async () => {
          const d = await served.call<SearchDetail>('searches.get', id);
          return `${d.summary.status}${d.summary.error ? ` (${d.summary.error})` : ''}`;
        }, { timeout: 240_000, interval: 1000 })
        .toBe('finished');
    }
    await page.goto(`${served.origin}/#/search/${runs[0]!.id}/${ids[0]}`);
    await expect.poll(() => page.getByTestId('search-status').textContent(), WAIT).toBe('finished');
    expect(await page.getByTestId('search-progress').textContent()).toBe('100 %');
    expect(await page.getByTestId('search-hv').textContent()).toMatch(/^\d/);
    expect(await page.getByText(/ · 1 evaluation worker$/).count()).toBe(1);
    await pageShot(page, 'page-search');
    // A latency objective asks the service (the engine worker) for this machine's table: none yet, so it offers to build
    // one and the start waits for it.
    await page.getByRole('radio', { name: /^Latency/ }).check();
    const table = page.getByRole('group', { name: 'Latency table' });
    await expect.poll(() => table.textContent(), { timeout: 30_000 }).toMatch(/No latency table for this machine and backend yet/);
    expect(await table.getByRole('button', { name: 'Build latency table' }).isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Start search' }).isDisabled()).toBe(true);
    await pageShot(page, 'page-search-latency');
  });

  it('explores the first run: hover shows the tooltip, a click opens the panel with the genome', async () => {
    await page.goto(`${served.origin}/#/explorer/${runs[0]!.id}`);
    const plot = page.getByRole('group', { name: /Subnets of e2e adaptive/ });
    await expect.poll(() => plot.getAttribute('aria-label'), { timeout: 30_000 }).toMatch(/for [1-9]\d* subnets/);
    // Where is a point? The keyboard cursor puts the tooltip at the front's first point; then the mouse goes there.
    await plot.focus();
    await page.keyboard.press('ArrowRight');
    const tooltip = page.locator('.pareto .tooltip');
    await expect.poll(async () => (await tooltip.getAttribute('style')) ?? '', WAIT).toMatch(/visibility: visible/);
    const m = /translate\(([\d.]+)px, ([\d.]+)px\)/.exec((await tooltip.getAttribute('style')) ?? '');
    if (!m) throw new Error('the tooltip has no position');
    const genomeId = (await tooltip.locator('.tip-title').textContent())?.replace(/ \(pinned\)$/, '') ?? '';
    expect(genomeId).toMatch(/^[0-9a-f]{12}$/);
    await page.keyboard.press('Escape');
    await expect.poll(async () => (await tooltip.getAttribute('style')) ?? '', WAIT).toMatch(/visibility: hidden/);

    const box = await plot.boundingBox();
    if (!box) throw new Error('the plot has no box');
    const at = { x: box.x + Number(m[1]), y: box.y + Number(m[2]) };
    await page.mouse.move(at.x - 30, at.y - 30);
    await page.mouse.move(at.x, at.y, { steps: 3 });
    await expect.poll(async () => (await tooltip.getAttribute('style')) ?? '', WAIT).toMatch(/visibility: visible/);
    expect(await tooltip.textContent()).toContain(genomeId);
    await page.mouse.click(at.x, at.y);
    const panel = page.getByRole('complementary', { name: genomeId });
    await expect.poll(() => panel.count(), WAIT).toBe(1);
    // The genome table: first conv, the MB stages, last conv.
    const rows = panel.locator('table tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(3);
    expect(await rows.first().locator('th').textContent()).toBe('first');
    expect(await panel.getByTestId('acc-after').textContent()).toMatch(/^\d+\.\d\d %$/);
    await page.mouse.move(box.x + 2, box.y + 2);
    await pageShot(page, 'page-explorer');
  });

  it('exports the subnet in both formats; the TF.js model loads and the ONNX model runs', { timeout: 120_000 }, async () => {
    await page.getByRole('button', { name: 'Export…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Destination folder').fill(exportDir);
    await dialog.getByRole('button', { name: 'Export' }).click();
    const files = dialog.getByRole('table', { name: 'Files written' });
    await expect.poll(() => files.count(), { timeout: 90_000, interval: 500 }).toBe(1);
    const names = await files.locator('tbody th').allTextContents();
    expect(names).toEqual(expect.arrayContaining(['tfjs/model.json', 'model.onnx', 'arch.json', 'provenance.json']));
    expect(await dialog.locator('pre').textContent()).toContain('"genomeId"');
    // Served mode: there is no file manager to reveal the folder in.
    expect(await dialog.getByRole('button', { name: 'Show in file manager' }).count()).toBe(0);
    await pageShot(page, 'page-export');
    await dialog.getByRole('button', { name: 'Done' }).click();

    expect(readdirSync(exportDir)).toEqual(expect.arrayContaining(['tfjs', 'model.onnx', 'provenance.json']));
    const model = await loadTfjsModel(path.join(exportDir, 'tfjs'));
    const [, h, w, c] = model.inputs[0]!.shape as number[];
    const classes = (await served.call<{ name: string; classNames: string[] }[]>('datasets.list')).find((d) => d.name === 'demo')!.classNames.length;
    const y = model.predict(tf.zeros([1, h!, w!, c!])) as tf.Tensor;
    expect(y.shape).toEqual([1, classes]);
    expect([...(await y.data())].every(Number.isFinite)).toBe(true);
    y.dispose();
    model.dispose();

    const session = await ort.InferenceSession.create(path.join(exportDir, 'model.onnx'));
    const input = new ort.Tensor('float32', new Float32Array(c! * h! * w!).fill(0.5), [1, c!, h!, w!]);
    const out = await session.run({ [session.inputNames[0]!]: input });
    const logits = out[session.outputNames[0]!]!;
    expect(logits.dims).toEqual([1, classes]);
    expect([...(logits.data as Float32Array)].every(Number.isFinite)).toBe(true);
    await session.release();
  });

  it('compares the two runs from the runs page and shows two fronts', async () => {
    await page.goto(`${served.origin}/#/runs`);
    for (const r of runs) await page.getByRole('checkbox', { name: `Compare ${r.name}` }).check();
    await page.getByRole('button', { name: 'Compare selected (2)' }).click();
    await expect.poll(() => new URL(page.url()).hash, WAIT).toBe(`#/compare/${runs[0]!.id},${runs[1]!.id}`);
    const compared = page.getByRole('list', { name: 'Runs compared' });
    await expect.poll(() => compared.getByRole('link').allTextContents(), WAIT).toEqual(['e2e adaptive · adaptive α', 'e2e kl · KL']);
    const legend = page.getByRole('list', { name: 'Legend' });
    const series = (await legend.getByRole('listitem').allTextContents()).map((s) => s.trim());
    expect(series.filter((s) => /HV \d/.test(s))).toHaveLength(2);
    expect(series[0]).toMatch(/^e2e adaptive · adaptive α · HV/);
    expect(series[1]).toMatch(/^e2e kl · KL · HV/);
    const plot = page.getByRole('group', { name: /Pareto fronts of/ });
    expect(await plot.getAttribute('aria-label')).toMatch(/e2e adaptive · adaptive α · HV [\d.]+: [1-9]\d* on the front, e2e kl · KL · HV [\d.]+: [1-9]\d* on the front/);
    await expect.poll(() => page.locator('.chart canvas').count(), WAIT).toBeGreaterThanOrEqual(3);
    await pageShot(page, 'page-compare');
  });

  it('says, while the latency table builds, that it is timed with one worker and nothing else running', async () => {
    await page.goto(`${served.origin}/#/runs/${runs[0]!.id}`);
    await page.getByRole('link', { name: 'Search subnets' }).click();
    await page.getByRole('radio', { name: /^Latency/ }).check();
    const table = page.getByRole('group', { name: 'Latency table' });
    await table.getByRole('button', { name: 'Build latency table' }).click();
    const notice = table.getByTestId('latency-timing-notice');
    await expect.poll(() => notice.textContent(), WAIT).toMatch(/^\s*Timed with one worker and nothing else running: queued runs and searches wait/);
    expect(await table.getByRole('button', { name: /Building/ }).isDisabled()).toBe(true);
    await pageShot(page, 'page-search-latency-building');
  });

  it('logged no errors and broke no CSP rule on the way', async () => {
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
