/**
 * `bench --parts torch`: the overhead of tracking a torch run. The same small run (alphanet-cifar32 on the demo
 * dataset, 1 CPU rank, batch 32, `steps` steps, one checkpoint at the end) trained
 * - tracked: queued through `RunManager`, its runner process driving the trainer (jobs/torch-run.ts: setup checks,
 *   the run directory, tailing progress.jsonl into SQLite, control relay), timed from `enqueue` until the run's row
 *   says finished;
 * - by hand: the exact command the tracked run started (`torchTrainCommand`: same python, arguments, threads and
 *   environment, minus the parent-pid watch) on a copy of the tracked run's config.json and dataset/, timed from
 *   spawn to exit.
 * Alternated `repeats` times (tracked first), medians compared: overhead = tracked / by hand − 1. The tracked time
 * includes what tracking costs and a user running by hand would have done once: the runner process's start, the
 * Python/torch probe, writing the run directory (config and the dataset's arrays).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoDataset } from '../data';
import { parseTrainConfig } from '../engine/core';
import { RunManager } from '../jobs/run-manager';
import { torchReport } from '../jobs/python';
import { torchTrainCommand } from '../jobs/torch-run';
import { openHomeDatabase } from '../store/db';
import { getRun } from '../store/runs';

export interface TorchBenchOptions {
  /** Training steps of each run (default 30). */
  steps?: number;
  /** Global batch (default 32). */
  batch?: number;
  /** Tracked / by-hand pairs (default 3). */
  repeats?: number;
  /** A line on stderr per run (default true). */
  verbose?: boolean;
}

export interface TorchBenchResult {
  torch: string;
  steps: number;
  batch: number;
  /** Seconds of each run, in the order run. */
  trackedSec: number[];
  byHandSec: number[];
  trackedMedianSec: number;
  byHandMedianSec: number;
  /** tracked median / by-hand median − 1, in percent. */
  overheadPct: number;
  /** The by-hand command line. */
  command: string;
  /** Wall time of the whole part, seconds. */
  totalSec: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs the part; undefined (with the reason on stderr) where no Python with torch is found. */
export async function runTorchBench(o: TorchBenchOptions = {}): Promise<TorchBenchResult | undefined> {
  const steps = o.steps ?? 30;
  const batch = o.batch ?? 32;
  const repeats = o.repeats ?? 3;
  const log = (s: string) => (o.verbose ?? true) && process.stderr.write(`  torch: ${s}\n`);
  const t0 = performance.now();
  // The probe also loads torch's libraries into the page cache before anything is timed.
  const report = torchReport();
  if (!report.python || report.problem) {
    process.stderr.write(`torch part skipped: ${report.problem}\n`);
    return undefined;
  }
  const home = mkdtempSync(join(tmpdir(), 'bench-torch-'));
  const db = openHomeDatabase(home);
  // One core for jobs: the run gets one thread (more OpenMP threads than free cores collapse, docs/BENCHMARKS.md),
  // and the by-hand command below inherits the same `--threads`.
  const m = new RunManager({ home, db, cores: 1 });
  try {
    await ensureDemoDataset(home, db);
    const config = parseTrainConfig({
      space: 'alphanet-cifar32',
      dataset: 'demo',
      engine: 'torch',
      ranks: 1,
      batchSize: batch,
      epochs: 1,
      stepsPerEpoch: steps,
      validation: { calibrationBatches: 1, calibrationBatchSize: batch, randomSubnets: 0, batchSize: 256, maxImages: 256 },
      checkpoint: { everySteps: steps, keepLast: 1 },
    });
    const trackedSec: number[] = [];
    const byHandSec: number[] = [];
    let command = '';
    for (let i = 0; i < repeats; i++) {
      const a = performance.now();
      const queued = await m.enqueue(config, { name: `tracked ${i + 1}` });
      const row = await m.waitFor(queued.id);
      if (row.status !== 'finished') throw new Error(`bench torch: tracked run ${row.id} ended ${row.status}: ${row.error}`);
      trackedSec.push((performance.now() - a) / 1000);
      log(`tracked run ${i + 1}/${repeats}: ${trackedSec[i].toFixed(2)} s`);

      // By hand: the same inputs in a fresh directory, the same command.
      const runDir = join(home, 'runs', String(row.id));
      const dir = join(home, `by-hand-${i + 1}`);
      mkdirSync(dir);
      cpSync(join(runDir, 'config.json'), join(dir, 'config.json'));
      cpSync(join(runDir, 'dataset'), join(dir, 'dataset'), { recursive: true });
      const cmd = torchTrainCommand(config, dir, report, { resume: false, cores: getRun(db, row.id).cores ?? undefined, env: process.env });
      command = `${cmd.python} ${cmd.args.join(' ')}`;
      const b = performance.now();
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(cmd.python, cmd.args, { cwd: dir, env: cmd.env, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
        child.on('error', reject);
        child.on('exit', (c) => (c === 0 ? resolve(c) : reject(new Error(`bench torch: by-hand run exited ${c}: ${err.trim().split('\n').pop()}`))));
      });
      byHandSec.push((performance.now() - b) / 1000);
      const done = readFileSync(join(dir, 'progress.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string }).find((l) => l.type === 'done');
      if (code !== 0 || done?.status !== 'finished') throw new Error(`bench torch: the by-hand run ended ${done?.status ?? 'without a done line'}`);
      log(`by hand ${i + 1}/${repeats}: ${byHandSec[i].toFixed(2)} s`);
    }
    const trackedMedianSec = median(trackedSec);
    const byHandMedianSec = median(byHandSec);
    return {
      torch: `${report.torch} (${report.python})`,
      steps,
      batch,
      trackedSec,
      byHandSec,
      trackedMedianSec,
      byHandMedianSec,
      overheadPct: (trackedMedianSec / byHandMedianSec - 1) * 100,
      command,
      totalSec: (performance.now() - t0) / 1000,
    };
  } finally {
    m.close();
    db.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export function formatTorchBench(r: TorchBenchResult): string {
  const f = (x: number) => x.toFixed(2);
  return [
    `torch ${r.torch}; alphanet-cifar32, demo dataset, 1 CPU rank, batch ${r.batch}, ${r.steps} steps, one checkpoint`,
    `by hand: ${r.command}`,
    '',
    '| run | tracked (s) | by hand (s) |',
    '|---|---|---|',
    ...r.trackedSec.map((t, i) => `| ${i + 1} | ${f(t)} | ${f(r.byHandSec[i])} |`),
    `| median | ${f(r.trackedMedianSec)} | ${f(r.byHandMedianSec)} |`,
    '',
    `tracking overhead: ${r.overheadPct >= 0 ? '+' : ''}${r.overheadPct.toFixed(1)} % (tracked median / by-hand median − 1; the goal is within 5 %)`,
    `this part took ${f(r.totalSec)} s`,
  ].join('\n');
}
