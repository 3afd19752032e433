/**
 * The evaluation pool (search/eval-pool.ts) with the built worker threads (out/main/eval-worker.js) on a briefly
 * trained tiny run: 2 and 3 workers give the in-process evaluation's numbers bit for bit for the same genomes, in
 * the order asked; nothing leaks in the calling thread or in the workers; a worker that is killed fails the call in
 * flight and every later one with an error naming it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng, initBackend, maxGenome, minGenome, randomGenome, type Genome } from '../../../src-main/engine';
import { openHomeDatabase, type Db } from '../../../src-main/store/db';
import { EvalPool, assignByCost, poolBatch } from '../../../src-main/search/eval-pool';
import { evaluationSettings, loadEvaluationData, loadRun, localSubnetCompute, type LoadedRun } from '../../../src-main/search/run-subnets';
import { trainTinyRun } from './run-fixture';

const WORKER = join(__dirname, '..', '..', '..', 'out', 'main', 'eval-worker.js');
const built = existsSync(WORKER);
if (!built) console.warn(`evaluation pool tests skipped: ${WORKER} is missing (run \`npx electron-vite build\`)`);

let db: Db;
let run: LoadedRun;
let home: string;

beforeAll(async () => {
  await initBackend({ force: 'wasm' });
  let runId: number;
  ({ home, runId } = await trainTinyRun('eval-pool-'));
  db = openHomeDatabase(home);
  run = await loadRun(home, db, runId);
}, 300_000);

afterAll(() => {
  run?.dispose();
  db?.close();
});

const numbers = (r: { accuracy: number; loss: number; before: { accuracy: number; loss: number } | null; images: number; calibrationImages: number }) => [r.accuracy, r.loss, r.before?.accuracy, r.before?.loss, r.images, r.calibrationImages];

describe('sharing a call out by cost', () => {
  it('gives the largest remaining cost to the least-loaded worker, and every genome to exactly one worker', () => {
    // Costs by size: 7 → w0 (7); 5 → w1 (5); 4 → w1 (9); 3 → w0 (10); 3 → w1 (12); 2 → w0 (12).
    expect(assignByCost([3, 7, 2, 5, 4, 3], 2)).toEqual([[1, 0, 2], [3, 4, 5]]);
    // Ties: equal costs keep their order; equal loads take the lower worker.
    expect(assignByCost([1, 1, 1, 1], 2)).toEqual([[0, 2], [1, 3]]);
    expect(assignByCost([5], 3)).toEqual([[0], [], []]);
    expect(assignByCost([], 2)).toEqual([[], []]);
    const costs = Array.from({ length: 30 }, (_, i) => ((i * 37) % 11) + 1);
    for (const n of [1, 2, 3, 5]) {
      const plan = assignByCost(costs, n);
      expect(plan.flat().sort((a, b) => a - b)).toEqual(costs.map((_, i) => i));
      // LPT's bound: no worker carries more than the mean plus the largest single cost.
      const loads = plan.map((p) => p.reduce((a, i) => a + costs[i], 0));
      expect(Math.max(...loads)).toBeLessThanOrEqual(costs.reduce((a, b) => a + b, 0) / n + Math.max(...costs));
    }
  });

  it('asks for three genomes per worker per call (one without threads)', () => {
    expect([1, 2, 4].map(poolBatch)).toEqual([1, 6, 12]);
  });
});

describe.skipIf(!built)('evaluation pool', () => {
  it('2 workers give the sequential numbers bit for bit, in the order asked, and leak nothing', async () => {
    const settings = evaluationSettings(run, { calibrationBatches: 2 });
    const genomes: Genome[] = [minGenome(run.space), maxGenome(run.space), ...Array.from({ length: 6 }, (_, i) => randomGenome(run.space, new Rng(40 + i)))];
    const seqData = await loadEvaluationData(run, settings);
    const sequential = await localSubnetCompute(run, () => Promise.resolve(seqData)).evaluateMany(genomes);
    seqData.dispose();
    // The accuracies differ between subnets, so an answer given to the wrong genome would show.
    expect(new Set(sequential.map((r) => r.loss)).size).toBe(genomes.length);

    {
      const workers = 2;
      const tensors = tf.memory().numTensors;
      const data = await loadEvaluationData(run, settings);
      const pool = await EvalPool.start({ workers, workerPath: WORKER, run, data });
      expect([pool.concurrency, pool.batch, pool.threads.length, pool.backend]).toEqual([workers, 6, workers - 1, 'wasm']);
      // In calls of `batch`, as the search asks (the last one shorter), and all at once.
      const batched = [];
      for (let i = 0; i < genomes.length; i += pool.batch) batched.push(...(await pool.evaluateMany(genomes.slice(i, i + pool.batch))));
      expect(batched.map((r) => r.genome)).toEqual(genomes);
      expect(batched.map(numbers)).toEqual(sequential.map(numbers));
      // More genomes than workers in one call: each worker takes several, the order given still holds.
      const three = [5, 2, 7];
      const together = await pool.evaluateMany(three.map((i) => genomes[i]));
      expect(together.map(numbers)).toEqual(three.map((i) => numbers(sequential[i])));
      const after = pool.workerTensors;
      await pool.evaluateMany(genomes.slice(0, workers));
      expect(pool.workerTensors).toEqual(after);
      await pool.dispose();
      expect(tf.memory().numTensors).toBe(tensors);
    }
  }, 600_000);

  it('a killed worker fails the call in flight and every later call, naming the worker', async () => {
    const settings = evaluationSettings(run);
    const pool = await EvalPool.start({ workers: 2, workerPath: WORKER, run, data: await loadEvaluationData(run, settings) });
    const genomes = Array.from({ length: 4 }, (_, i) => randomGenome(run.space, new Rng(70 + i)));
    const call = pool.evaluateMany(genomes);
    void pool.threads[0].terminate();
    await expect(call).rejects.toThrow(/evaluation worker 1 exited/);
    await expect(pool.evaluateMany(genomes.slice(0, 1))).rejects.toThrow(/evaluation worker 1 exited/);
    await pool.dispose();
  }, 300_000);

  it('refuses a worker script that is not there, and a pool of no workers', async () => {
    const settings = evaluationSettings(run);
    const tensors = tf.memory().numTensors;
    await expect(EvalPool.start({ workers: 2, workerPath: join(home, 'no-such-worker.js'), run, data: await loadEvaluationData(run, settings) })).rejects.toThrow(/evaluation worker 1 failed/);
    expect(tf.memory().numTensors).toBe(tensors);
    await expect(EvalPool.start({ workers: 0, workerPath: WORKER, run, data: await loadEvaluationData(run, settings) })).rejects.toThrow(/at least 1 worker/);
  });
});
