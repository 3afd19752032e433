/**
 * What the trainer needs from a dataset, as an interface: the runner adapts the datasets module to it
 * (`dataset-source.ts`), tests hand in small in-memory data. The trainer disposes every tensor it receives.
 */
import type * as tf from '@tensorflow/tfjs';

export interface Batch {
  /** [B, H, W, C] float32, normalised. */
  x: tf.Tensor4D;
  /** [B] class ids. */
  y: tf.Tensor1D;
}

export interface BatchStream extends AsyncIterable<Batch> {
  close(): void;
}

export interface TrainingData {
  id: string;
  name: string;
  numClasses: number;
  channels: number;
  /** Full training batches per epoch (a partial last batch is dropped). */
  trainBatchesPerEpoch: number;
  /** Val images. */
  valCount: number;
  /**
   * The training batches of `epoch` (0-based) starting at batch `startBatch`: shuffled and augmented as a function of
   * (seed, epoch) only, so a resumed run sees the same batches as an uninterrupted one.
   */
  train(epoch: number, startBatch: number): BatchStream;
  /** BN calibration batches from the training split, the same for every call with the same arguments. */
  calibration(batches: number, batchSize: number): tf.Tensor4D[];
  /** The val split in order, unaugmented. */
  val(batchSize: number): BatchStream;
}
