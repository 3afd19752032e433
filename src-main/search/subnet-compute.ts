/**
 * The seam between a run's evaluation cache and whatever computes evaluations. `createRunEvaluator`
 * (run-subnets.ts) owns the cache lookups, MFLOPs and parameters, latency, the stored rows and the run fronts; for
 * the genomes the cache does not hold it asks a `SubnetCompute` for the numbers that need the trained weights: the
 * BN-recalibrated accuracy and loss (docs/METHOD.md §4) and the same before calibration.
 *
 * A compute is built for one loaded run with everything an evaluation depends on fixed at creation: the checkpoint
 * (`LoadedRun.checkpoint`: path and sha256), the split and the calibration batches, batch size and seed
 * (`EvaluationSettings`). Those are the cache key, so a compute must not vary anything else that changes the
 * numbers. Implementations: the in-process TF.js one (`localSubnetCompute`, run-subnets.ts, the default), a pool
 * of TF.js worker threads (eval-pool.ts), and any other engine that computes the same evaluation (a PyTorch
 * subprocess, a cluster job) — nothing here is TF.js-specific.
 */
import type { Genome, SubnetEvaluation } from '../engine';

/** Accuracy in [0, 1] and mean cross-entropy (no label smoothing) over the evaluation split. */
export interface ComputedMetrics {
  accuracy: number;
  loss: number;
}

/** What a compute returns for one genome. */
export interface ComputedEvaluation extends ComputedMetrics {
  /** The genome as given (validated against the run's space). */
  genome: Genome;
  /** The metrics before calibration: `reset` statistics (mean 0, variance 1), or `batch` statistics; null if not measured. */
  before: (ComputedMetrics & { method: 'reset' | 'batch' }) | null;
  /** Images of the evaluation split that were classified. */
  images: number;
  /** Images the BN statistics were recalibrated on. */
  calibrationImages: number;
  /** Wall time of this genome's evaluation, ms (for the ETA; not part of the result's identity). */
  ms: number;
}

/**
 * Computes the calibrated evaluation of several genomes of one loaded run (see the module comment).
 *
 * Contract:
 *  - `evaluateMany(genomes)` resolves to one result per genome, **in the order given**, whatever order they were
 *    computed in; the numbers of a genome must not depend on which other genomes share the call, on how many
 *    workers compute, or on which worker computes it (each does its own BN calibration from the same batches);
 *  - it may compute the genomes concurrently (`concurrency` at once); a caller that wants pause/cancel to be seen
 *    promptly passes at most `batch` genomes per call;
 *  - a failure (bad genome, a worker that died) rejects the whole call with an error saying what failed; a compute
 *    whose worker died stays broken (every later call rejects), so a search fails cleanly and is resumed anew;
 *  - one call at a time: the caller awaits a call before making the next.
 *  - `dispose()` releases everything (tensors, threads, processes); the compute is unusable afterwards.
 */
export interface SubnetCompute {
  /** Recorded with every evaluation row: the backend or engine that computed it (`wasm`, `cpu`, `torch`, …). */
  readonly backend: string;
  /** How many genomes it computes at once (1: one after another). */
  readonly concurrency: number;
  /**
   * How many genomes a caller should hand one `evaluateMany` to keep every worker busy to the end of the call
   * (default `concurrency`; a pool asks for more, to even out the workers' shares: eval-pool.ts).
   */
  readonly batch?: number;
  evaluateMany(genomes: readonly Genome[]): Promise<ComputedEvaluation[]>;
  dispose(): Promise<void>;
}

/** The part of the engine's `evaluateSubnet` result a TF.js compute hands back (statistics and costs stay behind). */
export function computedOf(res: SubnetEvaluation): ComputedEvaluation {
  const b = res.beforeCalibration;
  return {
    genome: res.genome,
    accuracy: res.accuracy,
    loss: res.loss,
    before: b ? { accuracy: b.accuracy, loss: b.loss, method: b.method } : null,
    images: res.images,
    calibrationImages: res.calibration.images,
    ms: res.ms,
  };
}
