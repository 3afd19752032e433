/**
 * The datasets module (src-main/data) as the trainer's `TrainingData`: training batches shuffled and augmented from
 * (seed, epoch, batch) with the last partial batch dropped (every step sees a full batch, so BN statistics and step
 * time are uniform), fixed augmented calibration batches from the training split, and the val split in order.
 */
import { calibrationBatches, createLoader } from '../data/loader';
import type { DatasetInfo } from '../data/types';
import type { TrainingData } from './data-source';

export { resolveDataset } from '../data/resolve-dataset';

export function datasetSource(home: string, info: DatasetInfo, opts: { batchSize: number; seed: number; augment: boolean }): TrainingData {
  return {
    id: info.id,
    name: info.name,
    numClasses: info.classNames.length,
    channels: info.channels,
    trainBatchesPerEpoch: Math.floor(info.splits.train.count / opts.batchSize),
    valCount: info.splits.val.count,
    train: (epoch, startBatch) =>
      createLoader(home, info, 'train', { batchSize: opts.batchSize, seed: opts.seed, shuffle: true, augment: opts.augment, dropLast: true, epoch, startBatch }),
    calibration: (batches, batchSize) => calibrationBatches(home, info, { batches, batchSize, seed: opts.seed }),
    val: (batchSize) => createLoader(home, info, 'val', { batchSize, seed: opts.seed, shuffle: false, augment: false }),
  };
}
