/**
 * Latency on this machine: direct measurement of a static subnet, and a per-layer lookup table (LUT) that predicts
 * a whole subnet's latency as the sum of its layers' measured times plus a measured constant overhead (the
 * once-for-all / FBNet style predictor).
 *
 * - Measurement: warm-up runs, then the median of `repeats` timed runs of the eval-mode forward at a given batch size
 *   (inputs at the subnet's resolution, so no resize). The output is forced by reading one element back, which
 *   costs the same for every network.
 * - LUT entries are keyed by what determines a layer's cost: the first conv (cIn, cOut, k, stride, input size), each
 *   MB block (cIn, cMid, cOut, k, stride, SE channels, input size, expand conv, shortcut pool/conv), the head (cIn,
 *   cExpand, cLast, classes, size). Every key a subnet of the space can use is enumerated and timed once; a table is
 *   valid for one machine + backend + batch size, recorded as a device fingerprint.
 * - Calibration of the sum: prediction = scale · Σ entries + overheadMs, with scale and overheadMs fitted by least
 *   squares on a few measured whole subnets (min, max and random ones). A pure constant overhead is not enough: the
 *   static subnet's forward has per-layer costs the isolated layer timings do not see (the plan, uploading every
 *   BN's statistics, dispatch between layers), and on a loaded CPU longer runs are pre-empted more often, which
 *   inflates long measurements proportionally. With fewer than 3 fit subnets (or a degenerate fit) scale is 1 and
 *   overheadMs the median difference.
 *
 * Timings are wall-clock and share the CPU with whatever else runs; build tables on a quiet machine.
 */
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { extractStatic, type StaticSubnet } from '../engine/calibration';
import { activeBackend } from '../engine/backend';
import type { SupernetOps } from '../engine/ops';
import { Rng } from '../engine/rng';
import { Supernet } from '../engine/supernet';
import { genomeId, maxGenome, minGenome, randomGenome } from '../engine/spaces/genome';
import { convOutSize, makeDivisible, subnetPlan, type BlockPlan, type SubnetPlan } from '../engine/spaces/plan';
import type { Genome, SearchSpace } from '../engine/spaces/schema';
import { writeJsonAtomic } from '../export/files';
import { resetStats } from './evaluate';

export interface DeviceFingerprint {
  cpuModel: string;
  cpuCount: number;
  platform: string;
  arch: string;
  /** TF.js backend name (`wasm`, `cpu`, `tensorflow`, …). */
  backend: string;
  tfjsVersion: string;
  /** How the supernet ops are formulated (portable / native). */
  opsMode: string;
  /** WASM SIMD, when known. */
  simd: boolean | null;
}

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

/**
 * `wall` (default): elapsed time, the latency a user sees. `cpu`: this process's CPU time (user + system), which
 * leaves out the time the OS ran other processes — on a shared machine the better estimate of the latency on a
 * quiet one, valid only for single-threaded backends (wasm in Node, cpu) where compute time is wall time.
 */
export type LatencyClock = 'wall' | 'cpu';

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

/** Times `run` (which must return a tensor it owns; it is forced with a one-element read-back and disposed). */
export function timeForward(run: () => tf.Tensor, opts: TimingOptions = {}): Timing {
  const warmup = opts.warmup ?? 3;
  const repeats = opts.repeats ?? 10;
  if (!(repeats >= 1)) throw new Error('repeats must be ≥ 1');
  const now =
    opts.clock === 'cpu'
      ? () => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1000;
        }
      : () => performance.now();
  const once = () => {
    const t0 = now();
    tf.tidy(() => {
      const y = run();
      tf.slice(y, new Array(y.rank).fill(0), new Array(y.rank).fill(1)).dataSync();
    });
    return now() - t0;
  };
  for (let i = 0; i < warmup; i++) once();
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) ts.push(once());
  return { medianMs: median(ts), minMs: Math.min(...ts), maxMs: Math.max(...ts), repeats };
}

