/**
 * Repository functions for training runs (tables of migration 002; docs/STORE.md). Every function takes the
 * database handle; nothing here caches, so several processes (the app, the CLI, a runner) can share the file.
 */
import type { Db } from './db';
import { StoreError } from './db';
import {
  JOB_STATUSES,
  JOB_TRANSITIONS,
  deleteStoppedJob,
  now,
  readJobControl,
  transitionJob,
  type JobControl,
  type JobStatus,
  type JobTransitionFields,
} from './jobs';

export { now };

export const RUN_STATUSES = JOB_STATUSES;
export type RunStatus = JobStatus;

/** The lifecycle (`store/jobs.ts`; the migration's trigger enforces the same edges). */
export const RUN_TRANSITIONS = JOB_TRANSITIONS;

export interface RunRow {
  id: number;
  name: string;
  /** The validated config (JSON text in the table). */
  config: unknown;
  spaceId: string;
  /** The dataset's id (null only for runs on in-memory data: tests and the bench) and its name at creation. */
  datasetId: string | null;
  datasetName: string;
  status: RunStatus;
  control: 'pause' | 'cancel' | null;
  wantsResume: boolean;
  backend: string | null;
  /** Cores (data-parallel workers) it trains or last trained with; null before it first ran. */
  cores: number | null;
  seed: number;
  appVersion: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  heartbeatAt: string | null;
  error: string | null;
  pid: number | null;
  step: number;
  totalSteps: number | null;
  epoch: number;
  bestMetric: number | null;
}

interface RawRun {
  id: number;
  name: string;
  config: string;
  space_id: string;
  dataset_id: string | null;
  dataset_name: string;
  status: RunStatus;
  control: 'pause' | 'cancel' | null;
  wants_resume: number;
  backend: string | null;
  cores: number | null;
  seed: number;
  app_version: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  heartbeat_at: string | null;
  error: string | null;
  pid: number | null;
  step: number;
  total_steps: number | null;
  epoch: number;
  best_metric: number | null;
}

const toRun = (r: RawRun): RunRow => ({
  id: r.id,
  name: r.name,
  config: JSON.parse(r.config),
  spaceId: r.space_id,
  datasetId: r.dataset_id,
  datasetName: r.dataset_name,
  status: r.status,
  control: r.control,
  wantsResume: r.wants_resume === 1,
  backend: r.backend,
  cores: r.cores,
  seed: r.seed,
  appVersion: r.app_version,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  updatedAt: r.updated_at,
  heartbeatAt: r.heartbeat_at,
  error: r.error,
  pid: r.pid,
  step: r.step,
  totalSteps: r.total_steps,
  epoch: r.epoch,
  bestMetric: r.best_metric,
});

export class RunNotFoundError extends StoreError {
  override name = 'RunNotFoundError';
}

export function createRun(
  db: Db,
  r: { name: string; config: unknown; spaceId: string; datasetId: string | null; datasetName: string; seed: number; appVersion: string; totalSteps?: number },
): RunRow {
  const t = now();
  const info = db
    .prepare(
      `INSERT INTO runs (name, config, space_id, dataset_id, dataset_name, status, seed, app_version, created_at, updated_at, total_steps)
       VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
    )
    .run(r.name, JSON.stringify(r.config), r.spaceId, r.datasetId, r.datasetName, r.seed, r.appVersion, t, t, r.totalSteps ?? null);
  return getRun(db, Number(info.lastInsertRowid));
}

export function findRun(db: Db, id: number): RunRow | undefined {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
  return r && toRun(r);
}

export function getRun(db: Db, id: number): RunRow {
  const r = findRun(db, id);
  if (!r) throw new RunNotFoundError(`no run with id ${id}`);
  return r;
}

export function listRuns(db: Db, opts: { status?: RunStatus[] } = {}): RunRow[] {
  const rows = db.prepare('SELECT * FROM runs ORDER BY id').all() as RawRun[];
  return rows.map(toRun).filter((r) => !opts.status || opts.status.includes(r.status));
}

export type TransitionFields = JobTransitionFields;

/**
 * Moves a run to `to` if it is in one of `from` (default: every status with an edge to `to`). Atomic; returns false
 * when the run was not in `from` (someone else moved it first). An edge outside the lifecycle throws.
 */
export function transitionRun(db: Db, id: number, to: RunStatus, fields: TransitionFields = {}, from?: RunStatus[]): boolean {
  return transitionJob(db, 'runs', id, to, fields, from);
}

/** Progress columns, written with the batched metrics. */
export function updateRunProgress(db: Db, id: number, p: { step: number; epoch: number; totalSteps?: number; bestMetric?: number | null; pid?: number }): void {
  db.prepare(
    `UPDATE runs SET step = ?, epoch = ?, total_steps = COALESCE(?, total_steps), best_metric = COALESCE(?, best_metric),
       pid = COALESCE(?, pid), heartbeat_at = ?, updated_at = ? WHERE id = ?`,
  ).run(p.step, p.epoch, p.totalSteps ?? null, p.bestMetric ?? null, p.pid ?? null, now(), now(), id);
}

export function readRunControl(db: Db, id: number): JobControl | null {
  return readJobControl(db, 'runs', id);
}

/** Deletes a run and (by cascade) its metrics, events and checkpoint rows. Refuses a running run. */
export function deleteRun(db: Db, id: number): void {
  deleteStoppedJob(db, 'runs', getRun(db, id));
}

// ---- metrics ------------------------------------------------------------------------------------------------

export interface StepMetric {
  step: number;
  epoch: number;
  time: string;
  lr: number;
  /** Sum of the members' losses. */
  loss: number | null;
  /** Per sandwich member: role, loss, genome id and, for distilled members, the divergence to the teacher. */
  losses: { role: string; loss: number; arch?: string; divergence?: number | null }[];
  alphaMinShare: number | null;
  clippedShare: number | null;
  nonfinite: number;
  stepMs: number;
  imagesPerSec: number | null;
}

/** Appends step metrics in one transaction (a step seen again after a rollback or resume replaces the old row). */
export function insertStepMetrics(db: Db, runId: number, rows: StepMetric[]): void {
  if (!rows.length) return;
  const stmt = db.prepare(
    `INSERT OR REPLACE INTO step_metrics (run_id, step, epoch, time, lr, loss, losses, alpha_min_share, clipped_share, nonfinite, step_ms, images_per_sec)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const r of rows) {
    stmt.run(runId, r.step, r.epoch, r.time, r.lr, r.loss, JSON.stringify(r.losses), r.alphaMinShare, r.clippedShare, r.nonfinite, r.stepMs, r.imagesPerSec);
  }
}

