/**
 * The training loop (METHOD.md §2), meant to be read top to bottom: `Trainer.run()` is the whole story, the methods below
 * it are its steps. Per step:
 *   1. sample the sandwich members with the run's RNG (max, random…, min);
 *   2. summed gradients of all members on one batch (engine `sandwichGradients`);
 *   3. NaN guard: a non-finite loss or gradient entry rolls back to the last good checkpoint and lowers the LR (or
 *      fails the run, per config);
 *   4. clip every gradient entry to [−c, c], then the Nesterov SGD step (weight decay added after clipping);
 *   5. the LR for the next step comes from the per-iteration warmup-cosine schedule.
 * Around the steps: progress messages, batched metric writes, checkpoints, pause/cancel between steps, and after each
 * epoch BN-calibrated validation of the min, max and a few fixed random subnets.
 *
 * Every tensor of a step lives inside `tf.tidy` or is disposed explicitly; the tensor count is flat across steps
 * (a test checks it).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  Rng,
  Supernet,
  calibrateBn,
  genomeId,
  maxGenome,
  minGenome,
  randomGenome,
  sandwichGradients,
  sandwichMembers,
  subnetCost,
  type ForwardOptions,
  batchMetrics,
  type Genome,
  type SandwichMember,
  type SearchSpace,
  type SupernetOps,
  resetStats,
  baseLr,
  distillationAt,
  configSpace,
  type TrainConfig,
  CheckpointError,
  readCheckpointFile,
  writeCheckpointFile,
  type TrainState,
} from '../engine';
import type { Db } from '../store/db';
import {
  addRunEvent,
  deleteStepMetricsAfter,
  deleteCheckpointRow,
  getRun,
  insertCheckpoint,
  insertEpochMetrics,
  insertStepMetrics,
  listCheckpoints,
  now,
  updateRunProgress,
  type RunEventKind,
  type StepMetric,
} from '../store/runs';
import { describeFsError } from '../fs-errors';
import type { Batch, BatchStream, TrainingData } from './data-source';
import type { DataParallel } from './data-parallel';
import type { EpochReport, Progress } from './progress';
import { NesterovSgd, clipGradients } from './optimizer';
import { learningRate, type LrSchedule } from './schedule';

export class TrainingError extends Error {
  override name = 'TrainingError';
}

export interface TrainerOptions {
  db: Db;
  runId: number;
  /** Checkpoints go to `<runDir>/checkpoints/`. */
  runDir: string;
  config: TrainConfig;
  data: TrainingData;
  ops: SupernetOps;
  /** Continue from the newest good checkpoint (a fresh run starts from step 0 and writes a step-0 checkpoint). */
  resume: boolean;
  /** Called between steps: a requested pause or cancel, if any. */
  control?: () => 'pause' | 'cancel' | null;
  onProgress?: (p: Progress) => void;
  onEpoch?: (e: EpochReport) => void;
  onEvent?: (e: { kind: RunEventKind; message: string; step?: number }) => void;
}

export interface TrainOutcome {
  status: 'finished' | 'paused' | 'cancelled';
  step: number;
  /** Wall time inside training steps (data, forward/backward, optimizer), ms. */
  stepMs: number;
  /** Wall time writing step metrics and progress to SQLite, ms. */
  persistMs: number;
  /** Images trained on in this process. */
  images: number;
  /** Wall time inside the engine's sandwich step (forward + backward of all members), ms: the rest is overhead. */
  sandwichMs: number;
  /** Wall time writing checkpoints (export, encode, hash, fsync, rename, record), ms, and how many. */
  checkpointMs: number;
  checkpoints: number;
}

/** A named subnet that is validated after each epoch. */
export interface ValSubnet {
  name: string;
  genome: Genome;
}

/**
 * The subnets every validation of a run measures: `min`, `max`, then `random-1` … `random-n` drawn from a stream of
 * their own, `new Rng(seed + 0xa11)`, so they are the same in every epoch and after a resume. The PyTorch engine
 * draws the same ones (engines/torch/alphanet_torch/rng.py ports this Rng; test/fixtures/validation-subnets.json
 * holds both engines to it), so the engines' random subnets of a seed are one architecture, not two.
 */
