/** Import of each format from generated, byte-exact files, and every broken case leaving nothing behind. */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openHomeDatabase, type Db } from '../../../src-main/store/db';
import {
  DatasetError,
  channelStats,
  getDataset,
  importDataset,
  listDatasets,
  loadSplit,
  removeDataset,
  setValSplit,
  type FileWriter,
} from '../../../src-main/data';
import { cifarRecords, idxImages, idxLabels, jpegFile, pngFile, synth, tarball, tempDir, writeCifar10, writeCifar100, writeIdxSet, writeTree } from '../../../src-main/data/synthetic';

const dbs: Db[] = [];
function home(): { home: string; db: Db } {
  const h = tempDir('alphanet-home-');
  const db = openHomeDatabase(h);
  dbs.push(db);
  return { home: h, db };
}
afterEach(() => {
  while (dbs.length) dbs.pop()!.close();
});

/** Asserts the import fails with a DatasetError matching `re`, and that no row and no files remain. */
async function expectRejected(h: { home: string; db: Db }, path: string, re: RegExp, opts = {}): Promise<void> {
  const err = await importDataset(h.home, h.db, path, opts).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  expect((err as Error).message).toMatch(re);
  expect(listDatasets(h.db)).toEqual([]);
  const root = join(h.home, 'datasets');
  expect(existsSync(root) ? readdirSync(root) : []).toEqual([]);
}

