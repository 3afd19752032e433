/**
 * Latency on this machine: direct measurement of a static subnet, and a per-layer lookup table (LUT) that predicts
 * a whole subnet's latency from its layers (the once-for-all / FBNet style predictor), timed *in context*.
 *
 * - Measurement: warm-up runs, then the median of `repeats` timed runs of the eval-mode forward at a given batch size
 *   (inputs at the subnet's resolution, so no resize). The output is forced by reading one element back, which
 *   costs the same for every network.
 * - LUT entries are keyed by what determines a layer's cost: the first conv (cIn, cOut, k, stride, input size), each
 *   MB block (cIn, cMid, cOut, k, stride, SE channels, input size, expand conv, shortcut pool/conv), the head (cIn,
 *   cExpand, cLast, classes, size). A table is valid for one machine + backend + batch size, recorded as a device
 *   fingerprint.
 * - In-context timing: an entry is not a layer timed alone (that missed the per-op dispatch between layers, the
 *   tidy/read-back harness counted once per layer, and the fused kernels the real forward uses: 18 % median error).
 *   Instead a set of real static subnets that together contain every key at least `samplesPerKey` times (a greedy
 *   cover drawn from random genomes) runs its ordinary forward with the forward's layer hook, which fires after
 *   every conv and linear layer; the clock is read at each hook, and the time since the previous reading is charged
 *   to the layer the hook belongs to. So a layer's entry is exactly what it adds to a whole forward — its own ops,
 *   their dispatch, the previous block's residual tail (whose size is fixed by this layer's input) and cache effects
 *   — and the entries of one forward sum to that forward. Everything before the first conv's hook (plan lookup)
 *   goes to the first conv, everything after the classifier (read-back, tidy) to the head. A subnet's per-slot
 *   times are those of its least-disturbed run (see `slotTimes`); each entry is the median over the subnets
 *   containing it. This needs a synchronous backend (wasm,
 *   cpu, tensorflow), where an op has run when its call returns.
 * - Noise on a shared CPU: first a settle phase (untimed forwards for `settleMs` of CPU time: V8 tiers up the JS
 *   and the WASM code over the first second or so of forwards, which made early timings 2–3× slower), then every subnet is visited in
 *   `rounds` round-robin visits (one untimed forward to warm the caches, then timed ones), so drift and bursts of
 *   load hit every subnet alike. The error report measures its test subnets the same way.
 * - Calibration: prediction = scale · Σ entries + overheadMs, with scale and overheadMs fitted (Theil–Sen) on a
 *   few whole subnets (min, max and random ones, not the report's), timed without the hook. It absorbs the hook's
 *   own cost and what the in-context sums still miss; with good entries scale is close to 1. With fewer than 3 fit
 *   subnets (or a degenerate fit) scale is 1 and overheadMs the median difference.
 * - Held-out error: 20 more random subnets are measured whole among the same visits and used for nothing else; the
 *   table records its error on them. That is the table's own error. A later check (`latencyErrorReport`) adds the
 *   machine's drift since the build, which on a shared VM reaches ±10–25 % for minutes (docs/BENCHMARKS.md) and
 *   which it reports separately as `speed`.
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import {
  extractStatic,
  type StaticSubnet,
  activeBackend,
  type SupernetOps,
  Rng,
  Supernet,
  genomeId,
  maxGenome,
  minGenome,
  randomGenome,
  convOutSize,
  makeDivisible,
  subnetPlan,
  type BlockPlan,
  type SubnetPlan,
  GenomeSchema,
  type Genome,
  type SearchSpace,
  resetStats,
} from '../engine';
import { writeJsonAtomic } from '../atomic-files';

const DeviceFingerprintSchema = z.object({
  cpuModel: z.string(),
  cpuCount: z.number().int(),
  platform: z.string(),
  arch: z.string(),
  /** TF.js backend name (`wasm`, `cpu`, `tensorflow`, …). */
  backend: z.string(),
  tfjsVersion: z.string(),
  /** How the supernet ops are formulated (portable / native). */
  opsMode: z.string(),
  /** WASM SIMD, when known. */
  simd: z.boolean().nullable(),
});
export type DeviceFingerprint = z.infer<typeof DeviceFingerprintSchema>;

