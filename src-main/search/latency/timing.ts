/** Timing statistics: clocks, warm-up and repeated runs, medians and quantiles, interleaved measurement of several subnets. Part of the latency module (index.ts has the overview). */
import * as tf from '@tensorflow/tfjs';
import { type StaticSubnet } from '../../engine';

/**
 * `wall` (default): elapsed time, the latency a user sees. `cpu`: this process's CPU time (user + system), which
 * leaves out the time the OS ran other processes, valid only for single-threaded backends (wasm in Node, cpu) where
 * compute time is wall time. `cpu` is not the steadier one in practice — it also counts V8's helper threads (GC,
 * compiler) — and `min` tables need enough runs to find a quiet one: on the 2-core development VM (2026-11-28,
 * docs/BENCHMARKS.md, per-layer minima) checks right after a build met the 10 % median-error goal in 12 of 18 with
 * `wall` and 2 of 3 with `cpu` at 24 runs in 8 rounds; at 12 runs in 4 rounds, 0 of 3 with `wall` and 3 of 6 with
 * `cpu`.
 */
export type LatencyClock = 'wall' | 'cpu';

/** Milliseconds on the given clock (process.cpuUsage has µs resolution and costs about 1 µs a call). */
export function clockFn(clock: LatencyClock = 'wall'): () => number {
  if (clock === 'wall') return () => performance.now();
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
}

export interface TimingOptions {
  /** Default 'wall'. */
  clock?: LatencyClock;
  /** Untimed runs first (default 3). */
  warmup?: number;
  /** Timed runs; the median is reported (default 10). */
  repeats?: number;
}

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  repeats: number;
}

export const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Nearest-rank quantile: the smallest value with at least a fraction q of the values at or below it. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) throw new Error('quantile of no values');
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1];
}

export const summarize = (ts: number[]): Timing => ({ medianMs: median(ts), minMs: Math.min(...ts), maxMs: Math.max(...ts), repeats: ts.length });

/** One forced run of `run` inside a tidy scope (a one-element read-back makes the backend finish). */
export function forcedRun(run: () => tf.Tensor): void {
  tf.tidy(() => {
    const y = run();
    tf.slice(y, new Array(y.rank).fill(0), new Array(y.rank).fill(1)).dataSync();
  });
}

/** `warmup` untimed then `repeats` timed forced runs; the raw times (ms). */
export function sampleRuns(run: () => tf.Tensor, warmup: number, repeats: number, now: () => number): number[] {
  for (let i = 0; i < warmup; i++) forcedRun(run);
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = now();
    forcedRun(run);
    ts.push(now() - t0);
  }
  return ts;
}

/** Times `run` (which must return a tensor it owns; it is forced with a one-element read-back and disposed). */
export function timeForward(run: () => tf.Tensor, opts: TimingOptions = {}): Timing {
  const repeats = opts.repeats ?? 10;
  if (!(repeats >= 1)) throw new Error('repeats must be ≥ 1');
  return summarize(sampleRuns(run, opts.warmup ?? 3, repeats, clockFn(opts.clock)));
}

export const inputFor = (s: StaticSubnet, batch: number, seed: number) =>
  tf.randomNormal([batch, s.genome.resolution, s.genome.resolution, s.net.space.inputChannels], 0, 1, 'float32', seed) as tf.Tensor4D;

/** Latency of a static subnet's eval forward at each batch size (default [1]). */
export function measureLatency(s: StaticSubnet, opts: TimingOptions & { batchSizes?: number[]; seed?: number } = {}): (Timing & { batch: number })[] {
  return (opts.batchSizes ?? [1]).map((batch) => {
    const x = inputFor(s, batch, opts.seed ?? 1);
    try {
      return { batch, ...timeForward(() => s.forward(x), opts) };
    } finally {
      x.dispose();
    }
  });
}

export interface InterleavedOptions extends TimingOptions {
  /** Batch size (default 1). */
  batch?: number;
  /** Round-robin visits per subnet (default 5); `warmup` untimed and ⌈repeats / rounds⌉ timed runs per visit. */
  rounds?: number;
  /** Untimed forwards over all subnets before timing starts, at least this much CPU time (ms; default 1500). */
  settleMs?: number;
}

/**
 * Latency of several static subnets measured together: a settle phase, then `rounds` round-robin visits, each a few
 * untimed and timed runs of one subnet, so drift and bursts of load spread over all of them (see the module
 * comment). `warmup` (default 1) and `repeats` (default 10, in total per subnet) as in `measureLatency`.
 */
export function measureInterleaved(subnets: StaticSubnet[], opts: InterleavedOptions = {}): Timing[] {
  const batch = opts.batch ?? 1;
  const now = clockFn(opts.clock);
  const xs = subnets.map((s, i) => inputFor(s, batch, i + 1));
  try {
    const runs = subnets.map((s, i) => () => s.forward(xs[i]));
    settle(runs.map((run) => () => forcedRun(run)), opts.settleMs ?? 1500);
    const times: number[][] = subnets.map(() => []);
    interleave(
      runs.map((run, i) => (n) => times[i].push(...sampleRuns(run, opts.warmup ?? 1, n, now))),
      opts.rounds ?? 5,
      opts.repeats ?? 10,
    );
    return times.map(summarize);
  } finally {
    tf.dispose(xs);
  }
}

/**
 * Round-robin: `rounds` times, every visit in turn is called with its share of the `repeats` timed runs (spread
 * over the rounds, the first `repeats mod rounds` rounds taking one more; at most `repeats` rounds).
 */
export function interleave(visits: ((timedRuns: number) => void)[], rounds: number, repeats: number, onRound?: (done: number, total: number) => void): void {
  if (!(repeats >= 1)) throw new Error('repeats must be ≥ 1');
  const r = Math.max(1, Math.min(rounds, repeats));
  for (let i = 0; i < r; i++) {
    const n = Math.floor(repeats / r) + (i < repeats % r ? 1 : 0);
    for (const visit of visits) visit(n);
    onRound?.(i + 1, r);
  }
}

/**
 * Untimed runs, round-robin, until this process has spent `ms` of CPU time on them (every run at least once). CPU
 * time, not wall time: what warms up is work done (V8 tiers code up by how often it ran), which a loaded machine
 * slows down in wall time.
 */
export function settle(runs: (() => void)[], ms: number): void {
  const now = clockFn('cpu');
  const t0 = now();
  do for (const run of runs) run();
  while (now() - t0 < ms);
}
