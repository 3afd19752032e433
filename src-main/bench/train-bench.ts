/**
 * Trainer throughput against the bare sandwich step (the full trainer — metrics, events, checkpoints,
 * progress — should keep ≥ 90 % of its throughput).
 *
 * - bare: the engine benchmark's sandwich step — `sandwichGradients` of max + 2 random + min on one fixed random
 *   batch, gradients disposed; no data, no optimizer, no bookkeeping;
 * - trainer: `Trainer` on the demo dataset (real loader with augmentation), with clipping, the NaN guard's checks,
 *   the optimizer, progress messages, metrics batched into SQLite and a checkpoint every `checkpointEvery` steps
 *   (default 5, ten times the default config's rate, so the number is conservative). Timed from the end of its first
 *   step to the end of its last, so start-up and the end-of-run validation are not in it.
 * Both run in this process, one after the other, on the same backend and space. With `workers` N > 1 both use the
 * same data-parallel pool (train/data-parallel.ts): this thread plus N − 1 worker threads, each on an equal shard.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  Rng,
  Supernet,
  createOps,
  getSpace,
  initBackend,
  sandwichGradients,
  sandwichMembers,
  type BackendChoice,
  parseTrainConfig,
} from '../engine';
import { ensureDemoDataset } from '../data';
import { openHomeDatabase } from '../store/db';
import { createRun, listCheckpoints } from '../store/runs';
import { datasetSource } from '../train/dataset-source';
import { Trainer } from '../train/trainer';
import { DataParallel, trainWorkerPath, type StepTiming } from '../train/data-parallel';
import { wasmHeapBytes } from '../train/shard-worker';
import { processCpuMs, threadSchedstat } from '../worker-thread';

export interface TrainBenchOptions {
  /** Default `wasm`. */
  backend?: BackendChoice;
  /** Default `alphanet-cifar32`. */
  space?: string;
  /** Images per step (default 64). */
  batch?: number;
  /** Timed steps of each variant after one warm-up step (default 6). */
  steps?: number;
  /** Trainer checkpoint interval in steps (default 5). */
  checkpointEvery?: number;
  /** Data-parallel workers, this thread included (default 1). */
  workers?: number;
  /** Progress line on stderr per measured step (default true). */
  verbose?: boolean;
}

