/**
 * The parent side of training: a queue of runs, each trained in its own runner process.
 *
 * - `enqueue` validates a config and stores a `queued` run; `resume` queues a paused (or crashed) run again.
 * - At most `maxConcurrent` runs train at once (default 1) — counting live runs of *other* processes sharing the
 *   database, so a CLI and the app do not oversubscribe the CPU; the next queued run starts by itself.
 * - The manager claims a run (`queued|paused|failed → running`, atomically), forks the runner, relays its typed
 *   messages as events, and when the runner exits checks the row: a run still `running` then means the runner died
 *   without a final status (crash, out of memory, kill -9), and it becomes `failed` with the reason.
 * - At construction, `running` rows whose process is gone (the previous app or CLI died with them) become `failed`:
 *   no run stays stuck at `running`.
 * - `pause` / `cancel` reach the runner by message when this manager started it, and through the run's `control`
 *   column otherwise (the runner polls it), so any process can pause any run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db';
import { openHomeDatabase } from '../store/db';
import {
  addRunEvent,
  createRun,
  deleteRun,
  getRun,
  listRuns,
  now,
  setRunControl,
  setWantsResume,
  transitionRun,
  type RunRow,
} from '../store/runs';
import { configSpace, defaultRunName, parseTrainConfig, type TrainConfig } from './config';
import { resolveDataset } from './dataset-source';
import { RunnerToParentSchema, type ParentToRunner, type RunnerToParent } from './messages';
import { runDir } from './paths';
import { version as appVersion } from '../../package.json';

/** The parent's handle on one runner process, whatever started it (`Out`: the messages it accepts). */
export interface RunnerHandle<Out extends object = ParentToRunner> {
  readonly pid: number | undefined;
  send(msg: Out): void;
  onMessage(cb: (msg: unknown) => void): void;
  /** Called once when the process has exited; `detail` carries the end of its stderr. */
  onExit(cb: (code: number | null, signal: string | null, detail: string) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

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

/** Keeps the end of a runner's stderr (the reason a crashed runner gives is at the end): `add` each chunk. */
export function stderrTail(maxChars = 4000): { add(d: Buffer): void; lastLines(n?: number): string } {
  let text = '';
  return {
    add: (d) => {
      text = (text + d.toString('utf8')).slice(-maxChars);
    },
    lastLines: (n = 5) => text.trim().split('\n').slice(-n).join('\n'),
  };
}

/** A Node child process running the runner (the CLI's way; the app passes a utilityProcess-based `SpawnRunner`). */
export function forkRunner<Out extends object = ParentToRunner>(runnerPath: string, opts: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {}): RunnerHandle<Out> {
  const child: ChildProcess = fork(runnerPath, [], {
    env: opts.env ?? process.env,
    execArgv: opts.execArgv ?? [],
    // The runner's stdout goes to our stderr: our stdout may be a `--json` document.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  child.stdout?.on('data', (d: Buffer) => process.stderr.write(d));
  const stderr = stderrTail();
  child.stderr?.on('data', (d: Buffer) => {
    stderr.add(d);
    process.stderr.write(d);
  });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (cb) => child.on('message', cb),
    onExit: (cb) => child.on('exit', (code, signal) => cb(code, signal, stderr.lastLines())),
    kill: (signal) => child.kill(signal),
  };
}

/** Whether a process exists (signal 0 checks without sending; EPERM means it exists under another user). */
export function pidAlive(pid: number | null): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunManagerOptions {
  home: string;
  /** Default: the home's database, opened here (and closed by `close`). */
  db?: Db;
  /** Runs training at once across every process sharing the database (default 1). */
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

export class RunManager extends EventEmitter<RunManagerEvents> {
  readonly home: string;
  readonly db: Db;
  readonly maxConcurrent: number;
  private readonly ownsDb: boolean;
  private readonly spawn: SpawnRunner;
  private readonly adoptQueued: boolean;
  private readonly pollMs: number;
  private readonly active = new Map<number, RunnerHandle>();
  /** Runs this manager was asked to train (queued or resumed here) and has not started yet. */
  private readonly pending = new Set<number>();
  private readonly waiters = new Map<number, ((r: RunRow) => void)[]>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(o: RunManagerOptions) {
    super();
    this.home = o.home;
    this.ownsDb = !o.db;
    this.db = o.db ?? openHomeDatabase(o.home);
    this.maxConcurrent = o.maxConcurrent ?? 1;
    if (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent < 1) throw new RunManagerError(`maxConcurrent must be a positive integer, got ${o.maxConcurrent}`);
    this.spawn = o.spawn ?? (() => forkRunner(defaultRunnerPath()));
    this.adoptQueued = o.adoptQueued ?? false;
    this.pollMs = o.pollMs ?? 2000;
    this.recoverStale();
  }

  /** Marks `running` runs whose process is gone as `failed`; returns them. */
  recoverStale(): RunRow[] {
    const stale: RunRow[] = [];
    for (const r of listRuns(this.db, { status: ['running'] })) {
      if (this.active.has(r.id) || pidAlive(r.pid)) continue;
      const error = `the runner process${r.pid ? ` (pid ${r.pid})` : ''} is gone: it crashed or was killed while training; resume continues from the last checkpoint`;
      if (transitionRun(this.db, r.id, 'failed', { error, pid: null, control: null, finishedAt: now() }, ['running'])) {
        addRunEvent(this.db, r.id, { kind: 'stale', step: r.step, message: error });
        stale.push(getRun(this.db, r.id));
      }
    }
    return stale;
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
    this.pending.add(run.id);
    this.pump();
    return run;
  }

  /** Queues a paused or failed run to continue from its newest good checkpoint. */
  resume(runId: number): RunRow {
    const r = getRun(this.db, runId);
    if (r.status !== 'paused' && r.status !== 'failed') throw new RunManagerError(`run ${runId} is ${r.status}; only a paused or failed run can be resumed`);
    setWantsResume(this.db, runId, true);
    this.pending.add(runId);
    this.pump();
    return getRun(this.db, runId);
  }

  /** Asks a running run to checkpoint and stop; it becomes `paused`. */
  pause(runId: number): void {
    const r = getRun(this.db, runId);
    if (r.status !== 'running') throw new RunManagerError(`run ${runId} is ${r.status}; only a running run can be paused`);
    setRunControl(this.db, runId, 'pause');
    this.active.get(runId)?.send({ type: 'pause' });
  }

  /** Cancels a queued, paused or running run (a running one stops after its current step). */
  cancel(runId: number): RunRow {
    const r = getRun(this.db, runId);
    this.pending.delete(runId);
    if (r.status === 'queued' || r.status === 'paused') {
      if (transitionRun(this.db, runId, 'cancelled', { finishedAt: now(), wantsResume: false }, [r.status])) {
        addRunEvent(this.db, runId, { kind: 'cancel', step: r.step, message: `cancelled while ${r.status}` });
      }
      this.settle(runId);
    } else if (r.status === 'running') {
      setRunControl(this.db, runId, 'cancel');
      this.active.get(runId)?.send({ type: 'cancel' });
    } else {
      throw new RunManagerError(`run ${runId} is ${r.status}; nothing to cancel`);
    }
    return getRun(this.db, runId);
  }

  /** Deletes a run that is not running, with its files. */
  delete(runId: number): void {
    deleteRun(this.db, runId);
    this.pending.delete(runId);
    rmSync(runDir(this.home, runId), { recursive: true, force: true });
  }

  /** Resolves with the run's row once it is no longer training or waiting in this manager. */
  waitFor(runId: number): Promise<RunRow> {
    if (!this.active.has(runId) && !this.pending.has(runId)) return Promise.resolve(getRun(this.db, runId));
    return new Promise((resolve) => this.waiters.set(runId, [...(this.waiters.get(runId) ?? []), resolve]));
  }

  get activeRuns(): number[] {
    return [...this.active.keys()];
  }

  /** Starts waiting runs while slots are free. */
  pump(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const elsewhere = listRuns(this.db, { status: ['running'] }).filter((r) => !this.active.has(r.id) && pidAlive(r.pid)).length;
    let free = this.maxConcurrent - this.active.size - elsewhere;
    const candidates = listRuns(this.db, { status: ['queued', 'paused', 'failed'] }).filter(
      (r) => this.pending.has(r.id) || (this.adoptQueued && (r.status === 'queued' || r.wantsResume)),
    );
    for (const r of candidates) {
      if (free <= 0) break;
      if (r.status !== 'queued' && !r.wantsResume) continue;
      if (this.start(r)) free--;
    }
    const waiting = candidates.some((r) => this.pending.has(r.id) || this.adoptQueued);
    if (waiting && free <= 0) this.timer = setTimeout(() => this.pump(), this.pollMs);
  }

  private start(r: RunRow): boolean {
    const resume = r.status !== 'queued';
    const claimed = transitionRun(
      this.db,
      r.id,
      'running',
      { pid: process.pid, startedAt: r.startedAt ?? now(), finishedAt: null, control: null, wantsResume: false, error: null },
      [r.status],
    );
    this.pending.delete(r.id);
    if (!claimed) {
      this.settle(r.id); // someone else moved it first
      return false;
    }
    let child: RunnerHandle;
    try {
      child = this.spawn();
    } catch (e) {
      const error = `could not start the runner: ${(e as Error).message}`;
      transitionRun(this.db, r.id, 'failed', { error, pid: null, finishedAt: now() }, ['running']);
      addRunEvent(this.db, r.id, { kind: 'fail', message: error });
      this.settle(r.id);
      return false;
    }
    this.active.set(r.id, child);
    if (child.pid) this.db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(child.pid, r.id);
    this.emit('status', getRun(this.db, r.id));
    child.onMessage((raw) => {
      const m = RunnerToParentSchema.safeParse(raw);
      if (!m.success) {
        this.emit('message', r.id, { type: 'error', message: `malformed message from the runner: ${JSON.stringify(raw).slice(0, 200)}` });
        return;
      }
      this.emit('message', r.id, m.data);
    });
    child.onExit((code, signal, detail) => {
      this.active.delete(r.id);
      const row = getRun(this.db, r.id);
      if (row.status === 'running') {
        const error = `the runner process${child.pid ? ` (pid ${child.pid})` : ''} exited ${signal ? `on signal ${signal}` : `with code ${code}`} without finishing the run${detail ? `: ${detail}` : ''}`;
        if (transitionRun(this.db, r.id, 'failed', { error, pid: null, control: null, finishedAt: now() }, ['running'])) {
          addRunEvent(this.db, r.id, { kind: 'fail', step: row.step, message: error });
        }
      }
      this.settle(r.id);
      this.pump();
    });
    child.send({ type: 'start', home: this.home, runId: r.id, resume });
    return true;
  }

  private settle(runId: number): void {
    const row = getRun(this.db, runId);
    this.emit('status', row);
    if (this.active.has(runId) || this.pending.has(runId)) return;
    const ws = this.waiters.get(runId) ?? [];
    this.waiters.delete(runId);
    for (const w of ws) w(row);
  }

  /** Stops scheduling. Runners keep going (they own their runs); `pauseAll` first to stop them with a checkpoint. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ownsDb) this.db.close();
  }

  /**
   * Asks every runner of this manager to pause (the app and `alphanet serve` do on quit); returns their run ids. A
   * run that is already stopping (no longer `running`) is skipped rather than stopping the loop.
   */
  pauseAll(): number[] {
    const ids = [...this.active.keys()];
    for (const id of ids) {
      try {
        this.pause(id);
      } catch (e) {
        if (!(e instanceof RunManagerError)) throw e;
      }
    }
    return ids;
  }
}
