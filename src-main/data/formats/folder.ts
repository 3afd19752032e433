/**
 * Image folders: one subfolder per class (`<class>/<image>`), optionally with `train/` and `test/` above them
 * (`train/<class>/<image>`, `test/<class>/<image>`). PNG (pngjs) and JPEG (jpeg-js) — both maintained pure-JS
 * decoders, so nothing native is needed — recognised by their signatures, not their extensions. Every image is
 * centre-cropped to a square and resized to `size`×`size`. Without `test/`, the importer carves a test split out.
 */
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { resizeSquareU8 } from '../augment';
import type { Source, SourceFile } from '../source';
import { DatasetError, MAX_FOLDER_SIZE, MIN_FOLDER_SIZE, type DecodedDataset, type ImportProgress } from '../types';

/** Default side of the stored images. */
export const DEFAULT_FOLDER_SIZE = 32;
/** Images larger than this (megapixels) are refused rather than risking the memory of the app. */
const MAX_MEGAPIXELS = 64;

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
export const isPng = (b: Uint8Array): boolean => b.length >= 8 && PNG_SIG.every((v, i) => b[i] === v);
export const isJpeg = (b: Uint8Array): boolean => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
export const IMAGE_EXT_RE = /\.(png|jpe?g)$/i;

/** Number of colour components declared by a JPEG's start-of-frame segment (1 = greyscale), or null if none. */
export function jpegComponents(b: Uint8Array): number | null {
  let i = 2;
  while (i + 4 < b.length) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1];
    if (m === 0xff) {
      i++;
      continue;
    }
    const len = (b[i + 2] << 8) | b[i + 3];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return i + 9 < b.length ? b[i + 9] : null;
    if (m === 0xda) return null;
    i += 2 + len;
  }
  return null;
}

interface Decoded {
  /** Interleaved, `channels` per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
  /** 4 (RGBA) for PNG, 3 (RGB) for JPEG. */
  stride: number;
  grey: boolean;
}

/** Decodes one file, or throws an error naming it and saying why. */
export function decodeImage(buf: Buffer, display: string): Decoded {
  if (isPng(buf)) {
    // The size the header declares, checked before decoding: pngjs allocates width × height × 4 bytes up front, so a
    // small file declaring a huge image (a PNG bomb) would exhaust memory before any check after decoding ran.
    if (buf.length >= 24 && buf.toString('latin1', 12, 16) === 'IHDR') {
      const w = buf.readUInt32BE(16);
      const h = buf.readUInt32BE(20);
      if (w * h > MAX_MEGAPIXELS * 1e6) throw new DatasetError(`${display}: its header declares ${w}×${h} pixels, more than ${MAX_MEGAPIXELS} megapixels`);
    }
    let p;
    try {
      p = PNG.sync.read(buf);
    } catch (e) {
      throw new DatasetError(`${display}: cannot decode PNG (${(e as Error).message}); the file is damaged or truncated`);
    }
    return { data: p.data, width: p.width, height: p.height, stride: 4, grey: !p.color };
  }
  if (isJpeg(buf)) {
    let j;
    try {
      j = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
    } catch (e) {
      throw new DatasetError(`${display}: cannot decode JPEG (${(e as Error).message}); the file is damaged or truncated`);
    }
    if (!j.width || !j.height || j.data.length < j.width * j.height * 3) throw new DatasetError(`${display}: cannot decode JPEG (no image data); the file is damaged or truncated`);
    return { data: j.data, width: j.width, height: j.height, stride: 3, grey: jpegComponents(buf) === 1 };
  }
  throw new DatasetError(`${display}: not a PNG or JPEG image${IMAGE_EXT_RE.test(display) ? ' (its name says so, its contents do not)' : ''}; remove it from the folder`);
}

/** Dense c-channel pixels from a decoded image (drops alpha; luma for colour → grey; replicates grey → RGB). */
function toChannels(d: Decoded, c: 1 | 3): Uint8Array {
  const n = d.width * d.height;
  const out = new Uint8Array(n * c);
  const s = d.stride;
  const src = d.data;
  if (c === 3) {
    for (let i = 0, o = 0; i < n; i++) {
      out[o++] = src[i * s];
      out[o++] = src[i * s + 1];
      out[o++] = src[i * s + 2];
    }
  } else if (d.grey) {
    for (let i = 0; i < n; i++) out[i] = src[i * s];
  } else {
    for (let i = 0; i < n; i++) out[i] = Math.round(0.299 * src[i * s] + 0.587 * src[i * s + 1] + 0.114 * src[i * s + 2]);
  }
  return out;
}

export interface FolderOptions {
  /** Side of the stored square images; default {@link DEFAULT_FOLDER_SIZE}. */
  size?: number;
  /** Force 1 (greyscale) or 3 (RGB) channels, converting images as needed. Default: the images' own kind, which
   * must then be the same for all (a mix is an error that suggests this option). */
  channels?: 1 | 3;
  onProgress?: (p: ImportProgress) => void;
}

