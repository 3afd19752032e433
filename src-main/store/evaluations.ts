/**
 * Repository of the `subnet_evaluations` table (migration 003; docs/SEARCH.md, "Storage"): evaluated subnets, keyed by
 * everything that changes the answer. Every function takes the database handle and caches nothing, so the app, the
 * CLI and a search runner can share the file.
 */
import type { Db } from './db';
import { StoreError } from './db';
import { now } from './jobs';

export type EvalSplit = 'val' | 'test';
export const EVAL_SPLITS: readonly EvalSplit[] = ['val', 'test'];

export class EvaluationNotFoundError extends StoreError {
  override name = 'EvaluationNotFoundError';
}

/** Everything that changes an evaluation's answer: the cache key. */
export interface EvaluationKey {
  runId: number;
  genomeId: string;
  split: EvalSplit;
  calibrationBatches: number;
  calibrationBatchSize: number;
  calibrationSeed: number;
  checkpointSha256: string;
}

export interface EvaluationLatency {
  ms: number;
  method: 'measured' | 'lut';
  /** Batch size the latency is for. */
  batch: number;
  /** `devices.id` of the machine + backend that measured (or whose lookup table predicted) it. */
  deviceId: string;
}

export interface EvaluationInput extends EvaluationKey {
  genome: unknown;
  checkpointStep: number;
  /** Top-1 in [0, 1] after BN calibration. */
  accuracy: number;
  /** Mean cross-entropy (no smoothing) after calibration. */
  loss: number;
  before: { accuracy: number; loss: number; method: 'reset' | 'batch' } | null;
  /** Images of the evaluation split measured. */
  images: number;
  calibrationImages: number;
  mflops: number;
  /** Millions of parameters. */
  mparams: number;
  latency: EvaluationLatency | null;
  /** TF.js backend that computed the accuracy. */
  backend: string | null;
  /** Wall time of the calibration + evaluation, ms. */
  evalMs: number;
}

export interface EvaluationRow extends EvaluationInput {
  id: number;
  createdAt: string;
}

/** An evaluation row as stored (also read by `listSearchMembers`, which joins it). */
export const toEvaluation = (r: Record<string, unknown>): EvaluationRow => ({
  id: r.id as number,
  runId: r.run_id as number,
  genomeId: r.genome_id as string,
  genome: JSON.parse(r.genome as string),
  split: r.split as EvalSplit,
  calibrationBatches: r.calibration_batches as number,
  calibrationBatchSize: r.calibration_batch_size as number,
  calibrationSeed: r.calibration_seed as number,
  checkpointSha256: r.checkpoint_sha256 as string,
  checkpointStep: r.checkpoint_step as number,
  accuracy: r.accuracy as number,
  loss: r.loss as number,
  before: r.accuracy_before === null ? null : { accuracy: r.accuracy_before as number, loss: r.loss_before as number, method: r.before_method as 'reset' | 'batch' },
  images: r.images as number,
  calibrationImages: r.calibration_images as number,
  mflops: r.mflops as number,
  mparams: r.mparams as number,
  latency:
    r.latency_ms === null
      ? null
      : { ms: r.latency_ms as number, method: r.latency_method as 'measured' | 'lut', batch: r.latency_batch as number, deviceId: r.device_id as string },
  backend: r.backend as string | null,
  evalMs: r.eval_ms as number,
  createdAt: r.created_at as string,
});

const KEY_SQL = `run_id = @runId AND genome_id = @genomeId AND split = @split AND calibration_batches = @calibrationBatches
  AND calibration_batch_size = @calibrationBatchSize AND calibration_seed = @calibrationSeed AND checkpoint_sha256 = @checkpointSha256`;

const keyParams = (k: EvaluationKey) => ({
  runId: k.runId,
  genomeId: k.genomeId,
  split: k.split,
  calibrationBatches: k.calibrationBatches,
  calibrationBatchSize: k.calibrationBatchSize,
  calibrationSeed: k.calibrationSeed,
  checkpointSha256: k.checkpointSha256,
});

/** The cached evaluation with exactly this key, if any. */
export function findEvaluation(db: Db, key: EvaluationKey): EvaluationRow | undefined {
  const r = db.prepare(`SELECT * FROM subnet_evaluations WHERE ${KEY_SQL}`).get(keyParams(key)) as Record<string, unknown> | undefined;
  return r && toEvaluation(r);
}

