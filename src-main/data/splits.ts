/**
 * Split maths of a dataset: the checks every decoded source must pass, its content hash, class counts, channel
 * statistics, the stratified val holdout, carving a test split. Pure functions.
 */
import { createHash } from 'node:crypto';
import { Rng } from '../engine/core';
import { DatasetError, type DecodedDataset, type RawSplit } from './types';

/** Default fraction of each training class held out for search validation. */
export const DEFAULT_VAL_FRACTION = 0.1;
/** Default seed of the validation split. */
export const DEFAULT_VAL_SEED = 0;

/** Per-class counts. */
export function classCounts(labels: Uint16Array, numClasses: number, indices?: ArrayLike<number>): number[] {
  const c = new Array<number>(numClasses).fill(0);
  if (indices) for (let i = 0; i < indices.length; i++) c[labels[indices[i]]]++;
  else for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
}

/** Per-channel mean and std in [0,1] units, exact, via a 256-bin histogram per channel (one pass, no floats). */
export function channelStats(images: Uint8Array, channels: number): { mean: number[]; std: number[] } {
  const hist = Array.from({ length: channels }, () => new Float64Array(256));
  if (channels === 1) {
    const h = hist[0];
    for (let i = 0; i < images.length; i++) h[images[i]]++;
  } else {
    const [h0, h1, h2] = hist;
    for (let i = 0; i + 2 < images.length; i += 3) {
      h0[images[i]]++;
      h1[images[i + 1]]++;
      h2[images[i + 2]]++;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (const h of hist) {
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (let v = 0; v < 256; v++) {
      n += h[v];
      s += h[v] * v;
      s2 += h[v] * v * v;
    }
    const m = s / n;
    const variance = Math.max(0, s2 / n - m * m);
    mean.push(Number((m / 255).toFixed(6)));
    // A constant channel would give std 0 and divide by zero in normalisation; floor it.
    std.push(Number(Math.max(Math.sqrt(variance) / 255, 1e-3).toFixed(6)));
  }
  return { mean, std };
}

/**
 * Stratified, seeded hold-out: from each class, round(count · fraction) images chosen at random (at least one image
 * of every class is kept on the remaining side). Returns the held-out indices, sorted.
 */
export function stratifiedHoldout(labels: Uint16Array, numClasses: number, fraction: number, seed: number): Uint32Array {
  if (!(fraction >= 0 && fraction < 1)) throw new DatasetError(`the validation fraction must be in [0, 1), got ${fraction}`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const out: number[] = [];
  const rng = Rng.fromSeeds(seed, 0x5a17);
  for (const idx of byClass) {
    const k = Math.min(Math.round(idx.length * fraction), Math.max(0, idx.length - 1));
    rng.shuffle(idx);
    for (let j = 0; j < k; j++) out.push(idx[j]);
  }
  return Uint32Array.from(out).sort();
}

export function gather(src: RawSplit, px: number, idx: ArrayLike<number>): RawSplit {
  const images = new Uint8Array(idx.length * px);
  const labels = new Uint16Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    images.set(src.images.subarray(j * px, (j + 1) * px), i * px);
    labels[i] = src.labels[j];
  }
  return { images, labels, n: idx.length };
}

/** Indices 0..n-1 not in `sortedHoldout`. */
export function complement(n: number, sortedHoldout: Uint32Array): Uint32Array {
  const keep = new Uint32Array(n - sortedHoldout.length);
  let h = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (h < sortedHoldout.length && sortedHoldout[h] === i) h++;
    else keep[k++] = i;
  }
  return keep;
}

/** Splits a source without a test set: a stratified seeded `fraction` becomes the test split. */
export function carveTest(train: RawSplit, px: number, numClasses: number, fraction: number, seed: number): { train: RawSplit; test: RawSplit } {
  const held = stratifiedHoldout(train.labels, numClasses, fraction, seed ^ 0x7e57);
  return { train: gather(train, px, complement(train.n, held)), test: gather(train, px, held) };
}

/** The stored content's identity: shape, class names, pixels and labels of both splits. */
export function contentHash(d: { height: number; width: number; channels: number; classNames: string[]; train: RawSplit; test: RawSplit }): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, height: d.height, width: d.width, channels: d.channels, classNames: d.classNames, train: d.train.n, test: d.test.n }));
  for (const s of [d.train, d.test]) {
    h.update(s.images);
    h.update(new Uint8Array(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength));
  }
  return `sha256:${h.digest('hex')}`;
}

/** Checks what every format must satisfy: label range, at least two classes, no empty training class. */
export function validateDecoded(d: DecodedDataset): void {
  const k = d.classNames.length;
  const where = (s: 'train' | 'test') => `${d.source} (${s})`;
  if (k < 2) throw new DatasetError(`${d.source}: only one class (${d.classNames[0] ?? 'none'}) found; a classifier needs at least two`);
  for (const [name, s] of [['train', d.train], ['test', d.test]] as const) {
    if (!s) continue;
    const px = d.height * d.width * d.channels;
    if (s.images.length !== s.n * px || s.labels.length !== s.n) {
      throw new DatasetError(`${where(name)}: ${s.n} images need ${s.n * px} bytes and ${s.n} labels, got ${s.images.length} bytes and ${s.labels.length} labels`);
    }
    for (let i = 0; i < s.n; i++) {
      if (s.labels[i] >= k) throw new DatasetError(`${where(name)}: label ${s.labels[i]} of image ${i} is out of range (${k} classes, 0–${k - 1})`);
    }
  }
  if (d.train.n === 0) throw new DatasetError(`${where('train')}: no training images`);
  const counts = classCounts(d.train.labels, k);
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) throw new DatasetError(`${where('train')}: class ${empty} (${d.classNames[empty]}) has no training images`);
}
