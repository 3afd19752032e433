/**
 * The parent side of search jobs: a queue of searches over trained runs, each run in its own search runner process
 * (out/main/search-runner.js). The app, the served mode and the CLI drive searches through this class only.
 *
 * Lifecycle of a search (the same as a training run's, enforced by the store):
 *   queued → running ⇄ paused;  queued | running | paused → finished (running only) | failed | cancelled;
 *   failed → running (resume of a crashed search from its saved state).
 *
 * - `enqueue(request)` validates a {@link SearchRequest} (zod), checks the budget against the run's space (an
 *   impossible budget throws a `BudgetError` naming the space's range before anything is stored), pins the run's
 *   checkpoint and stores a `queued` search; it starts when its cores are free (`cores`, default every core,
 *   counting running jobs of other processes sharing the database): one per evaluation worker, `workers: auto`
 *   taking the cores free when it starts.
 * - The runner saves the engine's `SearchState` after every evaluation. `pause` stops it before the next evaluation
 *   (`paused`); `resume` continues from the state; a runner that dies (crash, kill -9) leaves the search `failed`
 *   with the reason, and `resume` continues it to the same final archive an uninterrupted search reaches.
 * - `pause` / `cancel` reach the runner by message when this manager started it, and through the search's `control`
 *   column otherwise (the runner polls it every second), so any process can pause any search.
 * - Events: `progress` (evaluations/total, ETA, front size, best), `evaluated` (each archive entry), `front` (the
 *   current front with its hypervolume and reference point), `status` (the row, on every status change) and
 *   `message` (every validated runner message). Payloads are the zod-validated messages of `messages.ts`.
 *
 * The runner is started by `spawn` (default: a Node child process); the app passes a utilityProcess-based one.
 * The queue, slot, claim, spawn, relay, exit-check, stale-recovery and pause/cancel machinery is the training runs'
 * (`jobs/job-manager.ts`); this module keeps the request checks on enqueue, the search runner and its events.
 *
 * @example
 *   const m = new SearchManager({ home });
 *   m.on('progress', (p) => console.log(`${p.evaluations}/${p.total}, ETA ${p.etaMs} ms`));
 *   const s = await m.enqueue({ runId: 3, config: { generations: 5, seed: 1 }, budget: { mflopsMax: 10 } });
 *   const done = await m.waitFor(s.id);   // the row once finished, paused, cancelled or failed
 *   m.close();
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Db } from '../store/db';
import { listCheckpoints } from '../store/runs';
import {
  createSearch,
  deleteSearch,
  getSearch,
  listSearches,
  listSearchMembers,
  type SearchMember,
  type SearchRow,
  type SearchStatus,
} from '../store/searches';
import { findSearchFront, type FrontRow } from '../store/fronts';
import { formatIssues } from '../engine/core';
import { getCluster } from '../store/clusters';
import { JobQueue, type JobKind } from './job-manager';
import { defaultRunnerPath, forkRunner, type RunnerHandle } from './run-manager';
import { version as appVersion } from '../../package.json';
import { checkBudget, evolutionEvaluations, type Budget } from '../search/evolution';
import {
  SearchRequestSchema,
  SearchRunnerToParentSchema,
  resolvedConfig,
  type ParentToSearchRunner,
  type SearchEvaluatedMessage,
  type SearchFrontMessage,
  type SearchProgressMessage,
  type SearchRequest,
  type SearchRequestInput,
  type SearchRunnerToParent,
} from './search-messages';
import { evaluationSettings, runInfo } from '../search/run-info';
import { checkScreenPredictor } from '../search/predictor-views';

/** The parent's handle on one search runner process. */
export type SearchRunnerHandle = RunnerHandle<ParentToSearchRunner>;
export type SpawnSearchRunner = () => SearchRunnerHandle;

export class SearchManagerError extends Error {
  override name = 'SearchManagerError';
}

/** The built search runner: `$ALPHANET_SEARCH_RUNNER`, else next to the bundle that imports this, else out/main/. */
export function defaultSearchRunnerPath(env: NodeJS.ProcessEnv = process.env): string {
  return defaultRunnerPath(env, { file: 'search-runner.js', envVar: 'ALPHANET_SEARCH_RUNNER', what: 'the search runner' });
}

