/**
 * Evaluation of a run's subnets on the PyTorch engine (docs/TORCH.md "Searching on the torch engine"): the parent
 * side of `python -m alphanet_torch.evaluate`, a long-lived process that holds one checkpoint's supernet, the
 * calibration batches and the evaluation split, and answers one JSON line per genome.
 *
 *   const setup = writeTorchEvalSetup({ home, runId, space, numClasses, dataset, checkpoint, settings });
 *   const ev = await TorchEvaluator.start(setup);            // one clear line if there is no Python with torch
 *   const [a, b] = await ev.evaluate([g1, g2]);              // accuracy, loss, before, calibration, ms
 *   await ev.close();
 *
 * The numbers are the workbench engine's (`evaluateSubnet`): the setup hands the evaluator the exact calibration
 * images and their crop/flip (`calibrationPlan`, drawn here with the workbench's own seeded generator) and the same
 * split, in order; the cache key (split, calibration settings, checkpoint sha256) therefore means the same thing
 * whichever engine filled a row.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { calibrationPlan } from '../data/loader';
import type { DatasetInfo } from '../data/types';
import { validateGenome, type Genome, type SearchSpace } from '../engine/core';
import type { EvaluationSettings } from '../search/run-info';
import type { ComputedEvaluation, SubnetCompute } from '../search/subnet-compute';
import { runDir } from '../train/paths';
import { torchProbeCacheFile, torchReport, type TorchReport } from './python';
import { stderrTail } from './runner-process';
import { writeRunDataset } from './torch-run';

export class TorchEvaluatorError extends Error {
  override name = 'TorchEvaluatorError';
}

/** What `alphanet_torch.evaluate` answers for one genome. */
export interface TorchEvaluation {
  accuracy: number;
  loss: number;
  images: number;
  before: { accuracy: number; loss: number; method: 'reset' };
  calibration: { batches: number; images: number };
  ms: number;
}

export interface TorchEvalSetupOptions {
  home: string;
  runId: number;
  space: SearchSpace;
  numClasses: number;
  dataset: DatasetInfo;
  checkpoint: { path: string; sha256: string };
  settings: EvaluationSettings;
}

/**
 * Writes what the evaluator reads (the run directory's dataset/ with the split to evaluate, and a setup JSON under
 * `<run dir>/evaluate/`, named by its content) and returns the setup's path. Also what a Slurm job is handed.
 */
export function writeTorchEvalSetup(o: TorchEvalSetupOptions): string {
  const dir = runDir(o.home, o.runId);
  const datasetDir = join(dir, 'dataset');
  writeRunDataset(o.home, o.dataset, datasetDir, ['train', o.settings.split]);
  const index = JSON.parse(readFileSync(join(datasetDir, 'index.json'), 'utf8')) as { splits: Record<string, { count: number }> };
  const plan = calibrationPlan(o.dataset, index.splits.train.count, { batches: o.settings.calibrationBatches, batchSize: o.settings.calibrationBatchSize, seed: o.settings.calibrationSeed });
  const setup = {
    checkpoint: { path: o.checkpoint.path, sha256: o.checkpoint.sha256 },
    space: o.space,
    numClasses: o.numClasses,
    dataset: datasetDir,
    split: o.settings.split,
    batchSize: o.settings.batchSize,
    calibration: plan.map((b) => ({ indices: b.indices, dy: b.geometry.map((g) => g.dy), dx: b.geometry.map((g) => g.dx), flip: b.geometry.map((g) => (g.flip ? 1 : 0)) })),
  };
  const text = `${JSON.stringify(setup)}\n`;
  const path = join(dir, 'evaluate', `setup-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  mkdirSync(join(dir, 'evaluate'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return path;
}

export interface TorchEvaluatorOptions {
  env?: NodeJS.ProcessEnv;
  /** `auto` (default: CUDA when torch sees a device), `cpu` or `cuda`. */
  device?: 'auto' | 'cpu' | 'cuda';
  /** torch intra-op threads (default: torch's choice). */
  threads?: number;
  /** An already probed Python (a search probes once to fail before it starts). */
  report?: TorchReport;
}

type Pending = { resolve: (r: TorchEvaluation) => void; reject: (e: Error) => void };

/** One `python -m alphanet_torch.evaluate` process; requests are answered in order. */
export class TorchEvaluator {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: TorchEvaluatorError | undefined;
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly errTail: ReturnType<typeof stderrTail>,
    private readonly exited: Promise<void>,
    /** What the evaluator said when ready: torch version and device, e.g. `torch 1.13.0 (cpu)`. */
    readonly engine: string,
    /** The device it computes on: `cpu` or `cuda`. */
    readonly device: string,
  ) {}

  /** Starts the evaluator on a setup file and waits until it has loaded the checkpoint and data. */
  static async start(setupPath: string, o: TorchEvaluatorOptions = {}): Promise<TorchEvaluator> {
    const env = o.env ?? process.env;
    const report = o.report ?? torchReport(env);
    if (!report.python || !report.engineDir || report.problem) throw new TorchEvaluatorError(`torch engine unavailable: ${report.problem}`);
    const threads = o.threads !== undefined && Number.isInteger(o.threads) && o.threads > 0 ? o.threads : 0;
    const args = ['-m', 'alphanet_torch.evaluate', setupPath, '--device', o.device ?? 'auto', ...(threads ? ['--threads', String(threads)] : [])];
    const child = spawn(report.python, args, {
      env: { ...env, PYTHONPATH: [report.engineDir, env.PYTHONPATH].filter(Boolean).join(':'), ...(threads ? { OMP_NUM_THREADS: String(threads) } : {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const errTail = stderrTail();
    child.stderr.on('data', (d: Buffer) => errTail.add(d));
    // A write to a dead process must not crash the parent: the exit handler reports it.
    child.stdin.on('error', () => undefined);
    let onLine: (m: Record<string, unknown>) => void = () => undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        return; // not ours (a library printing to stdout)
      }
      if (m && typeof m === 'object') onLine(m as Record<string, unknown>);
    });
    let exitCb: (why: string) => void = () => undefined;
    const exited = new Promise<void>((resolve) => {
      child.on('error', (e) => {
        errTail.add(Buffer.from(`cannot start ${report.python}: ${e.message}\n`));
        exitCb('not started');
        resolve();
      });
      child.on('close', (code, signal) => {
        exitCb(signal ? `killed by ${signal}` : `exit code ${code}`);
        resolve();
      });
    });
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      onLine = (m) => {
        if (m.type === 'ready') resolve(m);
      };
      exitCb = (why) => reject(new TorchEvaluatorError(`torch evaluator could not start (${why}): ${lastLine(errTail) || 'no message'}`));
    });
    const device = String(ready.device).replace(/:\d+$/, '');
    const ev = new TorchEvaluator(child, errTail, exited, `torch ${String(ready.torch)} (${device})`, device);
    onLine = (m) => ev.answer(m);
    exitCb = (why) => ev.fail(new TorchEvaluatorError(`torch evaluator died (${why}): ${lastLine(errTail) || 'no message'}`));
    return ev;
  }

  /** Evaluates the genomes, answers in the same order; rejects with one line if any fails or the process dies. */
  evaluate(genomes: readonly Genome[]): Promise<TorchEvaluation[]> {
    return Promise.all(genomes.map((g) => this.request(g)));
  }

  private request(genome: Genome): Promise<TorchEvaluation> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<TorchEvaluation>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, genome })}\n`);
    });
  }

  private answer(m: Record<string, unknown>): void {
    const p = this.pending.get(m.id as number);
    if (!p) return;
    this.pending.delete(m.id as number);
    if (typeof m.error === 'string') p.reject(new TorchEvaluatorError(`torch evaluator: ${m.error}`));
    else p.resolve(m.result as TorchEvaluation);
  }

  private fail(e: TorchEvaluatorError): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /** Ends the process (stdin closed: it exits after the current request; killed if it has not within 10 s). */
  async close(): Promise<void> {
    this.failure ??= new TorchEvaluatorError('torch evaluator closed');
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** The end of the evaluator's stderr (for reports). */
  stderr(): string {
    return this.errTail.lastLines(5);
  }
}