export function validationSubnets(space: SearchSpace, seed: number, n: number): ValSubnet[] {
  const rng = new Rng(seed + 0xa11);
  return [
    { name: 'min', genome: minGenome(space) },
    { name: 'max', genome: maxGenome(space) },
    ...Array.from({ length: n }, (_, i) => ({ name: `random-${i + 1}`, genome: randomGenome(space, rng) })),
  ];
}

/** Tag of the subnet-sampling stream: `Rng.fromSeeds(seed, SAMPLING_STREAM)`, apart from the weights' `new Rng(seed)`. */
const SAMPLING_STREAM = 0x5a;

export class Trainer {
  readonly space: SearchSpace;
  readonly net: Supernet;
  readonly optimizer: NesterovSgd;
  readonly config: TrainConfig;
  /**
   * Data-parallel workers (data-parallel.ts): each step's gradients are the mean over equal shards of the batch, one
   * per worker. Unset: the whole batch on this thread. Whoever sets it (after construction: the pool copies this
   * trainer's supernet layout) starts and closes it.
   */
  parallel?: DataParallel;
  private readonly o: TrainerOptions;
  private readonly schedule: LrSchedule;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  private state: TrainState;
  private samplingRng: Rng;
  private regularizeRng: Rng;
  private readonly valSubnets: ValSubnet[];
  private readonly firedNan = new Set<number>();
  private readonly firedWorkerExit = new Set<number>();
  private metricBuffer: StepMetric[] = [];
  private lastFlush = performance.now();
  private lastCheckpointStep = -1;
  private nonFinite = 0;
  private timing = { stepMs: 0, persistMs: 0, images: 0, sandwichMs: 0, checkpointMs: 0, checkpoints: 0 };
  private window = { t0: performance.now(), images: 0, steps: 0, clipped: 0, entries: 0, alpha: [] as number[] };

  constructor(o: TrainerOptions) {
    this.o = o;
    this.config = o.config;
    this.space = configSpace(o.config);
    if (this.space.inputChannels !== o.data.channels) {
      throw new TrainingError(`space '${this.space.id}' expects ${this.space.inputChannels}-channel images, dataset '${o.data.name}' has ${o.data.channels}`);
    }
    this.stepsPerEpoch = Math.min(o.data.trainBatchesPerEpoch, o.config.stepsPerEpoch ?? Infinity);
    if (this.stepsPerEpoch < 1) {
      throw new TrainingError(`dataset '${o.data.name}' has fewer training images than one batch of ${o.config.batchSize}`);
    }
    this.totalSteps = this.stepsPerEpoch * o.config.epochs;
    this.schedule = {
      base: baseLr(o.config),
      totalSteps: this.totalSteps,
      warmupSteps: Math.round(o.config.optimizer.warmupEpochs * this.stepsPerEpoch),
      warmupStartFactor: o.config.optimizer.warmupStartFactor,
    };
    this.net = new Supernet({ space: this.space, ops: o.ops, numClasses: o.data.numClasses, seed: o.config.seed });
    this.optimizer = new NesterovSgd({
      momentum: o.config.optimizer.momentum,
      nesterov: o.config.optimizer.nesterov,
      weightDecay: o.config.optimizer.weightDecay,
    });
    // Streams of their own: changing the dropout settings does not change which subnets are sampled, and the sampled
    // subnets are not drawn from the initialisation's stream (`new Rng(seed)` in the Supernet). Until 2026-12-07 the
    // sampling stream was `new Rng(seed)` too, so the uniforms that picked the subnets were the initial weights' draws
    // (docs/FIDELITY.md, "Doubling the peak learning rate"); a checkpoint carries its stream's state, so runs begun
    // before then resume on their own stream.
    this.samplingRng = Rng.fromSeeds(o.config.seed, SAMPLING_STREAM);
    this.regularizeRng = new Rng(o.config.seed + 0x5eed);
    this.state = { step: 0, epoch: 0, batch: 0, rng: { sampling: this.samplingRng.state(), regularize: this.regularizeRng.state() }, lrScale: 1, rollbacks: 0 };
    this.valSubnets = validationSubnets(this.space, o.config.seed, o.config.validation.randomSubnets);
    mkdirSync(this.checkpointDir, { recursive: true });
    // A process killed while writing a checkpoint leaves its temporary file; the renamed ones are complete.
    for (const f of readdirSync(this.checkpointDir)) if (f.startsWith('.') && f.includes('.tmp-')) rmSync(join(this.checkpointDir, f), { force: true });
  }

