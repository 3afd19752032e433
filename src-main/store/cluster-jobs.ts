/**
 * Repository functions for jobs submitted to Slurm clusters (migration 009, docs/STORE.md "cluster_jobs").
 */
import type { Db } from './db';
import { StoreError } from './db';
import { now } from './jobs';

export type ClusterJobOutcome = 'finished' | 'paused' | 'cancelled' | 'failed';

export interface ClusterJobRow {
  id: number;
  cluster: string;
  kind: 'train' | 'evaluate';
  runId: number | null;
  searchId: number | null;
  jobId: string;
  remoteDir: string;
  nodes: number;
  gpusPerNode: number;
  ranksPerNode: number;
  /** Slurm's state word as last seen (SUBMITTED until the first poll). */
  state: string;
  reason: string | null;
  nodeList: string | null;
  /** Bytes of progress.jsonl already read. */
  progressOffset: number;
  /** Null while the job is followed. */
  outcome: ClusterJobOutcome | null;
  error: string | null;
  submittedAt: string;
  updatedAt: string;
  endedAt: string | null;
}

interface Row {
  id: number;
  cluster: string;
  kind: 'train' | 'evaluate';
  run_id: number | null;
  search_id: number | null;
  job_id: string;
  remote_dir: string;
  nodes: number;
  gpus_per_node: number;
  ranks_per_node: number;
  state: string;
  reason: string | null;
  node_list: string | null;
  progress_offset: number;
  outcome: ClusterJobOutcome | null;
  error: string | null;
  submitted_at: string;
  updated_at: string;
  ended_at: string | null;
}

const fromRow = (r: Row): ClusterJobRow => ({
  id: r.id,
  cluster: r.cluster,
  kind: r.kind,
  runId: r.run_id,
  searchId: r.search_id,
  jobId: r.job_id,
  remoteDir: r.remote_dir,
  nodes: r.nodes,
  gpusPerNode: r.gpus_per_node,
  ranksPerNode: r.ranks_per_node,
  state: r.state,
  reason: r.reason,
  nodeList: r.node_list,
  progressOffset: r.progress_offset,
  outcome: r.outcome,
  error: r.error,
  submittedAt: r.submitted_at,
  updatedAt: r.updated_at,
  endedAt: r.ended_at,
});

export type NewClusterJob = Pick<ClusterJobRow, 'cluster' | 'kind' | 'jobId' | 'remoteDir' | 'nodes' | 'gpusPerNode' | 'ranksPerNode'> &
  Partial<Pick<ClusterJobRow, 'runId' | 'searchId' | 'progressOffset'>>;

export function insertClusterJob(db: Db, j: NewClusterJob): ClusterJobRow {
  const t = now();
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO cluster_jobs (cluster, kind, run_id, search_id, job_id, remote_dir, nodes, gpus_per_node, ranks_per_node, progress_offset, submitted_at, updated_at)
       VALUES (@cluster, @kind, @runId, @searchId, @jobId, @remoteDir, @nodes, @gpusPerNode, @ranksPerNode, @progressOffset, @t, @t)`,
    )
    .run({ runId: null, searchId: null, progressOffset: 0, ...j, t });
  return getClusterJob(db, Number(lastInsertRowid));
}

export function getClusterJob(db: Db, id: number): ClusterJobRow {
  const r = db.prepare('SELECT * FROM cluster_jobs WHERE id = ?').get(id) as Row | undefined;
  if (!r) throw new StoreError(`no cluster job ${id}`);
  return fromRow(r);
}

/** Every submission of a run, oldest first. */
export function listRunClusterJobs(db: Db, runId: number): ClusterJobRow[] {
  return (db.prepare('SELECT * FROM cluster_jobs WHERE run_id = ? ORDER BY id').all(runId) as Row[]).map(fromRow);
}

/** The run's submission that is still followed (no outcome yet), if any: the one a runner of the run follows. */
export function openRunClusterJob(db: Db, runId: number): ClusterJobRow | null {
  const r = db.prepare('SELECT * FROM cluster_jobs WHERE run_id = ? AND outcome IS NULL ORDER BY id DESC LIMIT 1').get(runId) as Row | undefined;
  return r ? fromRow(r) : null;
}

/** A search's evaluation jobs still followed (no outcome yet): left by a runner that died or was closed. */
export function listOpenSearchClusterJobs(db: Db, searchId: number): ClusterJobRow[] {
  return (db.prepare('SELECT * FROM cluster_jobs WHERE search_id = ? AND outcome IS NULL ORDER BY id').all(searchId) as Row[]).map(fromRow);
}

/** Every evaluation job of a search, oldest first. */
export function listSearchClusterJobs(db: Db, searchId: number): ClusterJobRow[] {
  return (db.prepare('SELECT * FROM cluster_jobs WHERE search_id = ? ORDER BY id').all(searchId) as Row[]).map(fromRow);
}

/** Jobs still followed (no outcome yet): what a workbench that starts again catches up on. */
export function listOpenClusterJobs(db: Db): ClusterJobRow[] {
  return (db.prepare('SELECT * FROM cluster_jobs WHERE outcome IS NULL ORDER BY id').all() as Row[]).map(fromRow);
}

export interface ClusterJobUpdate {
  state?: string;
  reason?: string | null;
  nodeList?: string | null;
  progressOffset?: number;
  outcome?: ClusterJobOutcome;
  error?: string | null;
}

const COLUMNS: Record<keyof ClusterJobUpdate, string> = {
  state: 'state',
  reason: 'reason',
  nodeList: 'node_list',
  progressOffset: 'progress_offset',
  outcome: 'outcome',
  error: 'error',
};

/** Updates a job that is still followed; an ended job's row no longer changes (false then). */
export function updateClusterJob(db: Db, id: number, u: ClusterJobUpdate): boolean {
  const keys = (Object.keys(u) as (keyof ClusterJobUpdate)[]).filter((k) => u[k] !== undefined);
  const sets = [...keys.map((k) => `${COLUMNS[k]} = @${k}`), 'updated_at = @t', ...(u.outcome ? ['ended_at = @t'] : [])];
  return db.prepare(`UPDATE cluster_jobs SET ${sets.join(', ')} WHERE id = @id AND outcome IS NULL`).run({ ...u, id, t: now() }).changes === 1;
}

/** Restates an ended job's outcome (a pause the workbench did not ask for was the scheduler's stop: failed). */
export function restateClusterJobOutcome(db: Db, id: number, outcome: ClusterJobOutcome, error: string | null): void {
  db.prepare('UPDATE cluster_jobs SET outcome = @outcome, error = @error, updated_at = @t WHERE id = @id AND outcome IS NOT NULL').run({ id, outcome, error, t: now() });
}
