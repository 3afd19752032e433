/**
 * The status and control columns that every job table shares (training runs, migration 002; searches, migration
 * 003): one lifecycle, atomic status transitions, the `control` request column a runner polls, the `wants_resume`
 * flag, the runtime columns (`backend`, `pid`, `heartbeat_at`) and deletion of a job that is not running.
 *
 * The functions take the table by name, from a fixed allow-list (`JOB_TABLES`): a table name cannot be a bound
 * parameter in SQL, so it is checked against the list at runtime before it reaches a statement, and nothing a user
 * typed ever does. `store/runs.ts` and `store/search.ts` wrap these under their own names (`transitionRun`,
 * `setSearchControl`, …).
 */
import type { Db } from './db';
import { StoreError } from './db';

/** An ISO-8601 UTC timestamp: the text every table's time columns hold. */
export const now = (): string => new Date().toISOString();

export const JOB_STATUSES = ['queued', 'running', 'paused', 'finished', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The lifecycle of a job (the migrations' triggers enforce the same edges):
 *   queued → running ⇄ paused;  queued | running | paused → finished (running only) | failed | cancelled;
 *   failed → running (resume of a crashed job from its last checkpoint or saved state).
 */
export const JOB_TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['running', 'failed', 'cancelled'],
  running: ['paused', 'finished', 'failed', 'cancelled'],
  paused: ['running', 'failed', 'cancelled'],
  finished: [],
  failed: ['running'],
  cancelled: [],
};

/** The job tables, and what one row of each is called in messages. The only table names these functions accept. */
export const JOB_TABLES = { runs: 'run', searches: 'search' } as const;
export type JobTable = keyof typeof JOB_TABLES;

export type JobControl = 'pause' | 'cancel';

/** The table's name, after checking it against the allow-list (a caller typed as `JobTable` can still be cast). */
function tableName(table: JobTable): JobTable {
  if (!Object.prototype.hasOwnProperty.call(JOB_TABLES, table)) throw new StoreError(`'${String(table)}' is not a job table (${Object.keys(JOB_TABLES).join(', ')})`);
  return table;
}

/** The word for one row of `table` ("run", "search"). */
export function jobNoun(table: JobTable): string {
  return JOB_TABLES[tableName(table)];
}

/** Columns a transition may set together with the status (undefined: left as is). */
export interface JobTransitionFields {
  error?: string | null;
  pid?: number | null;
  backend?: string;
  startedAt?: string;
  finishedAt?: string | null;
  control?: null;
  wantsResume?: boolean;
  /** Cores the job holds while it runs (migration 008). */
  cores?: number;
  /** null: nobody waits to start the job any more (clears `waiter_pid` and `waiting_since`, migration 013). */
  waiter?: null;
}

const TRANSITION_COLUMNS: Record<keyof JobTransitionFields, string> = {
  error: 'error',
  pid: 'pid',
  backend: 'backend',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  control: 'control',
  wantsResume: 'wants_resume',
  cores: 'cores',
  waiter: 'waiter_pid',
};

/**
 * Moves job `id` of `table` to `to` if it is in one of `from` (default: every status with an edge to `to`). Atomic;
 * returns false when the job was not in `from` (another process moved it first). An edge outside the lifecycle
 * throws a `StoreError` before the database is touched.
 */
export function transitionJob(db: Db, table: JobTable, id: number, to: JobStatus, fields: JobTransitionFields = {}, from?: readonly JobStatus[]): boolean {
  const noun = jobNoun(table);
  const allowedFrom = JOB_STATUSES.filter((s) => JOB_TRANSITIONS[s].includes(to));
  if (allowedFrom.length === 0) throw new StoreError(`no ${noun} can move to ${to}`);
  const src = from ?? allowedFrom;
  const bad = src.filter((s) => !allowedFrom.includes(s));
  if (bad.length) throw new StoreError(`a ${noun} cannot move from ${bad.join('/')} to ${to}`);
  if (src.length === 0) throw new StoreError(`a ${noun} cannot move to ${to} from no status`);
  const params: Record<string, unknown> = { id, to, t: now() };
  const sets = ['status = @to', 'updated_at = @t'];
  for (const [k, col] of Object.entries(TRANSITION_COLUMNS) as [keyof JobTransitionFields, string][]) {
    const v = fields[k];
    if (v === undefined) continue;
    sets.push(`${col} = @${k}`);
    if (k === 'waiter') sets.push('waiting_since = NULL');
    params[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }
  src.forEach((s, i) => (params[`from${i}`] = s));
  const placeholders = src.map((_, i) => `@from${i}`).join(', ');
  const info = db.prepare(`UPDATE ${tableName(table)} SET ${sets.join(', ')} WHERE id = @id AND status IN (${placeholders})`).run(params);
  return info.changes === 1;
}

/** Sets (or clears, with null) the request a running job's runner polls. */
export function setJobControl(db: Db, table: JobTable, id: number, control: JobControl | null): void {
  db.prepare(`UPDATE ${tableName(table)} SET control = ?, updated_at = ? WHERE id = ?`).run(control, now(), id);
}

/** The pending request of a job (null: none, or no such job). */
export function readJobControl(db: Db, table: JobTable, id: number): JobControl | null {
  const r = db.prepare(`SELECT control FROM ${tableName(table)} WHERE id = ?`).get(id) as { control: JobControl | null } | undefined;
  return r?.control ?? null;
}

/** Marks a paused or failed job as waiting for a slot to resume (or not). */
export function setJobWantsResume(db: Db, table: JobTable, id: number, v: boolean): void {
  db.prepare(`UPDATE ${tableName(table)} SET wants_resume = ?, updated_at = ? WHERE id = ?`).run(v ? 1 : 0, now(), id);
}

/**
 * Records what a runner learned when it started: the backend it chose and its pid (each left as is when omitted),
 * and a heartbeat. The parent records the pid alone right after spawning (`{ pid }`).
 */
export function setJobRuntime(db: Db, table: JobTable, id: number, r: { backend?: string; pid?: number; cores?: number }): void {
  db.prepare(`UPDATE ${tableName(table)} SET backend = COALESCE(?, backend), pid = COALESCE(?, pid), cores = COALESCE(?, cores), heartbeat_at = ?, updated_at = ? WHERE id = ?`).run(
    r.backend ?? null,
    r.pid ?? null,
    r.cores ?? null,
    now(),
    now(),
    id,
  );
}

/**
 * What a runner writes when it stops following a job whose work goes on elsewhere (a Slurm job, when the workbench
 * closes): the job stays `running`, with no pid (no process here follows it) and no pending request, for the next
 * manager to adopt. Returns false when the job was not running.
 */
export function detachJob(db: Db, table: JobTable, id: number): boolean {
  return db.prepare(`UPDATE ${tableName(table)} SET pid = NULL, control = NULL, updated_at = ? WHERE id = ? AND status = 'running'`).run(now(), id).changes === 1;
}

/**
 * Claims a `running` job that no live process follows (its pid is still `stalePid`) for process `pid`. Atomic: of two
 * managers adopting the same job, one gets it. The pending request (a pause or cancel asked while nobody followed)
 * stays for the new runner to read.
 */
export function adoptJob(db: Db, table: JobTable, id: number, stalePid: number | null, pid: number): boolean {
  return db.prepare(`UPDATE ${tableName(table)} SET pid = ?, heartbeat_at = ?, updated_at = ? WHERE id = ? AND status = 'running' AND pid IS ?`).run(pid, now(), now(), id, stalePid).changes === 1;
}

/**
 * What a runner writes when its job ends without an error: `finished`, `paused` or `cancelled` (from `running`),
 * clearing the request and the pid; a paused job has no finish time. Returns false when the job was not running.
 */
export function endJob(db: Db, table: JobTable, id: number, status: 'finished' | 'paused' | 'cancelled'): boolean {
  return transitionJob(db, table, id, status, { control: null, pid: null, ...(status === 'paused' ? {} : { finishedAt: now() }) }, ['running']);
}

/**
 * What a runner writes when its job fails: `failed` with the reason (from `running`), and the request cleared even
 * when the job was no longer running. Returns whether the status changed.
 */
export function failJob(db: Db, table: JobTable, id: number, error: string): boolean {
  const moved = transitionJob(db, table, id, 'failed', { error, control: null, pid: null, finishedAt: now() }, ['running']);
  setJobControl(db, table, id, null);
  return moved;
}

/**
 * Deletes a job that is not running (its child rows go by cascade); `job` is its row, read by the caller. The status
 * is checked again by the DELETE itself: another process may have started the job since the caller read the row,
 * and a running job's runner would then write into rows that no longer exist.
 */
export function deleteStoppedJob(db: Db, table: JobTable, job: { id: number; status: JobStatus }): void {
  const refuse = () => new StoreError(`${jobNoun(table)} ${job.id} is running; pause or cancel it first`);
  if (job.status === 'running') throw refuse();
  const r = db.prepare(`DELETE FROM ${tableName(table)} WHERE id = ? AND status != 'running'`).run(job.id);
  if (r.changes === 0 && db.prepare(`SELECT 1 FROM ${tableName(table)} WHERE id = ?`).get(job.id)) throw refuse();
}

/** A running job of any table, as the job queue counts cores: its pid and the cores it holds (null: one). */
export interface RunningJob {
  table: JobTable;
  id: number;
  pid: number | null;
  cores: number | null;
}

/** Every `running` job of every job table: the cores all processes sharing the database hold between them. */
export function listRunningJobs(db: Db): RunningJob[] {
  return (Object.keys(JOB_TABLES) as JobTable[]).flatMap((table) =>
    (db.prepare(`SELECT id, pid, cores FROM ${tableName(table)} WHERE status = 'running' ORDER BY id`).all() as Omit<RunningJob, 'table'>[]).map((r) => ({ table, ...r })),
  );
}

/**
 * Records that process `pid` waits to start job `id` from now on: the order in which the job queues of every process
 * start their jobs (migration 013). `releaseJobWaiter` or a transition with `waiter: null` clears it.
 */
export function setJobWaiter(db: Db, table: JobTable, id: number, pid: number): void {
  db.prepare(`UPDATE ${tableName(table)} SET waiter_pid = ?, waiting_since = ?, updated_at = ? WHERE id = ?`).run(pid, now(), now(), id);
}

/** Process `pid` no longer waits to start job `id` (left as is when another process has recorded itself since). */
export function releaseJobWaiter(db: Db, table: JobTable, id: number, pid: number): void {
  db.prepare(`UPDATE ${tableName(table)} SET waiter_pid = NULL, waiting_since = NULL WHERE id = ? AND waiter_pid = ?`).run(id, pid);
}

/** A job some process waits to start: which process, and since when (ISO time). */
export interface WaitingJob {
  table: JobTable;
  id: number;
  waiterPid: number;
  waitingSince: string;
}

/** Every job of every table that a process (live or not: the caller checks) waits to start, oldest first. */
export function listWaitingJobs(db: Db): WaitingJob[] {
  return (Object.keys(JOB_TABLES) as JobTable[])
    .flatMap((table) =>
      (
        db
          .prepare(
            `SELECT id, waiter_pid AS waiterPid, waiting_since AS waitingSince FROM ${tableName(table)}
             WHERE waiter_pid IS NOT NULL AND waiting_since IS NOT NULL AND status IN ('queued', 'paused', 'failed')`,
          )
          .all() as Omit<WaitingJob, 'table'>[]
      ).map((r) => ({ table, ...r })),
    )
    .sort(compareWaiting);
}

/** The queue order of waiting jobs: earlier `waitingSince` first, then table and id (the same in every process). */
export function compareWaiting(a: Pick<WaitingJob, 'table' | 'id' | 'waitingSince'>, b: Pick<WaitingJob, 'table' | 'id' | 'waitingSince'>): number {
  return a.waitingSince < b.waitingSince ? -1 : a.waitingSince > b.waitingSince ? 1 : a.table < b.table ? -1 : a.table > b.table ? 1 : a.id - b.id;
}
