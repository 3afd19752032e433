/**
 * `bench --parts torch-cpu`: the torch engine's sandwich step on this machine's CPU, with glibc's malloc as it comes
 * (`default`) and as the engine sets it (`tuned`: engines/torch/alphanet_torch/malloc.py), by
 * `engines/torch/bench_cpu.py`: the real trainer, 1 rank with 1 thread, random images at the space's largest
 * resolution, `steps` steps; the two settings alternate, `rounds` runs each, so the machine's drift falls on both.
 * With `valImages`, each run ends with one validation as a run's epoch does (BN recalibration on 16 batches of 64, then
 * the min, max and 2 random subnets at batch 256 on that many images). Per setting the medians of the runs' median
 * step time, validation time, CPU seconds (user, system) and minor page faults.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { torchReport } from '../jobs/python';
import { stderrTail } from '../jobs/runner-process';
import { median } from './stats';

export interface TorchCpuBenchOptions {
  /** Search space (default alphanet-cifar32). */
  space?: string;
  /** Training steps of each run, the first two not timed (default 40). */
  steps?: number;
  /** Images per step (default 64). */
  batch?: number;
  /** Runs of each setting (default 3). */
  rounds?: number;
  /** Validation images at the end of each run (default 2560; 0: no validation). */
  valImages?: number;
  /** bench_cpu.py's lines on stderr (default true). */
  verbose?: boolean;
}

/** One run, as bench_cpu.py prints it. */
export interface TorchCpuRun {
  malloc: 'default' | 'tuned';
  round: number;
  medianStepMs: number;
  medianImagesPerSec: number;
  /** CPU seconds of the trainer process, start-up included. */
  userS: number;
  systemS: number;
  minorFaults: number;
  /** 1-minute load average when the run ended. */
  load: number;
  /** Seconds of the end-of-run validation; null without one. */
  validationS: number | null;
}

export interface TorchCpuSetting {
  stepMs: number;
  validationS: number | null;
  userS: number;
  systemS: number;
  minorFaults: number;
}

export interface TorchCpuBenchResult {
  torch: string;
  space: string;
  steps: number;
  batch: number;
  valImages: number;
  runs: TorchCpuRun[];
  default: TorchCpuSetting;
  tuned: TorchCpuSetting;
  /** default step / tuned step (median of medians). */
  speedup: number;
  totalSec: number;
}

/** The medians of one setting's runs. */
export function settingMedians(runs: readonly TorchCpuRun[], malloc: TorchCpuRun['malloc']): TorchCpuSetting {
  const of = runs.filter((r) => r.malloc === malloc);
  if (!of.length) throw new Error(`torch-cpu: no run with malloc ${malloc}`);
  return {
    stepMs: median(of.map((r) => r.medianStepMs)),
    validationS: of.every((r) => r.validationS !== null) ? median(of.map((r) => r.validationS!)) : null,
    userS: median(of.map((r) => r.userS)),
    systemS: median(of.map((r) => r.systemS)),
    minorFaults: median(of.map((r) => r.minorFaults)),
  };
}

/** Runs the part; undefined (with the reason on stderr) where no Python with torch is found. */
export async function runTorchCpuBench(o: TorchCpuBenchOptions = {}): Promise<TorchCpuBenchResult | undefined> {
  const space = o.space ?? 'alphanet-cifar32';
  const steps = o.steps ?? 40;
  const batch = o.batch ?? 64;
  const rounds = o.rounds ?? 3;
  const valImages = o.valImages ?? 2560;
  const t0 = performance.now();
  const report = torchReport(process.env);
  if (!report.python || report.problem || !report.engineDir) {
    process.stderr.write(`torch-cpu part skipped: ${report.problem ?? 'no torch engine directory'}\n`);
    return undefined;
  }
  const args = [join(report.engineDir, 'bench_cpu.py'), '--space', space, '--steps', String(steps), '--batch', String(batch),
    '--ranks', '1', '--threads-per-rank', '1', '--malloc', 'default,tuned', '--rounds', String(rounds), '--val-images', String(valImages)];
  const runs: TorchCpuRun[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(report.python!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const err = stderrTail();
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.trim()) return;
      let r: TorchCpuRun;
      try {
        r = JSON.parse(line) as TorchCpuRun;
      } catch {
        child.kill();
        reject(new Error(`bench_cpu.py printed a line that is not a result: ${line.slice(0, 200)}`));
        return;
      }
      runs.push(r);
      if (o.verbose ?? true) process.stderr.write(`  torch-cpu: ${r.malloc} round ${r.round}: ${r.medianStepMs.toFixed(0)} ms/step${r.validationS === null ? '' : `, validation ${r.validationS.toFixed(1)} s`}, ${r.minorFaults} faults\n`);
    });
    child.stderr.on('data', err.add);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`bench_cpu.py exited ${code}: ${err.lastLines(3).replace(/\n/g, ' | ')}`))));
  });
  const d = settingMedians(runs, 'default');
  const t = settingMedians(runs, 'tuned');
  return { torch: `${report.torch} (${report.python})`, space, steps, batch, valImages, runs, default: d, tuned: t, speedup: d.stepMs / t.stepMs, totalSec: (performance.now() - t0) / 1000 };
}

export function formatTorchCpuBench(r: TorchCpuBenchResult): string {
  const row = (name: string, s: TorchCpuSetting) =>
    `| ${name} | ${s.stepMs.toFixed(0)} | ${(r.batch / s.stepMs * 1000).toFixed(1)} | ${s.validationS === null ? '–' : s.validationS.toFixed(1)} | ${s.userS.toFixed(1)} | ${s.systemS.toFixed(1)} | ${Math.round(s.minorFaults)} |`;
  return [
    `torch ${r.torch}; ${r.space}, random images, 1 CPU rank × 1 thread, batch ${r.batch}, ${r.steps} steps (2 untimed), ${r.valImages ? `then validation on ${r.valImages} images` : 'no validation'}, ${r.runs.length / 2} run${r.runs.length === 2 ? '' : 's'} per setting, alternating`,
    '',
    '| malloc | step, ms (median) | images/s | validation, s | user CPU s | system CPU s | minor page faults |',
    '|---|---|---|---|---|---|---|',
    row('glibc default', r.default),
    row('tuned (malloc.py)', r.tuned),
    '',
    `per run (ms/step): ${r.runs.map((x) => `${x.malloc} ${x.medianStepMs.toFixed(0)}`).join(', ')}; load average ${Math.min(...r.runs.map((x) => x.load)).toFixed(1)}–${Math.max(...r.runs.map((x) => x.load)).toFixed(1)}`,
    `speed-up of the tuning: ${r.speedup.toFixed(2)}× on the step (default / tuned)${r.default.validationS && r.tuned.validationS ? `, ${(r.default.validationS / r.tuned.validationS).toFixed(2)}× on the validation` : ''}`,
    `this part took ${r.totalSec.toFixed(0)} s`,
  ].join('\n');
}
