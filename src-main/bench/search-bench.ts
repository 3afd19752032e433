/**
 * Search benchmark (docs/SEARCH.md, docs/BENCHMARKS.md): on a 32×32 space,
 *   1. evaluated subnets per minute, each evaluation as the search runs it — BN recalibration on
 *      `calibrationBatches` × `batchSize` images, then top-1 and loss on `evalImages` images (random data: only the
 *      time matters; the weights are an untrained supernet's, which costs the same);
 *   2. the latency lookup table's build time on the active backend, its held-out prediction error on `errorSubnets`
 *      random subnets measured during the build (goal: median ≤ 10 %), and the same subnets re-measured afterwards
 *      (error including the machine's drift since the build).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend,
  type BackendChoice,
  createOps,
  defaultOpsMode,
  type SupernetOps,
  Rng,
  Supernet,
  getSpace,
  type SearchSpace,
  maxGenome,
  minGenome,
  randomGenome,
  subnetCost,
  evaluateSubnet,
  resetStats,
  type LabelledBatch,
  extractStatic,
} from '../engine';
import {
  buildLatencyTable,
  errorSummary,
  latencyErrorReport,
  measureInterleaved,
  type DeviceFingerprint,
  type LatencyTable,
} from '../search/latency';

export interface SearchBenchOptions {
  /** Backend to force (default 'wasm', this project's default where tfjs-node is absent). */
  backend?: BackendChoice;
  /** Default 'alphanet-cifar32'. */
  spaceId?: string;
  /** Evaluations to time (default 12: min, max and 10 random subnets). */
  evaluations?: number;
  /** Calibration batches per evaluation (default 4) of `batchSize` (default 64) images. */
  calibrationBatches?: number;
  batchSize?: number;
  /** Evaluation images per subnet (default 512, in batches of `batchSize`). */
  evalImages?: number;
  /**
   * Latency table: untimed runs per visit (default 1), timed runs per subnet (default 24) over `lutRounds` round-robin
   * visits (default 8), timed subnets containing each layer key (default 2); subnets for the error report (default
   * 20, measured the same way).
   */
  lutWarmup?: number;
  lutRepeats?: number;
  lutRounds?: number;
  lutSamplesPerKey?: number;
  errorSubnets?: number;
  /** Statistic of the timed runs in the latency table and its check (default 'min', as the library). */
  lutStatistic?: 'median' | 'min';
  /** Clock of the latency timings (default 'wall', as the library; see `LatencyClock` in search/latency/timing.ts). */
  lutClock?: 'wall' | 'cpu';
  /** Skip the latency part (default false). */
  skipLatency?: boolean;
  seed?: number;
  log?: (line: string) => void;
}

export interface SearchBenchResult {
  spaceId: string;
  backend: string;
  opsMode: string;
  device?: DeviceFingerprint;
  evaluation: {
    evaluations: number;
    calibrationImages: number;
    evalImages: number;
    batchSize: number;
    meanMs: number;
    perMinute: number;
    meanMflops: number;
  };
  latency?: {
    entries: number;
    buildSeconds: number;
    /** Subnets timed in context for the entries, and the smallest number of layer samples behind an entry. */
    timedSubnets: number;
    minSamplesPerEntry: number;
    overheadMs: number;
    scale: number;
    fitSubnets: number;
    statistic: string;
    clock: string;
    batch: number;
    repeats: number;
    rounds: number;
    errorSubnets: number;
    /** The table's held-out error: `errorSubnets` random subnets measured whole during the build (the goal's number). */
    heldOutMedianRelError: number;
    heldOutP90RelError: number;
    heldOutMaxRelError: number;
    /** The same subnets re-measured after the build (`latencyErrorReport`): error including the machine's drift. */
    medianRelError: number;
    p90RelError: number;
    meanRelError: number;
    maxRelError: number;
    /** Machine speed during the check / during the build, and the error with predictions scaled by it. */
    speedFactor: number;
    adjustedMedianRelError: number;
    adjustedP90RelError: number;
    /**
     * The measurement's own noise floor: the same `errorSubnets` random subnets measured twice in a row, the same
     * way the check measures them; median and p90 of |second − first| / first. No predictor can beat it.
     */
    retestMedianRelDiff: number;
    retestP90RelDiff: number;
    minMeasuredMs: number;
    maxMeasuredMs: number;
    /** 1-minute load average when the latency part started and ended (os.loadavg; 0 where unsupported). */
    loadBefore: number;
    loadAfter: number;
  };
}