export interface TrainBenchResult {
  backend: string;
  space: string;
  batch: number;
  steps: number;
  workers: number;
  /** Peak memory of each worker (this thread first): its WASM heap's size, which only grows; MiB. */
  peakMiB: number[];
  /** Median ms of a bare sandwich step, and its images/s. */
  bareStepMs: number;
  bareImagesPerSec: number;
  /** N > 1: the median of each phase of the bare data-parallel step (train/data-parallel.ts `StepTiming`). */
  barePhases?: StepTiming;
  /** One worker: medians of the step's CPU time on this thread, its time runnable but waiting, and the process's CPU (Linux). */
  bareSched?: { cpuMs: number; waitMs: number; processCpuMs: number };
  /** Trainer images/s over its timed steps (data, optimizer, logging, checkpoints included). */
  trainerImagesPerSec: number;
  /** trainerImagesPerSec / bareImagesPerSec (goal ≥ 0.9). Compares two measurements taken one after the other, so
   * on a busy machine it carries the load's drift; `sandwichShare` does not. */
  ratio: number;
  /**
   * Within the trainer's own timed steps: time in the engine's sandwich step / total wall time. The share of the
   * trainer's time that is the bare step, i.e. the throughput it keeps, measured on the same steps (goal ≥ 0.9).
   */
  sandwichShare: number;
  /** SQLite metric writes as a share of the trainer's step time (goal < 0.02). */
  persistShare: number;
  /** Mean ms per checkpoint and the file size in MiB. */
  checkpointMs: number;
  checkpointMiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ms1 = (x: number) => Number(x.toFixed(1));

/** Per phase, the median over steps (each worker's phases likewise). */
export function medianTiming(ts: StepTiming[]): StepTiming {
  const m = (f: (t: StepTiming) => number) => ms1(median(ts.map(f)));
  return {
    publishMs: m((t) => t.publishMs),
    ownMs: m((t) => t.ownMs),
    waitMs: m((t) => t.waitMs),
    averageMs: m((t) => t.averageMs),
    ownCpuMs: m((t) => t.ownCpuMs),
    ownWaitMs: m((t) => t.ownWaitMs),
    processCpuMs: m((t) => t.processCpuMs),
    workers: ts[0].workers.map((_, w) => ({
      loadMs: m((t) => t.workers[w].loadMs),
      computeMs: m((t) => t.workers[w].computeMs),
      writeMs: m((t) => t.workers[w].writeMs),
      computeCpuMs: m((t) => t.workers[w].computeCpuMs),
      computeWaitMs: m((t) => t.workers[w].computeWaitMs),
    })),
  };
}

export function formatStepTiming(t: StepTiming): string {
  const r = Math.round;
  const w = t.workers.map((x, i) => `worker ${i + 1}: load ${r(x.loadMs)}, compute ${r(x.computeMs)} (cpu ${r(x.computeCpuMs)}, runnable ${r(x.computeWaitMs)}), write ${r(x.writeMs)}`);
  return [
    `publish ${r(t.publishMs)}, own shard ${r(t.ownMs)} (cpu ${r(t.ownCpuMs)}, runnable ${r(t.ownWaitMs)}), wait ${r(t.waitMs)}, average ${r(t.averageMs)}, process cpu ${r(t.processCpuMs)}`,
    ...w,
  ].join('; ');
}

export async function benchTrainer(o: TrainBenchOptions = {}): Promise<TrainBenchResult> {
  const backend = o.backend ?? 'wasm';
  const report = await initBackend({ force: backend });
  const spaceId = o.space ?? 'alphanet-cifar32';
  const space = getSpace(spaceId);
  const batch = o.batch ?? 64;
  const steps = o.steps ?? 6;
  const log = (s: string) => (o.verbose ?? true) && process.stderr.write(`  train-bench ${s}\n`);
  const ops = createOps(report.opsMode);
  const workers = o.workers ?? 1;
  const peak: number[] = [];
  const startPool = (n: Supernet) =>
    DataParallel.start({ workers, workerPath: trainWorkerPath(), net: n, space, backend: report.chosen, opsMode: report.opsMode });
  const notePeak = (pool?: DataParallel) => {
    peak[0] = Math.max(peak[0] ?? 0, wasmHeapBytes() ?? 0);
    for (const w of pool?.stats ?? []) peak[w.shard] = Math.max(peak[w.shard] ?? 0, w.peakBytes);
  };

  // Bare sandwich step (the same pool of workers when N > 1).
  const net = new Supernet({ space, ops, seed: 0 });
  const barePool = workers > 1 ? await startPool(net) : undefined;
  const res = space.resolutions[space.resolutions.length - 1];
  const x = tf.randomNormal([batch, res, res, space.inputChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % space.numClasses), 'int32');
  // Members and drop masks from separate streams: masks draw per element with one worker but once per step with N, so
  // one shared stream would give every worker count a different sequence of members, and random subnets' costs
  // differ several-fold — the step times would compare different work.
  const memberRng = new Rng(0);
  const maskRng = new Rng(1);
  const ms: number[] = [];
  const phases: StepTiming[] = [];
  const sched: { cpuMs: number; waitMs: number; processCpuMs: number }[] = [];
  for (let i = 0; i <= steps; i++) {
    const t0 = performance.now();
    const s0 = threadSchedstat();
    const p0 = processCpuMs();
    const members = sandwichMembers(space, memberRng, 4, true);
    const opts = { distillation: { kind: 'adaptive-alpha' as const, alphaMin: -1, alphaMax: 1, clip: 5 }, regularize: { dropout: 0.2, dropConnect: 0.2, rng: maskRng } };
    const r = barePool ? await barePool.gradients(net, x, labels, members, opts) : sandwichGradients(net, x, labels, members, opts);
    tf.dispose([...r.grads.values()]);
    if (i > 0) ms.push(performance.now() - t0); // step 0 warms up kernels and the WASM heap
    const t = barePool?.lastTiming;
    if (t && i > 0) phases.push(t);
    const s1 = threadSchedstat();
    const p1 = processCpuMs();
    // One worker: this thread's time on a CPU and waiting for one, and the whole process's CPU (GC threads included).
    const one = !barePool && s0 && s1 ? { cpuMs: s1.cpuMs - s0.cpuMs, waitMs: s1.waitMs - s0.waitMs, processCpuMs: p1 - p0 } : undefined;
    if (one && i > 0) sched.push(one);
    const oneText = one ? ` (cpu ${Math.round(one.cpuMs)}, runnable ${Math.round(one.waitMs)}, process cpu ${Math.round(one.processCpuMs)})` : '';
    log(`bare step ${i}: ${Math.round(performance.now() - t0)} ms${t ? ` (${formatStepTiming(t)})` : oneText}`);
  }
  tf.dispose([x, labels]);
  notePeak(barePool);
  await barePool?.close();
  net.dispose();
  const bareStepMs = median(ms);

  // The full trainer on the demo dataset.
  const home = mkdtempSync(join(tmpdir(), 'alphanet-train-bench-'));
  const db = openHomeDatabase(home);
  try {
    const info = await ensureDemoDataset(home, db);
    const config = parseTrainConfig({
      space: spaceId,
      dataset: info.name,
      epochs: 1,
      batchSize: batch,
      stepsPerEpoch: steps + 1,
      progressEverySteps: 1,
      checkpoint: { everySteps: o.checkpointEvery ?? 5, keepLast: 2 },
      validation: { calibrationBatches: 1, calibrationBatchSize: batch, randomSubnets: 0, maxImages: batch },
    });
    const run = createRun(db, { name: 'bench', config, spaceId, datasetId: info.id, datasetName: info.name, seed: 0, appVersion: 'bench' });
    const times: number[] = [];
    let sandwichAtFirst = 0;
    const trainer = new Trainer({
      db,
      runId: run.id,
      runDir: join(home, 'runs', String(run.id)),
      config,
      data: datasetSource(home, info, { batchSize: batch, seed: 0, augment: true }),
      ops,
      resume: false,
      onProgress: (p) => {
        times.push(performance.now());
        if (times.length === 1) sandwichAtFirst = trainer.timingSoFar.sandwichMs;
        log(`trainer step ${p.step}: ${times.length > 1 ? Math.round(times[times.length - 1] - times[times.length - 2]) : '–'} ms`);
      },
    });
    if (workers > 1) trainer.parallel = await startPool(trainer.net);
    let out;
    try {
      out = await trainer.run();
      notePeak(trainer.parallel);
    } finally {
      await trainer.parallel?.close();
    }
    const sandwichAtLast = out.sandwichMs; // no step after the last progress message
    trainer.dispose();
    const trainerImagesPerSec = (batch * (times.length - 1) * 1000) / (times[times.length - 1] - times[0]);
    const bareImagesPerSec = (batch * 1000) / bareStepMs;
    const ckRow = listCheckpoints(db, run.id)[0]; // the newest
    return {
      backend: report.chosen,
      space: spaceId,
      batch,
      steps,
      workers,
      peakMiB: peak.map((b) => Math.round(b / 2 ** 20)),
      bareStepMs: Math.round(bareStepMs),
      bareImagesPerSec: Number(bareImagesPerSec.toFixed(2)),
      ...(phases.length ? { barePhases: medianTiming(phases) } : {}),
      ...(sched.length
        ? { bareSched: { cpuMs: ms1(median(sched.map((x) => x.cpuMs))), waitMs: ms1(median(sched.map((x) => x.waitMs))), processCpuMs: ms1(median(sched.map((x) => x.processCpuMs))) } }
        : {}),
      trainerImagesPerSec: Number(trainerImagesPerSec.toFixed(2)),
      ratio: Number((trainerImagesPerSec / bareImagesPerSec).toFixed(3)),
      sandwichShare: Number(((sandwichAtLast - sandwichAtFirst) / (times[times.length - 1] - times[0])).toFixed(3)),
      persistShare: Number((out.persistMs / out.stepMs).toFixed(5)),
      checkpointMs: Math.round(out.checkpointMs / Math.max(1, out.checkpoints)),
      checkpointMiB: Number((ckRow.bytes / 2 ** 20).toFixed(2)),
    };
  } finally {
    db.close();
    rmSync(home, { recursive: true, force: true });
  }
}