export function getEvaluation(db: Db, id: number): EvaluationRow {
  const r = db.prepare('SELECT * FROM subnet_evaluations WHERE id = ?').get(id) as Record<string, unknown> | undefined;
  if (!r) throw new EvaluationNotFoundError(`no evaluation with id ${id}`);
  return toEvaluation(r);
}

/**
 * Stores an evaluation. When another process stored the same key first, its row stands and is returned with
 * `inserted: false` (evaluations are deterministic, so both answers are the same question's). `ON CONFLICT DO
 * NOTHING`, not `INSERT OR IGNORE`: the latter would also swallow a CHECK or NOT NULL violation (a bad row).
 */
export function insertEvaluation(db: Db, e: EvaluationInput): { row: EvaluationRow; inserted: boolean } {
  const info = db
    .prepare(
      `INSERT INTO subnet_evaluations (run_id, genome_id, genome, split, calibration_batches, calibration_batch_size, calibration_seed,
         checkpoint_sha256, checkpoint_step, accuracy, loss, accuracy_before, loss_before, before_method, images, calibration_images, mflops,
         mparams, latency_ms, latency_method, latency_batch, device_id, backend, eval_ms, created_at)
       VALUES (@runId, @genomeId, @genome, @split, @calibrationBatches, @calibrationBatchSize, @calibrationSeed, @checkpointSha256, @checkpointStep,
         @accuracy, @loss, @accuracyBefore, @lossBefore, @beforeMethod, @images, @calibrationImages, @mflops, @mparams, @latencyMs,
         @latencyMethod, @latencyBatch, @deviceId, @backend, @evalMs, @createdAt)
       ON CONFLICT DO NOTHING`,
    )
    .run({
      ...keyParams(e),
      genome: JSON.stringify(e.genome),
      checkpointStep: e.checkpointStep,
      accuracy: e.accuracy,
      loss: e.loss,
      accuracyBefore: e.before?.accuracy ?? null,
      lossBefore: e.before?.loss ?? null,
      beforeMethod: e.before?.method ?? null,
      images: e.images,
      calibrationImages: e.calibrationImages,
      mflops: e.mflops,
      mparams: e.mparams,
      latencyMs: e.latency?.ms ?? null,
      latencyMethod: e.latency?.method ?? null,
      latencyBatch: e.latency?.batch ?? null,
      deviceId: e.latency?.deviceId ?? null,
      backend: e.backend,
      evalMs: e.evalMs,
      createdAt: now(),
    });
  const row = findEvaluation(db, e);
  if (!row) throw new StoreError(`evaluation of ${e.genomeId} for run ${e.runId} was neither stored nor found`);
  return { row, inserted: info.changes === 1 };
}

/** Fills in (or replaces) the latency of a stored evaluation. */
export function setEvaluationLatency(db: Db, id: number, l: EvaluationLatency): EvaluationRow {
  db.prepare('UPDATE subnet_evaluations SET latency_ms = ?, latency_method = ?, latency_batch = ?, device_id = ? WHERE id = ?').run(l.ms, l.method, l.batch, l.deviceId, id);
  return getEvaluation(db, id);
}

/** Pins or unpins an evaluation (migration 004); throws `EvaluationNotFoundError` for an unknown id. */
export function setEvaluationPinned(db: Db, id: number, pinned: boolean): void {
  const info = db.prepare('UPDATE subnet_evaluations SET pinned = ? WHERE id = ?').run(pinned ? 1 : 0, id);
  if (info.changes !== 1) throw new EvaluationNotFoundError(`no evaluation with id ${id}`);
}

/** Ids of the pinned evaluations of a run (of every run when `runId` is null). */
export function pinnedEvaluationIds(db: Db, runId: number | null): Set<number> {
  const rows = db.prepare('SELECT id FROM subnet_evaluations WHERE pinned = 1 AND (@runId IS NULL OR run_id = @runId)').all({ runId }) as { id: number }[];
  return new Set(rows.map((r) => r.id));
}

/** A run's evaluations, oldest first; optionally of one split and/or checkpoint. */
export function listEvaluations(db: Db, runId: number, f: { split?: EvalSplit; checkpointSha256?: string } = {}): EvaluationRow[] {
  const rows = db
    .prepare(
      `SELECT * FROM subnet_evaluations WHERE run_id = @runId AND (@split IS NULL OR split = @split)
         AND (@sha IS NULL OR checkpoint_sha256 = @sha) ORDER BY id`,
    )
    .all({ runId, split: f.split ?? null, sha: f.checkpointSha256 ?? null }) as Record<string, unknown>[];
  return rows.map(toEvaluation);
}