/** Runs the benchmark; see the module comment. */
export async function runSearchBench(opts: SearchBenchOptions = {}): Promise<SearchBenchResult> {
  const log = opts.log ?? (() => undefined);
  const report = await initBackend({ force: opts.backend ?? 'wasm' });
  const ops = createOps(defaultOpsMode(tf.getBackend()));
  const space = getSpace(opts.spaceId ?? 'alphanet-cifar32');
  const bs = opts.batchSize ?? 64;
  const nCal = opts.calibrationBatches ?? 4;
  const nEval = Math.max(1, Math.round((opts.evalImages ?? 512) / bs));
  const res = Math.max(...space.resolutions);
  const rng = new Rng(opts.seed ?? 0);
  const net = new Supernet({ space, ops, seed: opts.seed ?? 0 });
  const cal = Array.from({ length: nCal }, (_, i) => tf.randomNormal([bs, res, res, space.inputChannels], 0, 1, 'float32', 100 + i) as tf.Tensor4D);
  const val: LabelledBatch[] = Array.from({ length: nEval }, (_, i) => ({
    x: tf.randomNormal([bs, res, res, space.inputChannels], 0, 1, 'float32', 200 + i) as tf.Tensor4D,
    labels: Array.from({ length: bs }, () => rng.int(space.numClasses)),
  }));
  const n = opts.evaluations ?? 12;
  const genomes = [minGenome(space), maxGenome(space), ...Array.from({ length: Math.max(0, n - 2) }, () => randomGenome(space, rng))].slice(0, n);
  // One untimed evaluation warms up kernels and the WASM heap.
  evaluateSubnet(net, genomes[0], { calibration: cal.slice(0, 1), evaluation: val.slice(0, 1), before: 'none' });
  let total = 0;
  let mflops = 0;
  for (const g of genomes) {
    const r = evaluateSubnet(net, g, { calibration: cal, evaluation: val, before: 'none' });
    total += r.ms;
    mflops += subnetCost(space, g).mflops;
    log(`eval ${g.resolution}px ${r.mflops.toFixed(2)} MFLOPs: ${r.ms.toFixed(0)} ms`);
  }
  tf.dispose([...cal, ...val.map((v) => v.x)]);
  net.dispose();
  const meanMs = total / genomes.length;
  const result: SearchBenchResult = {
    spaceId: space.id,
    backend: report.chosen,
    opsMode: ops.mode,
    evaluation: {
      evaluations: genomes.length,
      calibrationImages: nCal * bs,
      evalImages: nEval * bs,
      batchSize: bs,
      meanMs,
      perMinute: 60_000 / meanMs,
      meanMflops: mflops / genomes.length,
    },
  };
  if (!opts.skipLatency) {
    const loadBefore = loadavg()[0];
    const lut = buildLatencyTable(space, ops, {
      warmup: opts.lutWarmup,
      repeats: opts.lutRepeats,
      rounds: opts.lutRounds,
      samplesPerKey: opts.lutSamplesPerKey,
      statistic: opts.lutStatistic ?? 'min',
      clock: opts.lutClock ?? 'wall',
      seed: opts.seed ?? 1,
      heldOutSubnets: opts.errorSubnets ?? 20,
      onProgress: (d, t) => log(`latency table ${d}/${t}`),
    });
    for (const f of lut.overheadFit) log(`overhead fit ${f.id}: measured ${f.measuredMs.toFixed(2)} ms, Σ entries ${f.sumMs.toFixed(2)} ms`);
    const err = latencyErrorReport(lut, space, ops, { subnets: opts.errorSubnets ?? 20 });
    const retest = measurementRetest(lut, space, ops, opts.errorSubnets ?? 20);
    const loadAfter = loadavg()[0];
    for (const r of err.rows) log(`latency ${r.id}: measured ${r.measuredMs.toFixed(2)} ms, predicted ${r.predictedMs.toFixed(2)} ms (${(100 * r.relError).toFixed(1)} %)`);
    const measured = err.rows.map((r) => r.measuredMs);
    result.device = lut.device;
    result.latency = {
      entries: Object.keys(lut.entries).length,
      buildSeconds: lut.buildMs / 1000,
      timedSubnets: lut.timedSubnets,
      minSamplesPerEntry: Math.min(...Object.values(lut.samples)),
      overheadMs: lut.overheadMs,
      scale: lut.scale,
      statistic: lut.statistic,
      clock: lut.clock,
      fitSubnets: lut.overheadFit.length,
      batch: lut.batch,
      repeats: lut.repeats,
      rounds: lut.rounds,
      errorSubnets: err.rows.length,
      heldOutMedianRelError: lut.heldOut?.medianRelError ?? NaN,
      heldOutP90RelError: lut.heldOut?.p90RelError ?? NaN,
      heldOutMaxRelError: lut.heldOut?.maxRelError ?? NaN,
      medianRelError: err.medianRelError,
      p90RelError: err.p90RelError,
      speedFactor: err.speed?.factor ?? 1,
      adjustedMedianRelError: err.speed?.adjusted.medianRelError ?? err.medianRelError,
      adjustedP90RelError: err.speed?.adjusted.p90RelError ?? err.p90RelError,
      retestMedianRelDiff: retest.medianRelError,
      retestP90RelDiff: retest.p90RelError,
      meanRelError: err.meanRelError,
      maxRelError: err.maxRelError,
      minMeasuredMs: Math.min(...measured),
      maxMeasuredMs: Math.max(...measured),
      loadBefore,
      loadAfter,
    };
  }
  return result;
}

