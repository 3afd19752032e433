/** The lookup table: its schema, building it by timing covering subnets in context, the scale/overhead fit, prediction. Part of the latency module (index.ts has the overview). */
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import {
  type StaticSubnet,
  type SupernetOps,
  Rng,
  Supernet,
  genomeId,
  maxGenome,
  minGenome,
  randomGenome,
  GenomeSchema,
  type Genome,
  type SearchSpace,
} from '../../engine';
import { DeviceFingerprintSchema, deviceFingerprint } from './device';
import {
  type Timing,
  type TimingOptions,
  clockFn,
  forcedRun,
  inputFor,
  interleave,
  measureLatency,
  median,
  sampleRuns,
  settle,
  summarize,
} from './timing';
import { coverGenomes, subnetKeys } from './layer-keys';
import { InContextTimer, clockCost, timingSubnet } from './in-context';
import { errorSummary, latencyErrorReport, relError } from './errors';

export const LatencyTableSchema = z.object({
  /** 2: in-context entries (version 1 timed layers alone and is rejected: rebuild). */
  version: z.literal(2),
  spaceId: z.string(),
  numClasses: z.number().int().positive(),
  batch: z.number().int().positive(),
  /** Untimed forwards per visit and timed forwards per subnet. */
  warmup: z.number().int().nonnegative(),
  repeats: z.number().int().positive(),
  /** Round-robin visits per subnet. */
  rounds: z.number().int().positive(),
  /** Which statistic of a subnet's timed runs the entries use (across subnets: always the median). */
  statistic: z.enum(['median', 'min']),
  /** Which clock timed them. */
  clock: z.enum(['wall', 'cpu']),
  device: DeviceFingerprintSchema,
  /** ms per layer key, in context (see the module comment). */
  entries: z.record(z.string(), z.number()),
  /** How many layer instances (over the timed subnets) each entry is the median of. */
  samples: z.record(z.string(), z.number().int().positive()),
  /** Subnets timed in context for the entries. */
  timedSubnets: z.number().int().nonnegative(),
  /** Cost of one clock reading (ms), subtracted once per reading from the slot it was charged to. */
  clockCostMs: z.number(),
  /** Prediction = scale · Σ entries + overheadMs (see the module comment). */
  scale: z.number().positive(),
  /** Constant added to every prediction (ms). */
  overheadMs: z.number(),
  /**
   * Subnets scale and overhead were fitted on: measured (whole, no hook) vs Σ entries. The error report re-measures
   * them as a speed reference.
   */
  overheadFit: z.array(z.object({ id: z.string(), genome: GenomeSchema, measuredMs: z.number(), sumMs: z.number() })),
  /**
   * The table's error on held-out random subnets measured whole among the build's visits (absent in tables built
   * before it was added; see `BuildTableOptions.heldOutSubnets`).
   */
  heldOut: z
    .object({
      seed: z.number().int(),
      rows: z.array(z.object({ id: z.string(), measuredMs: z.number(), predictedMs: z.number(), relError: z.number() })),
      medianRelError: z.number(),
      p90RelError: z.number(),
      meanRelError: z.number(),
      maxRelError: z.number(),
    })
    .optional(),
  /** Wall time of the build (ms). */
  buildMs: z.number(),
  createdAt: z.string(),
});
export type LatencyTable = z.infer<typeof LatencyTableSchema>;

/**
 * `min` (default): the least-disturbed run — the standard estimate of a forward's own cost (Python's `timeit` gives
 * the same advice), and far more stable on a shared CPU, where pre-emption and other tenants inflate some runs and
 * not others. On the 2-core development VM (2026-11-28, docs/BENCHMARKS.md) the same 20 subnets measured twice
 * (48 runs each) differed by 3–9 % with `min` and 6–29 % with `median`, whose values were 1.6× the minimum there.
 * `median`: the typical run.
 */
export type LatencyStatistic = 'median' | 'min';

export const pick = (t: Timing, s: LatencyStatistic) => (s === 'min' ? t.minMs : t.medianMs);

