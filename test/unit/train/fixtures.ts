/** Small in-memory training data and a scratch store for the trainer tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openDatabase, type Db } from '../../../src-main/store/db';
import { createRun } from '../../../src-main/store/runs';
import { parseTrainConfig, type TrainConfig, type TrainConfigInput } from '../../../src-main/engine/core';
import type { Batch, BatchStream, TrainingData } from '../../../src-main/train/data-source';
import { TINY } from '../engine/tiny-space';

/** Batches made lazily, one at a time, as a loader would. */
function stream(count: number, batch: (i: number) => Batch): BatchStream {
  let closed = false;
  return {
    close: () => {
      closed = true;
    },
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < count && !closed; i++) yield batch(i);
    },
  };
}

/**
 * `n` batches per epoch of `batchSize` 9×9 RGB images whose class is the brightest of 5 colour-coded patterns, plus
 * noise: learnable, and a pure function of (seed, epoch, batch), like the real loader.
 */
export function syntheticData(opts: { batchSize: number; batchesPerEpoch: number; seed?: number; size?: number; classes?: number }): TrainingData {
  const size = opts.size ?? 9;
  const k = opts.classes ?? 5;
  const seed = opts.seed ?? 0;
  const make = (tag: number, b: number, n: number): Batch =>
    tf.tidy(() => {
      const y = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7 + b * 3 + tag) % k), 'int32');
      const signal = tf.mul(tf.reshape(tf.oneHot(y, k).slice([0, 0], [n, 3]), [n, 1, 1, 3]), 2);
      const noise = tf.randomNormal([n, size, size, 3], 0, 1, 'float32', seed * 1000003 + tag * 7919 + b);
      return { x: tf.add(noise, signal) as tf.Tensor4D, y };
    });
  return {
    id: 'synthetic',
    name: 'synthetic',
    numClasses: k,
    channels: 3,
    trainBatchesPerEpoch: opts.batchesPerEpoch,
    valCount: 2 * opts.batchSize,
    train: (epoch, start) => stream(opts.batchesPerEpoch - start, (i) => make(epoch + 1, start + i, opts.batchSize)),
    calibration: (n, bs) => Array.from({ length: n }, (_, i) => {
      const b = make(9999, i, bs);
      b.y.dispose();
      return b.x;
    }),
    val: (bs) => stream(Math.ceil((2 * opts.batchSize) / bs), (i) => make(-1, i, Math.min(bs, 2 * opts.batchSize - i * bs))),
  };
}

export function scratch(prefix = 'train-'): { dir: string; db: Db } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, db: openDatabase(join(dir, 'alphanet.db')) };
}

/** A TINY-space config with fast settings, plus overrides. */
export function tinyConfig(over: Partial<TrainConfigInput> = {}): TrainConfig {
  return parseTrainConfig({
    space: TINY,
    dataset: 'synthetic',
    epochs: 2,
    batchSize: 8,
    validation: { calibrationBatches: 2, calibrationBatchSize: 8, randomSubnets: 1, batchSize: 8 },
    checkpoint: { everySteps: 2, keepLast: 2 },
    progressEverySteps: 1,
    ...over,
  });
}

export function newRun(db: Db, config: TrainConfig): number {
  return createRun(db, { name: 'test', config, spaceId: 'tiny-test', datasetId: null, datasetName: 'synthetic', seed: config.seed, appVersion: 'test' }).id;
}