  /** Data-parallel workers training each step (1: this thread alone). */
  get workers(): number {
    return this.parallel?.workers ?? 1;
  }

  get checkpointDir(): string {
    return join(this.o.runDir, 'checkpoints');
  }

  /** The whole run. */
  async run(): Promise<TrainOutcome> {
    const c = this.config;
    // The step the run had reached (its last progress write), before the checkpoint rewinds it: after a crash the two
    // differ, and the steps between them are trained again. Said once, here (the CLI used to announce the progress
    // step as where training resumes, which was wrong after a crash).
    const reached = this.o.resume ? getRun(this.o.db, this.o.runId).step : 0;
    if (this.o.resume) await this.restoreLatest('resume');
    else await this.checkpoint(); // step 0: the NaN guard always has something to roll back to
    const on = this.workers > 1 ? ` on ${this.workers} workers` : '';
    const redone = reached - this.state.step;
    const again = redone > 0 ? `; steps ${this.state.step + 1}–${reached} are trained again` : '';
    this.event(this.o.resume ? 'resume' : 'start', this.o.resume ? `resumed at step ${this.state.step} (its newest good checkpoint)${again}${on}` : `started: ${this.totalSteps} steps${on}`);
    this.window.t0 = performance.now();

    while (this.state.epoch < c.epochs) {
      const outcome = await this.trainEpoch();
      if (outcome === 'rollback') continue; // state was restored from a checkpoint; reopen the data there
      if (outcome !== 'epoch-done') {
        this.flushMetrics();
        if (outcome === 'pause') {
          if (this.lastCheckpointStep !== this.state.step) await this.checkpoint();
          this.event('pause', `paused at step ${this.state.step}`);
          return this.outcome('paused');
        }
        this.event('cancel', `cancelled at step ${this.state.step}`);
        return this.outcome('cancelled');
      }
      const metric = this.isValidationEpoch(this.state.epoch) ? await this.validate() : undefined;
      this.state = { ...this.state, epoch: this.state.epoch + 1, batch: 0, metric };
      this.flushMetrics();
      await this.checkpoint();
      this.state = { ...this.state, metric: undefined }; // the score belongs to the epoch-end checkpoint only
    }
    const done = this.outcome('finished');
    // One finish event, with the share of step time spent writing metrics (the goal is < 2 %, docs/BENCHMARKS.md).
    const persistShare = done.stepMs > 0 ? done.persistMs / done.stepMs : 0;
    this.event('finish', `finished: ${done.step} steps; metrics persistence ${(100 * persistShare).toFixed(2)} % of step time`, done.step, {
      persistMs: done.persistMs,
      stepMs: done.stepMs,
      images: done.images,
    });
    return done;
  }

  /** Trains from the current position to the end of the epoch, or until a pause, cancel or NaN rollback. */
  private async trainEpoch(): Promise<'epoch-done' | 'pause' | 'cancel' | 'rollback'> {
    if (this.state.batch >= this.stepsPerEpoch) return 'epoch-done'; // resumed from a checkpoint at the epoch's end
    const stream: BatchStream = this.o.data.train(this.state.epoch, this.state.batch);
    try {
      for await (const batch of stream) {
        const request = this.o.control?.() ?? null;
        if (request) {
          tf.dispose([batch.x, batch.y]);
          return request;
        }
        const ok = await this.step(batch);
        if (!ok) {
          if (this.config.nan.policy === 'stop') throw new TrainingError(`non-finite loss or gradient at step ${this.state.step + 1}; stopping (nan.policy = stop)`);
          await this.rollback();
          return 'rollback';
        }
        if (this.state.step % this.config.checkpoint.everySteps === 0) {
          this.flushMetrics();
          await this.checkpoint();
        }
        if (this.state.batch >= this.stepsPerEpoch) return 'epoch-done';
      }
    } finally {
      stream.close();
    }
    if (this.state.batch < this.stepsPerEpoch) {
      throw new TrainingError(`the training data ended after ${this.state.batch} of ${this.stepsPerEpoch} batches in epoch ${this.state.epoch + 1}`);
    }
    return 'epoch-done';
  }

