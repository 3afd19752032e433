/**
 * The parent side of training: a queue of runs, each trained in its own runner process.
 *
 * - `enqueue` validates a config and stores a `queued` run; `resume` queues a paused (or crashed) run again.
 * - Runs hold cores, one per data-parallel worker, out of a budget shared with searches (`cores`, settings `jobCores`,
 *   default every core) — counting live jobs of *other* processes sharing the database, so a CLI and the app do not
 *   oversubscribe the CPU; a run with `workers: auto` takes the cores free when it starts (two runs queued together on
 *   two cores: the first takes both; `workers: 1` each: side by side). The next queued run starts by itself.
 * - The manager claims a run (`queued|paused|failed → running`, atomically), forks the runner, relays its typed
 *   messages as events, and when the runner exits checks the row: a run still `running` then means the runner died
 *   without a final status (crash, out of memory, kill -9), and it becomes `failed` with the reason.
 * - At construction, `running` rows whose process is gone (the previous app or CLI died with them) become `failed`:
 *   no run stays stuck at `running` — except a Slurm run whose job is still followed (an open `cluster_jobs` row):
 *   its job runs on without the workbench, and a manager with `adoptQueued` (the app, `serve`) starts a runner that
 *   follows it again and catches up from the job's files (docs/CLUSTER.md).
 * - `stopAll` (the app or `serve` closing): local runs pause with a checkpoint, Slurm runs are detached (left running
 *   on the cluster, followed again at the next start).
 * - `pause` / `cancel` reach the runner by message when this manager started it, and through the run's `control`
 *   column otherwise (the runner polls it), so any process can pause any run.
 *
 * That machinery is shared with the search jobs (`jobs/job-manager.ts`, `JobQueue`); this module keeps what is
 * specific to training: the config and dataset checks on enqueue, the training runner, its messages, the run's
 * files, and the run events that record why the queue moved a run (`stale`, `fail`, `cancel`).
 */
import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db';
import { addRunEvent, createRun, deleteRun, getRun, listRuns, type RunRow } from '../store/runs';
import { openRunClusterJob } from '../store/cluster-jobs';
import { JobQueue, type JobKind } from './job-manager';
import { forkRunner as forkJobRunner, type RunnerHandle as JobRunnerHandle } from './runner-process';
import { configSpace, defaultRunName, parseTrainConfig, type TrainConfig } from '../engine/core';
import { resolveDataset } from '../data/resolve-dataset';
import { RunnerToParentSchema, type ParentToRunner, type RunnerToParent } from './run-messages';
import { runDir } from '../train/paths';
import { resolveWorkers } from '../train/workers';
import { version as appVersion } from '../../package.json';

export { pidAlive, pipeRunnerOutput, stderrTail } from './runner-process';

/** The parent's handle on one runner process, whatever started it (`Out`: the messages it accepts). */
export type RunnerHandle<Out extends object = ParentToRunner> = JobRunnerHandle<Out>;

export type SpawnRunner = () => RunnerHandle;

export class RunManagerError extends Error {
  override name = 'RunManagerError';
}

/**
 * Where the built runner is: `$ALPHANET_RUNNER`, else next to the bundle that imports this, else out/main/.
 * `entry` names another built entry the same way (the search runner).
 */
export function defaultRunnerPath(env: NodeJS.ProcessEnv = process.env, entry = { file: 'runner.js', envVar: 'ALPHANET_RUNNER', what: 'the training runner' }): string {
  const f = entry.file;
  const candidates = [env[entry.envVar], join(__dirname, f), join(__dirname, '..', f), join(__dirname, '..', '..', 'out', 'main', f)];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new RunManagerError(`${entry.what} (out/main/${f}) is missing; run \`npm run build\` first (looked in: ${candidates.filter(Boolean).join(', ')})`);
}

/** A Node child process running the runner (the CLI's way; the app passes a utilityProcess-based `SpawnRunner`). */
export function forkRunner<Out extends object = ParentToRunner>(runnerPath: string, opts: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {}): RunnerHandle<Out> {
  return forkJobRunner<Out>(runnerPath, opts);
}

export interface RunManagerOptions {
  home: string;
  /** Default: the home's database, opened here (and closed by `close`). */
  db?: Db;
  /** Cores all jobs (runs and searches) may hold at once, across processes (default every core). */
  cores?: number;
  /** At most this many runs at once, across processes (default: as many as the cores hold). */
  maxConcurrent?: number;
  /** How runners start (default: `forkRunner(defaultRunnerPath())`). */
  spawn?: SpawnRunner;
  /** Start queued runs enqueued by other processes too (the app: true; the CLI: false, it trains what it queued). */
  adoptQueued?: boolean;
  /** While waiting for a free slot held by another process, look again this often (ms, default 2000). */
  pollMs?: number;
}

export interface RunManagerEvents {
  message: [runId: number, msg: RunnerToParent];
  status: [run: RunRow];
}

type StartRunner = Extract<ParentToRunner, { type: 'start' }>;

export class RunManager extends EventEmitter<RunManagerEvents> {
  readonly home: string;
  readonly db: Db;
  readonly maxConcurrent: number;
  /** Queue, slots, claim, spawn, relay, exit check, stale recovery, pause/cancel (jobs/job-manager.ts). */
  private readonly jobs: JobQueue<RunRow, StartRunner>;

