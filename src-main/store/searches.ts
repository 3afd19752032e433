/**
 * Repository of the `searches` and `search_members` tables (migration 003; docs/SEARCH.md, "Storage"). Every function
 * takes the database handle and caches nothing, so the app, the CLI and a search runner can share the file.
 */
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
import { toEvaluation, type EvalSplit, type EvaluationRow } from './evaluations';

export class SearchNotFoundError extends StoreError {
  override name = 'SearchNotFoundError';
}

export type SearchStatus = JobStatus;
export const SEARCH_STATUSES = JOB_STATUSES;
/** The same lifecycle as a run (`store/jobs.ts`; the migration's trigger enforces the same edges). */
export const SEARCH_TRANSITIONS = JOB_TRANSITIONS;

/** The search algorithms (search/evolution.ts) and the cost a front minimises; one definition for storage and search. */
export type SearchKind = 'evolution' | 'random';
export type SearchObjective = 'mflops' | 'latency';
/** What computes a search's evaluations (migration 010). */
export type SearchEngine = 'local' | 'torch' | 'slurm';

/** Where a `slurm` search's evaluation jobs go (migration 012): the profile and the jobs' shape. */
export interface SearchCluster {
  name: string;
  nodes: number;
  /** Ranks per node: each takes every N-th candidate of a generation (GPUs per node when there are GPUs). */
  ranksPerNode: number;
  /** GPUs per node (0: the profile's). */
  gpusPerNode: number;
}

export interface SearchInput {
  runId: number;
  name: string;
  kind: SearchKind;
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
  /** What computes the evaluations: `local` (TF.js in the search runner, the default) or `torch` (the PyTorch engine). */
  engine?: SearchEngine;
  /** Evaluation workers asked for; null: `auto` (the cores the job queue gives the search). Default null. */
  workers?: number | null;
  /** Engine `slurm`: the cluster and the shape of its evaluation jobs (null otherwise). */
  cluster?: SearchCluster | null;
  /** Evaluations the search will make (an upper bound when duplicates are reused). */
  total: number;
  appVersion: string;
}

export interface SearchRow extends SearchInput {
  id: number;
  engine: SearchEngine;
  cluster: SearchCluster | null;
  status: SearchStatus;
  control: 'pause' | 'cancel' | null;
  wantsResume: boolean;
  /** Backend it ran on last. */
  backend: string | null;
  workers: number | null;
  /** Cores it holds while running (one per evaluation worker); null before it first ran. */
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
  kind: r.kind as SearchKind,
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
  engine: r.engine as SearchEngine,
  cluster: r.cluster === null || r.cluster === undefined ? null : { name: r.cluster as string, nodes: r.cluster_nodes as number, ranksPerNode: r.cluster_ranks as number, gpusPerNode: r.cluster_gpus as number },
  total: r.total as number,
  appVersion: r.app_version as string,
  status: r.status as SearchStatus,
  control: r.control as 'pause' | 'cancel' | null,
  wantsResume: r.wants_resume === 1,
  backend: r.backend as string | null,
  workers: r.workers as number | null,
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
  const { cluster, ...rest } = s;
  const info = db
    .prepare(
      `INSERT INTO searches (run_id, name, kind, config, budget, objective, target_evaluations, split, calibration_batches, calibration_batch_size,
         calibration_seed, checkpoint_path, checkpoint_sha256, checkpoint_step, backend_request, engine, workers, cluster, cluster_nodes, cluster_ranks, cluster_gpus, total, app_version, status, created_at, updated_at)
       VALUES (@runId, @name, @kind, @config, @budget, @objective, @targetEvaluations, @split, @calibrationBatches, @calibrationBatchSize,
         @calibrationSeed, @checkpointPath, @checkpointSha256, @checkpointStep, @backendRequest, @engine, @workers, @clusterName, @clusterNodes, @clusterRanks, @clusterGpus, @total, @appVersion, 'queued', @t, @t)`,
    )
    .run({
      ...rest,
      engine: s.engine ?? 'local',
      workers: s.workers ?? null,
      clusterName: cluster?.name ?? null,
      clusterNodes: cluster?.nodes ?? null,
      clusterRanks: cluster?.ranksPerNode ?? null,
      clusterGpus: cluster?.gpusPerNode ?? null,
      config: JSON.stringify(s.config),
      budget: JSON.stringify(s.budget),
      t,
    });
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

/** Records the runner's backend, pid and the cores (evaluation workers) it uses (each kept when omitted) and a heartbeat. */
export function setSearchRuntime(db: Db, id: number, r: { backend?: string; pid?: number; cores?: number }): void {
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

/** How a search candidate came about. */
export type CandidateOrigin = 'min' | 'random' | 'mutate' | 'crossover' | 'random-fallback';

export interface SearchMemberInput {
  /** 0-based evaluation order within the search (the archive index). */
  position: number;
  evaluationId: number;
  generation: number;
  origin: CandidateOrigin;
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
    origin: r.m_origin as CandidateOrigin,
    parents: r.m_parents === null ? null : (JSON.parse(r.m_parents as string) as string[]),
    cost: r.m_cost as number,
    cached: r.m_cached === 1,
    evaluation: toEvaluation(r),
  }));
}