function lastLine(t: ReturnType<typeof stderrTail>): string {
  return t.lastLines(1).trim();
}

/** What the cache stores of one answer of `alphanet_torch.evaluate` (the process's or a batch file's). */
export function computedOfTorch(genome: Genome, r: TorchEvaluation): ComputedEvaluation {
  return { genome, accuracy: r.accuracy, loss: r.loss, before: r.before, images: r.images, calibrationImages: r.calibration.images, ms: r.ms };
}

/**
 * The torch engine as a search's `SubnetCompute` (search/subnet-compute.ts): writes the setup for the loaded run's
 * pinned checkpoint and evaluation settings, starts the evaluator, and hands back the numbers the cache stores. Rows
 * it computes record `torch-cpu` or `torch-cuda` as their backend. One genome after another in one process
 * (concurrency 1): a GPU is busy with one subnet's calibration at a time anyway.
 */
export async function torchSubnetCompute(o: TorchEvalSetupOptions & TorchEvaluatorOptions): Promise<SubnetCompute> {
  const report = o.report ?? torchReport(o.env ?? process.env, { cache: torchProbeCacheFile(o.home) });
  const ev = await TorchEvaluator.start(writeTorchEvalSetup(o), { ...o, report });
  return {
    backend: `torch-${ev.device}`,
    concurrency: 1,
    async evaluateMany(genomes) {
      // Checked here first, so a bad genome is the workbench's own message naming the gene.
      const valid = genomes.map((g) => validateGenome(o.space, g));
      const res = await ev.evaluate(valid);
      return res.map((r, i) => computedOfTorch(valid[i], r));
    },
    dispose: () => ev.close(),
  };
}

/**
 * `torchSubnetCompute`, started at the first cache miss (`alphanet evaluate --engine torch`): a subnet the cache holds
 * costs no torch process. Its backend reads `torch` until the evaluator has said which device it computes on.
 */
export function lazyTorchSubnetCompute(o: TorchEvalSetupOptions & TorchEvaluatorOptions): SubnetCompute {
  let started: Promise<SubnetCompute> | undefined;
  let backend = 'torch';
  const start = () =>
    (started ??= torchSubnetCompute(o).then((c) => {
      backend = c.backend;
      return c;
    }));
  return {
    get backend() {
      return backend;
    },
    concurrency: 1,
    evaluateMany: async (genomes) => (await start()).evaluateMany(genomes),
    dispose: async () => {
      const c = await started?.catch(() => undefined);
      await c?.dispose();
    },
  };
}
