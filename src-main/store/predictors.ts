/**
 * Accuracy predictors of runs (migration 006, docs/SEARCH.md "Accuracy predictor"): save one (replacing the
 * previous predictor of the same run, checkpoint and split), read the newest of a run with whether it is stale (the
 * run has a newer checkpoint than the one whose evaluations it learned from), list them. Weights go in as a
 * float32 BLOB and come back as a Float32Array. Plain data only: no TF.js, so the service may read predictors.
 */
import type { Db } from './db';
import { StoreError } from './db';
import { listCheckpoints } from './runs';
import type { EvalSplit } from './evaluations';

export interface PredictorMetrics {
  n: number;
  kendallTau: number | null;
  spearmanRho: number | null;
  rmsePoints: number | null;
}

export interface PredictorInput {
  runId: number;
  checkpointSha256: string;
  checkpointStep: number;
  split: EvalSplit;
  calibrationBatches: number;
  calibrationBatchSize: number;
  calibrationSeed: number;
  spaceId: string;
  layout: { input: number; hidden: number[] };
  weights: Float32Array;
  trainSize: number;
  /** On the held-out subnets (`n` of them). */
  metrics: PredictorMetrics;
  sizeTable: (PredictorMetrics & { trainSize: number })[];
  /** Held-out subnets: evaluation id, measured and predicted accuracy ([0, 1]). */
  heldOut: { evaluationId: number; measured: number; predicted: number }[];
  /** Fit settings (hidden, epochs, batch size, learning rate, weight decay, seed). */
  fit: Record<string, unknown>;
  trainLoss: number | null;
  fitMs: number;
  /** Random subnets evaluated for this build (beyond what the run had evaluated). */
  sampled: number;
  backend: string | null;
  appVersion: string;
}

export interface PredictorRow extends PredictorInput {
  id: number;
  createdAt: string;
}

export interface PredictorWithStatus extends PredictorRow {
  /** The run has a newer checkpoint than the one this predictor learned from. */
  stale: boolean;
  /** The run's newest checkpoint now (null: it has none left). */
  latestCheckpointSha256: string | null;
}

const num = (v: number) => (Number.isFinite(v) ? v : null);

/** NaN (τ of a constant side) is stored as NULL. */
export function toPredictorMetrics(m: { n: number; kendallTau: number; spearmanRho: number; rmsePoints: number }): PredictorMetrics {
  return { n: m.n, kendallTau: num(m.kendallTau), spearmanRho: num(m.spearmanRho), rmsePoints: num(m.rmsePoints) };
}

const toRow = (r: Record<string, unknown>): PredictorRow => {
  const blob = r.weights as Buffer;
  // Copy: the Buffer may be a view into a shared pool with an unaligned offset.
  const weights = new Float32Array(blob.byteLength / 4);
  new Uint8Array(weights.buffer).set(blob);
  return {
    id: r.id as number,
    runId: r.run_id as number,
    checkpointSha256: r.checkpoint_sha256 as string,
    checkpointStep: r.checkpoint_step as number,
    split: r.split as EvalSplit,
    calibrationBatches: r.calibration_batches as number,
    calibrationBatchSize: r.calibration_batch_size as number,
    calibrationSeed: r.calibration_seed as number,
    spaceId: r.space_id as string,
    layout: JSON.parse(r.layout as string),
    weights,
    trainSize: r.train_size as number,
    metrics: { n: r.held_out as number, kendallTau: r.kendall_tau as number | null, spearmanRho: r.spearman_rho as number | null, rmsePoints: r.rmse_points as number | null },
    sizeTable: JSON.parse(r.size_table as string),
    heldOut: JSON.parse(r.held_out_points as string),
    fit: JSON.parse(r.fit as string),
    trainLoss: r.train_loss as number | null,
    fitMs: r.fit_ms as number,
    sampled: r.sampled as number,
    backend: r.backend as string | null,
    appVersion: r.app_version as string,
    createdAt: r.created_at as string,
  };
};

