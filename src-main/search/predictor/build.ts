/**
 * Trains an accuracy predictor on evaluated subnets and says how good it is on subnets it never saw:
 * a seeded split into training and held-out subnets, the MLP fitted on the training part (fit.ts), Kendall τ,
 * Spearman ρ and RMSE on the held-out part, and the same metrics for fits on growing prefixes of the training part
 * (the "training size vs τ" table: does more data still help?). The returned model is the one fitted on the whole
 * training part, so its reported metrics are truly held out. Imports TF.js (via fit.ts): CLI / runner processes only.
 */
import { Rng, permutation, type Genome, type SearchSpace } from '../../engine/core';
import { genomeEncoder } from './encoding';
import { DEFAULT_FIT, fitMlp, type FitOptions } from './fit';
import { rankMetrics, type RankMetrics } from './metrics';
import { mlpPredict } from './mlp';
import type { PredictorModel } from './predictor';

export interface Sample {
  genome: Genome;
  /** Measured top-1 in [0, 1]. */
  accuracy: number;
  /** Anything the caller wants back with held-out points (e.g. the evaluation id). */
  ref?: number | string;
}

export interface SizeRow extends RankMetrics {
  trainSize: number;
}

export interface HeldOutPoint {
  ref?: number | string;
  measured: number;
  predicted: number;
}

export interface PredictorBuild {
  model: PredictorModel;
  trainSize: number;
  /** On the held-out subnets, for the model returned. */
  metrics: RankMetrics;
  /** Fits on the first m training subnets, increasing m; the last row is the returned model. */
  sizeTable: SizeRow[];
  heldOut: HeldOutPoint[];
  /** Final training MSE of the returned model ([0, 1] units). */
  trainLoss: number;
  fitMs: number;
  seed: number;
  fit: Required<Pick<FitOptions, 'epochs' | 'batchSize' | 'learningRate' | 'weightDecay'>> & { hidden: number[] };
}

export interface BuildOptions extends Omit<FitOptions, 'init' | 'onEpoch' | 'seed'> {
  /** Held-out subnets (default min(100, ⌊n/5⌋)). */
  heldOut?: number;
  seed?: number;
  /** Also fit on smaller training prefixes for the size table (default true). */
  sizeTable?: boolean;
  onProgress?: (p: { trainSize: number; epoch: number; epochs: number; fit: number; fits: number }) => void;
}

export class PredictorDataError extends Error {
  override name = 'PredictorDataError';
}

/** The prefix sizes of the size table: 25, 50, 100, … below the training size, then the training size. */
export function sizeSteps(trainSize: number): number[] {
  const steps: number[] = [];
  for (let m = 25; m < trainSize; m *= 2) steps.push(m);
  steps.push(trainSize);
  return steps;
}

export async function buildPredictor(space: SearchSpace, samples: readonly Sample[], opts: BuildOptions = {}): Promise<PredictorBuild> {
  const n = samples.length;
  const heldOutN = opts.heldOut ?? Math.min(100, Math.floor(n / 5));
  if (!Number.isInteger(heldOutN) || heldOutN < 2) throw new PredictorDataError(`need at least 2 held-out subnets, got ${heldOutN} (${n} evaluated)`);
  if (n - heldOutN < 10) throw new PredictorDataError(`need at least ${heldOutN + 10} evaluated subnets (${heldOutN} held out + 10 to train on), got ${n}`);
  const seed = opts.seed ?? 0;
  const encoder = genomeEncoder(space);
  const order = permutation(n, new Rng(seed));
  const held = Array.from(order.subarray(0, heldOutN), (i) => samples[i]);
  const train = Array.from(order.subarray(heldOutN), (i) => samples[i]);
  const xHeld = encoder.encodeMany(held.map((s) => s.genome));
  const yHeld = held.map((s) => s.accuracy);
  const fitOpts = {
    hidden: opts.hidden ?? DEFAULT_FIT.hidden,
    epochs: opts.epochs ?? DEFAULT_FIT.epochs,
    batchSize: opts.batchSize ?? DEFAULT_FIT.batchSize,
    learningRate: opts.learningRate ?? DEFAULT_FIT.learningRate,
    weightDecay: opts.weightDecay ?? DEFAULT_FIT.weightDecay,
  };
  const steps = opts.sizeTable === false ? [train.length] : sizeSteps(train.length);
  const sizeTable: SizeRow[] = [];
  let last: { mlp: PredictorModel['mlp']; loss: number; predicted: Float64Array } | null = null;
  const t0 = performance.now();
  for (const [fi, m] of steps.entries()) {
    const part = train.slice(0, m);
    const { mlp, loss } = await fitMlp(encoder.encodeMany(part.map((s) => s.genome)), part.map((s) => s.accuracy), encoder.length, {
      ...fitOpts,
      seed,
      onEpoch: (epoch) => opts.onProgress?.({ trainSize: m, epoch: epoch + 1, epochs: fitOpts.epochs, fit: fi + 1, fits: steps.length }),
    });
    const predicted = mlpPredict(mlp, xHeld, heldOutN);
    sizeTable.push({ trainSize: m, ...rankMetrics(predicted, yHeld) });
    last = { mlp, loss, predicted };
  }
  const fitMs = performance.now() - t0;
  const final = last!;
  return {
    model: { spaceId: space.id, mlp: final.mlp },
    trainSize: train.length,
    metrics: rankMetrics(final.predicted, yHeld),
    sizeTable,
    heldOut: held.map((s, i) => ({ ...(s.ref !== undefined ? { ref: s.ref } : {}), measured: s.accuracy, predicted: final.predicted[i] })),
    trainLoss: final.loss,
    fitMs,
    seed,
    fit: fitOpts,
  };
}
