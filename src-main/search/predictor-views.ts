/**
 * What the app and `alphanet front --importance` show of a run's stored predictor, computed without TF.js (the MLP's
 * plain-JS forward pass, predictor/mlp.ts), so the service in Electron main can call it: a summary (held-out τ, ρ,
 * RMSE, the training-size table, stale or not), predicted vs measured accuracy for the evaluated subnets of its
 * checkpoint, and gene importance.
 */
import type { Db } from '../store/db';
import { getRun } from '../store/runs';
import {
  PredictorNotFoundError,
  findRunPredictor,
  getRunPredictor,
  type PredictorWithStatus,
} from '../store/predictors';
import { listEvaluations, type EvalSplit } from '../store/evaluations';
import { configSpace, parseTrainConfig, type Genome, type SearchSpace } from '../engine/core';
import { geneImportance, genomeScorer, type ImportanceReport, type PredictorModel } from './predictor';

export type PredictorSummary = Omit<PredictorWithStatus, 'weights'>;

export function predictorSummary(p: PredictorWithStatus): PredictorSummary {
  const { weights: _weights, ...rest } = p;
  return rest;
}

export function predictorModel(p: Pick<PredictorWithStatus, 'spaceId' | 'layout' | 'weights'>): PredictorModel {
  return { spaceId: p.spaceId, mlp: { layout: p.layout, params: p.weights } };
}

/** The run's search space (its config's), without loading anything heavy. */
export function runSpace(db: Db, runId: number): SearchSpace {
  const run = getRun(db, runId);
  return configSpace(parseTrainConfig(run.config, `config of run ${runId}`));
}

export interface PredictedPoint {
  evaluationId: number;
  genomeId: string;
  measured: number;
  predicted: number;
  /** Held out from the predictor's training (its τ is measured on these). */
  heldOut: boolean;
}

export interface RunPredictorView {
  predictor: PredictorSummary;
  /** Every evaluation of the predictor's checkpoint and split: measured and predicted accuracy. */
  points: PredictedPoint[];
}

/** The run's predictor (a one-line error if there is none) with predicted vs measured for its checkpoint's evaluations. */
export function runPredictorView(db: Db, runId: number, split: EvalSplit = 'val'): RunPredictorView {
  const p = getRunPredictor(db, runId, split);
  const space = runSpace(db, runId);
  const score = genomeScorer(space, predictorModel(p));
  const held = new Set(p.heldOut.map((h) => h.evaluationId));
  const evals = listEvaluations(db, runId, { split, checkpointSha256: p.checkpointSha256 }).filter(
    (e) => e.calibrationBatches === p.calibrationBatches && e.calibrationBatchSize === p.calibrationBatchSize && e.calibrationSeed === p.calibrationSeed,
  );
  const predicted = score(evals.map((e) => e.genome as Genome));
  return {
    predictor: predictorSummary(p),
    points: evals.map((e, i) => ({ evaluationId: e.id, genomeId: e.genomeId, measured: e.accuracy, predicted: predicted[i], heldOut: held.has(e.id) })),
  };
}

export interface RunImportance {
  predictor: PredictorSummary;
  importance: ImportanceReport;
}

/** Gene importance of the run's predictor (fANOVA-style main effects over uniform random subnets). */
export function runGeneImportance(db: Db, runId: number, opts: { split?: EvalSplit; samples?: number; seed?: number } = {}): RunImportance {
  const p = getRunPredictor(db, runId, opts.split ?? 'val');
  const space = runSpace(db, runId);
  const importance = geneImportance(space, genomeScorer(space, predictorModel(p)), { samples: opts.samples, seed: opts.seed });
  return { predictor: predictorSummary(p), importance };
}

/**
 * A predictor-guided search screens with the run's predictor of the checkpoint it evaluates; refuses (one line, before
 * anything is queued) when there is none.
 */
export function checkScreenPredictor(db: Db, runId: number, split: EvalSplit, ck: { sha256: string; step: number }): PredictorWithStatus {
  const p = findRunPredictor(db, runId, split);
  if (!p || p.checkpointSha256 !== ck.sha256) {
    throw new PredictorNotFoundError(
      `a predictor-guided search needs run ${runId}'s accuracy predictor of the checkpoint it searches (step ${ck.step}, ${split})` +
        `${p ? `; the run's predictor is of step ${p.checkpointStep}` : ''}; build it with \`alphanet predictor ${runId} --build\``,
    );
  }
  return p;
}
