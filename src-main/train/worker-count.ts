/**
 * The arithmetic of `workers: auto` (train/workers.ts), free of Node and TF.js so the renderer's new-run form can
 * use it too (it splits the cores between the two runs of a comparison).
 */

/**
 * Smallest shard `auto` makes, in images: each shard normalises with its own batch statistics, which grow noisy
 * below ~8 images (the reference trains 32 per GPU). An explicit `workers` may go lower.
 */
export const MIN_AUTO_SHARD = 8;

/** Workers of `workers: auto` on `cores` cores: the most ≤ cores that split the batch into equal shards of ≥ 8. */
export function autoWorkers(batchSize: number, cores: number): number {
  for (let n = Math.min(Math.max(1, cores), Math.floor(batchSize / MIN_AUTO_SHARD)); n > 1; n--) if (batchSize % n === 0) return n;
  return 1;
}