/** Deletes the run's step metrics after `step` (a resume from the checkpoint at `step` trains those steps again). */
export function deleteStepMetricsAfter(db: Db, runId: number, step: number): void {
  db.prepare('DELETE FROM step_metrics WHERE run_id = ? AND step > ?').run(runId, step);
}

/** The run's step metrics in step order; with `afterStep`, only the steps after it (a watcher's new rows). */
export function listStepMetrics(db: Db, runId: number, afterStep = -1): StepMetric[] {
  const rows = db.prepare('SELECT * FROM step_metrics WHERE run_id = ? AND step > ? ORDER BY step').all(runId, afterStep) as Record<string, unknown>[];
  return rows.map((r) => ({
    step: r.step as number,
    epoch: r.epoch as number,
    time: r.time as string,
    lr: r.lr as number,
    loss: r.loss as number | null,
    losses: JSON.parse(r.losses as string),
    alphaMinShare: r.alpha_min_share as number | null,
    clippedShare: r.clipped_share as number | null,
    nonfinite: r.nonfinite as number,
    stepMs: r.step_ms as number,
    imagesPerSec: r.images_per_sec as number | null,
  }));
}

/** Step number and wall time of the run's last `n` stored steps, oldest first (for an ETA from the store). */
export function recentStepTimes(db: Db, runId: number, n: number): { step: number; time: string }[] {
  const rows = db.prepare('SELECT step, time FROM step_metrics WHERE run_id = ? ORDER BY step DESC LIMIT ?').all(runId, n) as { step: number; time: string }[];
  return rows.reverse();
}

/** One validated subnet after an epoch (docs/STORE.md, `epoch_metrics`). */
export interface EpochMetric {
  /** 0-based: the epoch that had just ended (the first epoch is 0). */
  epoch: number;
  /** Optimizer steps done when it was validated. */
  step: number;
  subnet: string;
  genome: unknown;
  mflops: number;
  /** Top-1 in [0, 1] on the val split, after BN recalibration. */
  valTop1: number;
  /** Mean cross-entropy (no smoothing) on the val split, after BN recalibration. */
  valLoss: number;
  /**
   * The same before recalibration: with the supernet's running BN statistics as training leaves them (mean 0,
   * variance 1). Null in rows of runs validated before migration 005.
   */
  valTop1Before: number | null;
  valLossBefore: number | null;
  valImages: number;
  time: string;
}