export function deviceFingerprint(ops: SupernetOps): DeviceFingerprint {
  const c = cpus();
  const active = activeBackend();
  return {
    cpuModel: c[0]?.model?.trim() ?? 'unknown',
    cpuCount: c.length,
    platform: process.platform,
    arch: process.arch,
    backend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    opsMode: ops.mode,
    simd: active && active.tfBackend === tf.getBackend() ? active.simd : null,
  };
}

export function sameDevice(a: DeviceFingerprint, b: DeviceFingerprint): boolean {
  const keys: (keyof DeviceFingerprint)[] = ['cpuModel', 'cpuCount', 'platform', 'arch', 'backend', 'tfjsVersion', 'opsMode'];
  return keys.every((k) => a[k] === b[k]);
}

/** A short, stable id of a device fingerprint: the first 16 hex digits of the sha256 of its sorted-key JSON. */
export function deviceIdOf(fingerprint: object): string {
  const sorted = Object.fromEntries(Object.entries(fingerprint).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

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
function clockFn(clock: LatencyClock = 'wall'): () => number {
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

const median = (xs: number[]) => {
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

const summarize = (ts: number[]): Timing => ({ medianMs: median(ts), minMs: Math.min(...ts), maxMs: Math.max(...ts), repeats: ts.length });

/** One forced run of `run` inside a tidy scope (a one-element read-back makes the backend finish). */
function forcedRun(run: () => tf.Tensor): void {
  tf.tidy(() => {
    const y = run();
    tf.slice(y, new Array(y.rank).fill(0), new Array(y.rank).fill(1)).dataSync();
  });
}

/** `warmup` untimed then `repeats` timed forced runs; the raw times (ms). */
function sampleRuns(run: () => tf.Tensor, warmup: number, repeats: number, now: () => number): number[] {
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

const inputFor = (s: StaticSubnet, batch: number, seed: number) =>
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
function interleave(visits: ((timedRuns: number) => void)[], rounds: number, repeats: number, onRound?: (done: number, total: number) => void): void {
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
function settle(runs: (() => void)[], ms: number): void {
  const now = clockFn('cpu');
  const t0 = now();
  do for (const run of runs) run();
  while (now() - t0 < ms);
}

// ---- layer keys ----

type FirstSpec = { kind: 'first'; cIn: number; cOut: number; k: number; stride: 1 | 2; inSize: number };
type BlockSpec = { kind: 'block'; cIn: number; cMid: number; cOut: number; k: number; stride: 1 | 2; cSe: number; inSize: number; hasExpand: boolean; pool: boolean; conv: boolean };
type HeadSpec = { kind: 'head'; cIn: number; cExpand: number; cLast: number; numClasses: number; size: number };
export type LayerSpec = FirstSpec | BlockSpec | HeadSpec;

export function layerKey(s: LayerSpec): string {
  switch (s.kind) {
    case 'first':
      return `first:${s.cIn}>${s.cOut} k${s.k} s${s.stride} @${s.inSize}`;
    case 'block':
      return `mb:${s.cIn}>${s.cMid}>${s.cOut} k${s.k} s${s.stride} se${s.cSe} @${s.inSize}${s.hasExpand ? '' : ' noexp'}${s.pool ? ' pool' : ''}${s.conv ? ' sc' : ''}`;
    case 'head':
      return `head:${s.cIn}>${s.cExpand}>${s.cLast}>${s.numClasses} @${s.size}`;
  }
}

const blockSpec = (b: BlockPlan): BlockSpec => ({
  kind: 'block', cIn: b.cIn, cMid: b.cMid, cOut: b.cOut, k: b.kernel, stride: b.stride, cSe: b.cSe, inSize: b.inSize, hasExpand: b.hasExpand, pool: b.shortcutPool, conv: b.shortcutConv,
});

/** The layers of one subnet, in order. */
export function planLayers(plan: SubnetPlan): LayerSpec[] {
  const f = plan.first;
  return [
    { kind: 'first', cIn: f.cIn, cOut: f.cOut, k: f.kernel, stride: f.stride, inSize: plan.resolution },
    ...plan.blocks.map(blockSpec),
    { kind: 'head', cIn: plan.head.cIn, cExpand: plan.head.cExpand, cLast: plan.head.cLast, numClasses: plan.head.numClasses, size: plan.head.size },
  ];
}

/**
 * Every layer any subnet of the space can contain (a superset in `multiplier` width mode, where widths are coupled).
 * Spatial sizes depend only on the resolution (symmetric padding k//2 keeps sizes independent of odd kernels).
 */
export function enumerateLayers(space: SearchSpace, numClasses = space.numClasses): Map<string, LayerSpec> {
  const out = new Map<string, LayerSpec>();
  const add = (s: LayerSpec) => out.set(layerKey(s), s);
  const se = (cMid: number) => makeDivisible(Math.floor(cMid / 4), 8);
  const last = (xs: number[]) => xs[xs.length - 1];
  for (const r of space.resolutions) {
    const fc = space.firstConv;
    let size = convOutSize(r, fc.kernelSize, fc.stride);
    for (const w of fc.width) add({ kind: 'first', cIn: space.inputChannels, cOut: w, k: fc.kernelSize, stride: fc.stride, inSize: r });
    let prevWidths = fc.width;
    for (const st of space.stages) {
      const hasExpand = last(st.expandRatio) > 1;
      const outSize = convOutSize(size, 3, st.stride);
      for (let b = 0; b < Math.min(2, last(st.depth)); b++) {
        // Blocks after the second of a stage repeat the second's shapes.
        const stride = b === 0 ? st.stride : 1;
        const inSize = b === 0 ? size : outSize;
        const ins = b === 0 ? prevWidths : st.width;
        for (const cIn of ins)
          for (const cOut of st.width) {
            if (b > 0 && cIn !== cOut) continue;
            for (const t of st.expandRatio)
              for (const k of st.kernelSize) {
                const cMid = hasExpand ? makeDivisible(Math.round(cIn * t), 8) : cIn;
                add({ kind: 'block', cIn, cMid, cOut, k, stride, cSe: st.se ? se(cMid) : 0, inSize, hasExpand, pool: stride === 2, conv: cIn !== cOut });
              }
          }
      }
      prevWidths = st.width;
      size = outSize;
    }
    for (const cIn of prevWidths) for (const cLast of space.lastConv.width) add({ kind: 'head', cIn, cExpand: cIn * space.headExpand, cLast, numClasses, size });
  }
  return out;
}

/** The layer keys of a subnet, in forward order: first conv, blocks, head. */
export function subnetKeys(space: SearchSpace, g: Genome, numClasses = space.numClasses): string[] {
  return planLayers(subnetPlan(space, g, numClasses)).map(layerKey);
}

/**
 * Genomes that together contain every layer key of the space at least `perKey` times: greedy, each step taking of
 * `candidates` random genomes the one that adds the most missing samples; it stops when every key is covered or
 * `patience` steps in a row found nothing to add (keys no subnet can use, in `multiplier` width mode).
 */
export function coverGenomes(space: SearchSpace, opts: { perKey?: number; seed?: number; candidates?: number; patience?: number; numClasses?: number } = {}): Genome[] {
  const perKey = opts.perKey ?? 2;
  const candidates = opts.candidates ?? 128;
  const targets = new Set(enumerateLayers(space, opts.numClasses).keys());
  const count = new Map<string, number>();
  const missing = () => [...targets].reduce((a, k) => a + Math.max(0, perKey - (count.get(k) ?? 0)), 0);
  const rng = new Rng(opts.seed ?? 1);
  const chosen: Genome[] = [];
  let idle = 0;
  let left = missing();
  while (left > 0 && idle < (opts.patience ?? 3)) {
    let best: { g: Genome; keys: string[]; gain: number } | undefined;
    for (let c = 0; c < candidates; c++) {
      const g = randomGenome(space, rng);
      const keys = subnetKeys(space, g, opts.numClasses);
      const seen = new Map<string, number>();
      let gain = 0;
      for (const k of keys) {
        const n = (count.get(k) ?? 0) + (seen.get(k) ?? 0);
        if (targets.has(k) && n < perKey) gain++;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      if (gain > (best?.gain ?? 0)) best = { g, keys, gain };
    }
    if (!best) {
      idle++;
      continue;
    }
    idle = 0;
    chosen.push(best.g);
    for (const k of best.keys) count.set(k, (count.get(k) ?? 0) + 1);
    left -= best.gain;
  }
  return chosen;
}

/** A static subnet with random weights and reset statistics: latency does not depend on the values. */
function timingSubnet(net: Supernet, g: Genome): StaticSubnet {
  return extractStatic(net, g, resetStats(net, g));
}

/**
 * A static subnet instrumented for in-context timing: `run()` does one forced forward and returns the time charged
 * to each layer slot (first conv, blocks…, head: `keys`), which sum to the whole forward. Made by `inContextTimer`.
 */
export class InContextTimer {
  readonly keys: string[];
  private readonly x: tf.Tensor4D;
  private readonly slotOf = new Map<string, number>();
  private readonly tensors: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>;

  constructor(
    readonly subnet: StaticSubnet,
    keys: string[],
    batch: number,
    private readonly now: () => number,
  ) {
    this.keys = keys;
    // Static numbering of the blocks (`blocks.<i>.…` in the static subnet's parameter names) → slot.
    const plan = subnet.net.plan(subnet.genome);
    if (plan.blocks.length + 2 !== keys.length) throw new Error('layer keys do not match the static subnet');
    plan.blocks.forEach((b, i) => this.slotOf.set(`blocks.${b.globalIndex}`, i + 1));
    this.x = inputFor(subnet, batch, 1);
    // The statistics on the backend once, as StaticSubnet.forward has them (no per-forward upload).
    this.tensors = new Map([...subnet.stats].map(([name, s]) => [name, { mean: tf.keep(tf.tensor1d(s.mean)), variance: tf.keep(tf.tensor1d(s.variance)) }]));
  }

  private slot(layer: string): number {
    if (layer === 'first.conv') return 0;
    if (!layer.startsWith('blocks.')) return this.keys.length - 1;
    const i = this.slotOf.get(layer.slice(0, layer.indexOf('.', 'blocks.'.length)));
    if (i === undefined) throw new Error(`layer '${layer}' is not a block of the static subnet`);
    return i;
  }

  /** One forward; per-slot ms and the number of clock readings charged to each slot. */
  run(): { ms: number[]; reads: number[] } {
    const ms = new Array<number>(this.keys.length).fill(0);
    const reads = new Array<number>(this.keys.length).fill(0);
    const head = this.keys.length - 1;
    const s = this.subnet;
    let last = this.now();
    const hook = ({ name }: { name: string }) => {
      const t = this.now();
      const i = this.slot(name);
      ms[i] += t - last;
      reads[i]++;
      last = t;
    };
    forcedRun(() => s.net.forward(this.x, s.genome, { bn: { kind: 'running', stats: s.stats, tensors: this.tensors }, hook }));
    ms[head] += this.now() - last;
    reads[head]++;
    return { ms, reads };
  }

  dispose(): void {
    for (const t of this.tensors.values()) tf.dispose([t.mean, t.variance]);
    this.x.dispose();
    this.subnet.dispose();
  }
}

/** An in-context timer for subnet `g` of `net` (random weights, reset statistics); batch default 1, clock 'wall'. */
export function inContextTimer(net: Supernet, g: Genome, opts: { batch?: number; clock?: LatencyClock } = {}): InContextTimer {
  return new InContextTimer(timingSubnet(net, g), subnetKeys(net.space, g, net.numClasses), opts.batch ?? 1, clockFn(opts.clock));
}

/** The cost of one clock reading (ms): the median gap between consecutive readings. */
function clockCost(now: () => number): number {
  const gaps: number[] = [];
  for (let i = 0; i < 2001; i++) {
    const a = now();
    gaps.push(now() - a);
  }
  return median(gaps);
}

const LatencyTableSchema = z.object({
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

const pick = (t: Timing, s: LatencyStatistic) => (s === 'min' ? t.minMs : t.medianMs);

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

export function saveLatencyTable(path: string, t: LatencyTable): void {
  writeJsonAtomic(path, t);
}

/**
 * Loads a table; with `device`, throws when it was built on another machine or backend (a stale table predicts
 * nonsense silently, so rebuilding is the caller's cue).
 */
export function loadLatencyTable(path: string, device?: DeviceFingerprint): LatencyTable {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path} is not a latency table: ${(e as Error).message}`);
  }
  if (typeof json === 'object' && json !== null && (json as { version?: unknown }).version === 1) {
    throw new Error(`latency table ${path} was built by an older method (layers timed alone, ~18 % error): rebuild it`);
  }
  const r = LatencyTableSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${path} is not a latency table: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const t = r.data;
  if (device && !sameDevice(t.device, device)) {
    throw new Error(
      `latency table ${path} was built on ${t.device.cpuModel} ×${t.device.cpuCount}, backend ${t.device.backend} (${t.device.opsMode}), tfjs ${t.device.tfjsVersion}; ` +
        `this is ${device.cpuModel} ×${device.cpuCount}, backend ${device.backend} (${device.opsMode}), tfjs ${device.tfjsVersion}: rebuild it`,
    );
  }
  return t;
}

export interface ErrorStats {
  medianRelError: number;
  /** Nearest-rank 90th percentile (the 18th of 20). */
  p90RelError: number;
  meanRelError: number;
  maxRelError: number;
}

export interface LatencyErrorReport extends ErrorStats {
  rows: { id: string; genome?: Genome; mflops?: number; measuredMs: number; predictedMs: number; relError: number }[];
  /**
   * The machine's speed during the check relative to the build: the median over the table's fit subnets (measured
   * interleaved with the test subnets) of now / at build. 1.3 = 30 % slower now. On a shared or virtual machine the
   * speed changes by tens of percent for seconds at a time (another process, or another VM on the host core), which
   * no table can predict; `adjusted` is the error with the predictions scaled by this factor — the table's own
   * error, apart from the machine's drift. Absent when the report was asked without the reference.
   */
  speed?: { factor: number; subnets: number; adjusted: ErrorStats };
}

const errorStats = (errs: number[]): ErrorStats => ({
  medianRelError: median(errs),
  p90RelError: quantile(errs, 0.9),
  meanRelError: errs.reduce((a, b) => a + b, 0) / errs.length,
  maxRelError: Math.max(...errs),
});

const relError = (predictedMs: number, measuredMs: number) => Math.abs(predictedMs - measuredMs) / measuredMs;

/** Error statistics of measured/predicted pairs: |predicted − measured| / measured. */
export function errorSummary(rows: Omit<LatencyErrorReport['rows'][number], 'relError'>[]): LatencyErrorReport {
  if (rows.length === 0) throw new Error('no subnets to report the error on');
  const full = rows.map((r) => ({ ...r, relError: relError(r.predictedMs, r.measuredMs) }));
  return { rows: full, ...errorStats(full.map((r) => r.relError)) };
}

/**
 * Prediction error on `subnets` random subnets (default 20; seed 1234, apart from the build's), measured together
 * as `measureInterleaved` does, with the table's batch, clock, statistic and, unless given, warm-up, repeats and
 * rounds. With `reference` (default true) the table's fit subnets are measured among them for the speed factor
 * (see `LatencyErrorReport.speed`).
 */
export function latencyErrorReport(
  t: LatencyTable,
  space: SearchSpace,
  ops: SupernetOps,
  opts: TimingOptions & { subnets?: number; seed?: number; rounds?: number; settleMs?: number; reference?: boolean } = {},
): LatencyErrorReport {
  if (space.id !== t.spaceId) throw new Error(`latency table is for space '${t.spaceId}', not '${space.id}'`);
  if (opts.clock && opts.clock !== t.clock) throw new Error(`the table was timed with the ${t.clock} clock; its error must be too (asked: ${opts.clock})`);
  const rng = new Rng(opts.seed ?? 1234);
  const genomes = Array.from({ length: opts.subnets ?? 20 }, () => randomGenome(space, rng));
  const refs = opts.reference === false ? [] : t.overheadFit;
  const net = new Supernet({ space, ops, numClasses: t.numClasses });
  const subnets: StaticSubnet[] = [];
  try {
    for (const g of [...genomes, ...refs.map((r) => r.genome)]) subnets.push(timingSubnet(net, g));
    const timings = measureInterleaved(subnets, {
      batch: t.batch, clock: t.clock, warmup: opts.warmup ?? t.warmup, repeats: opts.repeats ?? t.repeats, rounds: opts.rounds ?? t.rounds, settleMs: opts.settleMs,
    }).map((x) => pick(x, t.statistic));
    const report = errorSummary(genomes.map((g, i) => ({ id: genomeId(space.id, g), genome: g, measuredMs: timings[i], predictedMs: predictLatency(t, space, g) })));
    if (refs.length > 0) {
      const factor = median(refs.map((r, i) => timings[genomes.length + i] / r.measuredMs));
      report.speed = { factor, subnets: refs.length, adjusted: errorStats(report.rows.map((r) => relError(factor * r.predictedMs, r.measuredMs))) };
    }
    return report;
  } finally {
    for (const s of subnets) s.dispose();
    net.dispose();
  }
}