  /** One optimizer step on one batch. Returns false (and changes nothing) when a loss or gradient is non-finite. */
  private async step(batch: Batch): Promise<boolean> {
    const t0 = performance.now();
    const c = this.config;
    const members: SandwichMember[] = sandwichMembers(this.space, this.samplingRng, c.subnetsPerStep, c.sandwichRule);
    const lr = learningRate(this.schedule, this.state.step) * this.state.lrScale;
    const labels = batch.y.dtype === 'int32' ? batch.y : (tf.cast(batch.y, 'int32') as tf.Tensor1D);
    if (this.parallel && c.debug?.workerExitAtSteps.includes(this.state.step + 1) && !this.firedWorkerExit.has(this.state.step + 1)) {
      this.firedWorkerExit.add(this.state.step + 1); // test hook, once per process: a worker dies in this step
      this.parallel.crashNextStep = true;
    }
    let r;
    const ts = performance.now();
    try {
      const opts = {
        labelSmoothing: c.labelSmoothing,
        distillation: distillationAt(c.distillation, this.state.step, this.stepsPerEpoch),
        regularize: { dropout: c.dropout, dropConnect: c.dropConnect, rng: this.regularizeRng },
      };
      r = this.parallel ? await this.parallel.gradients(this.net, batch.x, labels, members, opts) : sandwichGradients(this.net, batch.x, labels, members, opts);
    } finally {
      tf.dispose([batch.x, batch.y, labels]);
    }
    this.timing.sandwichMs += performance.now() - ts;
    const grads = r.grads;
    try {
      if (c.debug?.nanAtSteps.includes(this.state.step + 1) && !this.firedNan.has(this.state.step + 1)) {
        // Test hook: poison one gradient (once per process, so the step succeeds after the rollback).
        this.firedNan.add(this.state.step + 1);
        const [name, g] = grads.entries().next().value as [string, tf.Tensor];
        grads.set(name, tf.fill(g.shape, NaN));
        g.dispose();
      }
      const clip = c.optimizer.gradClipValue;
      const [nonFiniteGrads, clipped] = this.gradientStats(grads, clip);
      const nonFiniteLosses = r.members.filter((m) => !Number.isFinite(m.loss)).length;
      if (nonFiniteGrads + nonFiniteLosses > 0) {
        this.nonFinite += nonFiniteGrads + nonFiniteLosses;
        this.event('nan', `non-finite at step ${this.state.step + 1}: ${nonFiniteLosses} losses, ${nonFiniteGrads} gradient entries`, this.state.step + 1);
        return false;
      }
      clipGradients(grads, clip);
      this.optimizer.step(this.net.params, grads, lr);
      let entries = 0;
      for (const g of grads.values()) entries += g.size;
      this.window.clipped += clipped;
      this.window.entries += entries;
    } finally {
      tf.dispose([...grads.values()]);
    }

    // Bookkeeping: position, metrics, progress.
    const images = batch.x.shape[0];
    const ms = performance.now() - t0;
    this.state = { ...this.state, step: this.state.step + 1, batch: this.state.batch + 1 };
    this.timing.stepMs += ms;
    this.timing.images += images;
    const shares = r.members.flatMap((m) => (m.alphaMinShare === undefined ? [] : [m.alphaMinShare]));
    const alphaShare = shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
    this.window.images += images;
    this.window.steps++;
    if (alphaShare !== null) this.window.alpha.push(alphaShare);
    this.metricBuffer.push({
      step: this.state.step,
      epoch: this.state.epoch,
      time: now(),
      lr,
      loss: r.members.reduce((a, m) => a + m.loss, 0),
      losses: r.members.map((m, i) => ({
        role: m.role,
        loss: m.loss,
        arch: genomeId(this.space.id, members[i].genome),
        ...(m.divergence === undefined ? {} : { divergence: m.divergence }),
      })),
      alphaMinShare: alphaShare,
      clippedShare: this.window.entries ? this.window.clipped / this.window.entries : 0,
      nonfinite: this.nonFinite,
      stepMs: ms,
      imagesPerSec: (images * 1000) / ms,
    });
    const last = this.metricBuffer[this.metricBuffer.length - 1];
    if (this.metricBuffer.length >= c.metrics.flushEverySteps || performance.now() - this.lastFlush >= c.metrics.flushEverySeconds * 1000) this.flushMetrics();
    if (this.state.step % c.progressEverySteps === 0 || this.state.step === this.totalSteps) this.progress(last.losses, lr);
    return true;
  }

