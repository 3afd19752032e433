/**
 * Data-parallel training (`npm run bench -- --parts parallel`): for each worker count, the bare sandwich step's
 * images/s (speed-up and scaling efficiency against one worker; goal ≥ 1.8× with 2), the whole trainer against the
 * bare N-worker step (goal ≥ 90 %), and each worker's peak memory — all through `benchTrainer`. Then the leak check:
 * N-worker steps in a loop, the tensor count of this thread and of every worker after the first 10 and after the
 * last (no growth allowed).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Rng, Supernet, createOps, getSpace, initBackend, sandwichGradients, sandwichMembers, type BackendChoice, type SandwichOptions } from '../engine';
import { DataParallel, trainWorkerPath } from '../train/data-parallel';
import { machineCores } from '../train/workers';
import { processCpuMs } from '../worker-thread';
import { median } from './stats';
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
  /**
   * Interleaved: instead of the rows above, one process alternates a 1-worker step and an N-worker step (N = the
   * largest of `workers`) on the same members, ABBA, `steps` pairs; see `runInterleaved`.
   */
  interleave?: boolean;
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
  interleaved?: InterleavedResult;
  leak: LeakResult | null;
}

/** One process, 1-worker and N-worker steps alternating (`ParallelBenchOptions.interleave`). */
export interface InterleavedResult {
  workers: number;
  batch: number;
  pairs: number;
  /** Median images/s of the 1-worker and the N-worker steps. */
  oneImagesPerSec: number;
  manyImagesPerSec: number;
  /** N-worker over 1-worker images/s: the ratio of the medians, and the median and range of the pairs' ratios. */
  speedup: number;
  pairSpeedup: { median: number; min: number; max: number };
  /** Median CPU ms of the whole process per step (every thread), 1 worker and N. */
  oneCpuMs: number;
  manyCpuMs: number;
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
  if (o.interleave) {
    const interleaved = await runInterleaved({ backend: o.backend ?? 'wasm', space: o.space ?? 'alphanet-cifar32', batch: o.batch ?? 64, workers: Math.max(2, ...(o.workers ?? [2])), pairs: o.steps ?? 6, verbose: o.verbose ?? false });
    return { cores: machineCores(), load: [Number(load0.toFixed(2)), Number(loadavg()[0].toFixed(2))], rows, interleaved, leak: null };
  }
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

/** A fresh supernet, a pool of `workers` on it, and one random batch (the same images for every run of the bench). */
async function poolAndBatch(o: { backend: BackendChoice; space: string; batch: number; workers: number }) {
  const report = await initBackend({ force: o.backend });
  const space = getSpace(o.space);
  const net = new Supernet({ space, ops: createOps(report.opsMode), seed: 0 });
  const pool = await DataParallel.start({ workers: o.workers, workerPath: trainWorkerPath(), net, space, backend: report.chosen, opsMode: report.opsMode });
  const res = space.resolutions[space.resolutions.length - 1];
  const x = tf.randomNormal([o.batch, res, res, space.inputChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: o.batch }, (_, i) => i % space.numClasses), 'int32');
  const close = async () => {
    tf.dispose([x, labels]);
    await pool.close();
    net.dispose();
  };
  return { space, net, pool, x, labels, close };
}

/**
 * The speed-up measured so that the machine's drift cancels: on a shared VM the same step's CPU time wanders by
 * ±15 % from one minute to the next (other tenants, steal, where the host places the vCPUs), more than the effect
 * measured. So one process holds one supernet and one pool of N and, for every pair, draws the sandwich members once
 * and times a 1-worker step (this thread alone, the pool's threads idle) and an N-worker step on them, in ABBA order
 * (which goes first alternates). Both see the same minute of the machine. One warm-up pair is not timed.
 */
async function runInterleaved(o: { backend: BackendChoice; space: string; batch: number; workers: number; pairs: number; verbose: boolean }): Promise<InterleavedResult> {
  const { space, net, pool, x, labels, close } = await poolAndBatch(o);
  const memberRng = new Rng(0);
  // Masks from their own streams: what they drop does not change a step's cost.
  const opts = (seed: number): SandwichOptions => ({ distillation: { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5 }, regularize: { dropout: 0.2, dropConnect: 0.2, rng: new Rng(seed) } });
  const time = async (f: () => Promise<{ grads: Map<string, tf.Tensor> }>) => {
    const t0 = performance.now();
    const c0 = processCpuMs();
    const r = await f();
    tf.dispose([...r.grads.values()]);
    return { ms: performance.now() - t0, cpuMs: processCpuMs() - c0 };
  };
  const one: { ms: number; cpuMs: number }[] = [];
  const many: { ms: number; cpuMs: number }[] = [];
  try {
    for (let i = 0; i <= o.pairs; i++) {
      const members = sandwichMembers(space, memberRng, 4, true);
      const a = () => time(() => Promise.resolve(sandwichGradients(net, x, labels, members, opts(i))));
      const b = () => time(() => pool.gradients(net, x, labels, members, opts(i)));
      let ta: { ms: number; cpuMs: number };
      let tb: { ms: number; cpuMs: number };
      if (i % 2 === 0) {
        ta = await a();
        tb = await b();
      } else {
        tb = await b();
        ta = await a();
      }
      if (o.verbose) process.stderr.write(`  interleaved pair ${i}: 1 worker ${Math.round(ta.ms)} ms, ${o.workers} workers ${Math.round(tb.ms)} ms\n`);
      if (i === 0) continue; // warm-up
      one.push(ta);
      many.push(tb);
    }
  } finally {
    await close();
  }
  const r2 = (v: number) => Number(v.toFixed(2));
  const ratios = one.map((t, i) => t.ms / many[i].ms);
  const oneRate = o.batch / (median(one.map((t) => t.ms)) / 1000);
  const manyRate = o.batch / (median(many.map((t) => t.ms)) / 1000);
  return {
    workers: o.workers,
    batch: o.batch,
    pairs: one.length,
    oneImagesPerSec: r2(oneRate),
    manyImagesPerSec: r2(manyRate),
    speedup: Number((manyRate / oneRate).toFixed(3)),
    pairSpeedup: { median: Number(median(ratios).toFixed(3)), min: Number(Math.min(...ratios).toFixed(3)), max: Number(Math.max(...ratios).toFixed(3)) },
    oneCpuMs: Math.round(median(one.map((t) => t.cpuMs))),
    manyCpuMs: Math.round(median(many.map((t) => t.cpuMs))),
  };
}

/** N-worker sandwich steps in a loop (new members each step, as in training); tensor counts after 10 and at the end. */
async function leakCheck(o: { backend: BackendChoice; space: string; workers: number; batch: number; steps: number; verbose: boolean }): Promise<LeakResult> {
  const { space, net, pool, x, labels, close } = await poolAndBatch(o);
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
    await close();
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
  if (r.interleaved) {
    const v = r.interleaved;
    lines.push(
      `interleaved, ${v.pairs} pairs at batch ${v.batch} (1 worker and ${v.workers} on the same members, ABBA): ` +
        `1 worker ${v.oneImagesPerSec} img/s, ${v.workers} workers ${v.manyImagesPerSec} img/s, speed-up **${v.speedup}×** ` +
        `(pairs: median ${v.pairSpeedup.median}×, ${v.pairSpeedup.min}–${v.pairSpeedup.max}×); process CPU per step ${v.oneCpuMs} / ${v.manyCpuMs} ms`,
    );
  }
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
