/**
 * CIFAR-10 and CIFAR-100, binary versions. A CIFAR-10 record is 1 label byte + 3072 pixel bytes (the 1024 red, then
 * 1024 green, then 1024 blue values of a 32×32 image, row-major); files `data_batch_1.bin`…`data_batch_5.bin`,
 * `test_batch.bin`, names in `batches.meta.txt`. A CIFAR-100 record is 1 coarse + 1 fine label byte + 3072; files
 * `train.bin`, `test.bin`, names in `fine_label_names.txt`. The fine labels (100 classes) are used.
 */
import { DatasetError, type DecodedDataset, type RawSplit } from '../types';
import type { Source, SourceFile } from '../source';

const SIDE = 32;
const PIXELS = SIDE * SIDE;

export const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR10_TRAIN_RE = /(^|\/)data_batch_(\d+)\.bin$/;
export const CIFAR10_TEST_RE = /(^|\/)test_batch\.bin$/;
export const CIFAR100_RE = /(^|\/)(train|test)\.bin$/;

/** Decodes concatenated records (`labelBytes` then 3072 planar bytes) into HWC, checking sizes and label ranges. */
function decodeRecords(files: SourceFile[], labelBytes: 1 | 2, classes: number, coarseClasses: number): RawSplit {
  const rec = labelBytes + 3 * PIXELS;
  const bufs = files.map((f) => {
    const b = f.read();
    if (b.length === 0 || b.length % rec !== 0) {
      throw new DatasetError(`${f.display}: ${b.length} bytes is not a whole number of ${rec}-byte records; the file is truncated or not a CIFAR-${labelBytes === 1 ? 10 : 100} batch`);
    }
    return { f, b };
  });
  const n = bufs.reduce((a, x) => a + x.b.length / rec, 0);
  const images = new Uint8Array(n * 3 * PIXELS);
  const labels = new Uint16Array(n);
  let i = 0;
  for (const { f, b } of bufs) {
    for (let r = 0; r * rec < b.length; r++, i++) {
      const o = r * rec;
      if (labelBytes === 2 && b[o] >= coarseClasses) throw new DatasetError(`${f.display}: coarse label ${b[o]} of record ${r} is out of range (0–${coarseClasses - 1})`);
      const label = b[o + labelBytes - 1];
      if (label >= classes) throw new DatasetError(`${f.display}: label ${label} of record ${r} is out of range (${classes} classes, 0–${classes - 1})`);
      labels[i] = label;
      // Planar RGB → interleaved HWC.
      const p = o + labelBytes;
      let d = i * 3 * PIXELS;
      for (let q = 0; q < PIXELS; q++) {
        images[d++] = b[p + q];
        images[d++] = b[p + PIXELS + q];
        images[d++] = b[p + 2 * PIXELS + q];
      }
    }
  }
  return { images, labels, n };
}

function names(src: Source, re: RegExp, label: string, fallback: string[] | null, expected: number): string[] {
  const f = src.files.find((x) => re.test(x.rel));
  if (!f) {
    if (fallback) return fallback;
    throw new DatasetError(`${src.path}: no ${label} found (the class names)`);
  }
  const list = f.read().toString('utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  if (list.length !== expected) throw new DatasetError(`${f.display}: ${list.length} class names, expected ${expected}`);
  return list;
}

export function decodeCifar10(src: Source): DecodedDataset {
  const train = src.files
    .filter((f) => CIFAR10_TRAIN_RE.test(f.rel))
    .sort((a, b) => Number(CIFAR10_TRAIN_RE.exec(a.rel)![2]) - Number(CIFAR10_TRAIN_RE.exec(b.rel)![2]));
  const test = src.files.filter((f) => CIFAR10_TEST_RE.test(f.rel));
  if (train.length === 0) throw new DatasetError(`${src.path}: no CIFAR-10 training batches (data_batch_1.bin…) found`);
  if (test.length !== 1) throw new DatasetError(`${src.path}: ${test.length === 0 ? 'no test_batch.bin found' : `several test_batch.bin: ${test.map((f) => f.rel).join(', ')}`}`);
  const classNames = names(src, /(^|\/)batches\.meta\.txt$/, 'batches.meta.txt', CIFAR10_NAMES, 10);
  return {
    format: 'cifar10',
    source: src.path,
    height: SIDE,
    width: SIDE,
    channels: 3,
    classNames,
    train: decodeRecords(train, 1, classNames.length, 0),
    test: decodeRecords(test, 1, classNames.length, 0),
    flip: true,
    defaultName: src.stem,
  };
}

export function decodeCifar100(src: Source): DecodedDataset {
  const find = (which: 'train' | 'test') => {
    const c = src.files.filter((f) => CIFAR100_RE.exec(f.rel)?.[2] === which);
    if (c.length !== 1) throw new DatasetError(`${src.path}: ${c.length === 0 ? `no ${which}.bin found` : `several ${which}.bin: ${c.map((f) => f.rel).join(', ')}`}`);
    return c[0];
  };
  const classNames = names(src, /(^|\/)fine_label_names\.txt$/, 'fine_label_names.txt', null, 100);
  return {
    format: 'cifar100',
    source: src.path,
    height: SIDE,
    width: SIDE,
    channels: 3,
    classNames,
    train: decodeRecords([find('train')], 2, 100, 20),
    test: decodeRecords([find('test')], 2, 100, 20),
    flip: true,
    defaultName: src.stem,
  };
}