  /** Non-finite entries and entries beyond ±clip over all gradients, in one download. */
  private gradientStats(grads: Map<string, tf.Tensor>, clip: number): [number, number] {
    const s = tf.tidy(() => {
      let nonFinite: tf.Tensor = tf.scalar(0);
      let clipped: tf.Tensor = tf.scalar(0);
      for (const g of grads.values()) {
        const a = tf.abs(g);
        // |x| < ∞ is false for ±∞ and for NaN (every comparison with NaN is false).
        nonFinite = tf.add(nonFinite, tf.sum(tf.cast(tf.logicalNot(tf.less(a, Infinity)), 'float32')));
        if (clip > 0) clipped = tf.add(clipped, tf.sum(tf.cast(tf.greater(a, clip), 'float32')));
      }
      return tf.stack([nonFinite, clipped]);
    });
    const [nf, cl] = s.dataSync();
    s.dispose();
    return [nf, cl];
  }

  private progress(losses: Progress['losses'], lr: number): void {
    const w = this.window;
    const elapsed = (performance.now() - w.t0) / 1000;
    const stepSec = elapsed / Math.max(1, w.steps);
    this.o.onProgress?.({
      type: 'progress',
      runId: this.o.runId,
      step: this.state.step,
      totalSteps: this.totalSteps,
      epoch: this.state.epoch,
      batch: this.state.batch,
      losses,
      lr,
      imagesPerSec: elapsed > 0 ? w.images / elapsed : 0,
      workers: this.workers,
      etaSec: stepSec * (this.totalSteps - this.state.step),
      alphaMinShare: w.alpha.length ? w.alpha.reduce((a, b) => a + b, 0) / w.alpha.length : null,
      clippedShare: w.entries ? w.clipped / w.entries : 0,
      nonFinite: this.nonFinite,
      rollbacks: this.state.rollbacks,
    });
    this.window = { t0: performance.now(), images: 0, steps: 0, clipped: 0, entries: 0, alpha: [] };
  }

  /** Writes buffered step metrics and the run's position in one transaction. */
  private flushMetrics(): void {
    const t0 = performance.now();
    const rows = this.metricBuffer;
    this.metricBuffer = [];
    this.o.db.transaction(() => {
      insertStepMetrics(this.o.db, this.o.runId, rows);
      updateRunProgress(this.o.db, this.o.runId, { step: this.state.step, epoch: this.state.epoch, totalSteps: this.totalSteps, pid: process.pid });
    }).immediate();
    this.lastFlush = performance.now();
    this.timing.persistMs += this.lastFlush - t0;
  }

  private isValidationEpoch(epoch: number): boolean {
    const every = this.config.validation.everyEpochs;
    return epoch === this.config.epochs - 1 || (every > 0 && (epoch + 1) % every === 0);
  }