/** A Node child process running the search runner (the CLI's way). */
export function forkSearchRunner(path = defaultSearchRunnerPath(), opts: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {}): SearchRunnerHandle {
  return forkRunner<ParentToSearchRunner>(path, opts);
}

export interface SearchManagerOptions {
  /** The data directory (database, datasets, checkpoints, latency tables). */
  home: string;
  /** Default: the home's database, opened here (and closed by `close`). */
  db?: Db;
  /** Cores all jobs (runs and searches) may hold at once, across processes (default every core; a search holds one per evaluation worker). */
  cores?: number;
  /** At most this many searches at once, across processes (default: as many as the cores hold). */
  maxConcurrent?: number;
  /** How runners start (default: `forkSearchRunner()`). */
  spawn?: SpawnSearchRunner;
  /** Start queued searches of other processes too (the app: true; the CLI: false, it runs what it queued). */
  adoptQueued?: boolean;
  /** While waiting for a slot held by another process, look again this often (ms, default 2000). */
  pollMs?: number;
}

export interface SearchManagerEvents {
  /** Every validated message of a runner, as received. */
  message: [searchId: number, msg: SearchRunnerToParent];
  progress: [msg: SearchProgressMessage];
  evaluated: [msg: SearchEvaluatedMessage];
  front: [msg: SearchFrontMessage];
  /** The row after each status change this manager sees (start, end, cancel while queued). */
  status: [search: SearchRow];
}

type StartSearchRunner = Extract<ParentToSearchRunner, { type: 'start' }>;

export class SearchManager extends EventEmitter<SearchManagerEvents> {
  readonly home: string;
  readonly db: Db;
  readonly maxConcurrent: number;
  /** Queue, slots, claim, spawn, relay, exit check, stale recovery, pause/cancel (jobs/job-manager.ts). */
  private readonly jobs: JobQueue<SearchRow, StartSearchRunner>;

  constructor(o: SearchManagerOptions) {
    super();
    const kind: JobKind<SearchRow, StartSearchRunner> = {
      table: 'searches',
      runner: 'the search runner',
      resumesFrom: 'the last saved state',
      error: SearchManagerError,
      get: getSearch,
      list: (db, status) => listSearches(db, { status }),
      defaultSpawn: () => forkSearchRunner(),
      startMessage: (home, searchId, resume, cores) => ({ type: 'start', home, searchId, resume, cores }),
      // One core per evaluation worker: `auto` takes what is free now, an explicit count waits for its cores. A
      // Slurm search evaluates on the cluster: here it only costs candidates, one core.
      cores: (row, free) => (row.engine === 'slurm' ? 1 : (row.workers ?? free)),
      relay: (searchId, raw) => {
        const m = SearchRunnerToParentSchema.safeParse(raw);
        const msg: SearchRunnerToParent = m.success ? m.data : { type: 'error', message: `malformed message from the search runner: ${JSON.stringify(raw).slice(0, 200)}` };
        this.emit('message', searchId, msg);
        if (msg.type === 'progress') this.emit('progress', msg);
        else if (msg.type === 'evaluated') this.emit('evaluated', msg);
        else if (msg.type === 'front') this.emit('front', msg);
      },
      status: (row) => this.emit('status', row),
    };
    this.jobs = new JobQueue(kind, o);
    this.home = this.jobs.home;
    this.db = this.jobs.db;
    this.maxConcurrent = this.jobs.maxConcurrent;
  }

  /** Marks `running` searches whose process is gone as `failed` (resumable from their saved state); returns them. */
  recoverStale(): SearchRow[] {
    return this.jobs.recoverStale();
  }

