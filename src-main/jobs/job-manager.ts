/**
 * The machinery a job manager (training runs: `jobs/run-manager.ts`; searches: `jobs/search-manager.ts`) needs around its
 * job table, whatever the job computes:
 *
 * - a queue: jobs this manager was asked to run (`add`, `resume`), and, with `adoptQueued`, queued or resumable
 *   jobs of other processes sharing the database;
 * - cores: the jobs of every table hold at most `cores` cores between them (settings `jobCores`; default every
 *   core), counting live jobs of *other* processes, so a CLI and the app do not oversubscribe the CPU. A job takes
 *   what its kind asks for (`JobKind.cores`: a run one per data-parallel worker, a search one per evaluation worker),
 *   first come first served across every table and process: a queue records itself as the waiter of each job it
 *   queues (`waiter_pid`, `waiting_since`, migration 013), and starts none that came after a job another live
 *   process still waits for, so a job that waits for cores keeps its place even against a later job of another
 *   process that would fit; one that asks for more than the whole budget runs alone. `maxConcurrent` optionally
 *   caps how many jobs of the table run at once. While other processes hold the cores, the queue looks again every `pollMs`; while a
 *   process holds the whole machine to time something (jobs/machine-hold.ts: a latency table build), nothing starts;
 * - claim: `queued|paused|failed → running`, atomically in the store, so two managers never start the same job;
 * - spawn: one runner process per job; a runner that cannot start fails its job with the reason;
 * - relay: every message of the runner goes to the manager's `relay` (which validates it and emits its events);
 * - exit check: when a runner exits and its job is still `running`, it died without a final status (crash, out of
 *   memory, kill -9): the job becomes `failed` with the exit code or signal and the end of its stderr;
 * - stale recovery: at construction, `running` jobs whose process is gone become `failed`, so none stays stuck —
 *   except a job whose work goes on elsewhere (`JobKind.adoptable`: a run whose Slurm job is still followed), which
 *   a manager with `adoptQueued` adopts instead: it claims the row and starts a runner that follows the work again;
 * - detach: when the parent goes away (`stopAll`), such jobs are left running (their runner stops following, the row
 *   stays `running` without a pid) and the others pause;
 * - pause / cancel: by message to a runner this manager started, and through the job's `control` column otherwise
 *   (every runner polls it), so any process can pause or cancel any job.
 *
 * A manager keeps what is specific to its jobs (what to validate and store on enqueue, which runner, which
 * messages and events) and delegates the rest to one `JobQueue`. Runners write the final status themselves; the
 * queue only catches those that could not.
 */
import type { Db } from '../store/db';
import { openHomeDatabase } from '../store/db';
import { availableParallelism } from 'node:os';
import { adoptJob, compareWaiting, jobNoun, listRunningJobs, listWaitingJobs, now, releaseJobWaiter, setJobControl, setJobRuntime, setJobWaiter, setJobWantsResume, transitionJob, type JobStatus, type JobTable, type WaitingJob } from '../store/jobs';
import { pidAlive, type RunnerHandle } from './runner-process';
import { liveMachineHold } from './machine-hold';

/** What the queue reads of a job's row (a run's and a search's rows have these columns and more). */
export interface JobRow {
  id: number;
  status: JobStatus;
  pid: number | null;
  wantsResume: boolean;
  startedAt: string | null;
}

/** The messages every runner accepts besides its own `start` (`detach`: only to runners of adoptable jobs). */
export type JobControlMessage = { type: 'pause' } | { type: 'cancel' } | { type: 'detach' };

/** Why the queue moved a job, for a manager that keeps a log of them (the runs' `run_events`). */
export type JobNoteKind = 'stale' | 'fail' | 'cancel';

