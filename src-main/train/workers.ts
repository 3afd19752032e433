/**
 * How many data-parallel workers (data-parallel.ts) a run uses, and so how many cores it holds in the job queue.
 * Free of TF.js: the run manager, which the Electron main process reaches, asks it too.
 */
import { availableParallelism } from 'node:os';
import type { TrainConfig } from '../engine/core';
import { MIN_AUTO_SHARD, autoWorkers } from './worker-count';

export { MIN_AUTO_SHARD, autoWorkers };

export class WorkersError extends Error {
  override name = 'WorkersError';
}

/** The cores this machine offers. */
export function machineCores(): number {
  return Math.max(1, availableParallelism());
}

/**
 * How many data-parallel workers a run uses: its `workers` setting (`auto` = every core it may use, `cores`, as long
 * as the batch divides into equal shards of at least MIN_AUTO_SHARD images). Native TensorFlow backends already use
 * every core themselves and train with one. Throws when an explicit count does not divide the batch.
 */
export function resolveWorkers(c: Pick<TrainConfig, 'workers' | 'batchSize'>, opts: { cores?: number; backend?: string } = {}): number {
  const cores = Math.max(1, opts.cores ?? machineCores());
  const native = opts.backend !== undefined && opts.backend !== 'wasm' && opts.backend !== 'cpu';
  if (c.workers === 'auto') {
    return native ? 1 : autoWorkers(c.batchSize, cores);
  }
  if (c.batchSize % c.workers !== 0) throw new WorkersError(`workers: ${c.workers} workers need a batch size divisible by ${c.workers}, got ${c.batchSize}`);
  if (native && c.workers > 1) throw new WorkersError(`workers: ${c.workers} workers need the wasm or cpu backend (the '${opts.backend}' backend uses every core by itself)`);
  return c.workers;
}
