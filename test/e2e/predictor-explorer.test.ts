/**
 * The explorer's predictor and gene views at scale, in Chromium against the served mode: a 32×32 run trained for two
 * steps by `alphanet train`, then 2,000 evaluated subnets written to its cache by this test — their top-1 a known
 * function of the genes (resolution and mb3's depth matter most), NOT measured, so that 2,000 points take seconds —
 * and a predictor fitted on them with the real build (TF.js here). The page must show the τ badge, predicted vs
 * measured, the parallel coordinates and the importance bars, readably at 2,000 points (screenshot
 * test-results/page-explorer-predictor.png); brushing the resolution axis filters the Pareto chart to the subnets
 * in the brushed range. No CSP violation, no console error.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, genomeId, getSpace, randomGenome, subnetCost, type Genome } from '../../src-main/engine/core';
import { buildPredictor } from '../../src-main/search/predictor/build';
import { spaceGenes } from '../../src-main/search/predictor';
import { openHomeDatabase } from '../../src-main/store/db';
import { insertEvaluation } from '../../src-main/store/evaluations';
import { savePredictor, toPredictorMetrics } from '../../src-main/store/predictors';
import { listCheckpoints } from '../../src-main/store/runs';
import { CLI, cspViolations, openServedApp, pageShot, servedUnavailable, WAIT, type ServedApp } from './chromium';

const unavailable = servedUnavailable();
if (unavailable) console.warn(`predictor-explorer e2e skipped: ${unavailable}`);

let app: ServedApp | undefined;
let page: Page;
const N = 2000;

function trainTwoSteps(home: string, config: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, '--home', home, 'train', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`alphanet train exited ${code}: ${err.slice(-500)}`))));
  });
}

describe.skipIf(unavailable !== null)('the explorer at 2,000 subnets with a predictor', () => {
  beforeAll(async () => {
    app = await openServedApp('alphanet-predictor-');
    page = app.page;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('shows τ, predicted vs measured, parallel coordinates and importance; brushing filters the chart', { timeout: 300_000 }, async () => {
    const a = app!;
    await a.served.call('datasets.createDemo');
    await expect.poll(async () => (await a.served.call<{ name: string }[]>('datasets.list')).map((d) => d.name), { timeout: 60_000 }).toContain('demo');
    const config = path.join(a.home, 'run.json');
    await writeFile(config, JSON.stringify({ name: 'predictor e2e', dataset: 'demo', space: 'alphanet-cifar32', epochs: 1, batchSize: 8, stepsPerEpoch: 2, backend: 'wasm', validation: { calibrationBatches: 1, calibrationBatchSize: 8, randomSubnets: 0, maxImages: 16 } }));
    await trainTwoSteps(a.home, config);

    const space = getSpace('alphanet-cifar32');
    const genes = spaceGenes(space);
    const idx = (key: string, g: Genome) => {
      const gene = genes.find((x) => x.key === key)!;
      return gene.get(g) / (gene.values.length - 1);
    };
    const rng = new Rng(3);
    const db = openHomeDatabase(a.home);
    try {
      const ck = listCheckpoints(db, 1)[0];
      const samples: { genome: Genome; accuracy: number; ref: number }[] = [];
      const seen = new Set<string>();
      db.transaction(() => {
        while (samples.length < N) {
          const g = randomGenome(space, rng);
          const id = genomeId(space.id, g);
          if (seen.has(id)) continue;
          seen.add(id);
          const accuracy = 0.55 + 0.1 * idx('resolution', g) + 0.06 * idx('depth[2]', g) + 0.03 * idx('width[3]', g) + 0.02 * idx('expandRatio[3]', g) + 0.02 * (rng.next() - 0.5);
          const c = subnetCost(space, g, 10);
          const { row } = insertEvaluation(db, {
            runId: 1, genomeId: id, genome: g, split: 'val', calibrationBatches: 1, calibrationBatchSize: 8, calibrationSeed: 0,
            checkpointSha256: ck.sha256, checkpointStep: ck.step, accuracy, loss: 1 - accuracy, before: null, images: 1000, calibrationImages: 8,
            mflops: c.mflops, mparams: c.mparams, latency: null, backend: 'synthetic', evalMs: 0,
          });
          samples.push({ genome: g, accuracy, ref: row.id });
        }
      })();
      await tf.setBackend('cpu');
      const built = await buildPredictor(space, samples.slice(0, 600), { heldOut: 100, epochs: 40, seed: 1, sizeTable: false });
      savePredictor(db, {
        runId: 1, checkpointSha256: ck.sha256, checkpointStep: ck.step, split: 'val', calibrationBatches: 1, calibrationBatchSize: 8, calibrationSeed: 0,
        spaceId: space.id, layout: built.model.mlp.layout, weights: built.model.mlp.params, trainSize: built.trainSize, metrics: toPredictorMetrics(built.metrics),
        sizeTable: built.sizeTable.map((r) => ({ trainSize: r.trainSize, ...toPredictorMetrics(r) })),
        heldOut: built.heldOut.map((h) => ({ evaluationId: h.ref as number, measured: h.measured, predicted: h.predicted })),
        fit: { ...built.fit, seed: 1 }, trainLoss: built.trainLoss, fitMs: built.fitMs, sampled: 0, backend: 'cpu', appVersion: 'e2e',
      });
    } finally {
      db.close();
    }

    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(`${a.served.origin}/#/explorer/1`);
    const plot = page.getByRole('group', { name: /Subnets of predictor e2e/ });
    await expect.poll(async () => (await plot.getAttribute('aria-label')) ?? '', WAIT).toMatch(new RegExp(`for ${N} subnets`));
    await expect.poll(async () => (await page.getByTestId('tau-badge').textContent()) ?? '', WAIT).toMatch(/^τ 0\.\d{3}$/);
    const tau = Number((await page.getByTestId('tau-badge').textContent())!.slice(2));
    expect(tau).toBeGreaterThan(0.5);
    await expect.poll(async () => page.getByText(`Parallel coordinates of ${N} subnets over 22 genes and top-1`).count(), WAIT).toBe(1);
    await expect.poll(async () => (await page.getByText(/Share of the predicted accuracy's variance per gene: res /).count()), WAIT).toBe(1);
    await pageShot(page, 'page-explorer-predictor');

    // Brush the resolution axis (the first) over its upper half: only 32-px subnets (and 28 at the edge) stay.
    const pc = page.getByTestId('gene-parallel');
    await pc.scrollIntoViewIfNeeded();
    const box = (await pc.boundingBox())!;
    const x = box.x + 36; // parallel.left
    await page.mouse.move(x, box.y + 16); // above the axis top (parallel.top = 28): 32 px is its end
    await page.mouse.down();
    await page.waitForTimeout(100);
    await page.mouse.move(x, box.y + 60, { steps: 10 });
    await page.mouse.move(x, box.y + 90, { steps: 10 });
    await page.mouse.up();
    await page.waitForTimeout(500);
    await pageShot(page, 'page-explorer-predictor-brushed');
    await expect.poll(async () => (await page.getByText(/Showing the \d+ of 2000 subnets inside the brushed gene ranges/).count()), WAIT).toBe(1);
    const note = (await page.getByText(/Showing the \d+ of 2000 subnets/).textContent())!;
    const shown = Number(/Showing the (\d+)/.exec(note)![1]);
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(N);
    await expect.poll(async () => (await plot.getAttribute('aria-label')) ?? '', WAIT).toMatch(new RegExp(`for ${shown} subnets`));
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(async () => (await plot.getAttribute('aria-label')) ?? '', WAIT).toMatch(new RegExp(`for ${N} subnets`));

    expect(await cspViolations(page)).toEqual([]);
    expect(a.problems).toEqual([]);
  });
});
