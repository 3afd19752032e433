/**
 * A run's accuracy predictor (docs/SEARCH.md "Accuracy predictor"): gathers the run's evaluated subnets of
 * one checkpoint, split and calibration setting (the evaluation cache), evaluates uniform random subnets first when
 * there are fewer than asked for, trains the MLP on them with a held-out part (predictor/build.ts) and stores it
 * (store/predictors.ts). Loads TF.js: the CLI and runner processes only; the app reaches it through a child process.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, genomeId, randomGenome, type Genome } from '../engine';
import { version as appVersion } from '../../package.json';
import { savePredictor, toPredictorMetrics, type PredictorRow } from '../store/predictors';
import { listEvaluations, type EvaluationRow } from '../store/evaluations';
import type { AccuracyScreen } from './evolution';
import { genomeEncoder, genomeScorer } from './predictor';
import { buildPredictor, type BuildOptions, type Sample } from './predictor/build';
import { fitMlp } from './predictor/fit';
import { predictorModel } from './predictor-views';
import type { EvaluationSettings } from './run-info';
import { createRunEvaluator, type LoadedRun } from './run-subnets';

export type PredictorProgress =
  | { phase: 'sample'; done: number; total: number; genomeId: string; accuracy: number; cached: boolean }
  | { phase: 'fit'; fit: number; fits: number; trainSize: number; epoch: number; epochs: number };

/**
 * A build's progress as the line the CLI prints and the service parses (service/predictor-service.ts): every sampled
 * evaluation, and each fit at its first and last epoch and every tenth in between (undefined for the other epochs).
 */
export function predictorProgressLine(p: PredictorProgress): string | undefined {
  if (p.phase === 'sample') return `sample ${p.done}/${p.total}: ${p.genomeId} top-1 ${(100 * p.accuracy).toFixed(1)}%${p.cached ? ' [cached]' : ''}`;
  if (p.epoch === 1 || p.epoch === p.epochs || p.epoch % Math.max(1, Math.round(p.epochs / 10)) === 0) return `fit ${p.fit}/${p.fits} on ${p.trainSize} subnets: epoch ${p.epoch}/${p.epochs}`;
  return undefined;
}

export interface RunPredictorOptions extends Omit<BuildOptions, 'onProgress'> {
  /** Train on at least this many evaluated subnets, evaluating uniform random ones first if the run has fewer. */
  samples?: number;
  /** Seed of the random subnets drawn (default 0) and of the split and fit (the build's `seed`). */
  seed?: number;
  onProgress?: (p: PredictorProgress) => void;
  /** Stops sampling before the next evaluation (what was evaluated stays cached). */
  signal?: AbortSignal;
}

export interface RunPredictorResult {
  predictor: PredictorRow;
  /** Subnets evaluated for this build. */
  sampled: number;
}

/** The evaluations a predictor of this checkpoint and settings learns from, one per genome, oldest first. */
export function predictorEvaluations(r: Pick<LoadedRun, 'db' | 'run' | 'checkpoint'>, s: EvaluationSettings): EvaluationRow[] {
  return listEvaluations(r.db, r.run.id, { split: s.split, checkpointSha256: r.checkpoint.sha256 }).filter(
    (e) => e.calibrationBatches === s.calibrationBatches && e.calibrationBatchSize === s.calibrationBatchSize && e.calibrationSeed === s.calibrationSeed,
  );
}

export async function buildRunPredictor(r: LoadedRun, settings: EvaluationSettings, opts: RunPredictorOptions = {}): Promise<RunPredictorResult> {
  const seed = opts.seed ?? 0;
  let rows = predictorEvaluations(r, settings);
  const want = opts.samples ?? 0;
  let sampled = 0;
  if (rows.length < want) {
    const seen = new Set(rows.map((e) => e.genomeId));
    const ev = createRunEvaluator(r, settings);
    const rng = new Rng(seed);
    try {
      // Bounded: a tiny space may hold fewer subnets than asked for.
      for (let tries = 0; seen.size < want && tries < 50 * want; tries++) {
        if (opts.signal?.aborted) break;
        const g = randomGenome(r.space, rng);
        const id = genomeId(r.space.id, g);
        if (seen.has(id)) continue;
        seen.add(id);
        const { row, cached } = await ev.evaluate(g);
        if (!cached) sampled++;
        opts.onProgress?.({ phase: 'sample', done: seen.size, total: want, genomeId: id, accuracy: row.accuracy, cached });
      }
    } finally {
      ev.dispose();
    }
    rows = predictorEvaluations(r, settings);
  }
  const samples: Sample[] = rows.map((e) => ({ genome: e.genome as Genome, accuracy: e.accuracy, ref: e.id }));
  const built = await buildPredictor(r.space, samples, {
    ...opts,
    seed,
    onProgress: (p) => opts.onProgress?.({ phase: 'fit', ...p }),
  });
  const predictor = savePredictor(r.db, {
    runId: r.run.id,
    checkpointSha256: r.checkpoint.sha256,
    checkpointStep: r.checkpoint.step,
    split: settings.split,
    calibrationBatches: settings.calibrationBatches,
    calibrationBatchSize: settings.calibrationBatchSize,
    calibrationSeed: settings.calibrationSeed,
    spaceId: r.space.id,
    layout: built.model.mlp.layout,
    weights: built.model.mlp.params,
    trainSize: built.trainSize,
    metrics: toPredictorMetrics(built.metrics),
    sizeTable: built.sizeTable.map((row) => ({ trainSize: row.trainSize, ...toPredictorMetrics(row) })),
    heldOut: built.heldOut.map((h) => ({ evaluationId: h.ref as number, measured: h.measured, predicted: h.predicted })),
    fit: { ...built.fit, seed: built.seed },
    trainLoss: Number.isFinite(built.trainLoss) ? built.trainLoss : null,
    fitMs: built.fitMs,
    sampled,
    backend: tf.getBackend(),
    appVersion,
  });
  return { predictor, sampled };
}

/**
 * The screen of a predictor-guided search over a loaded run: scores with the stored predictor, and before every later
 * generation refits a fresh MLP (same layout and recipe, same seed, at most 100 epochs) on every evaluation of the
 * checkpoint in the cache — the search's own real evaluations included. The stored predictor (and its held-out
 * metrics) is left as it was. A fresh fit, not a warm start, so a resumed search refits to the same weights.
 */
export function runAccuracyScreen(
  r: LoadedRun,
  settings: EvaluationSettings,
  stored: PredictorRow,
  opts: { onRefit?: (info: { samples: number; ms: number }) => void } = {},
): AccuracyScreen {
  const encoder = genomeEncoder(r.space);
  let score = genomeScorer(r.space, predictorModel(stored), encoder);
  const fit = stored.fit as { epochs?: number; batchSize?: number; learningRate?: number; weightDecay?: number; seed?: number };
  return {
    predict: (gs) => score(gs),
    refit: async () => {
      const rows = predictorEvaluations(r, settings);
      const t0 = performance.now();
      const { mlp } = await fitMlp(encoder.encodeMany(rows.map((e) => e.genome as Genome)), rows.map((e) => e.accuracy), encoder.length, {
        hidden: stored.layout.hidden,
        epochs: Math.min(fit.epochs ?? 100, 100),
        batchSize: fit.batchSize,
        learningRate: fit.learningRate,
        weightDecay: fit.weightDecay,
        seed: fit.seed,
      });
      score = genomeScorer(r.space, { spaceId: r.space.id, mlp }, encoder);
      opts.onRefit?.({ samples: rows.length, ms: performance.now() - t0 });
    },
  };
}