interface Entry {
  file: SourceFile;
  split: 'train' | 'test';
  cls: string;
}

/** Lays out a folder source: which files belong to which split and class. */
export function scanFolder(src: Source): { entries: Entry[]; classNames: string[]; hasTest: boolean } {
  const tops = new Set(src.files.map((f) => f.rel.split('/')[0].toLowerCase()));
  const split = tops.has('train') && [...tops].every((t) => t === 'train' || t === 'test');
  if (tops.has('test') && !split) throw new DatasetError(`${src.path}: has test/ but no train/ beside it (expected train/<class>/… and test/<class>/…)`);
  const entries: Entry[] = [];
  for (const f of src.files) {
    const parts = f.rel.split('/');
    const depth = split ? 3 : 2;
    if (parts.length !== depth) {
      const where = split ? 'train/<class>/ or test/<class>/' : '<class>/';
      throw new DatasetError(`${f.display}: not directly inside a class folder (expected ${where}<image>)`);
    }
    entries.push({ file: f, split: split && parts[0].toLowerCase() === 'test' ? 'test' : 'train', cls: parts[depth - 2] });
  }
  const classNames = [...new Set(entries.filter((e) => e.split === 'train').map((e) => e.cls))].sort();
  if (entries.length === 0) throw new DatasetError(`${src.path}: no images found (expected one subfolder of PNG/JPEG images per class)`);
  if (classNames.length === 0) throw new DatasetError(`${src.path}: no training images found in train/`);
  if (classNames.length === 1) throw new DatasetError(`${src.path}: only one class (${classNames[0]}) found; a classifier needs at least two class folders`);
  for (const e of entries) {
    if (e.split === 'test' && !classNames.includes(e.cls)) throw new DatasetError(`${e.file.display}: class '${e.cls}' appears in test/ but not in train/`);
  }
  return { entries, classNames, hasTest: split && entries.some((e) => e.split === 'test') };
}

/**
 * Decodes an image folder. Async: it yields to the event loop every ~50 ms so the app stays responsive and progress
 * can be shown. An empty class folder cannot appear in a file list; a class that ends up without training images
 * is caught by the common validation.
 */
export async function decodeFolder(src: Source, opts: FolderOptions = {}): Promise<DecodedDataset> {
  const size = opts.size ?? DEFAULT_FOLDER_SIZE;
  if (!Number.isInteger(size) || size < MIN_FOLDER_SIZE || size > MAX_FOLDER_SIZE) throw new DatasetError(`image size must be an integer from ${MIN_FOLDER_SIZE} to ${MAX_FOLDER_SIZE}, got ${size}`);
  const { entries, classNames, hasTest } = scanFolder(src);
  const px = size * size;
  // Each image is kept resized at 3 channels (or the forced count); the channel count is settled once all are seen,
  // which avoids decoding twice.
  const decoded: { img: Uint8Array; e: Entry }[] = [];
  const t0 = performance.now();
  let lastYield = t0;
  let firstGrey: string | null = null;
  let firstColour: string | null = null;
  const c0: 1 | 3 = opts.channels ?? 3;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const d = decodeImage(e.file.read(), e.file.display);
    if (d.grey) firstGrey ??= e.file.display;
    else firstColour ??= e.file.display;
    const dense = toChannels(d, c0);
    const img = new Uint8Array(px * c0);
    resizeSquareU8(dense, d.height, d.width, c0, size, img, 0);
    decoded.push({ img, e });
    const now = performance.now();
    if (now - lastYield > 50 || i === entries.length - 1) {
      const el = (now - t0) / 1000;
      opts.onProgress?.({ phase: 'decode', done: i + 1, total: entries.length, etaSeconds: (el / (i + 1)) * (entries.length - i - 1) });
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  let channels: 1 | 3 = c0;
  if (opts.channels === undefined) {
    if (firstGrey && firstColour) {
      throw new DatasetError(`mixed channel counts: ${firstGrey} is greyscale but ${firstColour} is colour; convert them to one kind, or import with --channels 1 or --channels 3`);
    }
    channels = firstGrey ? 1 : 3;
  }
  const byClass = new Map(classNames.map((n, i) => [n, i]));
  const build = (which: 'train' | 'test') => {
    const items = decoded.filter((x) => x.e.split === which);
    const images = new Uint8Array(items.length * px * channels);
    const labels = new Uint16Array(items.length);
    items.forEach((x, i) => {
      labels[i] = byClass.get(x.e.cls)!;
      if (channels === c0) images.set(x.img, i * px * channels);
      else for (let p = 0; p < px; p++) images[i * px + p] = x.img[p * 3]; // all grey: R = G = B
    });
    return { images, labels, n: items.length };
  };
  return {
    format: 'folder',
    source: src.path,
    height: size,
    width: size,
    channels,
    classNames,
    train: build('train'),
    test: hasTest ? build('test') : null,
    flip: true,
    defaultName: src.stem,
  };
}
