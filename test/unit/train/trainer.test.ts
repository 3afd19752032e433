/**
 * The training loop in-process on the tiny space with small in-memory data (wasm backend): determinism, exact
 * resume, the NaN guard, checkpoint refusal and fallback, validation before and after BN recalibration, pruning, and
 * no tensor leaks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng, createOps, genomeId, initBackend, evaluateSubnet, sandwichMembers, type Genome, type TrainConfig } from '../../../src-main/engine';
import { listCheckpoints, listEpochMetrics, listRunEvents, listStepMetrics } from '../../../src-main/store/runs';
import { Trainer, TrainingError, type TrainerOptions } from '../../../src-main/train/trainer';
import { learningRate } from '../../../src-main/train/schedule';
import { EpochSchema, type EpochReport, type Progress } from '../../../src-main/jobs/run-messages';
import { newRun, scratch, syntheticData, tinyConfig } from './fixtures';

beforeAll(async () => {
  await initBackend({ force: 'wasm' }); // ≈ 20× faster than cpu here, even on the tiny space
});

function trainer(config: TrainConfig, over: Partial<TrainerOptions> & { dir: string; db: TrainerOptions['db']; runId: number }): Trainer {
  return new Trainer({
    runDir: join(over.dir, `run-${over.runId}`),
    config,
    data: syntheticData({ batchSize: config.batchSize, batchesPerEpoch: 4, seed: config.seed }),
    ops: createOps('portable'),
    resume: false,
    ...over,
  });
}

async function weightsOf(t: Trainer): Promise<Float32Array[]> {
  const w = await t.net.exportWeights();
  return [...w.values()].map((v) => v.data);
}

describe('Trainer', () => {
  it('same seed, same backend: same subnet sequence and same losses; another seed differs', async () => {
    const config = tinyConfig({ epochs: 1, stepsPerEpoch: 3 });
    const runs = [];
    for (const seed of [config.seed, config.seed, config.seed + 1]) {
      const s = scratch();
      const runId = newRun(s.db, config);
      const t = trainer({ ...config, seed }, { ...s, runId });
      const out = await t.run();
      expect(out.status).toBe('finished');
      runs.push(listStepMetrics(s.db, runId).map((m) => m.losses));
      t.dispose();
    }
    expect(runs[0]).toHaveLength(3);
    expect(runs[0][0].map((m) => m.role)).toEqual(['max', 'random', 'random', 'min']);
    expect(runs[1]).toEqual(runs[0]); // archs and losses, bit for bit
    expect(runs[2].map((s) => s.map((m) => m.arch))).not.toEqual(runs[0].map((s) => s.map((m) => m.arch)));
  });

  it("samples its subnets from a stream of their own, not the weights' initialisation stream", async () => {
    // Both used to be `new Rng(seed)`, so the uniforms that picked the subnets were the initial weights' draws.
    const config = tinyConfig({ epochs: 1, stepsPerEpoch: 3, subnetsPerStep: 4 });
    const s = scratch();
    const runId = newRun(s.db, config);
    const t = trainer(config, { ...s, runId });
    await t.run();
    const space = t.space;
    t.dispose();
    const drawn = (rng: Rng) => Array.from({ length: 3 }, () => sandwichMembers(space, rng, 4).map((m) => genomeId(space.id, m.genome)));
    const trained = listStepMetrics(s.db, runId).map((m) => m.losses.map((l) => l.arch));
    expect(trained).toEqual(drawn(Rng.fromSeeds(config.seed, 0x5a)));
    expect(trained).not.toEqual(drawn(new Rng(config.seed)));
  });

  it('a KL warm-up trains its steps exactly as KL does, then the α loss takes over', async () => {
    const base = tinyConfig({ epochs: 2, stepsPerEpoch: 3 });
    const steps = [];
    for (const distillation of [{ kind: 'kl' as const }, { kind: 'adaptive-alpha' as const, alphaMin: -1, alphaMax: 1, clip: 5, klWarmupEpochs: 1 }]) {
      const s = scratch();
      const config = { ...base, distillation };
      const runId = newRun(s.db, config);
      const t = trainer(config, { ...s, runId });
      expect((await t.run()).status).toBe('finished');
      steps.push(listStepMetrics(s.db, runId));
      t.dispose();
    }
    const [kl, warm] = steps;
    expect(warm).toHaveLength(6);
    // Epoch 1: KL's steps, bit for bit (members, losses, divergences), and no α₋ share.
    expect(warm.slice(0, 3).map((m) => m.losses)).toEqual(kl.slice(0, 3).map((m) => m.losses));
    expect(warm.slice(0, 3).map((m) => m.alphaMinShare)).toEqual([null, null, null]);
    // Epoch 2: the adaptive α-divergence, with its α₋ share, on the same members.
    for (let i = 3; i < 6; i++) {
      expect(warm[i].alphaMinShare).toEqual(expect.any(Number));
      expect(warm[i].losses.map((m) => m.arch)).toEqual(kl[i].losses.map((m) => m.arch));
    }
    // The α loss trains step 4 differently (a member whose samples all chose α₊ can log KL's very value, the α₊ surrogate
    // being the soft cross-entropy), so the max subnet starts step 5 from other weights.
    expect(warm[3].losses.map((m) => m.loss)).not.toEqual(kl[3].losses.map((m) => m.loss));
    expect(warm[4].losses[0].loss).not.toBe(kl[4].losses[0].loss);
  });

  it('pause then resume continues exactly as an uninterrupted run; validation, best and pruning', async () => {
    const config = tinyConfig({ epochs: 2 });
    // Uninterrupted.
    const a = scratch();
    const ra = newRun(a.db, config);
    const ta = trainer(config, { ...a, runId: ra });
    expect((await ta.run()).status).toBe('finished');
    // Interrupted by a pause after step 5 (mid-epoch 2, between checkpoints), then resumed by a new trainer.
    const b = scratch();
    const rb = newRun(b.db, config);
    let step = 0;
    const tb = trainer(config, { ...b, runId: rb, control: () => (step >= 5 ? 'pause' : null), onProgress: (p) => (step = p.step) });
    const paused = await tb.run();
    expect(paused).toMatchObject({ status: 'paused', step: 5 });
    tb.dispose();
    const tc = trainer(config, { ...b, runId: rb, resume: true });
    expect((await tc.run()).status).toBe('finished');
    expect(await weightsOf(tc)).toEqual(await weightsOf(ta));
    expect(listStepMetrics(b.db, rb).map((m) => m.losses)).toEqual(listStepMetrics(a.db, ra).map((m) => m.losses));
    const kinds = listRunEvents(b.db, rb).map((e) => e.kind);
    expect(kinds).toContain('pause');
    expect(kinds).toContain('resume');
    // Validation after each epoch: min, max and one fixed random subnet, identical in both runs.
    const ev = listEpochMetrics(b.db, rb);
    expect(ev.map((e) => `${e.epoch}:${e.subnet}`)).toEqual(['0:max', '0:min', '0:random-1', '1:max', '1:min', '1:random-1']);
    for (const e of ev) expect(e.valTop1).toBeGreaterThanOrEqual(0);
    expect(ev).toEqual(listEpochMetrics(a.db, ra).map((e, i) => ({ ...e, time: ev[i].time })));
    // Kept: the newest two plus the best; pruned files are gone.
    const cks = listCheckpoints(b.db, rb);
    expect(cks.length).toBeLessThanOrEqual(3);
    expect(cks.filter((c) => c.isBest)).toHaveLength(1);
    for (const c of cks) expect(existsSync(c.path)).toBe(true);
    expect(cks[0].step).toBe(8);
    tc.dispose();
    ta.dispose();
  });

  it('NaN guard: rolls back to the last checkpoint, halves the LR, records it, and finishes', async () => {
    const config = tinyConfig({ epochs: 1, debug: { nanAtSteps: [3] }, checkpoint: { everySteps: 2, keepLast: 2 } });
    const s = scratch();
    const runId = newRun(s.db, config);
    const progress: Progress[] = [];
    const t = trainer(config, { ...s, runId, onProgress: (p) => progress.push(p) });
    const out = await t.run();
    expect(out.status).toBe('finished');
    const events = listRunEvents(s.db, runId);
    const nan = events.find((e) => e.kind === 'nan')!;
    expect(nan.step).toBe(3);
    expect(nan.message).toMatch(/gradient entries/);
    const rb = events.find((e) => e.kind === 'rollback')!;
    expect(rb.message).toMatch(/from step 2 to step 2; LR scale now 0.5/);
    const m = listStepMetrics(s.db, runId);
    expect(m.map((x) => x.step)).toEqual([1, 2, 3, 4]);
    const sched = { base: 0.1, totalSteps: 4, warmupSteps: 4 };
    expect(m[1].lr).toBeCloseTo(learningRate(sched, 1), 10);
    expect(m[2].lr).toBeCloseTo(0.5 * learningRate(sched, 2), 10);
    expect(progress.at(-1)!.rollbacks).toBe(1);
    expect(progress.at(-1)!.nonFinite).toBeGreaterThan(0);
    for (const w of await weightsOf(t)) expect(w.every(Number.isFinite)).toBe(true);
    t.dispose();
  });

  it('NaN guard with policy stop fails the run', async () => {
    const config = tinyConfig({ epochs: 1, debug: { nanAtSteps: [2] }, nan: { policy: 'stop' } });
    const s = scratch();
    const t = trainer(config, { ...s, runId: newRun(s.db, config) });
    await expect(t.run()).rejects.toThrow(TrainingError);
    t.dispose();
  });

  it('refuses a checkpoint that fails its hash and resumes from the previous one', async () => {
    const config = tinyConfig({ epochs: 1, checkpoint: { everySteps: 1, keepLast: 3 } });
    const s = scratch();
    const runId = newRun(s.db, config);
    let step = 0;
    const t = trainer(config, { ...s, runId, control: () => (step >= 3 ? 'pause' : null), onProgress: (p) => (step = p.step) });
    await t.run();
    t.dispose();
    const newest = listCheckpoints(s.db, runId)[0];
    expect(newest.step).toBe(3);
    const buf = readFileSync(newest.path);
    buf[buf.length - 1] ^= 1;
    writeFileSync(newest.path, buf);
    const t2 = trainer(config, { ...s, runId, resume: true, control: () => 'pause' });
    const out = await t2.run();
    expect(out).toMatchObject({ status: 'paused', step: 2 });
    const bad = listRunEvents(s.db, runId).find((e) => e.kind === 'checkpoint-corrupt')!;
    expect(bad.message).toMatch(/failed its hash check .*refusing it; using the previous checkpoint/);
    t2.dispose();
  });

  it('validates each subnet before and after BN recalibration, as evaluateSubnet measures them; one finish event', async () => {
    const config = tinyConfig({ epochs: 1, stepsPerEpoch: 4 });
    const s = scratch();
    const runId = newRun(s.db, config);
    const reports: EpochReport[] = [];
    const t = trainer(config, { ...s, runId, onEpoch: (e) => reports.push(e) });
    const out = await t.run();
    expect(out.status).toBe('finished');
    const rows = listEpochMetrics(s.db, runId);
    expect(rows.map((r) => `${r.epoch}:${r.subnet}`)).toEqual(['0:max', '0:min', '0:random-1']); // 0-based epochs
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ type: 'epoch', epoch: 0, step: 4 });
    expect(EpochSchema.parse(reports[0])).toEqual(reports[0]); // what the runner sends passes the parent's check
    // The reference: the search's evaluation of the same subnets of the trained net, on the same data — BN
    // recalibration on the same calibration batches, and "before" with the reset statistics (mean 0, variance 1).
    const data = syntheticData({ batchSize: config.batchSize, batchesPerEpoch: 4, seed: config.seed });
    const val: { x: tf.Tensor4D; labels: tf.Tensor1D }[] = [];
    for await (const b of data.val(config.validation.batchSize)) val.push({ x: b.x, labels: b.y });
    const calibration = data.calibration(config.validation.calibrationBatches, config.validation.calibrationBatchSize);
    for (const r of rows) {
      const ref = evaluateSubnet(t.net, r.genome as Genome, { calibration, evaluation: val, before: 'reset' });
      expect(r.valImages).toBe(ref.images);
      expect(r.valTop1).toBe(ref.accuracy);
      expect(r.valLoss).toBeCloseTo(ref.loss, 4);
      expect(r.valTop1Before).toBe(ref.beforeCalibration!.accuracy);
      expect(r.valLossBefore!).toBeCloseTo(ref.beforeCalibration!.loss, 4);
      // Recalibration changes the answer: the two measurements are not the same numbers under two names.
      expect(r.valLossBefore).not.toBeCloseTo(r.valLoss, 3);
      expect(reports[0].subnets.find((x) => x.subnet === r.subnet)).toEqual({ subnet: r.subnet, mflops: r.mflops, valTop1: r.valTop1, valLoss: r.valLoss, valTop1Before: r.valTop1Before, valLossBefore: r.valLossBefore });
    }
    tf.dispose([...calibration, ...val.flatMap((b) => [b.x, b.labels])]);
    const events = listRunEvents(s.db, runId);
    expect(events.find((e) => e.kind === 'validation')!.message).toMatch(/^epoch 1: min \d+\.\d% \(before BN calibration \d+\.\d%\), max /);
    // One finish event, carrying the metrics persistence share.
    const finish = events.filter((e) => e.kind === 'finish');
    expect(finish).toHaveLength(1);
    expect(finish[0].message).toMatch(/^finished: 4 steps; metrics persistence \d+\.\d\d % of step time$/);
    expect(finish[0].data).toMatchObject({ persistMs: out.persistMs, stepMs: out.stepMs, images: 32 });
    t.dispose();
  });

  it('keeps the tensor count flat across steps', async () => {
    const config = tinyConfig({ epochs: 1, stepsPerEpoch: 4, checkpoint: { everySteps: 100, keepLast: 1 } });
    const s = scratch();
    const counts: number[] = [];
    // Momentum buffers are not counted: one appears whenever a subnet first uses a parameter the others do not.
    const t: Trainer = trainer(config, { ...s, runId: newRun(s.db, config), onProgress: () => counts.push(tf.memory().numTensors - t.optimizer.bufferCount) });
    await t.run();
    expect(counts).toHaveLength(4);
    expect(counts[3]).toBe(counts[1]);
    t.dispose();
  });
});
