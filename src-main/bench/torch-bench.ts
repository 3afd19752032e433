/**
 * `bench --parts torch`: the overhead of tracking a torch run. The same small run (alphanet-cifar32 on the demo
 * dataset, 1 CPU rank, batch 32, `steps` steps, one checkpoint at the end) trained
 * - tracked: queued through `RunManager`, its runner process driving the trainer (jobs/torch-run.ts: setup checks,
 *   the run directory, tailing progress.jsonl into SQLite, control relay), timed from `enqueue` until the run's row
 *   says finished;
 * - by hand: the exact command the tracked run started (`torchTrainCommand`: same python, arguments, threads and
 *   environment, minus the parent-pid watch) on a copy of the tracked run's config.json and dataset/, timed from
 *   spawn to exit.
 * `repeats` pairs, in alternating order (tracked first in odd pairs, by hand first in even ones; a by-hand run uses the
 * inputs of the latest tracked run), medians compared: overhead = tracked / by hand − 1. The tracked time includes
 * what tracking costs and a user running by hand would have done once: the runner process's start, the Python/torch
 * probe (answered by the home's probe cache after the bench's own probe, as after `alphanet train`'s check), writing
 * the run directory (config, and the dataset bundle: gathered once per dataset, then linked). Each tracked run's
 * phases come from its start-up trace (jobs/startup-trace.ts).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoDataset } from '../data';
import { parseTrainConfig } from '../engine/core';
import { RunManager } from '../jobs/run-manager';
import { torchProbeCacheFile, torchReport } from '../jobs/python';
import { readTrace } from '../jobs/startup-trace';
import { torchTrainCommand } from '../jobs/torch-run';
import { openHomeDatabase } from '../store/db';
import { getRun } from '../store/runs';
import { median } from './stats';

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
  /** Per tracked run: milliseconds of each phase (TRACKED_PHASES), in the order run. */
  phasesMs: Record<string, number>[];
  /** The by-hand command line. */
  command: string;
  /** Wall time of the whole part, seconds. */
  totalSec: number;
}

/**
 * A tracked run's phases, from the trace's timestamps: `boot` enqueue → the runner's code loaded (fork, Node, the
 * runner bundle); `setup` → the torch driver called (start message, store, dataset row); `probe`; `bundle` (the run
 * directory's config and dataset); `spawn` → torchrun spawned; `torch` → torchrun exited (what the by-hand run times);
 * `finish` → the run's row final and the queue done with it.
 */
const TRACKED_PHASES: [string, string, string][] = [
  ['boot', 'enqueue', 'runnerLoaded'],
  ['setup', 'runnerLoaded', 'runTorch'],
  ['probe', 'runTorch', 'probed'],
  ['bundle', 'probed', 'bundled'],
  ['spawn', 'bundled', 'spawned'],
  ['torch', 'spawned', 'exited'],
  ['finish', 'exited', 'finished'],
];