  /**
   * Validates a request and queues the search; see {@link SearchRequestSchema} for the fields and defaults.
   * Throws `SearchManagerError` (bad request, no checkpoint), `BudgetError` (impossible budget) or the store's
   * `RunNotFoundError`, and stores nothing then.
   */
  async enqueue(input: SearchRequestInput | unknown): Promise<SearchRow> {
    const p = SearchRequestSchema.safeParse(input);
    if (!p.success) throw new SearchManagerError(`invalid search request:\n${formatIssues(p.error)}`);
    const req: SearchRequest = p.data;
    const info = await runInfo(this.home, this.db, req.runId);
    const config = resolvedConfig(req);
    const budget: Budget = Object.fromEntries(Object.entries(req.budget).filter(([, v]) => v !== undefined));
    // The latency part needs this machine's lookup table, which only a process with TF.js loaded can check: the
    // runner does, before its first evaluation.
    const { latencyMaxMs: _latency, ...staticBudget } = budget;
    checkBudget(info.space, staticBudget, info.numClasses);
    const rows = listCheckpoints(this.db, req.runId).filter((c) => req.checkpoint === 'latest' || c.isBest);
    const ck = rows.find((c) => existsSync(c.path));
    if (!ck) throw new SearchManagerError(`run ${req.runId} has no ${req.checkpoint === 'best' ? 'best ' : ''}checkpoint${rows.length ? ' file left' : ''} to search; train it first`);
    const settings = evaluationSettings(info, { split: req.split, calibrationBatches: req.calibrationBatches, calibrationBatchSize: req.calibrationBatchSize, calibrationSeed: req.calibrationSeed });
    if (config.screen !== undefined) checkScreenPredictor(this.db, req.runId, settings.split, ck);
    const total = req.kind === 'random' ? (req.evaluations ?? evolutionEvaluations(config)) : evolutionEvaluations(config);
    const s = createSearch(this.db, {
      runId: req.runId,
      name: req.name ?? `${req.kind} search of run ${req.runId}`,
      kind: req.kind,
      config,
      budget,
      objective: req.objective,
      targetEvaluations: req.kind === 'random' ? total : null,
      split: settings.split,
      calibrationBatches: settings.calibrationBatches,
      calibrationBatchSize: settings.calibrationBatchSize,
      calibrationSeed: settings.calibrationSeed,
      checkpointPath: ck.path,
      checkpointSha256: ck.sha256,
      checkpointStep: ck.step,
      backendRequest: req.backend,
      engine: req.engine,
      workers: req.workers === 'auto' ? null : req.workers,
      cluster: req.engine === 'slurm' ? { name: getCluster(this.db, req.cluster!).name, nodes: req.nodes, ranksPerNode: req.ranksPerNode, gpusPerNode: req.gpusPerNode } : null,
      total,
      appVersion,
    });
    this.jobs.add(s.id);
    return s;
  }

  /** Queues a paused or failed search to continue from its saved state. */
  resume(searchId: number): SearchRow {
    return this.jobs.resume(searchId);
  }

  /** Asks a running search to stop before its next evaluation; it becomes `paused`. */
  pause(searchId: number): void {
    this.jobs.pause(searchId);
  }

  /** Cancels a queued, paused or running search (a running one stops before its next evaluation). */
  cancel(searchId: number): SearchRow {
    return this.jobs.cancel(searchId);
  }

  /** Deletes a search that is not running, with its members and front (its evaluations stay in the run's cache). */
  delete(searchId: number): void {
    deleteSearch(this.db, searchId);
    this.jobs.forget(searchId);
  }

  /** Resolves with the search's row once it is no longer running or waiting in this manager. */
  waitFor(searchId: number): Promise<SearchRow> {
    return this.jobs.waitFor(searchId);
  }

  /** A search's row. */
  get(searchId: number): SearchRow {
    return getSearch(this.db, searchId);
  }

  /** Searches, oldest first (optionally of one run / with given statuses). */
  list(f: { runId?: number; status?: SearchStatus[] } = {}): SearchRow[] {
    return listSearches(this.db, f);
  }

  /** A search's archive in evaluation order, each entry with its evaluation row. */
  members(searchId: number): SearchMember[] {
    getSearch(this.db, searchId);
    return listSearchMembers(this.db, searchId);
  }

  /** A search's stored front (undefined before its first evaluation). */
  front(searchId: number): FrontRow | undefined {
    getSearch(this.db, searchId);
    return findSearchFront(this.db, searchId);
  }

  get activeSearches(): number[] {
    return this.jobs.activeIds;
  }

  /** Starts waiting searches while slots are free. */
  pump(): void {
    this.jobs.pump();
  }

  /**
   * Asks every runner of this manager to pause (the app does on quit; the state is saved after every evaluation, so
   * nothing is lost); returns their search ids. A search already stopping is skipped.
   */
  pauseAll(): number[] {
    return this.jobs.pauseAll();
  }

  /** Stops scheduling. Runners keep going (they own their searches); `pauseAll` first to stop them. */
  close(): void {
    this.jobs.close();
  }
}