/** Test–retest of the check's measurement: `n` random subnets (another seed) measured twice, interleaved, as the check does. */
function measurementRetest(lut: LatencyTable, space: SearchSpace, ops: SupernetOps, n: number): ReturnType<typeof errorSummary> {
  const rng = new Rng(4321);
  const net = new Supernet({ space, ops, numClasses: lut.numClasses });
  const genomes = Array.from({ length: n }, () => randomGenome(space, rng));
  const subnets = genomes.map((g) => extractStatic(net, g, resetStats(net, g)));
  try {
    const how = { batch: lut.batch, clock: lut.clock, warmup: lut.warmup, repeats: lut.repeats, rounds: lut.rounds };
    const pick = (t: { medianMs: number; minMs: number }) => (lut.statistic === 'min' ? t.minMs : t.medianMs);
    const first = measureInterleaved(subnets, how).map(pick);
    const second = measureInterleaved(subnets, { ...how, settleMs: 0 }).map(pick);
    return errorSummary(first.map((m, i) => ({ id: String(i), measuredMs: m, predictedMs: second[i] })));
  } finally {
    for (const s of subnets) s.dispose();
    net.dispose();
  }
}

/** The result as a Markdown table (what docs/SEARCH.md quotes). */
export function formatSearchBench(r: SearchBenchResult): string {
  const e = r.evaluation;
  const lines = [
    `| quantity | value |`,
    `|---|---|`,
    `| space / backend | ${r.spaceId} / ${r.backend} (${r.opsMode} ops) |`,
    ...(r.device ? [`| device | ${r.device.cpuModel} ×${r.device.cpuCount}, ${r.device.platform}/${r.device.arch}, tfjs ${r.device.tfjsVersion}, SIMD ${String(r.device.simd)} |`] : []),
    `| evaluation | BN calibration on ${e.calibrationImages} images + top-1 on ${e.evalImages} images, batch ${e.batchSize} |`,
    `| mean time per evaluated subnet | ${(e.meanMs / 1000).toFixed(2)} s (mean ${e.meanMflops.toFixed(1)} MFLOPs over ${e.evaluations} subnets) |`,
    `| **evaluated subnets per minute** | **${e.perMinute.toFixed(1)}** |`,
  ];
  if (r.latency) {
    const l = r.latency;
    lines.push(
      `| latency table | ${l.entries} entries timed in context in ${l.timedSubnets} subnets (≥ ${l.minSamplesPerEntry} samples each), batch ${l.batch}, ${l.statistic} of ${l.repeats} runs in ${l.rounds} interleaved rounds, ${l.clock} clock (the check uses the same) |`,
      `| **latency table build time** | **${l.buildSeconds.toFixed(1)} s** |`,
      `| fitted prediction | ${l.scale.toFixed(3)} · Σ entries ${l.overheadMs < 0 ? '−' : '+'} ${Math.abs(l.overheadMs).toFixed(3)} ms (${l.fitSubnets} subnets) |`,
      `| measured latency of the ${l.errorSubnets} test subnets (re-measured) | ${l.minMeasuredMs.toFixed(2)}–${l.maxMeasuredMs.toFixed(2)} ms |`,
      `| **held-out prediction error (${l.errorSubnets} random subnets measured during the build; median / p90 / max)** | **${(100 * l.heldOutMedianRelError).toFixed(1)} %** / ${(100 * l.heldOutP90RelError).toFixed(1)} % / ${(100 * l.heldOutMaxRelError).toFixed(1)} % |`,
      `| error re-measured after the build (median / p90 / mean / max) | ${(100 * l.medianRelError).toFixed(1)} % / ${(100 * l.p90RelError).toFixed(1)} % / ${(100 * l.meanRelError).toFixed(1)} % / ${(100 * l.maxRelError).toFixed(1)} % |`,
      `| machine speed during the check vs the build (fit subnets re-measured) | ${l.speedFactor.toFixed(3)}× the build's times; error with predictions scaled by it: median ${(100 * l.adjustedMedianRelError).toFixed(1)} %, p90 ${(100 * l.adjustedP90RelError).toFixed(1)} % |`,
      `| measurement noise floor (same ${l.errorSubnets} subnets measured twice): median / p90 difference | ${(100 * l.retestMedianRelDiff).toFixed(1)} % / ${(100 * l.retestP90RelDiff).toFixed(1)} % |`,
      `| load average (1 min) before / after the latency part | ${l.loadBefore.toFixed(2)} / ${l.loadAfter.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}