  constructor(o: RunManagerOptions) {
    super();
    const kind: JobKind<RunRow, StartRunner> = {
      table: 'runs',
      runner: 'the runner process',
      resumesFrom: 'the last checkpoint',
      error: RunManagerError,
      get: getRun,
      list: (db, status) => listRuns(db, { status }),
      defaultSpawn: () => forkRunner(defaultRunnerPath()),
      startMessage: (home, runId, resume, cores) => ({ type: 'start', home, runId, resume, cores }),
      // One core per data-parallel worker: `auto` takes what is free now, an explicit count waits for its cores.
      cores: (row, free) => {
        let c: TrainConfig;
        try {
          c = parseTrainConfig(row.config, `config of run ${row.id}`);
        } catch {
          return 1; // its runner fails it with the reason
        }
        // A Slurm run's steps happen on the cluster: its runner here only follows the job.
        if (c.engine === 'slurm') return 1;
        return c.workers === 'auto' ? resolveWorkers(c, { cores: free }) : c.workers;
      },
      relay: (runId, raw) => {
        const m = RunnerToParentSchema.safeParse(raw);
        this.emit('message', runId, m.success ? m.data : { type: 'error', message: `malformed message from the runner: ${JSON.stringify(raw).slice(0, 200)}` });
      },
      status: (row) => this.emit('status', row),
      note: (db, row, kind, message) => addRunEvent(db, row.id, { kind, step: row.step, message }),
      adoptable: (db, row) => openRunClusterJob(db, row.id) !== null,
    };
    this.jobs = new JobQueue(kind, o);
    this.home = this.jobs.home;
    this.db = this.jobs.db;
    this.maxConcurrent = this.jobs.maxConcurrent;
  }

  /** Marks `running` runs whose process is gone as `failed`; returns them. */
  recoverStale(): RunRow[] {
    return this.jobs.recoverStale();
  }

  /** Validates a config, resolves its dataset (generating the demo set on first use) and queues a run. */
  async enqueue(input: unknown, opts: { name?: string } = {}): Promise<RunRow> {
    const config: TrainConfig = parseTrainConfig(input);
    const space = configSpace(config);
    const info = await resolveDataset(this.home, this.db, config.dataset);
    if (info.channels !== space.inputChannels) {
      throw new RunManagerError(`space '${space.id}' takes ${space.inputChannels}-channel images but dataset '${info.name}' has ${info.channels}`);
    }
    const stepsPerEpoch = Math.min(Math.floor(info.splits.train.count / config.batchSize), config.stepsPerEpoch ?? Infinity);
    if (stepsPerEpoch < 1) throw new RunManagerError(`dataset '${info.name}' has ${info.splits.train.count} training images, fewer than one batch of ${config.batchSize}`);
    const run = createRun(this.db, {
      name: opts.name ?? defaultRunName({ ...config, dataset: info.name }),
      config,
      spaceId: space.id,
      datasetId: info.id,
      datasetName: info.name,
      seed: config.seed,
      appVersion,
      totalSteps: stepsPerEpoch * config.epochs,
    });
    this.jobs.add(run.id);
    return run;
  }

  /** Queues a paused or failed run to continue from its newest good checkpoint. */
  resume(runId: number): RunRow {
    return this.jobs.resume(runId);
  }

  /** Asks a running run to checkpoint and stop; it becomes `paused`. */
  pause(runId: number): void {
    this.jobs.pause(runId);
  }

  /** Cancels a queued, paused or running run (a running one stops after its current step). */
  cancel(runId: number): RunRow {
    return this.jobs.cancel(runId);
  }

  /** Deletes a run that is not running, with its files. */
  delete(runId: number): void {
    deleteRun(this.db, runId);
    this.jobs.forget(runId);
    rmSync(runDir(this.home, runId), { recursive: true, force: true });
  }

  /** Resolves with the run's row once it is no longer training or waiting in this manager. */
  waitFor(runId: number): Promise<RunRow> {
    return this.jobs.waitFor(runId);
  }

  get activeRuns(): number[] {
    return this.jobs.activeIds;
  }

  /** Starts waiting runs while slots are free. */
  pump(): void {
    this.jobs.pump();
  }

  /** Stops scheduling. Runners keep going (they own their runs); `pauseAll` first to stop them with a checkpoint. */
  close(): void {
    this.jobs.close();
  }

  /**
   * Asks every runner of this manager to pause (the app and `alphanet serve` do on quit); returns their run ids. A
   * run that is already stopping (no longer `running`) is skipped rather than stopping the loop.
   */
  pauseAll(): number[] {
    return this.jobs.pauseAll();
  }

  /**
   * What the app and `alphanet serve` do when they close: every runner of this manager pauses its run with a
   * checkpoint, except that a Slurm run's runner stops following and leaves the job running on the cluster (the next
   * start adopts it and catches up). Returns the run ids; `waitFor` each to know its runner is gone. Nothing new
   * starts here afterwards.
   */
  stopAll(): number[] {
    return this.jobs.stopAll();
  }
}