describe('IDX', () => {
  it('imports raw files: exact pixels, splits, stats; val is stratified and carved out of train', async () => {
    const h = home();
    const src = writeIdxSet(join(tempDir(), 'mnist'), { nTrain: 500, nTest: 100, h: 8, w: 6 });
    const progress: string[] = [];
    const r = await importDataset(h.home, h.db, src.dir, { onProgress: (p) => progress.push(p.phase) });
    const d = r.info;
    expect(r.existing).toBe(false);
    expect(d).toMatchObject({ name: 'mnist', format: 'idx', height: 8, width: 6, channels: 1, augment: { flip: false, padding: 4 } });
    expect(d.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(d.splits.val.count).toBe(50);
    expect(d.splits.val.classCounts).toEqual(Array(10).fill(5));
    expect(d.splits.train.count).toBe(450);
    expect(d.splits.test).toEqual({ count: 100, classCounts: Array(10).fill(10) });
    expect(progress).toContain('write');
    const st = channelStats(src.train.pixels, 1);
    expect(d.mean[0]).toBeCloseTo(st.mean[0], 6);
    expect(d.std[0]).toBeCloseTo(st.std[0], 6);
    // train ∪ val = the source's training set, exactly.
    const tr = loadSplit(h.home, d, 'train');
    const va = loadSplit(h.home, d, 'val');
    expect(tr.n + va.n).toBe(500);
    const seen = new Set<string>();
    for (const s of [tr, va]) for (let i = 0; i < s.n; i++) seen.add(Buffer.from(s.images.subarray(i * 48, (i + 1) * 48)).toString('hex') + s.labels[i]);
    for (let i = 0; i < 500; i++) expect(seen.has(Buffer.from(src.train.pixels.subarray(i * 48, (i + 1) * 48)).toString('hex') + src.train.labels[i])).toBe(true);
    const te = loadSplit(h.home, d, 'test');
    expect(Buffer.from(te.images).equals(Buffer.from(src.test.pixels.subarray(0, 100 * 48)))).toBe(true);
    expect(Array.from(te.labels)).toEqual(Array.from(src.test.labels));
  });

  it('recognises the same content (raw, gzipped, in a .tar.gz) by its hash', async () => {
    const h = home();
    const base = tempDir();
    const raw = writeIdxSet(join(base, 'raw'), { nTrain: 200, nTest: 40, h: 4, w: 4 });
    writeIdxSet(join(base, 'gz'), { nTrain: 200, nTest: 40, h: 4, w: 4, gz: true });
    const a = await importDataset(h.home, h.db, raw.dir, { name: 'digits' });
    const b = await importDataset(h.home, h.db, join(base, 'gz'));
    expect(b.existing).toBe(true);
    expect(b.info.id).toBe(a.info.id);
    const files = Object.fromEntries(readdirSync(raw.dir).map((f) => [`mnist/${f}`, readFileSync(join(raw.dir, f))]));
    const tgz = join(base, 'mnist.tar.gz');
    writeFileSync(tgz, tarball(files));
    const c = await importDataset(h.home, h.db, tgz);
    expect(c.existing).toBe(true);
    expect(listDatasets(h.db)).toHaveLength(1);
  });

  it('rejects broken files with the file name and the cause, leaving nothing behind', async () => {
    const h = home();
    const base = tempDir();
    const mk = (name: string, edit: (dir: string) => void, o: Partial<Parameters<typeof writeIdxSet>[1]> = {}) => {
      const dir = join(base, name);
      writeIdxSet(dir, { nTrain: 60, nTest: 20, h: 4, w: 4, ...o });
      edit(dir);
      return dir;
    };
    const f = (dir: string, n: string) => join(dir, n);
    const truncated = mk('trunc', (d) => writeFileSync(f(d, 'train-images-idx3-ubyte'), readFileSync(f(d, 'train-images-idx3-ubyte')).subarray(0, 500)));
    await expectRejected(h, truncated, /train-images-idx3-ubyte: truncated: the header says 60×4×4 \(976 bytes\) but the file has 500 bytes/);
    const magic = mk('magic', (d) => {
      const b = readFileSync(f(d, 't10k-labels-idx1-ubyte'));
      b.writeUInt32BE(0x00000803, 0);
      writeFileSync(f(d, 't10k-labels-idx1-ubyte'), b);
    });
    await expectRejected(h, magic, /t10k-labels-idx1-ubyte: wrong magic number 0x00000803, expected 0x00000801/);
    const mismatch = mk('mismatch', (d) => writeFileSync(f(d, 'train-labels-idx1-ubyte'), idxLabels(Array.from({ length: 59 }, (_, i) => i % 10))));
    await expectRejected(h, mismatch, /train-labels-idx1-ubyte: 59 labels for 60 images/);
    const range = mk('range', (d) => writeFileSync(f(d, 't10k-labels-idx1-ubyte'), idxLabels(Array.from({ length: 20 }, (_, i) => (i === 7 ? 12 : i % 10)))));
    await expectRejected(h, range, /t10k-labels-idx1-ubyte: label 12 of image 7 is out of range \(the training labels are 0–9\)/);
    const empty = mk('empty', (d) => {
      writeFileSync(f(d, 'train-labels-idx1-ubyte'), idxLabels(Array.from({ length: 60 }, (_, i) => [0, 1, 3][i % 3])));
      writeFileSync(f(d, 't10k-labels-idx1-ubyte'), idxLabels(Array.from({ length: 20 }, (_, i) => [0, 1, 3][i % 3])));
    });
    await expectRejected(h, empty, /class 2 \(2\) has no training images/);
    const single = mk('single', (d) => {
      writeFileSync(f(d, 'train-labels-idx1-ubyte'), idxLabels(new Array(60).fill(0)));
      writeFileSync(f(d, 't10k-labels-idx1-ubyte'), idxLabels(new Array(20).fill(0)));
    });
    await expectRejected(h, single, /only one class \(0\) found/);
    const sizes = mk('sizes', (d) => writeFileSync(f(d, 't10k-images-idx3-ubyte'), idxImages(20, 5, 5, synth(20, 25, 10).pixels)));
    await expectRejected(h, sizes, /mixed image sizes: .*train-images-idx3-ubyte holds 4×4 images but .*t10k-images-idx3-ubyte holds 5×5/);
    const missing = mk('missing', (d) => rmSync(f(d, 't10k-images-idx3-ubyte')));
    await expectRejected(h, missing, /no t10k-images-idx3-ubyte file/);
    const badGz = mk('badgz', (d) => writeFileSync(f(d, 'train-images-idx3-ubyte.gz'), gzipSync(Buffer.alloc(3000)).subarray(0, 30)), { gz: true });
    await expectRejected(h, badGz, /train-images-idx3-ubyte\.gz: cannot decompress/);
    await expectRejected(h, join(base, 'nope'), /nope: no such file or folder/);
  });
});

describe('CIFAR', () => {
  it('imports CIFAR-10 from a folder and from a .tar.gz: planar records become HWC, names from batches.meta.txt', async () => {
    const h = home();
    const base = tempDir();
    const dir = join(base, 'cifar-10-batches-bin');
    const src = writeCifar10(dir, { perBatch: 40, nTest: 30 });
    const r = await importDataset(h.home, h.db, dir, { valFraction: 0.25 });
    expect(r.info).toMatchObject({ format: 'cifar10', height: 32, width: 32, channels: 3, augment: { flip: true } });
    expect(r.info.classNames[9]).toBe('truck');
    expect(r.info.splits.val.count).toBe(50);
    const te = loadSplit(h.home, r.info, 'test');
    expect(Buffer.from(te.images).equals(Buffer.from(src.test.pixels.subarray(0, 30 * 3072)))).toBe(true);
    const all = loadSplit(h.home, r.info, 'train');
    const va = loadSplit(h.home, r.info, 'val');
    expect(all.n + va.n).toBe(200);
    const tgz = join(base, 'cifar-10-binary.tar.gz');
    writeFileSync(tgz, tarball(Object.fromEntries(readdirSync(dir).map((f) => [`cifar-10-batches-bin/${f}`, readFileSync(join(dir, f))]))));
    const again = await importDataset(h.home, h.db, tgz);
    expect(again.existing).toBe(true);
    const g = await importDataset(h.home, h.db, tgz, { format: 'cifar10', name: 'other' });
    expect(g.info.id).toBe(r.info.id);
  });

  it('imports CIFAR-100 with fine labels and fine_label_names.txt', async () => {
    const h = home();
    const dir = join(tempDir(), 'cifar-100-binary');
    const src = writeCifar100(dir, { nTrain: 300, nTest: 100 });
    const r = await importDataset(h.home, h.db, dir);
    expect(r.info.format).toBe('cifar100');
    expect(r.info.classNames).toHaveLength(100);
    expect(r.info.classNames[42]).toBe('class42');
    expect(r.info.splits.test.classCounts.every((c) => c === 1)).toBe(true);
    const tr = loadSplit(h.home, r.info, 'train');
    const va = loadSplit(h.home, r.info, 'val');
    expect(tr.n + va.n).toBe(300);
    expect(src.train.labels[142]).toBe(42);
  });

  it('rejects truncated batches, out-of-range labels and wrong formats', async () => {
    const h = home();
    const base = tempDir();
    const t = join(base, 'trunc');
    writeCifar10(t, { perBatch: 10, batches: 2, nTest: 10 });
    writeFileSync(join(t, 'data_batch_2.bin'), readFileSync(join(t, 'data_batch_2.bin')).subarray(0, 3073 * 5 + 100));
    await expectRejected(h, t, /data_batch_2\.bin: 15465 bytes is not a whole number of 3073-byte records/);
    const l = join(base, 'label');
    writeCifar10(l, { perBatch: 10, batches: 1, nTest: 10 });
    const b = readFileSync(join(l, 'test_batch.bin'));
    b[3073 * 4] = 10;
    writeFileSync(join(l, 'test_batch.bin'), b);
    await expectRejected(h, l, /test_batch\.bin: label 10 of record 4 is out of range \(10 classes, 0–9\)/);
    const c = join(base, 'c100');
    writeCifar100(c, { nTrain: 100, nTest: 100 });
    const tb = readFileSync(join(c, 'train.bin'));
    tb[3074 * 3] = 25;
    writeFileSync(join(c, 'train.bin'), tb);
    await expectRejected(h, c, /train\.bin: coarse label 25 of record 3 is out of range/);
    const noTest = join(base, 'notest');
    writeCifar10(noTest, { perBatch: 10, batches: 1, nTest: 10 });
    rmSync(join(noTest, 'test_batch.bin'));
    await expectRejected(h, noTest, /no test_batch\.bin found/);
    const x = writeTree(join(base, 'random'), { 'readme.txt': 'hello' });
    await expectRejected(h, x, /cannot tell the format of .*random.*--format/);
    // Forcing the wrong format names what is missing.
    await expectRejected(h, noTest, /no train-images-idx3-ubyte/, { format: 'idx' });
    const tgz = join(base, 'broken.tar.gz');
    writeFileSync(tgz, tarball({ 'a/data_batch_1.bin': cifarRecords(new Uint8Array(3072 * 2), [[1], [2]]) }).subarray(0, 60));
    await expectRejected(h, tgz, /broken\.tar\.gz: cannot decompress/);
  });
});

describe('image folders', () => {
  it('decodes PNG and JPEG class folders with train/ and test/, resized to --size', async () => {
    const h = home();
    const dir = writeTree(join(tempDir(), 'pets'), {
      'train/cat/a.png': pngFile(40, 30, 1),
      'train/cat/b.jpg': jpegFile(20, 20, 2),
      'train/cat/c.jpeg': jpegFile(64, 64, 3),
      'train/dog/a.png': pngFile(16, 16, 4),
      'train/dog/b.png': pngFile(16, 24, 5),
      'train/dog/.DS_Store': 'junk',
      'test/cat/t.png': pngFile(16, 16, 6),
      'test/dog/t.jpg': jpegFile(16, 16, 7),
    });
    const r = await importDataset(h.home, h.db, dir, { size: 16, valFraction: 0 });
    expect(r.info).toMatchObject({ format: 'folder', height: 16, width: 16, channels: 3, classNames: ['cat', 'dog'] });
    expect(r.info.splits.train.classCounts).toEqual([3, 2]);
    expect(r.info.splits.test.classCounts).toEqual([1, 1]);
    // A 16×16 PNG at size 16 is stored unchanged.
    const te = loadSplit(h.home, r.info, 'test');
    const src = pngFile(16, 16, 6);
    const { PNG } = await import('pngjs');
    const rgba = PNG.sync.read(src).data;
    for (let p = 0; p < 256; p++) for (let c = 0; c < 3; c++) expect(te.images[p * 3 + c]).toBe(rgba[p * 4 + c]);
  });

  it('stores greyscale images as one channel, carves a test split when there is no test/, and converts with channels', async () => {
    const h = home();
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 10; i++) files[`a/${i}.png`] = pngFile(12, 12, i, true);
    for (let i = 0; i < 10; i++) files[`b/${i}.png`] = pngFile(12, 12, 50 + i, true);
    const dir = writeTree(join(tempDir(), 'grey'), files);
    const r = await importDataset(h.home, h.db, dir, { size: 8 });
    expect(r.info.channels).toBe(1);
    expect(r.info.splits.test.classCounts).toEqual([2, 2]);
    expect(r.info.splits.train.count + r.info.splits.val.count).toBe(16);
    const rgb = await importDataset(h.home, h.db, dir, { size: 8, channels: 3, name: 'grey-rgb' });
    expect(rgb.info.channels).toBe(3);
    expect(rgb.existing).toBe(false);
  });

  it('refuses an image size or channel count for a format that is not a folder, detected or given', async () => {
    const h = home();
    const idx = writeIdxSet(join(tempDir(), 'digits-size'), { nTrain: 20, nTest: 5, h: 4, w: 4, k: 2 });
    await expectRejected(h, idx.dir, /an image size or channel count applies to image folders only, not to idx/, { size: 16 });
    await expectRejected(h, idx.dir, /applies to image folders only, not to idx/, { format: 'idx', channels: 3 });
  });

  it('rejects mixed channels, non-images, damaged and unreadable files, misplaced files, one class', async () => {
    const h = home();
    const base = tempDir();
    const mixed = writeTree(join(base, 'mixed'), { 'a/1.png': pngFile(8, 8, 1, true), 'b/1.png': pngFile(8, 8, 2) });
    await expectRejected(h, mixed, /mixed channel counts: .*a\/1\.png is greyscale but .*b\/1\.png is colour; .*--channels/);
    const text = writeTree(join(base, 'text'), { 'a/1.png': pngFile(8, 8, 1), 'b/notes.txt': 'hello', 'b/2.png': pngFile(8, 8, 2) });
    await expectRejected(h, text, /b\/notes\.txt: not a PNG or JPEG image/);
    const fake = writeTree(join(base, 'fake'), { 'a/1.png': pngFile(8, 8, 1), 'b/2.jpg': 'GIF89a....' });
    await expectRejected(h, fake, /b\/2\.jpg: not a PNG or JPEG image \(its name says so, its contents do not\)/);
    const png = pngFile(8, 8, 2);
    const damaged = writeTree(join(base, 'damaged'), { 'a/1.png': pngFile(8, 8, 1), 'b/2.png': png.subarray(0, png.length - 30) });
    await expectRejected(h, damaged, /b\/2\.png: cannot decode PNG/);
    const jpg = jpegFile(16, 16, 3);
    const djpg = writeTree(join(base, 'djpg'), { 'a/1.png': pngFile(8, 8, 1), 'b/2.jpg': jpg.subarray(0, 40) });
    await expectRejected(h, djpg, /b\/2\.jpg: cannot decode JPEG/);
    const dangling = writeTree(join(base, 'dangling'), { 'a/1.png': pngFile(8, 8, 1), 'b/2.png': pngFile(8, 8, 2) });
    symlinkSync(join(base, 'does-not-exist.png'), join(dangling, 'b', '3.png'));
    await expectRejected(h, dangling, /cannot read .*b\/3\.png: ENOENT/);
    const loose = writeTree(join(base, 'loose'), { 'a/1.png': pngFile(8, 8, 1), 'b/1.png': pngFile(8, 8, 2), 'x.png': pngFile(8, 8, 3) });
    await expectRejected(h, loose, /x\.png: not directly inside a class folder/);
    const one = writeTree(join(base, 'one'), { 'a/1.png': pngFile(8, 8, 1), 'a/2.png': pngFile(8, 8, 2) });
    await expectRejected(h, one, /only one class \(a\) found/);
    const testOnly = writeTree(join(base, 'testonly'), { 'train/a/1.png': pngFile(8, 8, 1), 'train/b/1.png': pngFile(8, 8, 1), 'test/c/1.png': pngFile(8, 8, 2) });
    await expectRejected(h, testOnly, /class 'c' appears in test\/ but not in train\//);
  });
});

describe('storage', () => {
  it('a full disk (ENOSPC) fails the import cleanly: clear error, no row, no files', async () => {
    const h = home();
    const src = writeIdxSet(join(tempDir(), 'm'), { nTrain: 100, nTest: 20, h: 4, w: 4 });
    let calls = 0;
    const writer: FileWriter = {
      write(path, data) {
        if (++calls === 3) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
        writeFileSync(path, data);
      },
    };
    await expectRejected(h, src.dir, /disk full while writing test\.images\.u8 .*ENOSPC.*nothing was kept/, { writer });
    // And the same import then succeeds.
    expect((await importDataset(h.home, h.db, src.dir)).existing).toBe(false);
  });

  it('names must be free; unknown ids are explained; re-split and remove work', async () => {
    const h = home();
    const base = tempDir();
    const a = writeIdxSet(join(base, 'a'), { nTrain: 100, nTest: 20, h: 4, w: 4, seed: 1 });
    const b = writeIdxSet(join(base, 'b'), { nTrain: 100, nTest: 20, h: 4, w: 4, seed: 9 });
    await importDataset(h.home, h.db, a.dir, { name: 'x' });
    await expectRejectedKeepingOne(h, b.dir);
    const second = await importDataset(h.home, h.db, b.dir);
    expect(second.info.name).toBe('b');
    expect(() => getDataset(h.db, 'zzz')).toThrow(/unknown dataset 'zzz' \(known: x, b\)/);
    const re = setValSplit(h.home, h.db, 'x', { fraction: 0.3, seed: 7 });
    expect(re.splits.val.count).toBe(30);
    expect(re.splits.train.count).toBe(70);
    expect(loadSplit(h.home, re, 'val').n).toBe(30);
    expect(getDataset(h.db, re.id).valSeed).toBe(7);
    removeDataset(h.home, h.db, 'x');
    expect(existsSync(join(h.home, 'datasets', re.id))).toBe(false);
    expect(listDatasets(h.db).map((d) => d.name)).toEqual(['b']);
  });
});

async function expectRejectedKeepingOne(h: { home: string; db: Db }, dir: string) {
  await expect(importDataset(h.home, h.db, dir, { name: 'x' })).rejects.toThrow(/a dataset named 'x' already exists/);
  expect(listDatasets(h.db)).toHaveLength(1);
  expect(readdirSync(join(h.home, 'datasets'))).toHaveLength(1);
}