/** The options both managers take (their JSDoc: `RunManagerOptions`, `SearchManagerOptions`). */
export interface JobQueueOptions<Start extends object> {
  home: string;
  /** Default: the home's database, opened here (and closed by `close`). */
  db?: Db;
  /** Cores the jobs of every table may hold at once, across every process sharing the database (default: every core). */
  cores?: number;
  /** At most this many jobs of this table at once, across processes (default: as many as the cores hold). */
  maxConcurrent?: number;
  spawn?: () => RunnerHandle<Start | JobControlMessage>;
  /** Start queued jobs of other processes too (the app: true; the CLI: false, it runs what it queued). Default false. */
  adoptQueued?: boolean;
  /** While waiting for a slot held by another process, look again this often (ms, default 2000). */
  pollMs?: number;
}

/** What one kind of job tells the queue. */
export interface JobKind<Row extends JobRow, Start extends object> {
  table: JobTable;
  /** The runner as messages name it: `the runner process`, `the search runner`. */
  runner: string;
  /** Where a resumed job continues from: `the last checkpoint`, `the last saved state`. */
  resumesFrom: string;
  /** The manager's error class, for refusals (`run 3 is finished; nothing to cancel`). */
  error: new (message: string) => Error;
  get(db: Db, id: number): Row;
  list(db: Db, status: JobStatus[]): Row[];
  /** The default runner, when the options give no `spawn`. */
  defaultSpawn(): RunnerHandle<Start | JobControlMessage>;
  /** The message that starts job `id` in a fresh runner (`resume`: it ran before) holding `cores` cores. */
  startMessage(home: string, id: number, resume: boolean, cores: number): Start;
  /**
   * The cores job `row` would hold with `free` (≥ 1) cores free (default 1). More than `free`: it waits for them,
   * unless nothing else runs.
   */
  cores?(row: Row, free: number): number;
  /** One raw message from a job's runner: validate it and emit the manager's events. */
  relay(id: number, raw: unknown): void;
  /** The job's row after each status change the queue sees (start, end, cancel while queued/paused). */
  status(row: Row): void;
  /** Records why the queue moved a job (optional: the runs' event log). Called during construction too. */
  note?(db: Db, row: Row, kind: JobNoteKind, message: string): void;
  /**
   * Whether `running` job `row` goes on without its runner (a run whose Slurm job is still followed): when its
   * process is gone it is not stale but waits to be adopted, and `stopAll` detaches it instead of pausing it.
   */
  adoptable?(db: Db, row: Row): boolean;
}

export class JobQueue<Row extends JobRow, Start extends object> {
  readonly home: string;
  readonly db: Db;
  readonly maxConcurrent: number;
  readonly cores: number;
  private readonly kind: JobKind<Row, Start>;
  private readonly noun: string;
  private readonly ownsDb: boolean;
  private readonly spawn: () => RunnerHandle<Start | JobControlMessage>;
  private readonly adoptQueued: boolean;
  private readonly pollMs: number;
  private readonly active = new Map<number, RunnerHandle<Start | JobControlMessage>>();
  /** Jobs this manager was asked to run (queued or resumed here) and has not started yet. */
  private readonly pending = new Set<number>();
  private readonly waiters = new Map<number, ((r: Row) => void)[]>();
  /** Jobs whose runner was told to detach: its exit with the job still `running` is what was asked for. */
  private readonly detaching = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** After `stopAll`: nothing new starts (the parent is going away), not even the adoption of a job just detached. */
  private stopping = false;

  /** Opens the database if needed and recovers stale jobs (`recoverStale`). */
  constructor(kind: JobKind<Row, Start>, o: JobQueueOptions<Start>) {
    this.kind = kind;
    this.noun = jobNoun(kind.table);
    this.home = o.home;
    this.maxConcurrent = o.maxConcurrent ?? Infinity;
    if (this.maxConcurrent !== Infinity && (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent < 1)) {
      throw new kind.error(`maxConcurrent must be a positive integer, got ${o.maxConcurrent}`);
    }
    this.cores = o.cores ?? Math.max(1, availableParallelism());
    if (!Number.isInteger(this.cores) || this.cores < 1) throw new kind.error(`cores must be a positive integer, got ${o.cores}`);
    this.ownsDb = !o.db;
    this.db = o.db ?? openHomeDatabase(o.home);
    this.spawn = o.spawn ?? (() => kind.defaultSpawn());
    this.adoptQueued = o.adoptQueued ?? false;
    this.pollMs = o.pollMs ?? 2000;
    this.recoverStale();
  }

