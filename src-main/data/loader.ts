/**
 * Batch loaders for training, validation and BN calibration. All randomness comes from seeds: the order of epoch e
 * from (seed, e), the augmentation of batch b from (seed, e, b); so a run resumed at `startBatch` sees exactly the
 * batches it would have seen.
 */
import * as tf from '@tensorflow/tfjs';
import { IDENTITY, normLut, transformInto, type Geometry } from './augment';
import { Rng, permutation } from '../engine/core';
import { loadSplit } from './files';
import { DatasetError, type DatasetInfo, type RawSplit, type SplitName } from './types';

export interface LoaderOptions {
  batchSize: number;
  seed: number;
  /** Shuffle the order each epoch. */
  shuffle: boolean;
  /** Random crop with the dataset's zero padding (4 px) and, where the dataset allows it, horizontal flip. */
  augment: boolean;
  /** Output size (square); default the dataset's height. Resized bilinearly when it differs. */
  resolution?: number;
  /** Drop a last, smaller batch; default false. */
  dropLast?: boolean;
  /** Epoch number; the shuffle order and augmentation are derived from (seed, epoch). Default 0. */
  epoch?: number;
  /** First batch to yield (resume mid-epoch); default 0. */
  startBatch?: number;
}

export interface Batch {
  /** Normalised float32, NHWC. */
  x: tf.Tensor4D;
  /** int32 class indices. */
  y: tf.Tensor1D;
  /** Index of the batch within the epoch. */
  index: number;
}

export interface Loader extends AsyncIterable<Batch> {
  batchesPerEpoch: number;
  /** Images in the split. */
  size: number;
  close(): void;
}

interface HostBatch {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new DatasetError(`loader: ${name} must be an integer ≥ ${min}, got ${v}`);
}

/** A crop offset and flip drawn for one image. */
function drawGeometry(rng: Rng, info: DatasetInfo): Geometry {
  const p = info.augment.padding;
  return { dy: rng.int(2 * p + 1) - p, dx: rng.int(2 * p + 1) - p, flip: info.augment.flip && rng.next() < 0.5 };
}

/**
 * Assembles one batch on the CPU: `idx` images of `data`, each augmented with the geometry `geo` gives for it
 * (drawn from an Rng, taken from a plan, or none).
 */
function assemble(data: RawSplit, info: DatasetInfo, idx: ArrayLike<number>, res: number, lut: Float32Array, geo: (i: number) => Geometry): HostBatch {
  const { height: h, width: w, channels: c } = info;
  const px = h * w * c;
  const out = res * res * c;
  const x = new Float32Array(idx.length * out);
  const y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    transformInto(data.images, j * px, h, w, c, geo(i), res, lut, x, i * out);
    y[i] = data.labels[j];
  }
  return { x, y, n: idx.length };
}

function toTensors(b: HostBatch, res: number, c: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return { x: tf.tensor4d(b.x, [b.n, res, res, c], 'float32'), y: tf.tensor1d(b.y, 'int32') };
}

/**
 * A loader over one split, for one epoch (create one per epoch with `epoch` set). The CPU work of batch b+1 is
 * scheduled with setImmediate as soon as batch b is handed out, so it runs while the consumer awaits anything
 * (typically its step's `data()`); a 64-image 32×32 batch costs a few milliseconds (see `npm run bench`), far below
 * a training step. The caller disposes the tensors it receives.
 */
export function createLoader(home: string, info: DatasetInfo, split: SplitName, opts: LoaderOptions): Loader {
  checkInt('batchSize', opts.batchSize, 1);
  const res = opts.resolution ?? info.height;
  checkInt('resolution', res, 1);
  const epoch = opts.epoch ?? 0;
  const data = loadSplit(home, info, split);
  const n = data.n;
  const bs = opts.batchSize;
  const batchesPerEpoch = opts.dropLast ? Math.floor(n / bs) : Math.ceil(n / bs);
  const start = opts.startBatch ?? 0;
  checkInt('startBatch', start, 0);
  if (start > batchesPerEpoch) throw new DatasetError(`loader: startBatch ${start} is past the end of the epoch (${batchesPerEpoch} batches)`);
  const order = opts.shuffle ? permutation(n, Rng.fromSeeds(opts.seed, epoch, 0x0de7)) : null;
  const lut = normLut(info.mean, info.std);
  const produce = (b: number): HostBatch => {
    const from = b * bs;
    const to = Math.min(from + bs, n);
    const idx = order ? order.subarray(from, to) : Array.from({ length: to - from }, (_, i) => from + i);
    const rng = opts.augment ? Rng.fromSeeds(opts.seed, epoch, b, 0xa06) : null;
    return assemble(data, info, idx, res, lut, rng ? () => drawGeometry(rng, info) : () => IDENTITY);
  };
  let closed = false;
  return {
    batchesPerEpoch,
    size: n,
    close() {
      closed = true;
    },
    [Symbol.asyncIterator](): AsyncIterator<Batch> {
      let b = start;
      let pending: Promise<HostBatch> | null = null;
      const prefetch = (k: number): Promise<HostBatch> =>
        new Promise((resolve, reject) =>
          setImmediate(() => {
            try {
              resolve(produce(k));
            } catch (e) {
              reject(e);
            }
          }),
        );
      return {
        async next(): Promise<IteratorResult<Batch>> {
          if (closed || b >= batchesPerEpoch) {
            pending = null;
            return { done: true, value: undefined };
          }
          const host = pending ? await pending : produce(b);
          const index = b++;
          pending = !closed && b < batchesPerEpoch ? prefetch(b) : null;
          return { done: false, value: { ...toTensors(host, res, info.channels), index } };
        },
        async return(): Promise<IteratorResult<Batch>> {
          closed = true;
          pending = null;
          return { done: true, value: undefined };
        },
      };
    },
  };
}

