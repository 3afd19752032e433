/** Loaders, augmentation, calibration batches, the demo set and sample grids. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { truncateSync } from 'node:fs';
import { Rng } from '../../../src-main/engine/core';
import { imageDataUrl } from '../../../src-main/data/samples';
import { PNG } from 'pngjs';
import { openHomeDatabase, type Db } from '../../../src-main/store/db';
import {
  DEMO_CLASSES,
  calibrationBatches,
  clearCalibrationCache,
  contentHash,
  datasetDir,
  createLoader,
  ensureDemoDataset,
  generateDemo,
  importDataset,
  listDatasets,
  loadSplit,
  sampleGrid,
  type DatasetInfo,
  type Loader,
} from '../../../src-main/data';
import { normLut, resizeSquareU8, transformInto } from '../../../src-main/data/augment';
import { tempDir, writeIdxSet } from '../../../src-main/data/synthetic';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
const dbs: Db[] = [];
afterEach(() => {
  while (dbs.length) dbs.pop()!.close();
});

async function setup(o: { nTrain?: number; h?: number } = {}): Promise<{ home: string; info: DatasetInfo }> {
  const home = tempDir('alphanet-home-');
  const db = openHomeDatabase(home);
  dbs.push(db);
  const src = writeIdxSet(join(tempDir(), 'm'), { nTrain: o.nTrain ?? 230, nTest: 50, h: o.h ?? 6, w: o.h ?? 6 });
  return { home, info: (await importDataset(home, db, src.dir)).info };
}

async function collect(l: Loader): Promise<{ xs: Float32Array[]; ys: number[][]; idx: number[] }> {
  const xs: Float32Array[] = [];
  const ys: number[][] = [];
  const idx: number[] = [];
  for await (const b of l) {
    xs.push(b.x.dataSync() as Float32Array);
    ys.push(Array.from(b.y.dataSync()));
    idx.push(b.index);
    expect(b.y.dtype).toBe('int32');
    tf.dispose([b.x, b.y]);
  }
  return { xs, ys, idx };
}

describe('transformInto', () => {
  const img = Uint8Array.from({ length: 4 * 4 }, (_, i) => i * 10); // 4×4×1, value = 10·(4y + x)
  const lut = normLut([0], [1 / 255]); // identity: v/255 / (1/255) = v
  const run = (g: { dy: number; dx: number; flip: boolean }, res = 4) => {
    const out = new Float32Array(res * res);
    transformInto(img, 0, 4, 4, 1, g, res, lut, out, 0);
    return Array.from(out, (v) => Math.round(v));
  };
  it('crops with zero padding and flips', () => {
    expect(run({ dy: 0, dx: 0, flip: false })).toEqual(Array.from(img));
    // dy = 1: output row y reads input row y + 1; the last row is padding (0).
    expect(run({ dy: 1, dx: 0, flip: false })).toEqual([...Array.from(img.subarray(4)), 0, 0, 0, 0]);
    expect(run({ dy: 0, dx: -1, flip: false }).slice(0, 4)).toEqual([0, 0, 10, 20]);
    expect(run({ dy: 0, dx: 0, flip: true }).slice(0, 4)).toEqual([30, 20, 10, 0]);
  });
  it('resizes bilinearly (half-pixel centres), keeping a constant image constant', () => {
    const flat = new Uint8Array(16).fill(77);
    const out = new Float32Array(9);
    transformInto(flat, 0, 4, 4, 1, { dy: 0, dx: 0, flip: false }, 3, lut, out, 0);
    for (const v of out) expect(v).toBeCloseTo(77, 4);
    // 4 → 2 samples at source 0.5 and 2.5: the mean of each 2×2 block.
    expect(run({ dy: 0, dx: 0, flip: false }, 2)).toEqual([25, 45, 105, 125]);
  });
  it('resizeSquareU8 centre-crops then box-averages', () => {
    const src = Uint8Array.from({ length: 2 * 4 }, (_, i) => (i % 4 < 1 || i % 4 > 2 ? 255 : 100)); // 2×4, centre 2×2 = 100
    const out = new Uint8Array(1);
    resizeSquareU8(src, 2, 4, 1, 1, out, 0);
    expect(out[0]).toBe(100);
  });
});

describe('createLoader', () => {
  it('yields every training image once per epoch, normalised, in a seeded order', async () => {
    const { home, info } = await setup();
    const l = createLoader(home, info, 'train', { batchSize: 32, seed: 3, shuffle: true, augment: false });
    const n = info.splits.train.count;
    expect(n).toBe(210); // 23 per class, round(2.3) = 2 held out of each
    expect(l.batchesPerEpoch).toBe(7);
    const a = await collect(l);
    expect(a.idx).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(a.xs[6].length).toBe((n - 6 * 32) * 36);
    const split = loadSplit(home, info, 'train');
    const counts = new Array(10).fill(0);
    for (const ys of a.ys) for (const y of ys) counts[y]++;
    expect(counts).toEqual(info.splits.train.classCounts);
    // Unshuffled, unaugmented: exactly (v/255 − mean)/std.
    const plain = await collect(createLoader(home, info, 'train', { batchSize: 300, seed: 0, shuffle: false, augment: false }));
    for (let i = 0; i < 36 * 3; i++) expect(plain.xs[0][i]).toBeCloseTo((split.images[i] / 255 - info.mean[0]) / info.std[0], 5);
    // Same seed → same order; another epoch → another order; dropLast drops the short batch.
    const b = await collect(createLoader(home, info, 'train', { batchSize: 32, seed: 3, shuffle: true, augment: false }));
    expect(b.ys).toEqual(a.ys);
    const c = await collect(createLoader(home, info, 'train', { batchSize: 32, seed: 3, shuffle: true, augment: false, epoch: 1 }));
    expect(c.ys).not.toEqual(a.ys);
    expect(createLoader(home, info, 'train', { batchSize: 32, seed: 3, shuffle: true, augment: false, dropLast: true }).batchesPerEpoch).toBe(6);
  });

  it('resumes mid-epoch with the same batches, augmentation included; resizes to `resolution`', async () => {
    const { home, info } = await setup();
    const opts = { batchSize: 16, seed: 11, shuffle: true, augment: true, epoch: 2 };
    const full = await collect(createLoader(home, info, 'train', opts));
    const tail = await collect(createLoader(home, info, 'train', { ...opts, startBatch: 5 }));
    expect(tail.idx[0]).toBe(5);
    expect(tail.ys).toEqual(full.ys.slice(5));
    expect(tail.xs.map((x) => Array.from(x))).toEqual(full.xs.slice(5).map((x) => Array.from(x)));
    // Augmentation changes pixels (crop) but not the labels' order.
    const noAug = await collect(createLoader(home, info, 'train', { ...opts, augment: false }));
    expect(noAug.ys).toEqual(full.ys);
    expect(Array.from(noAug.xs[0])).not.toEqual(Array.from(full.xs[0]));
    const l = createLoader(home, info, 'val', { batchSize: 8, seed: 0, shuffle: false, augment: false, resolution: 9 });
    const it = l[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value!.x.shape).toEqual([8, 9, 9, 1]);
    tf.dispose([first.value!.x, first.value!.y]);
    l.close();
    expect((await it.next()).done).toBe(true);
    expect(() => createLoader(home, info, 'train', { batchSize: 0, seed: 0, shuffle: false, augment: false })).toThrow(/batchSize must be an integer ≥ 1/);
    expect(() => createLoader(home, info, 'train', { batchSize: 8, seed: 0, shuffle: false, augment: false, startBatch: 99 })).toThrow(/past the end/);
  });

  it('never flips IDX digits: augmentation is only a shift', async () => {
    const { home, info } = await setup({ h: 8 });
    expect(info.augment.flip).toBe(false);
    // Every augmented image equals its unaugmented self shifted by some (dy, dx) in [−4, 4]², never mirrored.
    const lut = normLut(info.mean, info.std);
    const base = loadSplit(home, info, 'train');
    const aug = await collect(createLoader(home, info, 'train', { batchSize: 64, seed: 2, shuffle: false, augment: true }));
    for (let i = 0; i < 20; i++) {
      const got = Array.from(aug.xs[0].subarray(i * 64, (i + 1) * 64));
      let match = false;
      for (let dy = -4; dy <= 4 && !match; dy++) {
        for (let dx = -4; dx <= 4 && !match; dx++) {
          const out = new Float32Array(64);
          transformInto(base.images, i * 64, 8, 8, 1, { dy, dx, flip: false }, 8, lut, out, 0);
          match = Array.from(out).every((v, j) => Math.abs(v - got[j]) < 1e-5);
        }
      }
      expect(match).toBe(true);
    }
  });
});

describe('calibrationBatches', () => {
  it('are fixed for the same arguments, from train, cached, and new tensors each call', async () => {
    const { home, info } = await setup();
    clearCalibrationCache();
    const before = tf.memory().numTensors;
    const a = calibrationBatches(home, info, { batches: 3, batchSize: 10, seed: 5, resolution: 8 });
    const b = calibrationBatches(home, info, { batches: 3, batchSize: 10, seed: 5, resolution: 8 });
    expect(a.map((t) => t.shape)).toEqual([[10, 8, 8, 1], [10, 8, 8, 1], [10, 8, 8, 1]]);
    expect(a[0]).not.toBe(b[0]);
    const aData = a.map((t) => Array.from(t.dataSync()));
    for (let i = 0; i < 3; i++) expect(Array.from(b[i].dataSync())).toEqual(aData[i]);
    const c = calibrationBatches(home, info, { batches: 3, batchSize: 10, seed: 6, resolution: 8 });
    expect(Array.from(c[0].dataSync())).not.toEqual(Array.from(a[0].dataSync()));
    tf.dispose([...a, ...b, ...c]);
    expect(tf.memory().numTensors).toBe(before);
    clearCalibrationCache();
    const d = calibrationBatches(home, info, { batches: 3, batchSize: 10, seed: 5, resolution: 8 });
    expect(Array.from(d[2].dataSync())).toEqual(aData[2]);
    tf.dispose(d);
  });
});

describe('demo dataset', () => {
  it('is deterministic, balanced and class-dependent', () => {
    const a = generateDemo({ train: 200, test: 40 });
    const b = generateDemo({ train: 200, test: 40 });
    expect(contentHash({ ...a, test: a.test! })).toBe(contentHash({ ...b, test: b.test! }));
    expect(a.classNames).toEqual(DEMO_CLASSES);
    expect(a.train.labels.subarray(0, 12)).toEqual(Uint16Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]));
    // Images are not constant and differ between images.
    const px = 32 * 32 * 3;
    expect(Buffer.from(a.train.images.subarray(0, px)).equals(Buffer.from(a.train.images.subarray(px, 2 * px)))).toBe(false);
    const img = a.train.images.subarray(0, px);
    expect(Math.max(...img) - Math.min(...img)).toBeGreaterThan(100);
  });

  it('ensureDemoDataset stores it once (idempotent) and the grid shows it', async () => {
    const home = tempDir('alphanet-home-');
    const db = openHomeDatabase(home);
    dbs.push(db);
    const d = await ensureDemoDataset(home, db);
    expect(d).toMatchObject({ name: 'demo', format: 'demo', height: 32, width: 32, channels: 3 });
    expect(d.splits.train.count).toBe(9000);
    expect(d.splits.val.count).toBe(1000);
    expect(d.splits.test.count).toBe(2000);
    expect((await ensureDemoDataset(home, db)).id).toBe(d.id);
    expect(listDatasets(db)).toHaveLength(1);
    const g = sampleGrid(home, d, { perClass: 3, split: 'test' });
    expect(g.classes).toHaveLength(10);
    expect(g.classes[4]).toMatchObject({ name: 'triangle', count: 200 });
    const url = g.classes[0].thumbnails[0];
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    const png = PNG.sync.read(Buffer.from(url.slice(22), 'base64'));
    expect([png.width, png.height]).toEqual([32, 32]);
    expect(g.histogram.train).toEqual(d.splits.train.classCounts);
  });
});

describe('sample grid', () => {
  it('reads only the chosen images, and gives what picking from the whole split in memory gives', async () => {
    const { home, info } = await setup({ nTrain: 230 });
    for (const split of ['train', 'val', 'test'] as const) {
      // The reference: the whole split in memory, the same seeded pick per class.
      const data = loadSplit(home, info, split);
      const byClass: number[][] = info.classNames.map(() => []);
      for (let i = 0; i < data.n; i++) byClass[data.labels[i]].push(i);
      const rng = Rng.fromSeeds(0x5a3b1e);
      const want = byClass.map((m) => rng.shuffle(m).slice(0, 3).sort((a, b) => a - b).map((i) => imageDataUrl(data.images, i, info)));
      const g = sampleGrid(home, info, { perClass: 3, split });
      expect(g.classes.map((c) => c.thumbnails), split).toEqual(want);
      expect(g.classes.map((c) => c.count), split).toEqual(byClass.map((m) => m.length));
    }
  });

  it('says the dataset is damaged when its image file is short', async () => {
    const { home, info } = await setup({ nTrain: 60 });
    truncateSync(join(datasetDir(home, info.id), 'test.images.u8'), 10);
    expect(() => sampleGrid(home, info, { split: 'test' })).toThrow(/is damaged: test\.images\.u8 holds 10 bytes for 50 labels; remove it and import it again/);
  });
});

