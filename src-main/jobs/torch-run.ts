/**
 * A training run on the PyTorch engine (config `engine: 'torch'`, docs/TORCH.md), driven from the ordinary training
 * runner process: the run keeps its place in the one job queue, its row, pid, control column, stale detection and
 * messages exactly as a local run; only the steps happen in `torchrun`'s processes.
 *
 * 1. Writes the run directory (`<home>/runs/<id>/`): config.json with the space inline, and dataset/ — the stored
 *    uint8 arrays of the train (without the val images) and val splits plus index.json, readable without the
 *    workbench. The checkpoints land in the same checkpoints/ folder a local run uses, in the same ANCKPT01 format.
 * 2. Starts `python -m alphanet_torch.torchrun --standalone --nproc_per_node N -m alphanet_torch.train <dir>` (our
 *    shim for torch 1.13's launcher; one rank runs `python -m alphanet_torch.train <dir>` alone) with PYTHONPATH on
 *    engines/torch and ALPHANET_PARENT_PID: if this runner dies (kill -9), rank 0 pauses with a checkpoint instead of
 *    training on as an orphan.
 * 3. Tails progress.jsonl and writes what it says into SQLite as the TF.js trainer would: step metrics (batched),
 *    validation rows, events, checkpoint rows; relays progress/epoch/event messages to the parent.
 * 4. Relays pause/cancel (the runner's control: IPC or the row's `control` column) through the run dir's `control`
 *    file. The outcome is the `done` line; an exit without one (a rank died, out of memory) fails the run with the end
 *    of its stderr, and the checkpoints written so far stay (resume continues from the newest).
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  linkSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db';
import { setJobRuntime } from '../store/jobs';
import {
  addRunEvent,
  deleteCheckpointRow,
  insertCheckpoint,
  insertEpochMetrics,
  insertStepMetrics,
  listCheckpoints,
  updateRunProgress,
  type RunEventKind,
  type StepMetric,
} from '../store/runs';
import { datasetDir, loadSplit } from '../data/files';
import type { DatasetInfo, SplitName } from '../data/types';
import { type TrainConfig, configSpace } from '../engine/core';
import type { RunnerToParent } from './run-messages';
import { stderrTail } from './runner-process';
import { tracePhase } from './startup-trace';
import { torchProbeCacheFile, torchReport, torchRunProblem, type TorchReport } from './python';

export interface TorchRunOptions {
  db: Db;
  home: string;
  runId: number;
  runDir: string;
  config: TrainConfig;
  dataset: DatasetInfo;
  resume: boolean;
  /** Cores the job queue gave this run: threads per rank = cores / ranks (else torch's default). */
  cores?: number;
  /** The runner's pause/cancel request (IPC or the row's control column); `detach`: the workbench is closing, which
   * only a Slurm run outlives (a local torchrun pauses). */
  control: () => 'pause' | 'cancel' | 'detach' | null;
  send: (m: RunnerToParent) => void;
  env?: NodeJS.ProcessEnv;
}

export interface TorchRunOutcome {
  /** `detached`: a Slurm job left running when the workbench closed (jobs/slurm/slurm-run.ts). */
  status: 'finished' | 'paused' | 'cancelled' | 'detached';
  step: number;
}

export class TorchRunError extends Error {
  override name = 'TorchRunError';
}

const EVENT_KINDS = new Set<RunEventKind>(['start', 'resume', 'nan', 'rollback', 'checkpoint-corrupt', 'validation']);

/** Writes a file by temp name + rename; a full disk becomes one clear line. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC') throw new TorchRunError(`disk full writing the torch run directory (${path})`);
    throw new TorchRunError(`cannot write ${path}: ${err.message}`);
  }
}

type BundleIndex = { contentHash?: string; valSeed?: number; valFraction?: number; splits?: Record<string, { images: string; labels: string; count: number }> };

/** The splits a dataset/ folder already holds for this dataset content and val split (none when it holds another). */
function bundleSplits(dir: string, info: DatasetInfo): BundleIndex['splits'] {
  try {
    const ix = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as BundleIndex;
    if (ix.contentHash === info.contentHash && ix.valSeed === info.valSeed && ix.valFraction === info.valFraction) return ix.splits ?? {};
  } catch {
    // none yet, or unreadable: written afresh
  }
  return {};
}