/** Latency of a static subnet's eval forward at each batch size (default [1]). */
export function measureLatency(s: StaticSubnet, opts: TimingOptions & { batchSizes?: number[]; seed?: number } = {}): (Timing & { batch: number })[] {
  const res = s.genome.resolution;
  const c = s.net.space.inputChannels;
  return (opts.batchSizes ?? [1]).map((batch) => {
    const x = tf.randomNormal([batch, res, res, c], 0, 1, 'float32', opts.seed ?? 1) as tf.Tensor4D;
    try {
      return { batch, ...timeForward(() => s.forward(x), opts) };
    } finally {
      x.dispose();
    }
  });
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

/** A forward of one layer (eval-mode BN with fixed statistics, random weights), for timing only. */
function layerRunner(ops: SupernetOps, spec: LayerSpec, batch: number, eps: number): { run: () => tf.Tensor; dispose: () => void } {
  const held: tf.Tensor[] = [];
  const rnd = (shape: number[]) => {
    // Kept: BN statistics are created lazily inside the timed (tidied) call.
    const t = tf.keep(tf.randomNormal(shape, 0, 0.1, 'float32', held.length + 1));
    held.push(t);
    return t;
  };
  const ones = (c: number) => {
    const t = tf.keep(tf.ones([c]));
    held.push(t);
    return t as tf.Tensor1D;
  };
  const swish = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));
  const bnStats = new Map<number, tf.Tensor1D[]>();
  const bn = (x: tf.Tensor4D, c: number) => {
    if (!bnStats.has(c)) bnStats.set(c, [rnd([c]) as tf.Tensor1D, ones(c), ones(c), rnd([c]) as tf.Tensor1D]);
    const [m, v, g, b] = bnStats.get(c)!;
    return ops.batchNormEval(x, m, v, g, b, eps);
  };
  let run: () => tf.Tensor;
  if (spec.kind === 'first') {
    const x = rnd([batch, spec.inSize, spec.inSize, spec.cIn]) as tf.Tensor4D;
    const w = rnd([spec.k, spec.k, spec.cIn, spec.cOut]) as tf.Tensor4D;
    run = () => swish(bn(ops.conv(x, w, spec.stride), spec.cOut));
  } else if (spec.kind === 'block') {
    const s = spec;
    const x = rnd([batch, s.inSize, s.inSize, s.cIn]) as tf.Tensor4D;
    const we = s.hasExpand ? (rnd([s.cIn, s.cMid]) as tf.Tensor2D) : undefined;
    const wd = rnd([s.k, s.k, s.cMid, 1]) as tf.Tensor4D;
    const se = s.cSe > 0 ? [rnd([s.cMid, s.cSe]), rnd([s.cSe]), rnd([s.cSe, s.cMid]), rnd([s.cMid])] : undefined;
    const wp = rnd([s.cMid, s.cOut]) as tf.Tensor2D;
    const wsc = s.conv ? (rnd([s.cIn, s.cOut]) as tf.Tensor2D) : undefined;
    run = () => {
      let h: tf.Tensor4D = x;
      if (we) h = swish(bn(ops.pointwise(h, we), s.cMid)) as tf.Tensor4D;
      h = swish(bn(ops.depthwise(h, wd, s.stride), s.cMid)) as tf.Tensor4D;
      if (se) {
        const p = ops.globalAvgPool(h);
        const r = tf.relu(tf.add(tf.matMul(p, se[0] as tf.Tensor2D), se[1]));
        const gate = tf.div(tf.relu6(tf.add(tf.add(tf.matMul(r as tf.Tensor2D, se[2] as tf.Tensor2D), se[3]), 3)), 6);
        h = tf.mul(h, tf.reshape(gate, [batch, 1, 1, s.cMid])) as tf.Tensor4D;
      }
      h = bn(ops.pointwise(h, wp), s.cOut);
      let sc: tf.Tensor4D = x;
      if (s.pool) sc = ops.shortcutPool(sc);
      if (wsc) sc = ops.pointwise(sc, wsc);
      return tf.add(h, sc);
    };
  } else {
    const s = spec;
    const x = rnd([batch, s.size, s.size, s.cIn]) as tf.Tensor4D;
    const we = rnd([s.cIn, s.cExpand]) as tf.Tensor2D;
    const wm = rnd([s.cExpand, s.cLast]) as tf.Tensor2D;
    const wc = rnd([s.cLast, s.numClasses]) as tf.Tensor2D;
    const bc = rnd([s.numClasses]);
    run = () => {
      const h = swish(bn(ops.pointwise(x, we), s.cExpand)) as tf.Tensor4D;
      const f = swish(tf.matMul(ops.globalAvgPool(h), wm)) as tf.Tensor2D;
      return tf.add(tf.matMul(f, wc), bc);
    };
  }
  return { run, dispose: () => tf.dispose(held) };
}