  /**
   * Validation (METHOD.md §4) of each subnet on the val split (or its first `validation.maxImages`), twice per batch:
   * - *after* BN recalibration: the subnet's statistics recalibrated on fixed training batches (the score);
   * - *before* it: the supernet's running BN statistics as training leaves them. Training never updates them (every
   *   BN normalises with batch statistics; the reference's BN momentum is 0, METHOD.md §2.1), so they are the initial
   *   mean 0 and variance 1 — what recalibration replaces, and what a subnet is worth without it.
   * The val split is read once for all subnets. Returns the run's score: mean calibrated top-1 of min and max.
   */
  private async validate(): Promise<number> {
    const t0 = performance.now();
    const v = this.config.validation;
    const limit = v.maxImages ?? Infinity;
    const calib = this.o.data.calibration(v.calibrationBatches, v.calibrationBatchSize);
    let modes: { before: ForwardOptions['bn']; after: ForwardOptions['bn'] }[];
    try {
      modes = this.valSubnets.map((s) => ({
        before: { kind: 'running', stats: resetStats(this.net, s.genome) },
        after: { kind: 'running', stats: calibrateBn(this.net, s.genome, calib).stats },
      }));
    } finally {
      tf.dispose(calib);
    }
    const sums = this.valSubnets.map(() => ({ before: { hits: 0, loss: 0 }, after: { hits: 0, loss: 0 } }));
    let n = 0;
    const stream = this.o.data.val(v.batchSize);
    try {
      for await (const b of stream) {
        const take = Math.min(b.x.shape[0], limit - n);
        try {
          this.valSubnets.forEach((s, i) => {
            for (const when of ['before', 'after'] as const) {
              const [hits, loss] = this.batchMetrics(b, take, s.genome, modes[i][when]);
              sums[i][when].hits += hits;
              sums[i][when].loss += loss;
            }
          });
        } finally {
          tf.dispose([b.x, b.y]);
        }
        n += take;
        if (n >= limit) break;
      }
    } finally {
      stream.close();
    }
    if (n === 0) throw new TrainingError(`dataset '${this.o.data.name}' has no val images to validate on`);
    const results: EpochReport['subnets'] = this.valSubnets.map((s, i) => ({
      subnet: s.name,
      mflops: subnetCost(this.space, s.genome, this.net.numClasses).mflops,
      valTop1: sums[i].after.hits / n,
      valLoss: sums[i].after.loss / n,
      valTop1Before: sums[i].before.hits / n,
      valLossBefore: sums[i].before.loss / n,
    }));
    const t = now();
    insertEpochMetrics(
      this.o.db,
      this.o.runId,
      results.map((r, i) => ({ ...r, epoch: this.state.epoch, step: this.state.step, genome: this.valSubnets[i].genome, valImages: n, time: t })),
    );
    const report: EpochReport = { type: 'epoch', runId: this.o.runId, epoch: this.state.epoch, step: this.state.step, subnets: results, seconds: (performance.now() - t0) / 1000 };
    this.o.onEpoch?.(report);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    this.event('validation', `epoch ${this.state.epoch + 1}: ${results.map((r) => `${r.subnet} ${pct(r.valTop1)} (before BN calibration ${pct(r.valTop1Before)})`).join(', ')}`);
    const top1 = (name: string) => results.find((r) => r.subnet === name)!.valTop1;
    return (top1('min') + top1('max')) / 2;
  }

  /** Correct predictions and summed cross-entropy of subnet `g` on the first `take` images of a val batch (the
   * engine's `batchMetrics`, as subnet evaluation measures them). */
  private batchMetrics(b: Batch, take: number, g: Genome, bn: ForwardOptions['bn']): [number, number] {
    const x = take < b.x.shape[0] ? tf.slice(b.x, 0, take) : b.x;
    try {
      const labels = Int32Array.from((take < b.y.shape[0] ? b.y.dataSync().subarray(0, take) : b.y.dataSync()) as ArrayLike<number>);
      const m = batchMetrics(this.net, g, x as tf.Tensor4D, labels, bn);
      return [m.correct, m.lossSum];
    } finally {
      if (x !== b.x) x.dispose();
    }
  }

  /** Writes a checkpoint of the current state, records it, and prunes all but the newest K and the best. */
  private async checkpoint(): Promise<void> {
    const t0 = performance.now();
    const s: TrainState = { ...this.state, rng: { sampling: this.samplingRng.state(), regularize: this.regularizeRng.state() } };
    // The epoch is in the name so that the end-of-epoch checkpoint never overwrites a mid-epoch one of the same step.
    const path = join(this.checkpointDir, `step-${String(s.step).padStart(8, '0')}-e${s.epoch}.ckpt`);
    const weights = await this.net.exportWeights();
    const momentum = await this.optimizer.exportState();
    let written: { sha256: string; bytes: number };
    try {
      written = writeCheckpointFile(path, { runId: this.o.runId, state: s, config: this.config, weights, momentum });
    } catch (e) {
      // A full disk (or any write failure): the file is written under a temporary name and renamed only when whole,
      // so nothing of this checkpoint remains, and the earlier ones and the store are untouched. Said in one line.
      const prev = listCheckpoints(this.o.db, this.o.runId)[0];
      const cause = describeFsError(e)?.message ?? (e as Error).message.split('\n')[0];
      throw new CheckpointError(
        `checkpoint at step ${s.step} not written: ${cause}; ${prev ? `the previous checkpoint (step ${prev.step}) is intact` : 'no earlier checkpoint exists'} — free some space and resume the run`,
      );
    }
    const { sha256, bytes } = written;
    // A checkpoint rewritten at the same step (after a rollback or resume) replaces the older row.
    const db = this.o.db;
    db.transaction(() => {
      for (const old of listCheckpoints(db, this.o.runId)) if (old.path === path) deleteCheckpointRow(db, old.id);
      insertCheckpoint(db, { runId: this.o.runId, step: s.step, epoch: s.epoch, path, sha256, bytes, metric: s.metric });
      addRunEvent(db, this.o.runId, { kind: 'checkpoint', step: s.step, message: `checkpoint at step ${s.step}`, data: { path, sha256, bytes, metric: s.metric ?? null } });
    }).immediate();
    this.lastCheckpointStep = s.step;
    this.prune();
    this.timing.checkpointMs += performance.now() - t0;
    this.timing.checkpoints++;
  }