  /** Ids of the jobs whose runner this queue started and that have not exited. */
  get activeIds(): number[] {
    return [...this.active.keys()];
  }

  /** Marks `running` jobs whose process is gone as `failed` (resumable); returns their rows. */
  recoverStale(): Row[] {
    const stale: Row[] = [];
    for (const r of this.kind.list(this.db, ['running'])) {
      if (this.active.has(r.id) || pidAlive(r.pid) || this.kind.adoptable?.(this.db, r)) continue;
      const error = `${this.kind.runner}${r.pid ? ` (pid ${r.pid})` : ''} is gone: it crashed or was killed; resume continues from ${this.kind.resumesFrom}`;
      if (transitionJob(this.db, this.kind.table, r.id, 'failed', { error, pid: null, control: null, finishedAt: now() }, ['running'])) {
        const row = this.kind.get(this.db, r.id);
        this.kind.note?.(this.db, row, 'stale', error);
        stale.push(row);
      }
    }
    return stale;
  }

  /** Queues a job the manager has just stored as `queued`, and starts it if a slot is free. */
  add(id: number): void {
    if (!this.closed && !this.stopping) setJobWaiter(this.db, this.kind.table, id, process.pid);
    this.pending.add(id);
    this.pump();
  }

  /** Queues a paused or failed job to continue; returns its row. */
  resume(id: number): Row {
    const r = this.kind.get(this.db, id);
    if (r.status !== 'paused' && r.status !== 'failed') throw new this.kind.error(`${this.noun} ${id} is ${r.status}; only a paused or failed ${this.noun} can be resumed`);
    setJobWantsResume(this.db, this.kind.table, id, true);
    this.add(id);
    return this.kind.get(this.db, id);
  }

  /** Asks a running job to stop (its runner decides where: a checkpoint, the next evaluation); it becomes `paused`. */
  pause(id: number): void {
    const r = this.kind.get(this.db, id);
    if (r.status !== 'running') throw new this.kind.error(`${this.noun} ${id} is ${r.status}; only a running ${this.noun} can be paused`);
    setJobControl(this.db, this.kind.table, id, 'pause');
    this.active.get(id)?.send({ type: 'pause' });
  }

  /** Cancels a queued, paused or running job (a running one stops where its runner next looks); returns its row. */
  cancel(id: number): Row {
    const r = this.kind.get(this.db, id);
    this.pending.delete(id);
    if (r.status === 'queued' || r.status === 'paused') {
      if (transitionJob(this.db, this.kind.table, id, 'cancelled', { finishedAt: now(), wantsResume: false, waiter: null }, [r.status])) {
        this.kind.note?.(this.db, this.kind.get(this.db, id), 'cancel', `cancelled while ${r.status}`);
      }
      this.settle(id);
    } else if (r.status === 'running') {
      setJobControl(this.db, this.kind.table, id, 'cancel');
      this.active.get(id)?.send({ type: 'cancel' });
    } else {
      throw new this.kind.error(`${this.noun} ${id} is ${r.status}; nothing to cancel`);
    }
    return this.kind.get(this.db, id);
  }

  /** Forgets a job the manager has just deleted from the store. */
  forget(id: number): void {
    this.pending.delete(id);
  }