/** Runs the part; undefined (with the reason on stderr) where no Python with torch is found. */
export async function runTorchBench(o: TorchBenchOptions = {}): Promise<TorchBenchResult | undefined> {
  const steps = o.steps ?? 30;
  const batch = o.batch ?? 32;
  const repeats = o.repeats ?? 3;
  const log = (s: string) => (o.verbose ?? true) && process.stderr.write(`  torch: ${s}\n`);
  const t0 = performance.now();
  const home = mkdtempSync(join(tmpdir(), 'bench-torch-'));
  // As `alphanet train --engine torch` checks before it queues (and caches the answer in the home). The probe also
  // loads torch's libraries into the page cache before anything is timed.
  const report = torchReport(process.env, { cache: torchProbeCacheFile(home) });
  if (!report.python || report.problem) {
    process.stderr.write(`torch part skipped: ${report.problem}\n`);
    rmSync(home, { recursive: true, force: true });
    return undefined;
  }
  const db = openHomeDatabase(home);
  const traceFile = join(home, 'startup-trace.txt');
  const saved = process.env.ALPHANET_STARTUP_TRACE;
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
    const phasesMs: Record<string, number>[] = [];
    let command = '';
    let lastRun: { id: number; cores?: number } | undefined;
    const tracked = async (i: number) => {
      writeFileSync(traceFile, '');
      process.env.ALPHANET_STARTUP_TRACE = traceFile; // the runner inherits it
      const a = performance.now();
      appendFileSync(traceFile, `enqueue ${Date.now()}\n`);
      const queued = await m.enqueue(config, { name: `tracked ${i + 1}` });
      const row = await m.waitFor(queued.id);
      appendFileSync(traceFile, `finished ${Date.now()}\n`);
      trackedSec.push((performance.now() - a) / 1000);
      if (row.status !== 'finished') throw new Error(`bench torch: tracked run ${row.id} ended ${row.status}: ${row.error}`);
      const t = readTrace(readFileSync(traceFile, 'utf8'));
      phasesMs.push(Object.fromEntries(TRACKED_PHASES.map(([name, from, to]) => [name, t[to] - t[from]])));
      lastRun = { id: row.id, cores: getRun(db, row.id).cores ?? undefined };
      log(`tracked run ${trackedSec.length}/${repeats}: ${trackedSec[trackedSec.length - 1].toFixed(2)} s (${TRACKED_PHASES.map(([name]) => `${name} ${phasesMs[phasesMs.length - 1][name]} ms`).join(', ')})`);
    };
    const byHand = async (i: number) => {
      if (saved === undefined) delete process.env.ALPHANET_STARTUP_TRACE;
      else process.env.ALPHANET_STARTUP_TRACE = saved;
      // The same inputs in a fresh directory, the same command.
      const runDir = join(home, 'runs', String(lastRun!.id));
      const dir = join(home, `by-hand-${i + 1}`);
      mkdirSync(dir);
      cpSync(join(runDir, 'config.json'), join(dir, 'config.json'));
      cpSync(join(runDir, 'dataset'), join(dir, 'dataset'), { recursive: true });
      const cmd = torchTrainCommand(config, dir, report, { resume: false, cores: lastRun!.cores, env: process.env });
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
      log(`by hand ${byHandSec.length}/${repeats}: ${byHandSec[byHandSec.length - 1].toFixed(2)} s`);
    };
    try {
      for (let i = 0; i < repeats; i++) {
        if (i % 2 === 0) {
          await tracked(i);
          await byHand(i);
        } else {
          await byHand(i);
          await tracked(i);
        }
      }
    } finally {
      if (saved === undefined) delete process.env.ALPHANET_STARTUP_TRACE;
      else process.env.ALPHANET_STARTUP_TRACE = saved;
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
      phasesMs,
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
    '| pair | order | tracked (s) | by hand (s) | tracked − by hand (s) |',
    '|---|---|---|---|---|',
    ...r.trackedSec.map((t, i) => `| ${i + 1} | ${i % 2 ? 'by hand first' : 'tracked first'} | ${f(t)} | ${f(r.byHandSec[i])} | ${f(t - r.byHandSec[i])} |`),
    `| median | | ${f(r.trackedMedianSec)} | ${f(r.byHandMedianSec)} | |`,
    '',
    `tracked runs' phases, ms (median; per run): ${TRACKED_PHASES.map(([name]) => `${name} ${median(r.phasesMs.map((p) => p[name])).toFixed(0)} (${r.phasesMs.map((p) => p[name]).join('/')})`).join(', ')}`,
    '',
    `tracking overhead: ${r.overheadPct >= 0 ? '+' : ''}${r.overheadPct.toFixed(1)} % (tracked median / by-hand median − 1; the goal is within 5 %)`,
    `this part took ${f(r.totalSec)} s`,
  ].join('\n');
}