const calibCache = new Map<string, HostBatch[]>();
const CALIB_CACHE_MAX = 8;

export interface CalibrationOptions {
  batches: number;
  batchSize: number;
  seed: number;
  /** Default the dataset's size. */
  resolution?: number;
}

/** One calibration batch as indices into the `train` split and each image's crop offset and flip. */
export interface CalibrationBatchPlan {
  indices: number[];
  geometry: Geometry[];
}

/**
 * Which training images calibrate BN and how each is augmented: `batches × batchSize` images of the `train` split
 * (never val or test) chosen by `seed` without replacement while the split lasts (a fresh permutation for each
 * further pass), each with a random crop and flip drawn per batch from (seed, batch). Needs only the split's size.
 * `calibrationBatches` assembles exactly these; the torch engine's evaluator is handed them, so both engines
 * calibrate on the same pixels.
 */
export function calibrationPlan(info: DatasetInfo, trainImages: number, opts: Omit<CalibrationOptions, 'resolution'>): CalibrationBatchPlan[] {
  checkInt('batches', opts.batches, 1);
  checkInt('batchSize', opts.batchSize, 1);
  if (trainImages === 0) throw new DatasetError(`dataset '${info.name}' has no training images to calibrate with`);
  const need = opts.batches * opts.batchSize;
  const picks = new Uint32Array(need);
  for (let filled = 0, pass = 0; filled < need; pass++) {
    const p = permutation(trainImages, Rng.fromSeeds(opts.seed, 0xca1b, pass));
    const take = Math.min(p.length, need - filled);
    picks.set(p.subarray(0, take), filled);
    filled += take;
  }
  const plan: CalibrationBatchPlan[] = [];
  for (let b = 0; b < opts.batches; b++) {
    const indices = Array.from(picks.subarray(b * opts.batchSize, (b + 1) * opts.batchSize));
    const rng = Rng.fromSeeds(opts.seed, 0xca1b, b, 0xa06);
    plan.push({ indices, geometry: indices.map(() => drawGeometry(rng, info)) });
  }
  return plan;
}

/**
 * Fixed calibration batches for BN recalibration: the images of `calibrationPlan` with their augmentation
 * (AlphaNet recalibrates on augmented training data), the same on every call with the same arguments. The host
 * arrays are cached in memory; each call returns new tensors that the caller disposes.
 */
export function calibrationBatches(home: string, info: DatasetInfo, opts: CalibrationOptions): tf.Tensor4D[] {
  checkInt('batches', opts.batches, 1);
  checkInt('batchSize', opts.batchSize, 1);
  const res = opts.resolution ?? info.height;
  checkInt('resolution', res, 1);
  const key = [home, info.id, info.contentHash, info.valFraction, info.valSeed, info.mean, info.std, opts.batches, opts.batchSize, opts.seed, res].join('|');
  let host = calibCache.get(key);
  if (!host) {
    const data = loadSplit(home, info, 'train');
    const lut = normLut(info.mean, info.std);
    host = calibrationPlan(info, data.n, opts).map((b) => assemble(data, info, b.indices, res, lut, (i) => b.geometry[i]));
    if (calibCache.size >= CALIB_CACHE_MAX) calibCache.delete(calibCache.keys().next().value as string);
    calibCache.set(key, host);
  }
  // A copy per call: some backends (cpu) keep the given array as the tensor's storage, and the cache must stay intact.
  return host.map((b) => tf.tensor4d(b.x.slice(), [b.n, res, res, info.channels], 'float32'));
}

/** Empties the calibration cache (tests, or to free memory). */
export function clearCalibrationCache(): void {
  calibCache.clear();
}
