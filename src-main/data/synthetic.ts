/**
 * Writers of real-format dataset files, byte-exact per the format specs, for the data tests and the data benchmark:
 * IDX (big-endian header, magic 0x00000803 / 0x00000801), CIFAR-10 (label + 1024 R, 1024 G, 1024 B), CIFAR-100
 * (coarse + fine + planes), PNG/JPEG folders, and a minimal ustar writer for .tar.gz archives.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Rng } from '../engine/core';

export const tempDir = (prefix = 'alphanet-data-'): string => mkdtempSync(join(tmpdir(), prefix));

export function idxImages(n: number, h: number, w: number, pixels: Uint8Array): Buffer {
  const b = Buffer.alloc(16 + n * h * w);
  b.writeUInt32BE(0x00000803, 0);
  b.writeUInt32BE(n, 4);
  b.writeUInt32BE(h, 8);
  b.writeUInt32BE(w, 12);
  b.set(pixels.subarray(0, n * h * w), 16);
  return b;
}

export function idxLabels(labels: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(8 + labels.length);
  b.writeUInt32BE(0x00000801, 0);
  b.writeUInt32BE(labels.length, 4);
  for (let i = 0; i < labels.length; i++) b[8 + i] = labels[i];
  return b;
}

/** Deterministic pseudo-random pixels and balanced labels (i mod k). */
export function synth(n: number, px: number, k: number, seed = 1): { pixels: Uint8Array; labels: Uint8Array } {
  const rng = Rng.fromSeeds(seed);
  const pixels = new Uint8Array(n * px);
  for (let i = 0; i < pixels.length; i += 4) {
    const v = rng.nextUint32();
    pixels[i] = v;
    pixels[i + 1] = v >>> 8;
    pixels[i + 2] = v >>> 16;
    pixels[i + 3] = v >>> 24;
  }
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % k;
  return { pixels, labels };
}

export interface IdxSet {
  dir: string;
  train: { pixels: Uint8Array; labels: Uint8Array };
  test: { pixels: Uint8Array; labels: Uint8Array };
}

/** An MNIST-like folder: train/t10k images and labels, raw or gzipped. */
export function writeIdxSet(dir: string, o: { nTrain: number; nTest: number; h?: number; w?: number; k?: number; gz?: boolean; seed?: number }): IdxSet {
  const h = o.h ?? 28;
  const w = o.w ?? 28;
  const k = o.k ?? 10;
  mkdirSync(dir, { recursive: true });
  const train = synth(o.nTrain, h * w, k, o.seed ?? 1);
  const test = synth(o.nTest, h * w, k, (o.seed ?? 1) + 1);
  const put = (name: string, b: Buffer) => writeFileSync(join(dir, o.gz ? `${name}.gz` : name), o.gz ? gzipSync(b, { level: 1 }) : b);
  put('train-images-idx3-ubyte', idxImages(o.nTrain, h, w, train.pixels));
  put('train-labels-idx1-ubyte', idxLabels(train.labels));
  put('t10k-images-idx3-ubyte', idxImages(o.nTest, h, w, test.pixels));
  put('t10k-labels-idx1-ubyte', idxLabels(test.labels));
  return { dir, train, test };
}

/** CIFAR records from HWC pixels: `labelBytes` label bytes each, then the R, G and B planes. */
export function cifarRecords(hwc: Uint8Array, labels: number[][]): Buffer {
  const n = labels.length;
  const lb = labels[0]?.length ?? 1;
  const rec = lb + 3072;
  const b = Buffer.alloc(n * rec);
  for (let i = 0; i < n; i++) {
    const o = i * rec;
    labels[i].forEach((l, j) => (b[o + j] = l));
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) b[o + lb + c * 1024 + p] = hwc[(i * 1024 + p) * 3 + c];
  }
  return b;
}

export const CIFAR10_META = 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n';

/** A cifar-10-batches-bin folder with `batches` training files of `perBatch` records and a test batch. */
export function writeCifar10(dir: string, o: { perBatch: number; batches?: number; nTest: number; seed?: number }): { train: { pixels: Uint8Array; labels: Uint8Array }; test: { pixels: Uint8Array; labels: Uint8Array } } {
  mkdirSync(dir, { recursive: true });
  const nb = o.batches ?? 5;
  const train = synth(o.perBatch * nb, 3072, 10, o.seed ?? 3);
  const test = synth(o.nTest, 3072, 10, (o.seed ?? 3) + 1);
  for (let b = 0; b < nb; b++) {
    const from = b * o.perBatch;
    const lab = Array.from(train.labels.subarray(from, from + o.perBatch), (l) => [l]);
    writeFileSync(join(dir, `data_batch_${b + 1}.bin`), cifarRecords(train.pixels.subarray(from * 3072, (from + o.perBatch) * 3072), lab));
  }
  writeFileSync(join(dir, 'test_batch.bin'), cifarRecords(test.pixels, Array.from(test.labels, (l) => [l])));
  writeFileSync(join(dir, 'batches.meta.txt'), CIFAR10_META);
  return { train, test };
}

/** A cifar-100-binary folder: train.bin / test.bin with coarse (fine mod 20) and fine labels, and the fine names. */
export function writeCifar100(dir: string, o: { nTrain: number; nTest: number }): { train: { pixels: Uint8Array; labels: Uint8Array } } {
  mkdirSync(dir, { recursive: true });
  const train = synth(o.nTrain, 3072, 100, 5);
  const test = synth(o.nTest, 3072, 100, 6);
  writeFileSync(join(dir, 'train.bin'), cifarRecords(train.pixels, Array.from(train.labels, (l) => [l % 20, l])));
  writeFileSync(join(dir, 'test.bin'), cifarRecords(test.pixels, Array.from(test.labels, (l) => [l % 20, l])));
  writeFileSync(join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `class${i}`).join('\n') + '\n');
  writeFileSync(join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `super${i}`).join('\n') + '\n');
  return { train };
}

/** A w×h image whose colour depends on `seed` (smooth, so JPEG keeps it recognisable). */
export function rgbaImage(w: number, h: number, seed: number, grey = false): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const r = (seed * 37 + x * 4) & 255;
      const g = grey ? r : (seed * 91 + y * 4) & 255;
      const b = grey ? r : (seed * 53 + (x + y) * 2) & 255;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = 255;
    }
  }
  return data;
}

export function pngFile(w: number, h: number, seed: number, grey = false): Buffer {
  const data = rgbaImage(w, h, seed, grey);
  if (grey) {
    const g = Buffer.alloc(w * h);
    for (let i = 0; i < w * h; i++) g[i] = data[i * 4];
    return PNG.sync.write({ width: w, height: h, data: g }, { colorType: 0, inputColorType: 0 });
  }
  return PNG.sync.write({ width: w, height: h, data }, { colorType: 2, inputColorType: 6 });
}

export function jpegFile(w: number, h: number, seed: number, quality = 90): Buffer {
  return jpeg.encode({ width: w, height: h, data: rgbaImage(w, h, seed) }, quality).data;
}

/** Writes `files` (relative path → content) under `dir`. */
export function writeTree(dir: string, files: Record<string, Uint8Array | string>): string {
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), data);
  }
  return dir;
}

/** A minimal ustar archive (regular files only), gzipped when `gz`. */
export function tarball(files: Record<string, Uint8Array>, gz = true): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h[156] = 0x30;
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    let sum = 0;
    for (const x of h) sum += x;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    parts.push(h, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  const tar = Buffer.concat(parts);
  return gz ? gzipSync(tar, { level: 1 }) : tar;
}
