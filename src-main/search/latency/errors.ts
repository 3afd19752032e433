/** The table's prediction error against measured latencies. Part of the latency module (index.ts has the overview). */
import {
  type StaticSubnet,
  type SupernetOps,
  Rng,
  Supernet,
  genomeId,
  randomGenome,
  type Genome,
  type SearchSpace,
} from '../../engine';
import { type TimingOptions, measureInterleaved, median, quantile } from './timing';
import { timingSubnet } from './in-context';
import { type LatencyTable, pick, predictLatency } from './table';

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

export const relError = (predictedMs: number, measuredMs: number) => Math.abs(predictedMs - measuredMs) / measuredMs;

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
