/**
 * Data-parallel training (docs/METHOD.md §2) with the built worker threads (out/main/train-worker.js) on the tiny space:
 * the N-worker gradient against the mean of the same shards' gradients computed one after another here; same seed
 * and N → bit-identical weights, replicas holding the leader's weights at every step (hashes); a worker that dies
 * fails the run with a clear error and leaves checkpoints a new trainer resumes from with another worker count.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend,
  createOps,
  Rng,
  Supernet,
  sandwichGradients,
  sandwichMembers,
  type TrainConfig,
} from '../../../src-main/engine';
import { listCheckpoints, listRunEvents, listStepMetrics } from '../../../src-main/store/runs';
import { DataParallel, DataParallelError, averageMembers } from '../../../src-main/train/data-parallel';
import { resolveWorkers } from '../../../src-main/train/workers';
import { weightsHash } from '../../../src-main/train/shard-worker';
import { Trainer } from '../../../src-main/train/trainer';
import { TINY } from '../engine/tiny-space';
import { newRun, scratch, syntheticData, tinyConfig } from './fixtures';

const WORKER = join(__dirname, '..', '..', '..', 'out', 'main', 'train-worker.js');
const built = existsSync(WORKER);
if (!built) console.warn(`data-parallel tests skipped: ${WORKER} is missing (run \`npx electron-vite build\`)`);

beforeAll(async () => {
  await initBackend({ force: 'wasm' });
});

const pool = (net: Supernet, workers: number, hashWeights = false) =>
  DataParallel.start({ workers, workerPath: WORKER, net, space: TINY, backend: 'wasm', opsMode: 'portable', hashWeights });

function newTrainer(config: TrainConfig, s: ReturnType<typeof scratch>, runId: number, over: Partial<ConstructorParameters<typeof Trainer>[0]> = {}): Trainer {
  return new Trainer({
    db: s.db,
    runId,
    runDir: join(s.dir, `run-${runId}`),
    config,
    data: syntheticData({ batchSize: config.batchSize, batchesPerEpoch: 4, seed: config.seed }),
    ops: createOps('portable'),
    resume: false,
    ...over,
  });
}

const netHash = (net: Supernet) => weightsHash([...net.params.values()].map((v) => v.dataSync() as Float32Array));

describe('resolveWorkers', () => {
  it('auto takes every core the batch divides into; an explicit count must divide the batch; native backends train alone', () => {
    expect(resolveWorkers({ workers: 'auto', batchSize: 64 }, { cores: 2 })).toBe(2);
    expect(resolveWorkers({ workers: 'auto', batchSize: 64 }, { cores: 6 })).toBe(4);
    expect(resolveWorkers({ workers: 'auto', batchSize: 64 }, { cores: 16 })).toBe(8); // shards of at least 8 images
    expect(resolveWorkers({ workers: 'auto', batchSize: 8 }, { cores: 4 })).toBe(1);
    expect(resolveWorkers({ workers: 'auto', batchSize: 28 }, { cores: 4 })).toBe(2);
    expect(resolveWorkers({ workers: 'auto', batchSize: 64 }, { cores: 16, backend: 'tensorflow' })).toBe(1);
    expect(resolveWorkers({ workers: 3, batchSize: 48 }, { cores: 2 })).toBe(3);
    expect(() => resolveWorkers({ workers: 3, batchSize: 64 })).toThrow(/divisible by 3, got 64/);
    expect(() => resolveWorkers({ workers: 2, batchSize: 64 }, { backend: 'tensorflow' })).toThrow(/wasm or cpu backend/);
  });

  it('averages member losses, α shares and divergences over shards', () => {
    const m = averageMembers([
      [{ role: 'max', loss: 1 }, { role: 'min', loss: 2, alphaMinShare: 0.5, divergence: 1 }, { role: 'random', loss: 1, divergence: 0.5 }],
      [{ role: 'max', loss: 3 }, { role: 'min', loss: 4, alphaMinShare: 0.25, divergence: 3 }, { role: 'random', loss: 2, divergence: 1.5 }],
    ]);
    expect(m).toEqual([
      { role: 'max', loss: 2 },
      { role: 'min', loss: 3, alphaMinShare: 0.375, divergence: 2 },
      { role: 'random', loss: 1.5, divergence: 1 },
    ]);
  });
});

describe.skipIf(!built)('DataParallel', () => {
  it.each([2, 3])('the %i-worker gradient is the mean of the shards\' gradients computed one after another (≤ 1e-5 relative)', async (n) => {
    const net = new Supernet({ space: TINY, ops: createOps('portable'), numClasses: 5, seed: 3 });
    const data = syntheticData({ batchSize: 12, batchesPerEpoch: 1, seed: 5 });
    const it = data.train(0, 0)[Symbol.asyncIterator]();
    const { x, y } = (await it.next()).value as { x: tf.Tensor4D; y: tf.Tensor1D };
    const members = sandwichMembers(TINY, new Rng(11), 4);
    const opts = { distillation: { kind: 'adaptive-alpha' as const, alphaMin: -1, alphaMax: 1, clip: 5 }, labelSmoothing: 0.1 };
    const p = await pool(net, n);
    try {
      const got = await p.gradients(net, x, y, members, { ...opts, regularize: { dropout: 0.2, dropConnect: 0.2, rng: new Rng(7) } });
      // A replay's given masks cover the whole batch: refused, not silently split.
      const given = { dropout: 0.2, dropConnect: 0.2, masks: (shape: number[]) => tf.ones(shape) };
      await expect(p.gradients(net, x, y, members, { ...opts, regularize: given })).rejects.toThrow(/given keep masks run on one thread only/);
      // The reference: the same shards, one after another on this thread, with the same per-shard drop-mask streams.
      const seed = new Rng(7).nextUint32();
      const per = 12 / n;
      const shards = Array.from({ length: n }, (_, k) =>
        sandwichGradients(net, tf.slice(x, k * per, per), tf.slice(y, k * per, per), members, {
          ...opts,
          regularize: { dropout: 0.2, dropConnect: 0.2, rng: Rng.fromSeeds(seed, k) },
        }),
      );
      expect(got.grads.size).toBe(net.params.size);
      for (const [name, g] of got.grads) {
        const ref = tf.tidy(() => tf.div(tf.addN(shards.map((s) => s.grads.get(name)!)), n));
        const scale = Math.max(1e-12, tf.tidy(() => tf.max(tf.abs(ref)).dataSync()[0]));
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, ref))).dataSync()[0]);
        expect(diff / scale, name).toBeLessThanOrEqual(1e-5);
        ref.dispose();
      }
      const refMembers = averageMembers(shards.map((s) => s.members));
      got.members.forEach((m, i) => {
        expect(m.role).toBe(refMembers[i].role);
        expect(m.loss).toBeCloseTo(refMembers[i].loss, 6);
      });
      // Not a tautology: the whole batch on one thread gives other gradients (per-shard batch-norm statistics).
      const whole = sandwichGradients(net, x, y, members, opts);
      const [name] = got.grads.keys();
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(whole.grads.get(name)!, got.grads.get(name)!))).dataSync()[0])).toBeGreaterThan(0);
      tf.dispose([...whole.grads.values(), ...got.grads.values(), ...shards.flatMap((s) => [...s.grads.values()])]);
    } finally {
      await p.close();
      tf.dispose([x, y]);
      net.dispose();
    }
  });

  it('same seed and N: bit-identical weights; every replica holds the leader\'s weights at every step', async () => {
    const config = tinyConfig({ epochs: 1, stepsPerEpoch: 4, checkpoint: { everySteps: 100, keepLast: 1 } });
    const finals: string[] = [];
    for (let run = 0; run < 2; run++) {
      const s = scratch();
      const leader: string[] = [];
      const replicas: (string | undefined)[][] = [];
      const t = newTrainer(config, s, newRun(s.db, config), {
        onProgress: () => {
          replicas.push(t.parallel!.stats.map((w) => w.hash)); // the weights each replica trained this step with
          leader.push(netHash(t.net)); // the leader's after this step's update
        },
      });
      t.parallel = await pool(t.net, 2, true);
      const before = netHash(t.net);
      try {
        expect((await t.run()).status).toBe('finished');
      } finally {
        await t.parallel.close();
      }
      expect(replicas).toHaveLength(4);
      expect(replicas[0]).toEqual([before]);
      for (let k = 1; k < 4; k++) expect(replicas[k]).toEqual([leader[k - 1]]);
      expect(leader[3]).not.toBe(before);
      expect(listStepMetrics(s.db, 1).map((m) => m.step)).toEqual([1, 2, 3, 4]);
      expect(listRunEvents(s.db, 1).find((e) => e.kind === 'start')!.message).toMatch(/on 2 workers$/);
      finals.push(leader[3]);
      t.dispose();
    }
    expect(finals[1]).toBe(finals[0]);
  });

  it('a worker that dies fails the run with a clear error; the checkpoints resume with another worker count', async () => {
    const config = tinyConfig({ epochs: 1, checkpoint: { everySteps: 2, keepLast: 2 } });
    const s = scratch();
    const runId = newRun(s.db, config);
    const t = newTrainer(config, s, runId, {
      onProgress: (p) => {
        if (p.step === 3) void t.parallel!.threads[0].terminate();
      },
    });
    t.parallel = await pool(t.net, 2);
    const started = performance.now();
    let err: unknown;
    try {
      err = await t.run().then(() => undefined, (e: unknown) => e);
    } finally {
      await t.parallel.close();
      t.dispose();
    }
    expect(err).toBeInstanceOf(DataParallelError);
    expect((err as Error).message).toMatch(/^training worker 1 exited \(code \d+\)$/);
    expect(performance.now() - started).toBeLessThan(60_000); // no hang
    expect(listCheckpoints(s.db, runId)[0].step).toBe(2);
    // One worker now (M ≠ N): resumes from the step-2 checkpoint and finishes.
    const t2 = newTrainer(config, s, runId, { resume: true });
    expect(await t2.run()).toMatchObject({ status: 'finished', step: 4 });
    expect(listStepMetrics(s.db, runId).map((m) => m.step)).toEqual([1, 2, 3, 4]);
    t2.dispose();
  });

  it('NaN guard with workers: rolls back, every later step is trained by the pool, and the run finishes', async () => {
    const config = tinyConfig({ epochs: 1, debug: { nanAtSteps: [3] }, checkpoint: { everySteps: 2, keepLast: 2 } });
    const s = scratch();
    const runId = newRun(s.db, config);
    const t = newTrainer(config, s, runId);
    t.parallel = await pool(t.net, 2);
    try {
      expect((await t.run()).status).toBe('finished');
    } finally {
      await t.parallel.close();
      t.dispose();
    }
    const kinds = listRunEvents(s.db, runId).map((e) => e.kind);
    expect(kinds).toContain('rollback');
    expect(listStepMetrics(s.db, runId).map((m) => m.step)).toEqual([1, 2, 3, 4]);
  });

  it('keeps the tensor count flat in the leader and in every worker', async () => {
    const config = tinyConfig({ epochs: 1, stepsPerEpoch: 4, checkpoint: { everySteps: 100, keepLast: 1 } });
    const s = scratch();
    const leader: number[] = [];
    const workers: number[] = [];
    // Momentum buffers are not counted: one appears whenever a subnet first uses a parameter the others do not.
    const t = newTrainer(config, s, newRun(s.db, config), {
      onProgress: () => {
        leader.push(tf.memory().numTensors - t.optimizer.bufferCount);
        workers.push(t.parallel!.stats[0].numTensors);
      },
    });
    t.parallel = await pool(t.net, 2);
    try {
      await t.run();
    } finally {
      await t.parallel.close();
      t.dispose();
    }
    expect(leader[3]).toBe(leader[1]);
    expect(workers[3]).toBe(workers[1]);
    expect(t.parallel.stats[0].peakBytes).toBeGreaterThan(0);
  });
});
