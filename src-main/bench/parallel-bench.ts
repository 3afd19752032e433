/**
 * Data-parallel training (`npm run bench -- --parts parallel`): for each worker count, the bare sandwich step's
 * images/s (speed-up and scaling efficiency against one worker; goal ≥ 1.8× with 2), the whole trainer against the
 * bare N-worker step (goal ≥ 90 %), and each worker's peak memory — all through `benchTrainer`. Then the leak check:
 * N-worker steps in a loop, the tensor count of this thread and of every worker after the first 10 and after the
 * last (no growth allowed).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Rng, Supernet, createOps, getSpace, initBackend, sandwichMembers, type BackendChoice } from '../engine';
import { DataParallel, trainWorkerPath } from '../train/data-parallel';
import { machineCores } from '../train/workers';
import { benchTrainer, formatStepTiming, type TrainBenchResult } from './train-bench';

export interface ParallelBenchOptions {
  backend?: BackendChoice;
  space?: string;
  /** Images per step (default 64). */
  batch?: number;
  /** Worker counts to measure (default 1 and 2, and every power of two up to the machine's cores). */
  workers?: number[];
  /** Timed steps per measurement (default 6). */
  steps?: number;
  /** Leak check: steps and batch (default 1000 at 16). 0 steps skips it. */
  leakSteps?: number;
  leakBatch?: number;
  verbose?: boolean;
}

export interface ParallelRow extends TrainBenchResult {
  /** Bare-step images/s per worker, speed-up over one worker and speed-up / workers. */
  perWorkerImagesPerSec: number;
  speedup: number;
  efficiency: number;
}

export interface LeakResult {
  workers: number;
  batch: number;
  steps: number;
  /** Live tensors after step 10 and after the last step: this thread, then each worker thread. */
  after10: number[];
  atEnd: number[];
}

export interface ParallelBenchResult {
  cores: number;
  /** 1-minute load average at the start and at the end. */
  load: [number, number];
  rows: ParallelRow[];
  leak: LeakResult | null;
}

export function defaultWorkerCounts(cores = machineCores()): number[] {
  const out = [1];
  for (let n = 2; n <= cores; n *= 2) out.push(n);
  if (!out.includes(2)) out.push(2);
  return out;
}

export async function runParallelBench(o: ParallelBenchOptions = {}): Promise<ParallelBenchResult> {
  const load0 = loadavg()[0];
  const rows: ParallelRow[] = [];
  for (const workers of o.workers ?? defaultWorkerCounts()) {
    const r = await benchTrainer({ backend: o.backend, space: o.space, batch: o.batch, steps: o.steps, workers, verbose: o.verbose ?? false });
    const one = rows[0]?.bareImagesPerSec ?? r.bareImagesPerSec;
    const speedup = r.bareImagesPerSec / one;
    rows.push({ ...r, perWorkerImagesPerSec: Number((r.bareImagesPerSec / workers).toFixed(2)), speedup: Number(speedup.toFixed(3)), efficiency: Number((speedup / workers).toFixed(3)) });
  }
  const leakSteps = o.leakSteps ?? 1000;
  const leak = leakSteps > 0 ? await leakCheck({ backend: o.backend ?? 'wasm', space: o.space ?? 'alphanet-cifar32', workers: Math.max(2, ...(o.workers ?? [2])), batch: o.leakBatch ?? 16, steps: leakSteps, verbose: o.verbose ?? false }) : null;
  return { cores: machineCores(), load: [Number(load0.toFixed(2)), Number(loadavg()[0].toFixed(2))], rows, leak };
}

/** N-worker sandwich steps in a loop (new members each step, as in training); tensor counts after 10 and at the end. */
async function leakCheck(o: { backend: BackendChoice; space: string; workers: number; batch: number; steps: number; verbose: boolean }): Promise<LeakResult> {
  const report = await initBackend({ force: o.backend });
  const space = getSpace(o.space);
  const net = new Supernet({ space, ops: createOps(report.opsMode), seed: 0 });
  const pool = await DataParallel.start({ workers: o.workers, workerPath: trainWorkerPath(), net, space, backend: report.chosen, opsMode: report.opsMode });
  const res = space.resolutions[space.resolutions.length - 1];
  const x = tf.randomNormal([o.batch, res, res, space.inputChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: o.batch }, (_, i) => i % space.numClasses), 'int32');
  const rng = new Rng(0);
  const counts = () => [tf.memory().numTensors, ...pool.stats.map((s) => s.numTensors)];
  let after10: number[] = [];
  try {
    for (let i = 1; i <= o.steps; i++) {
      const r = await pool.gradients(net, x, labels, sandwichMembers(space, rng, 4, true), {
        distillation: { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5 },
        regularize: { dropout: 0.2, dropConnect: 0.2, rng },
      });
      tf.dispose([...r.grads.values()]);
      if (i === 10) after10 = counts();
      if (o.verbose && i % 100 === 0) process.stderr.write(`  leak check step ${i}/${o.steps}: tensors ${counts().join(', ')}\n`);
    }
    return { workers: o.workers, batch: o.batch, steps: o.steps, after10, atEnd: counts() };
  } finally {
    tf.dispose([x, labels]);
    await pool.close();
    net.dispose();
  }
}

export function formatParallelBench(r: ParallelBenchResult): string {
  const lines = [
    `${r.cores} cores, load average ${r.load[0]} at the start, ${r.load[1]} at the end`,
    '| workers | bare step img/s | per worker | speed-up | efficiency | trainer img/s | trainer / bare | in sandwich step | peak MiB per worker |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.workers} | ${x.bareImagesPerSec} | ${x.perWorkerImagesPerSec} | ${x.speedup}× | ${(100 * x.efficiency).toFixed(0)} % | ${x.trainerImagesPerSec} | ${(100 * x.ratio).toFixed(0)} % | ${(100 * x.sandwichShare).toFixed(0)} % | ${x.peakMiB.join(', ')} |`,
    ),
  ];
  for (const x of r.rows) {
    if (x.barePhases) lines.push(`${x.workers} workers, bare step phases (median ms): ${formatStepTiming(x.barePhases)}`);
    if (x.bareSched) lines.push(`1 worker, bare step (median ms): cpu ${x.bareSched.cpuMs}, runnable ${x.bareSched.waitMs}, process cpu ${x.bareSched.processCpuMs}`);
  }
  if (r.leak) {
    const l = r.leak;
    const flat = l.after10.every((n, i) => l.atEnd[i] === n);
    lines.push(`leak check: ${l.steps} steps at batch ${l.batch} on ${l.workers} workers: tensors after step 10 ${l.after10.join(', ')}; after step ${l.steps} ${l.atEnd.join(', ')} (${flat ? 'flat' : 'GROWING'})`);
  }
  return lines.join('\n');
}