  /** Resolves with the job's row once it is no longer running or waiting in this queue. */
  waitFor(id: number): Promise<Row> {
    if (!this.active.has(id) && !this.pending.has(id)) return Promise.resolve(this.kind.get(this.db, id));
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  /** Starts waiting jobs while slots are free (and, with `adoptQueued`, runners for adoptable jobs nobody follows). */
  pump(): void {
    if (this.closed || this.stopping) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    // A process timing something (a latency table) has the machine to itself: nothing starts until it is done.
    if (liveMachineHold(this.db)) {
      this.timer = setTimeout(() => this.pump(), this.pollMs);
      return;
    }
    if (this.adoptQueued) this.adoptOrphans();
    // Every live job holds cores, whichever table and process it belongs to; a row claimed here carries our pid.
    const running = listRunningJobs(this.db).filter((j) => (j.table === this.kind.table && this.active.has(j.id)) || pidAlive(j.pid));
    let used = running.reduce((a, j) => a + (j.cores ?? 1), 0);
    let mine = running.filter((j) => j.table === this.kind.table).length;
    // Jobs other queues wait for (other processes, other tables, live waiters only): those that came before ours go
    // first, and a queued job of another live process is that process's to start, not ours to adopt.
    const waiters = listWaitingJobs(this.db);
    const ownWait = new Map<number, WaitingJob>();
    const elsewhere: WaitingJob[] = [];
    for (const w of waiters) {
      if (w.table === this.kind.table && this.pending.has(w.id)) ownWait.set(w.id, w);
      else if (pidAlive(w.waiterPid)) elsewhere.push(w);
    }
    const taken = new Set(elsewhere.filter((w) => w.table === this.kind.table).map((w) => w.id));
    const candidates = this.kind
      .list(this.db, ['queued', 'paused', 'failed'])
      .filter((r) => this.pending.has(r.id) || (this.adoptQueued && !taken.has(r.id) && (r.status === 'queued' || r.wantsResume)))
      // Ours in the order they were queued; then, for the app, the orphans nobody waits for, by id.
      .sort((a, b) => {
        const [wa, wb] = [ownWait.get(a.id), ownWait.get(b.id)];
        return wa && wb ? compareWaiting(wa, wb) : wa ? -1 : wb ? 1 : a.id - b.id;
      });
    let waiting = false;
    for (const r of candidates) {
      if (r.status !== 'queued' && !r.wantsResume) continue;
      const free = this.cores - used;
      const want = free >= 1 ? Math.max(1, Math.floor(this.kind.cores?.(r, free) ?? 1)) : Infinity;
      // First come, first served: a job that does not fit yet keeps its place (and those behind it wait), here and in
      // every other queue; an orphan (no waiter) comes after every job that has one.
      const own = ownWait.get(r.id);
      const behind = elsewhere.length > 0 && (!own || compareWaiting(elsewhere[0], own) < 0);
      if (behind || mine >= this.maxConcurrent || (want > free && used > 0)) {
        waiting = true;
        break;
      }
      const cores = Number.isFinite(want) ? want : 1;
      if (this.start(r, cores)) {
        used += cores;
        mine++;
      }
    }
    if (waiting) this.timer = setTimeout(() => this.pump(), this.pollMs);
  }

  /**
   * Starts a runner for each `running` adoptable job whose process is gone (the previous workbench closed or died
   * while its Slurm job ran on). It holds one core, whatever the budget: the work runs elsewhere already.
   */
  private adoptOrphans(): void {
    for (const r of this.kind.list(this.db, ['running'])) {
      if (this.active.has(r.id) || pidAlive(r.pid) || !this.kind.adoptable?.(this.db, r)) continue;
      if (adoptJob(this.db, this.kind.table, r.id, r.pid, process.pid)) this.launch(r.id, true, 1);
    }
  }

  private start(r: Row, cores: number): boolean {
    const { table } = this.kind;
    const resume = r.status !== 'queued';
    const claimed = transitionJob(
      this.db,
      table,
      r.id,
      'running',
      { pid: process.pid, startedAt: r.startedAt ?? now(), finishedAt: null, control: null, wantsResume: false, error: null, cores, waiter: null },
      [r.status],
    );
    this.pending.delete(r.id);
    if (!claimed) {
      this.settle(r.id); // another process moved it first
      return false;
    }
    return this.launch(r.id, resume, cores);
  }

  /** Spawns the runner of job `id`, which this process has just claimed. */
  private launch(id: number, resume: boolean, cores: number): boolean {
    const { table } = this.kind;
    const r = { id };
    let child: RunnerHandle<Start | JobControlMessage>;
    try {
      child = this.spawn();
    } catch (e) {
      const error = `could not start ${this.kind.runner}: ${(e as Error).message}`;
      if (transitionJob(this.db, table, r.id, 'failed', { error, pid: null, finishedAt: now() }, ['running'])) this.kind.note?.(this.db, this.kind.get(this.db, r.id), 'fail', error);
      this.settle(r.id);
      return false;
    }
    this.active.set(r.id, child);
    if (child.pid) setJobRuntime(this.db, table, r.id, { pid: child.pid });
    this.kind.status(this.kind.get(this.db, r.id));
    child.onMessage((raw) => this.kind.relay(r.id, raw));
    child.onExit((code, signal, detail) => {
      this.active.delete(r.id);
      const detached = this.detaching.delete(r.id);
      if (this.kind.get(this.db, r.id).status === 'running' && !detached) {
        const how = signal ? `on signal ${signal}` : `with code ${code}`;
        const error = `${this.kind.runner}${child.pid ? ` (pid ${child.pid})` : ''} exited ${how} without finishing the ${this.noun}${detail ? `: ${detail}` : ''}; resume continues from ${this.kind.resumesFrom}`;
        if (transitionJob(this.db, table, r.id, 'failed', { error, pid: null, control: null, finishedAt: now() }, ['running'])) {
          this.kind.note?.(this.db, this.kind.get(this.db, r.id), 'fail', error);
        }
      }
      this.settle(r.id);
      this.pump();
    });
    child.send(this.kind.startMessage(this.home, r.id, resume, cores));
    return true;
  }

  /** Reports the job's row, and resolves its waiters once it is neither running here nor waiting. */
  private settle(id: number): void {
    const row = this.kind.get(this.db, id);
    this.kind.status(row);
    if (this.active.has(id) || this.pending.has(id)) return;
    const ws = this.waiters.get(id) ?? [];
    this.waiters.delete(id);
    for (const w of ws) w(row);
  }

  /**
   * Asks every runner of this queue to pause; returns their job ids. A job that is already stopping (no longer
   * `running`) is skipped rather than stopping the loop.
   */
  pauseAll(): number[] {
    const ids = this.activeIds;
    for (const id of ids) {
      try {
        this.pause(id);
      } catch (e) {
        if (!(e instanceof this.kind.error)) throw e;
      }
    }
    return ids;
  }

  /**
   * What the parent does before it goes away: the runners of adoptable jobs (cluster jobs) are told to detach — they
   * stop following and leave the job running, for the next manager to adopt — and the others to pause. Returns the
   * ids of both; `waitFor` resolves when each runner has exited.
   */
  stopAll(): number[] {
    this.stopping = true;
    clearTimeout(this.timer);
    this.releaseWaits();
    const ids = this.activeIds;
    for (const id of ids) {
      const row = this.kind.get(this.db, id);
      if (row.status === 'running' && this.kind.adoptable?.(this.db, row)) {
        this.detaching.add(id);
        this.active.get(id)?.send({ type: 'detach' });
        continue;
      }
      try {
        this.pause(id);
      } catch (e) {
        if (!(e instanceof this.kind.error)) throw e;
      }
    }
    return ids;
  }

  /** Stops scheduling. Runners keep going (they own their jobs); `pauseAll` first to stop them. */
  close(): void {
    if (!this.closed) this.releaseWaits();
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ownsDb) this.db.close();
  }

  /**
   * Stops waiting for the jobs this queue has not started: nothing here will start them now, so other processes'
   * queues must not wait behind them (their rows stay queued, or paused/failed, for whoever starts them next).
   */
  private releaseWaits(): void {
    for (const id of this.pending) {
      releaseJobWaiter(this.db, this.kind.table, id, process.pid);
    }
  }
}