export interface LatencyTable {
  version: 1;
  spaceId: string;
  numClasses: number;
  batch: number;
  warmup: number;
  repeats: number;
  /** Which statistic of the timed runs every number in the table uses. */
  statistic: LatencyStatistic;
  /** Which clock timed them. */
  clock: LatencyClock;
  device: DeviceFingerprint;
  /** Median ms per layer key. */
  entries: Record<string, number>;
  /** Prediction = scale · Σ entries + overheadMs (see the module comment). */
  scale: number;
  /** Constant added to every prediction (ms). */
  overheadMs: number;
  /** Subnets the overhead was fitted on: measured vs Σ entries. */
  overheadFit: { id: string; measuredMs: number; sumMs: number }[];
  buildMs: number;
  createdAt: string;
}

/**
 * `median` (default): the typical run. `min`: the least-disturbed run — far more stable on a shared, loaded CPU,
 * where pre-emption inflates long runs more than short ones.
 */
export type LatencyStatistic = 'median' | 'min';

const pick = (t: Timing, s: LatencyStatistic) => (s === 'min' ? t.minMs : t.medianMs);

export interface BuildTableOptions extends TimingOptions {
  /** Default 'median'. */
  statistic?: LatencyStatistic;
  /** Batch size the table is for (default 1). */
  batch?: number;
  /** Random subnets (besides min and max) used to fit scale and overhead (default 6). */
  overheadSubnets?: number;
  seed?: number;
  numClasses?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs and discards a few forwards of the max subnet: right after a supernet is allocated (millions of JS-drawn
 * initial values), garbage collection and first-use costs inflated the first subnets' timings 2–3× in our runs.
 */
function settle(net: Supernet, space: SearchSpace, batch: number, clock?: LatencyClock): void {
  const s = timingSubnet(net, maxGenome(space));
  try {
    measureLatency(s, { batchSizes: [batch], warmup: 5, repeats: 5, clock });
  } finally {
    s.dispose();
  }
}

/** A static subnet with random weights and reset statistics: latency does not depend on the values. */
function timingSubnet(net: Supernet, g: Genome): StaticSubnet {
  return extractStatic(net, g, resetStats(net, g));
}

/** Measures every layer of the space once and fits the overhead; see the module comment. */
export function buildLatencyTable(space: SearchSpace, ops: SupernetOps, opts: BuildTableOptions = {}): LatencyTable {
  const t0 = performance.now();
  const batch = opts.batch ?? 1;
  const warmup = opts.warmup ?? 3;
  const repeats = opts.repeats ?? 10;
  const numClasses = opts.numClasses ?? space.numClasses;
  const statistic = opts.statistic ?? 'median';
  const clock = opts.clock ?? 'wall';
  const layers = enumerateLayers(space, numClasses);
  const entries: Record<string, number> = {};
  let done = 0;
  for (const [key, spec] of layers) {
    const r = layerRunner(ops, spec, batch, space.bnEps);
    try {
      entries[key] = pick(timeForward(r.run, { warmup, repeats, clock }), statistic);
    } finally {
      r.dispose();
    }
    opts.onProgress?.(++done, layers.size);
  }
  const table: LatencyTable = {
    version: 1, spaceId: space.id, numClasses, batch, warmup, repeats, statistic, clock, device: deviceFingerprint(ops), entries, scale: 1, overheadMs: 0, overheadFit: [], buildMs: 0, createdAt: new Date().toISOString(),
  };
  const rng = new Rng(opts.seed ?? 1);
  const fit = [minGenome(space), maxGenome(space), ...Array.from({ length: opts.overheadSubnets ?? 6 }, () => randomGenome(space, rng))];
  const net = new Supernet({ space, ops, numClasses });
  try {
    settle(net, space, batch, clock);
    for (const g of fit) {
      const s = timingSubnet(net, g);
      try {
        const measuredMs = pick(measureLatency(s, { batchSizes: [batch], warmup, repeats, clock })[0], statistic);
        table.overheadFit.push({ id: genomeId(space.id, g), measuredMs, sumMs: sumEntries(table, space, g) });
      } finally {
        s.dispose();
      }
    }
  } finally {
    net.dispose();
  }
  Object.assign(table, fitScaleOverhead(table.overheadFit));
  table.buildMs = performance.now() - t0;
  return table;
}

/** Least squares measured ≈ scale · sum + overhead; falls back to scale 1 + median difference. */
export function fitScaleOverhead(fit: { measuredMs: number; sumMs: number }[]): { scale: number; overheadMs: number } {
  const fallback = { scale: 1, overheadMs: median(fit.map((f) => f.measuredMs - f.sumMs)) };
  if (fit.length < 3) return fallback;
  const n = fit.length;
  const mx = fit.reduce((a, f) => a + f.sumMs, 0) / n;
  const my = fit.reduce((a, f) => a + f.measuredMs, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const f of fit) {
    sxx += (f.sumMs - mx) ** 2;
    sxy += (f.sumMs - mx) * (f.measuredMs - my);
  }
  const scale = sxy / sxx;
  if (!Number.isFinite(scale) || scale <= 0) return fallback;
  return { scale, overheadMs: my - scale * mx };
}

function sumEntries(t: LatencyTable, space: SearchSpace, g: Genome): number {
  let sum = 0;
  for (const l of planLayers(subnetPlan(space, g, t.numClasses))) {
    const k = layerKey(l);
    const v = t.entries[k];
    if (v === undefined) throw new Error(`latency table for '${t.spaceId}' has no entry '${k}' (built for another space?)`);
    sum += v;
  }
  return sum;
}

/** Predicted latency (ms) of a subnet: scale · Σ layer entries + overhead. */
export function predictLatency(t: LatencyTable, space: SearchSpace, g: Genome): number {
  if (space.id !== t.spaceId) throw new Error(`latency table is for space '${t.spaceId}', not '${space.id}'`);
  return (t.scale ?? 1) * sumEntries(t, space, g) + t.overheadMs;
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
  const t = JSON.parse(readFileSync(path, 'utf8')) as LatencyTable;
  if (t.version !== 1 || typeof t.entries !== 'object') throw new Error(`${path} is not a latency table`);
  if (device && !sameDevice(t.device, device)) {
    throw new Error(
      `latency table ${path} was built on ${t.device.cpuModel} ×${t.device.cpuCount}, backend ${t.device.backend} (${t.device.opsMode}), tfjs ${t.device.tfjsVersion}; ` +
        `this is ${device.cpuModel} ×${device.cpuCount}, backend ${device.backend} (${device.opsMode}), tfjs ${device.tfjsVersion}: rebuild it`,
    );
  }
  return t;
}

export interface LatencyErrorReport {
  rows: { id: string; mflops?: number; measuredMs: number; predictedMs: number; relError: number }[];
  medianRelError: number;
  meanRelError: number;
  maxRelError: number;
}

/** Prediction error |predicted − measured| / measured on `subnets` random subnets (default 20; a seed apart from the fit). */
export function latencyErrorReport(t: LatencyTable, space: SearchSpace, ops: SupernetOps, opts: TimingOptions & { subnets?: number; seed?: number } = {}): LatencyErrorReport {
  const rng = new Rng(opts.seed ?? 1234);
  const net = new Supernet({ space, ops, numClasses: t.numClasses });
  const rows: LatencyErrorReport['rows'] = [];
  try {
    settle(net, space, t.batch, t.clock);
    for (let i = 0; i < (opts.subnets ?? 20); i++) {
      const g = randomGenome(space, rng);
      const s = timingSubnet(net, g);
      try {
        const measuredMs = pick(measureLatency(s, { batchSizes: [t.batch], warmup: opts.warmup ?? t.warmup, repeats: opts.repeats ?? t.repeats, clock: t.clock ?? 'wall' })[0], t.statistic ?? 'median');
        const predictedMs = predictLatency(t, space, g);
        rows.push({ id: genomeId(space.id, g), measuredMs, predictedMs, relError: Math.abs(predictedMs - measuredMs) / measuredMs });
      } finally {
        s.dispose();
      }
    }
  } finally {
    net.dispose();
  }
  const errs = rows.map((r) => r.relError);
  return { rows, medianRelError: median(errs), meanRelError: errs.reduce((a, b) => a + b, 0) / errs.length, maxRelError: Math.max(...errs) };
}
