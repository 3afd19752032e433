/**
 * Parallel subnet evaluation (`npm run bench -- --parts evaluate`): evaluated subnets per minute with 1, 2, … workers
 * of the evaluation pool (search/eval-pool.ts), the way a search runs them — a generation's candidates N at a time,
 * each with its BN recalibration on `calibrationBatches` × `batchSize` images, then top-1 and loss before and after
 * calibration on `evalImages` images. Goal: ≥ 1.8× one worker's rate with 2. The supernet is freshly initialised
 * and the images random: an evaluation costs the same as with trained weights and real data, and only the time is
 * measured (the numbers are compared across worker counts, which must agree bit for bit).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Rng, Supernet, createOps, getSpace, initBackend, maxGenome, minGenome, randomGenome, type BackendChoice, type LabelledBatch } from '../engine';
import { EvalPool } from '../search/eval-pool';
import type { EvaluationData } from '../search/run-subnets';
import { defaultRunnerPath } from '../jobs/run-manager';
import { machineCores } from '../train/workers';
import { median } from './stats';

export interface EvaluateBenchOptions {
  backend?: BackendChoice;
  space?: string;
  /** Worker counts to measure (default 1 and 2). */
  workers?: number[];
  /** Subnets timed per worker count (default 24: min, max and 22 random ones; the same for every count). */
  evaluations?: number;
  /** Calibration batches (default 4) of `batchSize` (default 64) images; evaluation images (default 512). */
  calibrationBatches?: number;
  batchSize?: number;
  evalImages?: number;
  verbose?: boolean;
}

export interface EvaluateBenchRow {
  workers: number;
  seconds: number;
  perMinute: number;
  speedup: number;
  efficiency: number;
  /** Live tensors of each worker thread after the last batch (workers 1…N − 1). */
  workerTensors: (number | undefined)[];
}

export interface EvaluateBenchResult {
  space: string;
  backend: string;
  cores: number;
  evaluations: number;
  calibrationImages: number;
  evalImages: number;
  /** 1-minute load average at the start and at the end. */
  load: [number, number];
  rows: EvaluateBenchRow[];
  /** Whether every worker count gave the one-worker accuracies and losses bit for bit. */
  identical: boolean;
  /**
   * Per worker count, the median subnets/min over its rows and the speed-up of that median over the first count's
   * (give a count several times, e.g. `--workers 1,2,2,1,1,2`, to measure in ABBA order on a drifting machine).
   */
  medians: { workers: number; rows: number; perMinute: number; speedup: number }[];
}

export async function runEvaluateBench(o: EvaluateBenchOptions = {}): Promise<EvaluateBenchResult> {
  const report = await initBackend({ force: o.backend ?? 'wasm' });
  const space = getSpace(o.space ?? 'alphanet-cifar32');
  const ops = createOps(report.opsMode);
  const net = new Supernet({ space, ops, seed: 0 });
  const bs = o.batchSize ?? 64;
  const nCal = o.calibrationBatches ?? 4;
  const nEval = Math.max(1, Math.round((o.evalImages ?? 512) / bs));
  const res = Math.max(...space.resolutions);
  const n = o.evaluations ?? 24;
  const rng = new Rng(0);
  const genomes = [minGenome(space), maxGenome(space), ...Array.from({ length: Math.max(0, n - 2) }, () => randomGenome(space, rng))].slice(0, n);
  const labels = Array.from({ length: nEval }, () => Array.from({ length: bs }, () => rng.int(space.numClasses)));
  // The same images for every worker count (the pool owns and frees its data).
  const data = (): EvaluationData => {
    const calibration = Array.from({ length: nCal }, (_, i) => tf.randomNormal([bs, res, res, space.inputChannels], 0, 1, 'float32', 100 + i) as tf.Tensor4D);
    const evaluation: LabelledBatch[] = labels.map((l, i) => ({ x: tf.randomNormal([bs, res, res, space.inputChannels], 0, 1, 'float32', 200 + i) as tf.Tensor4D, labels: l }));
    return { calibration, evaluation, dispose: () => tf.dispose([...calibration, ...evaluation.map((b) => b.x)]) };
  };
  const workerPath = defaultRunnerPath(process.env, { file: 'eval-worker.js', envVar: 'ALPHANET_EVAL_WORKER', what: 'the evaluation worker' });
  const load0 = loadavg()[0];
  const rows: EvaluateBenchRow[] = [];
  let reference: string | undefined;
  let identical = true;
  for (const workers of o.workers ?? [1, 2]) {
    const pool = await EvalPool.start({ workers, workerPath, run: { net, space, ops }, data: data() });
    try {
      // Untimed: one genome per worker warms up every worker's kernels and WASM heap.
      await pool.evaluateMany(genomes.slice(0, workers));
      const t0 = performance.now();
      const results = [];
      // In calls of the pool's `batch`, as a search hands them over (search-runner.ts).
      for (let i = 0; i < genomes.length; i += pool.batch) results.push(...(await pool.evaluateMany(genomes.slice(i, i + pool.batch))));
      const seconds = (performance.now() - t0) / 1000;
      const numbers = JSON.stringify(results.map((r) => [r.accuracy, r.loss, r.before?.accuracy, r.before?.loss]));
      reference ??= numbers;
      identical &&= numbers === reference;
      const perMinute = (60 * genomes.length) / seconds;
      const base = rows[0]?.perMinute ?? perMinute;
      rows.push({ workers, seconds: round(seconds), perMinute: round(perMinute), speedup: round(perMinute / base), efficiency: round(perMinute / base / workers), workerTensors: pool.workerTensors });
      if (o.verbose) console.error(`evaluate: ${workers} worker(s): ${genomes.length} subnets in ${seconds.toFixed(1)} s`);
    } finally {
      await pool.dispose();
    }
  }
  net.dispose();
  const counts = [...new Set(rows.map((r) => r.workers))];
  const perCount = counts.map((w) => ({ workers: w, rates: rows.filter((r) => r.workers === w).map((r) => r.perMinute) }));
  const base = median(perCount[0]?.rates ?? []);
  const medians = perCount.map((c) => ({ workers: c.workers, rows: c.rates.length, perMinute: round(median(c.rates)), speedup: round(median(c.rates) / base) }));
  return {
    medians,
    space: space.id,
    backend: report.chosen,
    cores: machineCores(),
    evaluations: genomes.length,
    calibrationImages: nCal * bs,
    evalImages: nEval * bs,
    load: [round(load0), round(loadavg()[0])],
    rows,
    identical,
  };
}

const round = (x: number) => Number(x.toFixed(2));

export function formatEvaluateBench(r: EvaluateBenchResult): string {
  return [
    `${r.space} (freshly initialised supernet, random images), ${r.backend}, ${r.cores} cores, load average ${r.load[0]} at the start, ${r.load[1]} at the end`,
    `${r.evaluations} subnets per worker count, each: BN recalibration on ${r.calibrationImages} images, accuracy before and after on ${r.evalImages}`,
    '| workers | seconds | subnets/min | speed-up | efficiency |',
    '|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.workers} | ${x.seconds} | ${x.perMinute} | ${x.speedup}× | ${(100 * x.efficiency).toFixed(0)} % |`),
    ...(r.medians.some((m) => m.rows > 1) ? [`medians: ${r.medians.map((m) => `${m.workers} worker${m.workers === 1 ? '' : 's'} ${m.perMinute}/min over ${m.rows} rows (${m.speedup}×)`).join(', ')}`] : []),
    `results identical across worker counts: ${r.identical ? 'yes' : 'NO'}`,
  ].join('\n');
}