/** Stores a predictor, replacing the one of the same run, checkpoint and split. */
export function savePredictor(db: Db, p: PredictorInput): PredictorRow {
  db.prepare(
      `INSERT INTO predictors (run_id, checkpoint_sha256, checkpoint_step, split, calibration_batches, calibration_batch_size,
         calibration_seed, space_id, layout, weights, train_size, held_out, kendall_tau, spearman_rho, rmse_points, size_table,
         held_out_points, fit, train_loss, fit_ms, sampled, backend, app_version, created_at)
       VALUES (@runId, @checkpointSha256, @checkpointStep, @split, @calibrationBatches, @calibrationBatchSize, @calibrationSeed,
         @spaceId, @layout, @weights, @trainSize, @heldOut, @kendallTau, @spearmanRho, @rmsePoints, @sizeTable, @heldOutPoints,
         @fit, @trainLoss, @fitMs, @sampled, @backend, @appVersion, @createdAt)
       ON CONFLICT (run_id, checkpoint_sha256, split) DO UPDATE SET
         checkpoint_step = excluded.checkpoint_step, calibration_batches = excluded.calibration_batches,
         calibration_batch_size = excluded.calibration_batch_size, calibration_seed = excluded.calibration_seed,
         space_id = excluded.space_id, layout = excluded.layout, weights = excluded.weights, train_size = excluded.train_size,
         held_out = excluded.held_out, kendall_tau = excluded.kendall_tau, spearman_rho = excluded.spearman_rho,
         rmse_points = excluded.rmse_points, size_table = excluded.size_table, held_out_points = excluded.held_out_points,
         fit = excluded.fit, train_loss = excluded.train_loss, fit_ms = excluded.fit_ms, sampled = excluded.sampled,
         backend = excluded.backend, app_version = excluded.app_version, created_at = excluded.created_at`,
    )
    .run({
      runId: p.runId,
      checkpointSha256: p.checkpointSha256,
      checkpointStep: p.checkpointStep,
      split: p.split,
      calibrationBatches: p.calibrationBatches,
      calibrationBatchSize: p.calibrationBatchSize,
      calibrationSeed: p.calibrationSeed,
      spaceId: p.spaceId,
      layout: JSON.stringify(p.layout),
      weights: Buffer.from(p.weights.buffer, p.weights.byteOffset, p.weights.byteLength),
      trainSize: p.trainSize,
      heldOut: p.metrics.n,
      kendallTau: p.metrics.kendallTau,
      spearmanRho: p.metrics.spearmanRho,
      rmsePoints: p.metrics.rmsePoints,
      sizeTable: JSON.stringify(p.sizeTable),
      heldOutPoints: JSON.stringify(p.heldOut),
      fit: JSON.stringify(p.fit),
      trainLoss: p.trainLoss,
      fitMs: p.fitMs,
      sampled: p.sampled,
      backend: p.backend,
      appVersion: p.appVersion,
      createdAt: new Date().toISOString(),
    });
  return toRow(db.prepare('SELECT * FROM predictors WHERE run_id = ? AND checkpoint_sha256 = ? AND split = ?').get(p.runId, p.checkpointSha256, p.split) as Record<string, unknown>);
}

/** A run's predictors, newest first. */
export function listPredictors(db: Db, runId: number): PredictorRow[] {
  return (db.prepare('SELECT * FROM predictors WHERE run_id = ? ORDER BY created_at DESC, id DESC').all(runId) as Record<string, unknown>[]).map(toRow);
}

/** The run's newest predictor on `split`, with whether the run's checkpoint has moved on since; undefined if none. */
export function findRunPredictor(db: Db, runId: number, split: EvalSplit = 'val'): PredictorWithStatus | undefined {
  const row = listPredictors(db, runId).find((p) => p.split === split);
  if (!row) return undefined;
  const latest = listCheckpoints(db, runId)[0]?.sha256 ?? null;
  return { ...row, stale: latest !== row.checkpointSha256, latestCheckpointSha256: latest };
}

export class PredictorNotFoundError extends StoreError {
  override name = 'PredictorNotFoundError';
}

/** Like `findRunPredictor`, but a missing predictor is a one-line error saying how to build it. */
export function getRunPredictor(db: Db, runId: number, split: EvalSplit = 'val'): PredictorWithStatus {
  const p = findRunPredictor(db, runId, split);
  if (!p) throw new PredictorNotFoundError(`run ${runId} has no accuracy predictor on ${split} yet; build one with \`alphanet predictor ${runId} --build\``);
  return p;
}
