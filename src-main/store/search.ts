/**
 * Repository functions for evaluated subnets, searches and Pareto fronts (tables of migration 003; docs/SEARCH.md,
 * "Storage"). Every function takes the database handle and caches nothing, so the app, the CLI and a search runner
 * can share the file.
 */
import { createHash } from 'node:crypto';
import type { Db } from './db';
import { StoreError } from './db';
import {
  JOB_STATUSES,
  JOB_TRANSITIONS,
  deleteStoppedJob,
  now,
  readJobControl,
  setJobControl,
  setJobRuntime,
  transitionJob,
  type JobControl,
  type JobStatus,
  type JobTransitionFields,
} from './jobs';
import { ParetoFront, type FrontPoint, type ParetoFrontJson, type ReferencePoint } from '../search/pareto';

export type EvalSplit = 'val' | 'test';
export const EVAL_SPLITS: readonly EvalSplit[] = ['val', 'test'];

export class EvaluationNotFoundError extends StoreError {
  override name = 'EvaluationNotFoundError';
}
export class SearchNotFoundError extends StoreError {
  override name = 'SearchNotFoundError';
}

// ---- devices ------------------------------------------------------------------------------------------------

/** A short, stable id of a device fingerprint: the first 16 hex digits of the sha256 of its sorted-key JSON. */
export function deviceIdOf(fingerprint: object): string {
  const sorted = Object.fromEntries(Object.entries(fingerprint).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** Records a device fingerprint (idempotent); returns its id. */
export function upsertDevice(db: Db, fingerprint: object): string {
  const id = deviceIdOf(fingerprint);
  db.prepare('INSERT OR IGNORE INTO devices (id, fingerprint, created_at) VALUES (?, ?, ?)').run(id, JSON.stringify(fingerprint), now());
  return id;
}

export function findDevice(db: Db, id: string): unknown {
  const r = db.prepare('SELECT fingerprint FROM devices WHERE id = ?').get(id) as { fingerprint: string } | undefined;
  return r ? JSON.parse(r.fingerprint) : undefined;
}

// ---- evaluations --------------------------------------------------------------------------------------------

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

const toEvaluation = (r: Record<string, unknown>): EvaluationRow => ({
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

// ---- searches -----------------------------------------------------------------------------------------------

export type SearchStatus = JobStatus;
export const SEARCH_STATUSES = JOB_STATUSES;
/** The same lifecycle as a run (`store/jobs.ts`; the migration's trigger enforces the same edges). */
export const SEARCH_TRANSITIONS = JOB_TRANSITIONS;

export type SearchKindName = 'evolution' | 'random';
export type SearchObjective = 'mflops' | 'latency';

export interface SearchInput {
  runId: number;
  name: string;
  kind: SearchKindName;
  /** The engine's resolved `EvolutionConfig`. */
  config: unknown;
  /** The engine's `Budget`. */
  budget: unknown;
  objective: SearchObjective;
  /** Random search: the number of evaluations. */
  targetEvaluations: number | null;
  split: EvalSplit;
  calibrationBatches: number;
  calibrationBatchSize: number;
  calibrationSeed: number;
  /** The checkpoint the whole search (and any resume of it) evaluates. */
  checkpointPath: string;
  checkpointSha256: string;
  checkpointStep: number;
  /** Backend to run on (`auto` or a forced one). */
  backendRequest: string;
  /** Evaluations the search will make (an upper bound when duplicates are reused). */
  total: number;
  appVersion: string;
}

export interface SearchRow extends SearchInput {
  id: number;
  status: SearchStatus;
  control: 'pause' | 'cancel' | null;
  wantsResume: boolean;
  /** Backend it ran on last. */
  backend: string | null;
  /** Cores it holds while running (one: candidates are evaluated one after another); null before it first ran. */
  cores: number | null;
  evaluations: number;
  elapsedMs: number;
  etaMs: number | null;
  error: string | null;
  pid: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  heartbeatAt: string | null;
}

const toSearch = (r: Record<string, unknown>): SearchRow => ({
  id: r.id as number,
  runId: r.run_id as number,
  name: r.name as string,
  kind: r.kind as SearchKindName,
  config: JSON.parse(r.config as string),
  budget: JSON.parse(r.budget as string),
  objective: r.objective as SearchObjective,
  targetEvaluations: r.target_evaluations as number | null,
  split: r.split as EvalSplit,
  calibrationBatches: r.calibration_batches as number,
  calibrationBatchSize: r.calibration_batch_size as number,
  calibrationSeed: r.calibration_seed as number,
  checkpointPath: r.checkpoint_path as string,
  checkpointSha256: r.checkpoint_sha256 as string,
  checkpointStep: r.checkpoint_step as number,
  backendRequest: r.backend_request as string,
  total: r.total as number,
  appVersion: r.app_version as string,
  status: r.status as SearchStatus,
  control: r.control as 'pause' | 'cancel' | null,
  wantsResume: r.wants_resume === 1,
  backend: r.backend as string | null,
  cores: r.cores as number | null,
  evaluations: r.evaluations as number,
  elapsedMs: r.elapsed_ms as number,
  etaMs: r.eta_ms as number | null,
  error: r.error as string | null,
  pid: r.pid as number | null,
  createdAt: r.created_at as string,
  startedAt: r.started_at as string | null,
  finishedAt: r.finished_at as string | null,
  updatedAt: r.updated_at as string,
  heartbeatAt: r.heartbeat_at as string | null,
});

export function createSearch(db: Db, s: SearchInput): SearchRow {
  const t = now();
  const info = db
    .prepare(
      `INSERT INTO searches (run_id, name, kind, config, budget, objective, target_evaluations, split, calibration_batches, calibration_batch_size,
         calibration_seed, checkpoint_path, checkpoint_sha256, checkpoint_step, backend_request, total, app_version, status, created_at, updated_at)
       VALUES (@runId, @name, @kind, @config, @budget, @objective, @targetEvaluations, @split, @calibrationBatches, @calibrationBatchSize,
         @calibrationSeed, @checkpointPath, @checkpointSha256, @checkpointStep, @backendRequest, @total, @appVersion, 'queued', @t, @t)`,
    )
    .run({ ...s, config: JSON.stringify(s.config), budget: JSON.stringify(s.budget), t });
  return getSearch(db, Number(info.lastInsertRowid));
}

export function findSearch(db: Db, id: number): SearchRow | undefined {
  const r = db.prepare('SELECT * FROM searches WHERE id = ?').get(id) as Record<string, unknown> | undefined;
  return r && toSearch(r);
}

export function getSearch(db: Db, id: number): SearchRow {
  const r = findSearch(db, id);
  if (!r) throw new SearchNotFoundError(`no search with id ${id}`);
  return r;
}

/** Searches, oldest first; optionally of one run and/or with given statuses. */
export function listSearches(db: Db, f: { runId?: number; status?: SearchStatus[] } = {}): SearchRow[] {
  const rows = db.prepare('SELECT * FROM searches WHERE (@runId IS NULL OR run_id = @runId) ORDER BY id').all({ runId: f.runId ?? null }) as Record<string, unknown>[];
  return rows.map(toSearch).filter((s) => !f.status || f.status.includes(s.status));
}

/** The saved `SearchState` of a search (null before its first evaluation). */
export function readSearchState(db: Db, id: number): unknown {
  const r = db.prepare('SELECT state FROM searches WHERE id = ?').get(id) as { state: string | null } | undefined;
  if (!r) throw new SearchNotFoundError(`no search with id ${id}`);
  return r.state === null ? null : JSON.parse(r.state);
}

export type SearchTransitionFields = JobTransitionFields;

/**
 * Moves a search to `to` if it is in one of `from` (default: every status with an edge to `to`). Atomic; returns
 * false when the search was not in `from` (another process moved it first). An edge outside the lifecycle throws.
 */
export function transitionSearch(db: Db, id: number, to: SearchStatus, fields: SearchTransitionFields = {}, from?: SearchStatus[]): boolean {
  return transitionJob(db, 'searches', id, to, fields, from);
}

export function setSearchControl(db: Db, id: number, control: JobControl | null): void {
  setJobControl(db, 'searches', id, control);
}

export function readSearchControl(db: Db, id: number): JobControl | null {
  return readJobControl(db, 'searches', id);
}

/** Records the runner's backend and pid (each kept when omitted) and a heartbeat. */
export function setSearchRuntime(db: Db, id: number, r: { backend?: string; pid?: number }): void {
  setJobRuntime(db, 'searches', id, r);
}

/** Saves the engine's state and the progress columns (the runner calls it after every evaluation). */
export function saveSearchProgress(db: Db, id: number, p: { state: unknown; evaluations: number; total: number; elapsedMs: number; etaMs: number | null }): void {
  db.prepare('UPDATE searches SET state = ?, evaluations = ?, total = ?, elapsed_ms = ?, eta_ms = ?, heartbeat_at = ?, updated_at = ? WHERE id = ?').run(
    JSON.stringify(p.state),
    p.evaluations,
    p.total,
    p.elapsedMs,
    p.etaMs,
    now(),
    now(),
    id,
  );
}

/** Deletes a search that is not running, with its members and front (the evaluations stay in the run's cache). */
export function deleteSearch(db: Db, id: number): void {
  deleteStoppedJob(db, 'searches', getSearch(db, id));
}

// ---- members ------------------------------------------------------------------------------------------------

export type MemberOrigin = 'min' | 'random' | 'mutate' | 'crossover' | 'random-fallback';

export interface SearchMemberInput {
  /** 0-based evaluation order within the search (the archive index). */
  position: number;
  evaluationId: number;
  generation: number;
  origin: MemberOrigin;
  /** Parent genome IDs. */
  parents: string[] | null;
  /** Cost on the search's objective axis (MFLOPs or ms). */
  cost: number;
  /** The result came from the run's evaluation cache. */
  cached: boolean;
}

export interface SearchMember extends SearchMemberInput {
  evaluation: EvaluationRow;
}

/** Records an archive entry; the same position written again (a replay after a crash) replaces the row. */
export function addSearchMember(db: Db, searchId: number, m: SearchMemberInput): void {
  db.prepare(
    `INSERT OR REPLACE INTO search_members (search_id, position, evaluation_id, generation, origin, parents, cost, cached)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(searchId, m.position, m.evaluationId, m.generation, m.origin, m.parents ? JSON.stringify(m.parents) : null, m.cost, m.cached ? 1 : 0);
}

/** A search's members in evaluation order, each with its evaluation row. */
export function listSearchMembers(db: Db, searchId: number): SearchMember[] {
  const rows = db
    .prepare(
      `SELECT m.position AS m_position, m.evaluation_id AS m_evaluation_id, m.generation AS m_generation, m.origin AS m_origin,
         m.parents AS m_parents, m.cost AS m_cost, m.cached AS m_cached, e.*
       FROM search_members m JOIN subnet_evaluations e ON e.id = m.evaluation_id WHERE m.search_id = ? ORDER BY m.position`,
    )
    .all(searchId) as Record<string, unknown>[];
  return rows.map((r) => ({
    position: r.m_position as number,
    evaluationId: r.m_evaluation_id as number,
    generation: r.m_generation as number,
    origin: r.m_origin as MemberOrigin,
    parents: r.m_parents === null ? null : (JSON.parse(r.m_parents as string) as string[]),
    cost: r.m_cost as number,
    cached: r.m_cached === 1,
    evaluation: toEvaluation(r),
  }));
}

// ---- Pareto fronts ------------------------------------------------------------------------------------------

/** What a front point carries: the evaluation it stands for. The point's `id` is the evaluation id as text. */
export interface FrontData {
  evaluationId: number;
  genomeId: string;
}

/** Which evaluations of a run a run-level front covers. */
export interface RunFrontScope {
  runId: number;
  objective: SearchObjective;
  split: EvalSplit;
  checkpointSha256: string;
  /** Latency fronts: the device whose latencies are the cost (null for MFLOPs). */
  deviceId: string | null;
}

export interface FrontRow extends RunFrontScope {
  id: number;
  searchId: number | null;
  /** Front points in increasing cost. */
  points: FrontPoint<FrontData>[];
  offered: number;
  hypervolume: number;
  reference: ReferencePoint;
  updatedAt: string;
}

const toFront = (r: Record<string, unknown>): FrontRow => {
  const json = JSON.parse(r.points as string) as ParetoFrontJson<FrontData>;
  return {
    id: r.id as number,
    runId: r.run_id as number,
    searchId: r.search_id as number | null,
    objective: r.objective as SearchObjective,
    split: r.split as EvalSplit,
    checkpointSha256: r.checkpoint_sha256 as string,
    deviceId: r.device_id as string | null,
    points: json.points,
    offered: json.offered,
    hypervolume: r.hypervolume as number,
    reference: { costRef: r.cost_ref as number, accRef: r.acc_ref as number },
    updatedAt: r.updated_at as string,
  };
};

/** Writes a front row (insert or replace by id). */
function writeFront(db: Db, existingId: number | undefined, scope: RunFrontScope, searchId: number | null, front: ParetoFront<FrontData>, ref: ReferencePoint): void {
  const json = JSON.stringify(front.toJSON());
  const hv = front.hypervolume(ref);
  if (existingId !== undefined) {
    db.prepare('UPDATE pareto_fronts SET points = ?, size = ?, offered = ?, hypervolume = ?, cost_ref = ?, acc_ref = ?, updated_at = ? WHERE id = ?').run(
      json,
      front.size,
      front.offered,
      hv,
      ref.costRef,
      ref.accRef,
      now(),
      existingId,
    );
  } else {
    db.prepare(
      `INSERT INTO pareto_fronts (run_id, search_id, objective, split, checkpoint_sha256, device_id, points, size, offered, hypervolume, cost_ref, acc_ref, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(scope.runId, searchId, scope.objective, scope.split, scope.checkpointSha256, scope.deviceId, json, front.size, front.offered, hv, ref.costRef, ref.accRef, now());
  }
}

/** Stores (replaces) the front of a search. */
export function saveSearchFront(db: Db, search: Pick<SearchRow, 'id' | 'runId' | 'objective' | 'split' | 'checkpointSha256'>, front: ParetoFront<FrontData>, ref: ReferencePoint, deviceId: string | null = null): void {
  const existing = db.prepare('SELECT id FROM pareto_fronts WHERE search_id = ?').get(search.id) as { id: number } | undefined;
  writeFront(db, existing?.id, { runId: search.runId, objective: search.objective, split: search.split, checkpointSha256: search.checkpointSha256, deviceId }, search.id, front, ref);
}

export function findSearchFront(db: Db, searchId: number): FrontRow | undefined {
  const r = db.prepare('SELECT * FROM pareto_fronts WHERE search_id = ?').get(searchId) as Record<string, unknown> | undefined;
  return r && toFront(r);
}

function findRunFrontRow(db: Db, s: RunFrontScope): Record<string, unknown> | undefined {
  return db
    .prepare(
      `SELECT * FROM pareto_fronts WHERE search_id IS NULL AND run_id = ? AND objective = ? AND split = ? AND checkpoint_sha256 = ?
         AND IFNULL(device_id, '') = ?`,
    )
    .get(s.runId, s.objective, s.split, s.checkpointSha256, s.deviceId ?? '') as Record<string, unknown> | undefined;
}

export function findRunFront(db: Db, scope: RunFrontScope): FrontRow | undefined {
  const r = findRunFrontRow(db, scope);
  return r && toFront(r);
}

/** Every stored front of a run (run-level ones first, then per search). */
export function listRunFronts(db: Db, runId: number): FrontRow[] {
  const rows = db.prepare('SELECT * FROM pareto_fronts WHERE run_id = ? ORDER BY search_id IS NOT NULL, id').all(runId) as Record<string, unknown>[];
  return rows.map(toFront);
}

/**
 * Offers one evaluation to a run-level front: the stored front of n points is parsed and rebuilt (n insertions,
 * O(n log n)), the point inserted, and the whole row rewritten with its hypervolume against `ref` (O(n)). Fronts are
 * small (tens of points), so this costs far less than the evaluation it records. Returns whether the point joined
 * the front.
 * Call inside the transaction that stored the evaluation.
 */
export function offerToRunFront(db: Db, scope: RunFrontScope, point: { evaluationId: number; genomeId: string; accuracy: number; cost: number }, ref: ReferencePoint): boolean {
  const row = findRunFrontRow(db, scope);
  const front = row ? ParetoFront.fromJSON(JSON.parse(row.points as string) as ParetoFrontJson<FrontData>) : new ParetoFront<FrontData>();
  const joined = front.insert({ id: String(point.evaluationId), accuracy: point.accuracy, cost: point.cost, data: { evaluationId: point.evaluationId, genomeId: point.genomeId } });
  writeFront(db, row?.id as number | undefined, scope, null, front, ref);
  return joined;
}