/** Writes a dataset/ folder's arrays and index.json: the splits asked for; those it held already stay as they are. */
function writeDatasetFolder(home: string, info: DatasetInfo, dir: string, splits: readonly SplitName[]): void {
  const had = bundleSplits(dir, info) ?? {};
  const kept = (x: string) => !!had[x] && existsSync(join(dir, had[x].images)) && existsSync(join(dir, had[x].labels));
  if (splits.every(kept)) return;
  mkdirSync(dir, { recursive: true });
  const written: Record<string, { images: string; labels: string; count: number }> = {};
  for (const split of (['train', 'val', 'test'] as const).filter((x) => splits.includes(x) || kept(x))) {
    if (kept(split)) {
      written[split] = had[split];
      continue;
    }
    const s = loadSplit(home, info, split);
    writeAtomic(join(dir, `${split}.images.u8`), s.images);
    writeAtomic(join(dir, `${split}.labels.u16`), new Uint8Array(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength));
    written[split] = { images: `${split}.images.u8`, labels: `${split}.labels.u16`, count: s.labels.length };
  }
  const index = {
    name: info.name,
    contentHash: info.contentHash,
    valSeed: info.valSeed,
    valFraction: info.valFraction,
    height: info.height,
    width: info.width,
    channels: info.channels,
    classNames: info.classNames,
    mean: info.mean,
    std: info.std,
    augment: info.augment,
    splits: written,
  };
  writeAtomic(join(dir, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
}

/** Puts `from` at `to` as a hard link (a copy where the file system cannot link), replacing `to` atomically. */
function linkAtomic(from: string, to: string): void {
  const tmp = `${to}.tmp-${process.pid}`;
  try {
    rmSync(tmp, { force: true });
    try {
      linkSync(from, tmp);
    } catch {
      copyFileSync(from, tmp); // another device, or no hard links there
    }
    renameSync(tmp, to);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC') throw new TorchRunError(`disk full writing the torch run directory (${to})`);
    throw new TorchRunError(`cannot write ${to}: ${err.message}`);
  }
}

/**
 * Where a dataset's bundle for the torch engine is gathered once (train without the val images, val, test when
 * asked): in the dataset's own folder, so it goes when the dataset is removed, and per val split, so a folder once
 * complete never changes.
 */
export const sharedDatasetBundle = (home: string, info: DatasetInfo): string => join(datasetDir(home, info.id), `torch-bundle-${info.valSeed}-${info.valFraction}`);

/**
 * The run directory's dataset/ (docs/TORCH.md): the stored arrays of train (without val) and val, and index.json;
 * `splits` adds test where an evaluation on it needs it. Kept as it is when it holds the same dataset content and
 * split, and every split asked for (a split written before stays). Otherwise its files are hard links to the
 * dataset's shared bundle (`sharedDatasetBundle`), gathered by the first run that needs it: a further run on the same
 * data costs neither the gather nor the disk of a copy. The files are never written in place (every writer renames a
 * new file over the old), so a link cannot change under another run.
 */
export function writeRunDataset(home: string, info: DatasetInfo, dir: string, splits: readonly SplitName[] = ['train', 'val']): void {
  const had = Object.keys(bundleSplits(dir, info) ?? {}) as SplitName[];
  if (splits.every((x) => had.includes(x))) return;
  const shared = sharedDatasetBundle(home, info);
  writeDatasetFolder(home, info, shared, [...new Set([...splits, ...had])]);
  mkdirSync(dir, { recursive: true });
  const files = Object.values(bundleSplits(shared, info) ?? {}).flatMap((s) => [s.images, s.labels]);
  for (const f of files) linkAtomic(join(shared, f), join(dir, f));
  linkAtomic(join(shared, 'index.json'), join(dir, 'index.json')); // last: the folder is whole once it is there
}

/** The number of ranks a torch run starts: its GPUs, else its CPU ranks (default 1). */
export function torchRanks(config: TrainConfig): number {
  return config.gpus > 0 ? config.gpus : (config.ranks ?? 1);
}

/** Reads the lines appended to a file since `offset`; keeps a partial last line for the next call. */
class LineTail {
  private offset: number;
  private rest = '';
  constructor(private readonly path: string) {
    this.offset = existsSync(path) ? statSync(path).size : 0;
  }
  read(): string[] {
    if (!existsSync(this.path)) return [];
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const text = this.rest + buf.toString('utf8');
      const lines = text.split('\n');
      this.rest = lines.pop() ?? '';
      return lines.filter((l) => l.trim());
    } finally {
      closeSync(fd);
    }
  }
}

/** The run directory's inputs (docs/TORCH.md): dataset/ and config.json with the space inline. Also the bundle a
 * Slurm job gets (jobs/slurm/slurm-run.ts). */
export function writeRunBundle(o: Pick<TorchRunOptions, 'home' | 'runId' | 'config' | 'dataset'>, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeRunDataset(o.home, o.dataset, join(dir, 'dataset'));
  const space = configSpace(o.config);
  writeAtomic(join(dir, 'config.json'), `${JSON.stringify({ ...o.config, space, runId: o.runId, numClasses: o.dataset.classNames.length }, null, 1)}\n`);
}

/**
 * Applies the engine's progress.jsonl lines (docs/TORCH.md) to the store as the TF.js trainer would write them: step
 * metrics (batched), validation rows, events, checkpoint rows, progress, relayed to the runner's parent. Shared by the
 * local torchrun driver below and the Slurm driver (jobs/slurm/slurm-run.ts), which reads the same file remotely.
 */
export function progressApplier(o: { db: Db; runId: number; send: (m: RunnerToParent) => void }) {
  let done: { status: string; step: number; error?: string } | undefined;
  let step = 0;
  let stepRows: StepMetric[] = [];
  const flush = () => {
    if (!stepRows.length) return;
    const rows = stepRows;
    stepRows = [];
    const last = rows[rows.length - 1];
    o.db.transaction(() => {
      insertStepMetrics(o.db, o.runId, rows);
      updateRunProgress(o.db, o.runId, { step: last.step, epoch: last.epoch, totalSteps: undefined, pid: process.pid });
    }).immediate();
  };
  const handle = (line: string | Record<string, unknown>) => {
    let m: Record<string, unknown>;
    try {
      m = typeof line === 'string' ? (JSON.parse(line) as Record<string, unknown>) : line;
    } catch {
      return; // a torn line cannot happen (rank 0 appends whole lines); anything else is not ours
    }
    const now = new Date().toISOString();
    switch (m.type) {
      case 'step': {
        step = m.step as number;
        const { type: _t, runId: _r, ...row } = m;
        stepRows.push({ ...(row as unknown as StepMetric), time: now });
        break;
      }
      case 'progress': {
        flush();
        updateRunProgress(o.db, o.runId, { step: m.step as number, epoch: m.epoch as number, totalSteps: m.totalSteps as number, pid: process.pid });
        o.send({ ...(m as object), runId: o.runId } as RunnerToParent);
        break;
      }
      case 'epoch': {
        flush();
        const subnets = m.subnets as { subnet: string; mflops: number; valTop1: number; valLoss: number; valTop1Before: number; valLossBefore: number; genome: unknown; valImages: number }[];
        insertEpochMetrics(o.db, o.runId, subnets.map((s) => ({ ...s, genome: s.genome as never, epoch: m.epoch as number, step: m.step as number, time: now })));
        o.send({ type: 'epoch', runId: o.runId, epoch: m.epoch as number, step: m.step as number, seconds: m.seconds as number, subnets: subnets.map(({ genome: _g, valImages: _v, ...s }) => s) });
        const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
        const message = `epoch ${(m.epoch as number) + 1}: ${subnets.map((s) => `${s.subnet} ${pct(s.valTop1)} (before BN calibration ${pct(s.valTop1Before)})`).join(', ')}`;
        addRunEvent(o.db, o.runId, { kind: 'validation', step: m.step as number, message });
        o.send({ type: 'event', runId: o.runId, kind: 'validation', message, step: m.step as number });
        break;
      }
      case 'event': {
        const kind = EVENT_KINDS.has(m.kind as RunEventKind) ? (m.kind as RunEventKind) : 'validation';
        addRunEvent(o.db, o.runId, { kind, message: `${m.message as string}`, step: m.step as number | undefined });
        o.send({ type: 'event', runId: o.runId, kind: m.kind as string, message: m.message as string, ...(m.step !== undefined ? { step: m.step as number } : {}) });
        break;
      }
      case 'checkpoint': {
        flush();
        const c = m as { step: number; epoch: number; path: string; sha256: string; bytes: number; metric?: number };
        o.db.transaction(() => {
          for (const old of listCheckpoints(o.db, o.runId)) if (old.path === c.path || !existsSync(old.path)) deleteCheckpointRow(o.db, old.id);
          insertCheckpoint(o.db, { runId: o.runId, step: c.step, epoch: c.epoch, path: c.path, sha256: c.sha256, bytes: c.bytes, metric: c.metric });
          addRunEvent(o.db, o.runId, { kind: 'checkpoint', step: c.step, message: `checkpoint at step ${c.step}`, data: { path: c.path, sha256: c.sha256, bytes: c.bytes, metric: c.metric ?? null } });
          if (c.metric !== undefined) updateRunProgress(o.db, o.runId, { step: c.step, epoch: c.epoch, bestMetric: c.metric });
        }).immediate();
        break;
      }
      case 'done':
        flush();
        done = m as { status: string; step: number; error?: string };
        break;
    }
  };

  return { handle, flush, done: () => done, step: () => step };
}

/**
 * The command that trains a run directory, as the workbench starts it: torchrun's launcher for N > 1 ranks (one rank
 * runs the trainer alone: no rendezvous store, which can time out on a loaded machine), the device, `--resume`, and
 * `cores / ranks` threads per rank; PYTHONPATH on the engine. The caller adds ALPHANET_PARENT_PID when it tracks the
 * run (the bench also starts exactly this by hand).
 */
export function torchTrainCommand(
  config: TrainConfig,
  runDir: string,
  report: Pick<TorchReport, 'python' | 'engineDir'>,
  o: { resume: boolean; cores?: number; env: NodeJS.ProcessEnv },
): { python: string; args: string[]; env: NodeJS.ProcessEnv } {
  const ranks = torchRanks(config);
  const launcher = ranks > 1 ? ['-m', 'alphanet_torch.torchrun', '--standalone', `--nproc_per_node=${ranks}`] : [];
  const args = [...launcher, '-m', 'alphanet_torch.train', runDir, '--device', config.gpus > 0 ? 'cuda' : 'cpu', ...(o.resume ? ['--resume'] : [])];
  const threads = o.cores !== undefined && Number.isInteger(o.cores) && o.cores > 0 ? Math.max(1, Math.floor(o.cores / ranks)) : 0;
  if (threads) args.push('--threads', String(threads));
  const env = { ...o.env, PYTHONPATH: [report.engineDir, o.env.PYTHONPATH].filter(Boolean).join(':'), OMP_NUM_THREADS: String(threads || 1) };
  return { python: report.python!, args, env };
}

export async function runTorch(o: TorchRunOptions): Promise<TorchRunOutcome> {
  const env = o.env ?? process.env;
  tracePhase('runTorch', env);
  const report = torchReport(env, { cache: torchProbeCacheFile(o.home) });
  tracePhase('probed', env);
  const problem = torchRunProblem(report, o.config.gpus);
  if (problem) throw new TorchRunError(problem);
  const ranks = torchRanks(o.config);
  writeRunBundle(o, o.runDir);
  tracePhase('bundled', env);
  const controlPath = join(o.runDir, 'control');
  writeAtomic(controlPath, '');
  const progressPath = join(o.runDir, 'progress.jsonl');
  const tail = new LineTail(progressPath);

  const cmd = torchTrainCommand(o.config, o.runDir, report, { resume: o.resume, cores: o.cores ?? Number(env.ALPHANET_JOB_CORES), env });
  const child = spawn(cmd.python, cmd.args, {
    cwd: o.runDir,
    env: { ...cmd.env, ALPHANET_PARENT_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  tracePhase('spawned', env);
  setJobRuntime(o.db, 'runs', o.runId, { backend: `torch ${report.torch} (${o.config.gpus > 0 ? `${ranks} GPU` : `${ranks} CPU rank${ranks > 1 ? 's' : ''}`})`, pid: process.pid });
  const errTail = stderrTail();
  child.stderr.on('data', (d: Buffer) => errTail.add(d));
  child.stdout.on('data', (d: Buffer) => errTail.add(d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (e) => errTail.add(Buffer.from(`cannot start ${report.python}: ${e.message}\n`)));

  const applier = progressApplier(o);
  const { handle, flush } = applier;
  let requested: 'pause' | 'cancel' | null = null;
  let finished = false;
  const exit = exited.then((r) => {
    tracePhase('exited', env);
    finished = true;
    return r;
  });
  while (!finished) {
    await Promise.race([exit, new Promise((r) => setTimeout(r, 200))]);
    for (const line of tail.read()) handle(line);
    const asked = o.control();
    const req = asked === 'detach' ? 'pause' : asked;
    if (req && req !== requested && !finished) {
      requested = req === 'cancel' || requested !== 'cancel' ? req : requested;
      writeAtomic(controlPath, `${requested}\n`);
    }
  }
  for (const line of tail.read()) handle(line);
  flush();
  const { code, signal } = await exit;
  const done = applier.done();
  if (done && done.status !== 'failed' && code === 0) return { status: done.status as TorchRunOutcome['status'], step: done.step };
  const why = done?.error ?? (errTail.lastLines(3) || `torchrun exited with ${signal ?? code}`);
  throw new TorchRunError(`torch engine failed at step ${done?.step ?? applier.step()}: ${why.split('\n').pop()}`);
}