export interface BuildTableOptions extends TimingOptions {
  /** Default 'min' (see {@link LatencyStatistic}). */
  statistic?: LatencyStatistic;
  /** Batch size the table is for (default 1). */
  batch?: number;
  /** Timed subnets containing each layer key at least this often (default 2). */
  samplesPerKey?: number;
  /** Round-robin visits per subnet (default 8); each `warmup` (default 1) untimed and some of `repeats` (default 24) timed forwards. */
  rounds?: number;
  /** Settle phase (ms of CPU time, default 1500). */
  settleMs?: number;
  /** Random subnets (besides min and max) used to fit scale and overhead (default 14). */
  overheadSubnets?: number;
  /**
   * Random subnets measured whole among the build's visits but used for neither the entries nor the fit: the
   * table's own prediction error, free of the machine's drift between a build and a later check (default 20, drawn
   * with `heldOutSeed`, default 1234 — the same subnets `latencyErrorReport` re-measures by default; 0 for none).
   */
  heldOutSubnets?: number;
  heldOutSeed?: number;
  seed?: number;
  numClasses?: number;
  /** Called after each round of timed visits, and once after the fit (`done === total`). */
  onProgress?: (done: number, total: number) => void;
}

/** Builds the table: the cover's subnets timed in context, the fit subnets with them; see the module comment. */
export function buildLatencyTable(space: SearchSpace, ops: SupernetOps, opts: BuildTableOptions = {}): LatencyTable {
  const t0 = performance.now();
  const batch = opts.batch ?? 1;
  const warmup = opts.warmup ?? 1;
  const repeats = opts.repeats ?? 24;
  const rounds = Math.max(1, Math.min(opts.rounds ?? 8, repeats));
  const numClasses = opts.numClasses ?? space.numClasses;
  const statistic = opts.statistic ?? 'min';
  const clock = opts.clock ?? 'wall';
  const seed = opts.seed ?? 1;
  const now = clockFn(clock);
  const readCost = clockCost(now);
  const genomes = coverGenomes(space, { perKey: opts.samplesPerKey ?? 2, seed, numClasses });
  // Whole subnets, plain forward (as measureLatency and the error report time them), for scale and overhead.
  const rng = new Rng(seed + 1);
  const fitGenomes = [minGenome(space), maxGenome(space), ...Array.from({ length: opts.overheadSubnets ?? 14 }, () => randomGenome(space, rng))];
  const heldOutSeed = opts.heldOutSeed ?? 1234;
  const heldOutRng = new Rng(heldOutSeed);
  const heldOutGenomes = Array.from({ length: opts.heldOutSubnets ?? 20 }, () => randomGenome(space, heldOutRng));
  // Measured whole like the fit subnets, after them in the same arrays.
  const wholeGenomes = [...fitGenomes, ...heldOutGenomes];
  const net = new Supernet({ space, ops, numClasses });
  const timers: InContextTimer[] = [];
  let heldOutMs: number[] = [];
  const fitSubnets: StaticSubnet[] = [];
  const fitInputs: tf.Tensor4D[] = [];
  const table: LatencyTable = {
    version: 2, spaceId: space.id, numClasses, batch, warmup, repeats, rounds, statistic, clock, device: deviceFingerprint(ops), entries: {}, samples: {}, timedSubnets: genomes.length, clockCostMs: readCost, scale: 1, overheadMs: 0, overheadFit: [], buildMs: 0, createdAt: new Date().toISOString(),
  };
  try {
    for (const g of genomes) timers.push(new InContextTimer(timingSubnet(net, g), subnetKeys(space, g, numClasses), batch, now));
    for (const g of wholeGenomes) {
      fitSubnets.push(timingSubnet(net, g));
      fitInputs.push(inputFor(fitSubnets[fitSubnets.length - 1], batch, 1));
    }
    // Per timed subnet, every timed run's per-slot ms (clock readings' cost taken out).
    const runs = timers.map((): number[][] => []);
    const fitTimes = fitSubnets.map((): number[] => []);
    const timerVisits = timers.map((timer, i) => (n: number) => {
      for (let w = 0; w < warmup; w++) timer.run();
      for (let k = 0; k < n; k++) {
        const { ms, reads } = timer.run();
        runs[i].push(ms.map((v, j) => v - reads[j] * readCost));
      }
    });
    const fitVisits = fitSubnets.map((s, i) => (n: number) => fitTimes[i].push(...sampleRuns(() => s.forward(fitInputs[i]), warmup, n, now)));
    // The whole-forward subnets spread evenly among the timed ones, so that drift hits both alike.
    const visits = timerVisits.flatMap((v, i) => [v, ...fitVisits.filter((_, j) => Math.floor((j * timerVisits.length) / fitVisits.length) === i)]);
    settle([...timers.map((t) => () => void t.run()), ...fitSubnets.map((s, i) => () => forcedRun(() => s.forward(fitInputs[i])))], opts.settleMs ?? 1500);
    interleave(visits, rounds, repeats, (d, t) => opts.onProgress?.(d, t + 1));
    const samples = new Map<string, number[]>();
    timers.forEach((timer, i) => {
      const slots = slotTimes(runs[i], statistic);
      timer.keys.forEach((k, j) => samples.set(k, [...(samples.get(k) ?? []), slots[j]]));
    });
    for (const [k, v] of [...samples].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      table.entries[k] = median(v);
      table.samples[k] = v.length;
    }
    fitGenomes.forEach((g, i) => table.overheadFit.push({ id: genomeId(space.id, g), genome: g, measuredMs: pick(summarize(fitTimes[i]), statistic), sumMs: sumEntries(table, space, g) }));
    heldOutMs = heldOutGenomes.map((_, i) => pick(summarize(fitTimes[fitGenomes.length + i]), statistic));
  } finally {
    for (const t of timers) t.dispose();
    for (const s of fitSubnets) s.dispose();
    tf.dispose(fitInputs);
    net.dispose();
  }
  Object.assign(table, fitScaleOverhead(table.overheadFit));
  if (heldOutGenomes.length > 0) {
    const { rows, ...stats } = errorSummary(heldOutGenomes.map((g, i) => ({ id: genomeId(space.id, g), measuredMs: heldOutMs[i], predictedMs: predictLatency(table, space, g) })));
    table.heldOut = { seed: heldOutSeed, rows, ...stats };
  }
  table.buildMs = performance.now() - t0;
  opts.onProgress?.(rounds + 1, rounds + 1);
  return table;
}