export function insertEpochMetrics(db: Db, runId: number, rows: EpochMetric[]): void {
  const stmt = db.prepare(
    `INSERT OR REPLACE INTO epoch_metrics (run_id, epoch, step, subnet, genome, mflops, val_top1, val_loss, val_top1_before, val_loss_before, val_images, time)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const r of rows) {
      stmt.run(runId, r.epoch, r.step, r.subnet, JSON.stringify(r.genome), r.mflops, r.valTop1, r.valLoss, r.valTop1Before, r.valLossBefore, r.valImages, r.time);
    }
  }).immediate();
}

export function listEpochMetrics(db: Db, runId: number): EpochMetric[] {
  const rows = db.prepare('SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch, subnet').all(runId) as Record<string, unknown>[];
  return rows.map((r) => ({
    epoch: r.epoch as number,
    step: r.step as number,
    subnet: r.subnet as string,
    genome: JSON.parse(r.genome as string),
    mflops: r.mflops as number,
    valTop1: r.val_top1 as number,
    valLoss: r.val_loss as number,
    valTop1Before: r.val_top1_before as number | null,
    valLossBefore: r.val_loss_before as number | null,
    valImages: r.val_images as number,
    time: r.time as string,
  }));
}

// ---- events --------------------------------------------------------------------------------------------------

export type RunEventKind =
  | 'start'
  | 'resume'
  | 'pause'
  | 'cancel'
  | 'finish'
  | 'fail'
  | 'checkpoint'
  | 'checkpoint-corrupt'
  | 'nan'
  | 'rollback'
  | 'validation'
  | 'stale';

export interface RunEvent {
  id: number;
  time: string;
  step: number | null;
  kind: RunEventKind;
  message: string;
  data: unknown;
}

export function addRunEvent(db: Db, runId: number, e: { kind: RunEventKind; message: string; step?: number; data?: unknown }): void {
  db.prepare('INSERT INTO run_events (run_id, time, step, kind, message, data) VALUES (?, ?, ?, ?, ?, ?)').run(
    runId,
    now(),
    e.step ?? null,
    e.kind,
    e.message,
    e.data === undefined ? null : JSON.stringify(e.data),
  );
}

/** A run's events in order; `afterId`: only those with a larger id (what a live view has not seen yet). */
export function listRunEvents(db: Db, runId: number, afterId = 0): RunEvent[] {
  const rows = db.prepare('SELECT * FROM run_events WHERE run_id = ? AND id > ? ORDER BY id').all(runId, afterId) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as number,
    time: r.time as string,
    step: r.step as number | null,
    kind: r.kind as RunEventKind,
    message: r.message as string,
    data: r.data === null ? null : JSON.parse(r.data as string),
  }));
}

/** The id of a run's newest event (0 when it has none). */
export function lastRunEventId(db: Db, runId: number): number {
  return (db.prepare('SELECT MAX(id) AS id FROM run_events WHERE run_id = ?').get(runId) as { id: number | null }).id ?? 0;
}

// ---- checkpoints ---------------------------------------------------------------------------------------------

export interface CheckpointRow {
  id: number;
  runId: number;
  step: number;
  epoch: number;
  path: string;
  sha256: string;
  bytes: number;
  metric: number | null;
  isBest: boolean;
  createdAt: string;
}

const toCkpt = (r: Record<string, unknown>): CheckpointRow => ({
  id: r.id as number,
  runId: r.run_id as number,
  step: r.step as number,
  epoch: r.epoch as number,
  path: r.path as string,
  sha256: r.sha256 as string,
  bytes: r.bytes as number,
  metric: r.metric as number | null,
  isBest: r.is_best === 1,
  createdAt: r.created_at as string,
});

/** Records a checkpoint; if `metric` beats the run's best, it becomes the best (one per run). */
export function insertCheckpoint(db: Db, c: { runId: number; step: number; epoch: number; path: string; sha256: string; bytes: number; metric?: number }): CheckpointRow {
  return db.transaction(() => {
    const best = db.prepare('SELECT metric FROM checkpoints WHERE run_id = ? AND is_best = 1').get(c.runId) as { metric: number } | undefined;
    const isBest = c.metric !== undefined && (!best || c.metric > best.metric);
    if (isBest) db.prepare('UPDATE checkpoints SET is_best = 0 WHERE run_id = ?').run(c.runId);
    const info = db
      .prepare('INSERT INTO checkpoints (run_id, step, epoch, path, sha256, bytes, metric, is_best, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(c.runId, c.step, c.epoch, c.path, c.sha256, c.bytes, c.metric ?? null, isBest ? 1 : 0, now());
    if (isBest) db.prepare('UPDATE runs SET best_metric = ? WHERE id = ?').run(c.metric, c.runId);
    return toCkpt(db.prepare('SELECT * FROM checkpoints WHERE id = ?').get(Number(info.lastInsertRowid)) as Record<string, unknown>);
  }).immediate();
}

/** Newest first. */
export function listCheckpoints(db: Db, runId: number): CheckpointRow[] {
  return (db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC').all(runId) as Record<string, unknown>[]).map(toCkpt);
}

export function deleteCheckpointRow(db: Db, id: number): void {
  db.prepare('DELETE FROM checkpoints WHERE id = ?').run(id);
}

/** The speed of the newest training step any run recorded, with the workers (cores) that run holds or last held. */
export interface LatestStepSpeed {
  runId: number;
  name: string;
  step: number;
  workers: number | null;
  imagesPerSec: number;
}

/** The newest step metric with a speed over all runs (`alphanet doctor` shows it per worker); undefined: none yet. */
export function latestStepSpeed(db: Db): LatestStepSpeed | undefined {
  const r = db
    .prepare(
      `SELECT r.id AS runId, r.name AS name, m.step AS step, r.cores AS workers, m.images_per_sec AS imagesPerSec
         FROM step_metrics m JOIN runs r ON r.id = m.run_id
        WHERE m.images_per_sec IS NOT NULL ORDER BY m.time DESC, m.step DESC LIMIT 1`,
    )
    .get() as LatestStepSpeed | undefined;
  return r;
}