  private prune(): void {
    const all = listCheckpoints(this.o.db, this.o.runId);
    const keep = new Set(all.slice(0, this.config.checkpoint.keepLast).map((c) => c.id));
    for (const c of all) {
      if (keep.has(c.id) || c.isBest) continue;
      deleteCheckpointRow(this.o.db, c.id);
      if (!all.some((o) => o.id !== c.id && keep.has(o.id) && o.path === c.path)) rmSync(c.path, { force: true });
    }
  }

  /**
   * Loads the newest checkpoint that passes its hash check; a refused one is recorded and the previous one tried.
   * With none usable, a resume starts from scratch (recorded too); a rollback has nothing to go back to and fails.
   */
  private async restoreLatest(why: 'resume' | 'rollback'): Promise<void> {
    for (const row of listCheckpoints(this.o.db, this.o.runId)) {
      let ck;
      try {
        ck = readCheckpointFile(row.path, row.sha256);
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw e;
        this.event('checkpoint-corrupt', `${e.message}; using the previous checkpoint`, row.step);
        continue;
      }
      this.net.importWeights(ck.weights);
      this.optimizer.importState(ck.momentum);
      this.state = { ...ck.header.state, metric: undefined };
      this.samplingRng = new Rng(ck.header.state.rng.sampling);
      this.regularizeRng = new Rng(ck.header.state.rng.regularize);
      this.lastCheckpointStep = this.state.step;
      // The steps after this checkpoint will be trained again; their rows would otherwise look like the new ones.
      deleteStepMetricsAfter(this.o.db, this.o.runId, this.state.step);
      return;
    }
    if (why === 'rollback') throw new TrainingError('no usable checkpoint to roll back to');
    this.event('resume', 'no usable checkpoint: starting from step 0');
    await this.checkpoint();
  }

  /** NaN guard: back to the last good checkpoint with a lower LR. */
  private async rollback(): Promise<void> {
    const from = this.state.step;
    const lrScale = this.state.lrScale * this.config.nan.lrFactor;
    const rollbacks = this.state.rollbacks + 1;
    if (rollbacks > this.config.nan.maxRollbacks) {
      throw new TrainingError(`non-finite values again after ${this.config.nan.maxRollbacks} rollbacks; giving up (nan.maxRollbacks)`);
    }
    this.metricBuffer = [];
    await this.restoreLatest('rollback');
    this.state = { ...this.state, lrScale, rollbacks };
    this.event('rollback', `rolled back from step ${from} to step ${this.state.step}; LR scale now ${lrScale}`, this.state.step);
  }

  private event(kind: RunEventKind, message: string, step = this.state.step, data?: unknown): void {
    addRunEvent(this.o.db, this.o.runId, { kind, message, step, data });
    this.o.onEvent?.({ kind, message, step });
  }

  private outcome(status: TrainOutcome['status']): TrainOutcome {
    this.flushMetrics();
    return { status, step: this.state.step, ...this.timing };
  }

  /** Time accounting so far (the bench reads it mid-run). */
  get timingSoFar(): Readonly<Omit<TrainOutcome, 'status' | 'step'>> {
    return { ...this.timing };
  }

  /** Current position (for tests and the bench). */
  get position(): Readonly<TrainState> {
    return this.state;
  }

  dispose(): void {
    this.net.dispose();
    this.optimizer.dispose();
  }
}