/**
 * A timed subnet's per-slot times from its runs. `min`: the slots of its least-disturbed run (smallest total), so
 * that the entries of one forward still sum to a real forward — per-slot minima would mix the luckiest moments of
 * different runs and sum to less than any forward (the fit then had to stretch them by 1.1–1.8×, and a noisy fit
 * missed by 15–20 %). `median`: each slot's median over the runs.
 */
function slotTimes(runs: number[][], statistic: LatencyStatistic): number[] {
  if (statistic === 'median') return runs[0].map((_, j) => median(runs.map((r) => r[j])));
  let best = runs[0];
  let bestSum = Infinity;
  for (const r of runs) {
    const sum = r.reduce((a, b) => a + b, 0);
    if (sum < bestSum) [best, bestSum] = [r, sum];
  }
  return best;
}

/**
 * measured ≈ scale · sum + overhead by Theil–Sen: scale the median of the slopes between pairs of fit subnets,
 * overhead the median residual. Robust where least squares is not: one fit subnet timed in a slow moment moved a
 * least-squares line enough to miss the goal. Falls back to scale 1 + median difference with fewer than 3 subnets
 * or no usable slope.
 */
export function fitScaleOverhead(fit: { measuredMs: number; sumMs: number }[]): { scale: number; overheadMs: number } {
  const fallback = { scale: 1, overheadMs: median(fit.map((f) => f.measuredMs - f.sumMs)) };
  if (fit.length < 3) return fallback;
  const slopes: number[] = [];
  for (let i = 0; i < fit.length; i++)
    for (let j = i + 1; j < fit.length; j++) {
      const dx = fit[j].sumMs - fit[i].sumMs;
      if (Math.abs(dx) > 1e-9 * Math.max(fit[i].sumMs, fit[j].sumMs, 1)) slopes.push((fit[j].measuredMs - fit[i].measuredMs) / dx);
    }
  if (slopes.length === 0) return fallback;
  const scale = median(slopes);
  if (!Number.isFinite(scale) || scale <= 0) return fallback;
  return { scale, overheadMs: median(fit.map((f) => f.measuredMs - scale * f.sumMs)) };
}

function sumEntries(t: LatencyTable, space: SearchSpace, g: Genome): number {
  let sum = 0;
  for (const k of subnetKeys(space, g, t.numClasses)) {
    const v = t.entries[k];
    if (v === undefined) throw new Error(`latency table for '${t.spaceId}' has no entry '${k}' (built for another space?)`);
    sum += v;
  }
  return sum;
}

/** Predicted latency (ms) of a subnet: scale · Σ layer entries + overhead. */
export function predictLatency(t: LatencyTable, space: SearchSpace, g: Genome): number {
  if (space.id !== t.spaceId) throw new Error(`latency table is for space '${t.spaceId}', not '${space.id}'`);
  return t.scale * sumEntries(t, space, g) + t.overheadMs;
}

/** A predictor function for the search. */
export function latencyPredictor(t: LatencyTable, space: SearchSpace): (g: Genome) => number {
  return (g) => predictLatency(t, space, g);
}
