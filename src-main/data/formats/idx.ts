/**
 * IDX files (the MNIST family: MNIST, Fashion-MNIST, KMNIST, EMNIST…), raw or gzipped. Layout (big-endian): two zero
 * bytes, a type byte (0x08 = unsigned byte, the only type these sets use), the number of dimensions, one uint32 per
 * dimension, then the data. Images are 0x00000803 (N, H, W); labels 0x00000801 (N).
 * The four files are found by name: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte` (any prefix such as `emnist-letters-`, `-`, `_` or `.` separators, optional `.gz`).
 */
import { DatasetError, type DecodedDataset, type RawSplit } from '../types';
import { maybeGunzip, type Source, type SourceFile } from '../source';

export const IDX_RE = /(?:^|[-_/])(train|t10k|test)[-_](images|labels)[-_.]idx([13])[-_.]ubyte(?:\.gz)?$/i;

const hex8 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses one IDX file, checking the magic number and that the size matches the header exactly. */
export function parseIdx(buf: Buffer, display: string, expectDims: 1 | 3): IdxArray {
  const want = 0x800 + expectDims;
  const what = expectDims === 3 ? 'images' : 'labels';
  if (buf.length < 4) throw new DatasetError(`${display}: truncated (${buf.length} bytes, not even an IDX header)`);
  const magic = buf.readUInt32BE(0);
  if (magic !== want) {
    throw new DatasetError(`${display}: wrong magic number ${hex8(magic)}, expected ${hex8(want)} for IDX ${what} (unsigned bytes, ${expectDims} dimension${expectDims > 1 ? 's' : ''})`);
  }
  const header = 4 + 4 * expectDims;
  if (buf.length < header) throw new DatasetError(`${display}: truncated (${buf.length} bytes, the header alone needs ${header})`);
  const dims = Array.from({ length: expectDims }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const need = header + dims.reduce((a, b) => a * b, 1);
  if (buf.length < need) {
    throw new DatasetError(`${display}: truncated: the header says ${dims.join('×')} (${need} bytes) but the file has ${buf.length} bytes`);
  }
  if (buf.length > need) throw new DatasetError(`${display}: ${buf.length - need} unexpected bytes after the ${dims.join('×')} data; not a valid IDX file`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + header, need - header) };
}

/** The four IDX files of a source, by role; a missing or ambiguous one is an error naming what was looked for. */
export function findIdxFiles(src: Source): Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', SourceFile> {
  const roles = { trainImages: [] as SourceFile[], trainLabels: [] as SourceFile[], testImages: [] as SourceFile[], testLabels: [] as SourceFile[] };
  for (const f of src.files) {
    const m = IDX_RE.exec(f.rel);
    if (!m) continue;
    const split = m[1].toLowerCase() === 'train' ? 'train' : 'test';
    const kind = m[2].toLowerCase() === 'images' ? 'Images' : 'Labels';
    roles[`${split}${kind}` as keyof typeof roles].push(f);
  }
  const pick = (role: keyof typeof roles, example: string): SourceFile => {
    const c = roles[role];
    if (c.length === 0) throw new DatasetError(`${src.path}: no ${example} file (IDX, raw or .gz) found`);
    if (c.length > 1) throw new DatasetError(`${src.path}: several candidates for ${example}: ${c.map((f) => f.rel).join(', ')}; keep one`);
    return c[0];
  };
  return {
    trainImages: pick('trainImages', 'train-images-idx3-ubyte'),
    trainLabels: pick('trainLabels', 'train-labels-idx1-ubyte'),
    testImages: pick('testImages', 't10k-images-idx3-ubyte'),
    testLabels: pick('testLabels', 't10k-labels-idx1-ubyte'),
  };
}

function readPair(imgF: SourceFile, lblF: SourceFile): { split: RawSplit; h: number; w: number } {
  const img = parseIdx(maybeGunzip(imgF.read(), imgF.display), imgF.display, 3);
  const lbl = parseIdx(maybeGunzip(lblF.read(), lblF.display), lblF.display, 1);
  const [n, h, w] = img.dims;
  if (lbl.dims[0] !== n) throw new DatasetError(`${lblF.display}: ${lbl.dims[0]} labels for ${n} images in ${imgF.display}; the counts must match`);
  if (h === 0 || w === 0) throw new DatasetError(`${imgF.display}: images of size ${h}×${w}`);
  // Copy out of the (possibly shared, gunzipped) buffer so the file's memory can be released.
  return { split: { images: img.data.slice(), labels: Uint16Array.from(lbl.data), n }, h, w };
}

/** Reads an IDX source. Classes are 0…max(train label); names come from `classes.txt` (one per line) if present. */
export function decodeIdx(src: Source): DecodedDataset {
  const f = findIdxFiles(src);
  const train = readPair(f.trainImages, f.trainLabels);
  const test = readPair(f.testImages, f.testLabels);
  if (train.h !== test.h || train.w !== test.w) {
    throw new DatasetError(`mixed image sizes: ${f.trainImages.display} holds ${train.h}×${train.w} images but ${f.testImages.display} holds ${test.h}×${test.w}`);
  }
  let k = 0;
  for (const l of train.split.labels) if (l + 1 > k) k = l + 1;
  for (let i = 0; i < test.split.n; i++) {
    if (test.split.labels[i] >= k) {
      throw new DatasetError(`${f.testLabels.display}: label ${test.split.labels[i]} of image ${i} is out of range (the training labels are 0–${k - 1})`);
    }
  }
  let classNames = Array.from({ length: k }, (_, i) => String(i));
  const namesFile = src.files.find((x) => /(^|\/)(classes|class_names|labels)\.txt$/i.test(x.rel));
  if (namesFile) {
    const names = namesFile.read().toString('utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (names.length !== k) throw new DatasetError(`${namesFile.display}: ${names.length} class names for ${k} classes (labels 0–${k - 1})`);
    classNames = names;
  }
  return {
    format: 'idx',
    source: src.path,
    height: train.h,
    width: train.w,
    channels: 1,
    classNames,
    train: train.split,
    test: test.split,
    // Digits and letters change meaning when mirrored.
    flip: false,
    defaultName: src.stem,
  };
}
