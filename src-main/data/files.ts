/**
 * A stored dataset's files: uint8 files in `<home>/datasets/<id>/` that go with its row in the `datasets` table
 * (store/datasets.ts). This module writes them together with the row, reads splits, labels and images back,
 * re-splits and removes.
 *
 * Files (little-endian, no headers; the shape is in the row):
 * - `train.images.u8`, `train.labels.u16` — the source's whole training set, N·H·W·C bytes in HWC order;
 * - `test.images.u8`, `test.labels.u16`;
 * - `val.indices.u32` — sorted indices into the training files of the search-validation split, which the `train`
 *   split excludes. Keeping val as indices lets its size change later without rewriting pixels.
 *
 * Writes go to a temporary folder that is renamed into place inside the transaction that inserts the row, so a
 * failure at any point leaves neither a row nor files.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db';
import { datasetIdByName, deleteDataset, findDataset, findDatasetByHash, insertDataset, listDatasets, updateValSplit } from '../store/datasets';
import { pidAlive, pidOfTempName } from '../process-alive';
import { CONTROL_CHARS_MESSAGE, escapeControlChars, hasControlChars, replaceControlChars } from '../text';
import { DEFAULT_VAL_FRACTION, DEFAULT_VAL_SEED, carveTest, channelStats, classCounts, complement, contentHash, gather, stratifiedHoldout, validateDecoded } from './splits';
import { DatasetError, type DatasetInfo, type DecodedDataset, type ImportProgress, type RawSplit, type SplitInfo, type SplitName } from './types';

export const datasetsRoot = (home: string): string => join(home, 'datasets');
export const datasetDir = (home: string, id: string): string => join(datasetsRoot(home), id);

function readFile(home: string, info: DatasetInfo, file: string): Buffer {
  const path = join(datasetDir(home, info.id), file);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DatasetError(`dataset '${info.name}' is damaged: cannot read ${path} (${(e as Error).message}); remove it and import it again`);
  }
}

/** Typed view of a Buffer; copies when the Buffer's offset is misaligned for the element size. */
function view<T extends Uint16Array | Uint32Array>(buf: Buffer, Ctor: { new (b: ArrayBufferLike, o: number, l: number): T; new (n: number): T; BYTES_PER_ELEMENT: number }): T {
  const bpe = Ctor.BYTES_PER_ELEMENT;
  if (buf.byteOffset % bpe === 0) return new Ctor(buf.buffer, buf.byteOffset, buf.byteLength / bpe);
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Ctor(copy.buffer, 0, buf.byteLength / bpe);
}

/** The stored source split (`train` includes the validation images). */
export function readStoredSplit(home: string, info: DatasetInfo, which: 'train' | 'test'): RawSplit {
  const imgBuf = readFile(home, info, `${which}.images.u8`);
  const labels = view(readFile(home, info, `${which}.labels.u16`), Uint16Array);
  const images = new Uint8Array(imgBuf.buffer, imgBuf.byteOffset, imgBuf.byteLength);
  const px = info.height * info.width * info.channels;
  if (images.length !== labels.length * px) {
    throw new DatasetError(`dataset '${info.name}' is damaged: ${which}.images.u8 holds ${images.length} bytes for ${labels.length} labels; remove it and import it again`);
  }
  return { images, labels, n: labels.length };
}

export function readValIndices(home: string, info: DatasetInfo): Uint32Array {
  return view(readFile(home, info, 'val.indices.u32'), Uint32Array);
}

/**
 * One split's labels without its pixels, with each image's index in the stored file (`train` and `val` live in the
 * train file): what a caller that needs a few images of a large split (the sample grid) reads first.
 */
export function splitLabels(home: string, info: DatasetInfo, split: SplitName): { labels: Uint16Array; file: 'train' | 'test'; fileIndex: Uint32Array } {
  const file = split === 'test' ? 'test' : 'train';
  const all = view(readFile(home, info, `${file}.labels.u16`), Uint16Array);
  if (split === 'test') return { labels: all, file, fileIndex: Uint32Array.from({ length: all.length }, (_, i) => i) };
  const val = readValIndices(home, info);
  const fileIndex = split === 'val' ? val : complement(all.length, val);
  return { labels: Uint16Array.from(fileIndex, (j) => all[j]), file, fileIndex };
}

/**
 * The pixels (uint8 HWC, one image after another) of the images at `indices` of a stored file, each read at its
 * offset: a few thumbnails of a 224×224 ImageNet split cost kilobytes, not the whole file. Checks the file's size
 * against its labels as `readStoredSplit` does.
 */
export function readStoredImages(home: string, info: DatasetInfo, which: 'train' | 'test', indices: ArrayLike<number>): Uint8Array {
  const px = info.height * info.width * info.channels;
  const dir = datasetDir(home, info.id);
  const path = join(dir, `${which}.images.u8`);
  const damaged = (why: string) => new DatasetError(`dataset '${info.name}' is damaged: ${why}; remove it and import it again`);
  let n: number;
  try {
    n = statSync(join(dir, `${which}.labels.u16`)).size / Uint16Array.BYTES_PER_ELEMENT;
  } catch (e) {
    throw damaged(`cannot read ${join(dir, `${which}.labels.u16`)} (${(e as Error).message})`);
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw damaged(`cannot read ${path} (${(e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size !== n * px) throw damaged(`${which}.images.u8 holds ${size} bytes for ${n} labels`);
    const out = new Uint8Array(indices.length * px);
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i];
      if (!(Number.isInteger(j) && j >= 0 && j < n)) throw new RangeError(`image ${j} is outside ${which} (${n} images)`);
      if (readSync(fd, out, i * px, px, j * px) !== px) throw damaged(`short read of image ${j} in ${path}`);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** One split in memory: uint8 N·H·W·C (HWC), uint16 labels. `train` excludes `val`. */
export function loadSplit(home: string, info: DatasetInfo, split: SplitName): RawSplit {
  if (split === 'test') return readStoredSplit(home, info, 'test');
  const full = readStoredSplit(home, info, 'train');
  const val = readValIndices(home, info);
  const px = info.height * info.width * info.channels;
  return gather(full, px, split === 'val' ? val : complement(full.n, val));
}

/** Writes one file. Injected in tests to simulate a full disk. */
export interface FileWriter {
  write(path: string, data: Uint8Array): void;
}
export const fsWriter: FileWriter = { write: (path, data) => writeFileSync(path, data) };

const ID_RE = /^ds-[0-9a-f]{12}$/;

/** A dataset by id or name; throws a DatasetError listing the known names if there is none. */
export function getDataset(db: Db, idOrName: string): DatasetInfo {
  const d = findDataset(db, idOrName);
  if (d) return d;
  const names = listDatasets(db).map((x) => x.name);
  throw new DatasetError(`unknown dataset '${idOrName}'${names.length ? ` (known: ${names.join(', ')})` : ' (none imported yet; try `alphanet datasets import <path>`)'}`);
}

const u8 = (a: Uint16Array | Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function writeErr(e: unknown, file: string, dir: string): DatasetError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
    return new DatasetError(`disk full while writing ${file} in ${dir} (${err.code}); free some space and import again — nothing was kept`);
  }
  return new DatasetError(`cannot write ${file} in ${dir}: ${err.message}`);
}

export interface StoreOptions {
  name?: string;
  /** Default {@link DEFAULT_VAL_FRACTION}. */
  valFraction?: number;
  /** Default {@link DEFAULT_VAL_SEED}. */
  valSeed?: number;
  writer?: FileWriter;
  onProgress?: (p: ImportProgress) => void;
}

export interface StoreResult {
  info: DatasetInfo;
  /** True when the same content was already stored: the existing dataset is returned and nothing is written. */
  existing: boolean;
}

function chooseName(db: Db, requested: string | undefined, fallback: string, hashOwner?: string): string {
  if (requested !== undefined) {
    const name = requested.trim();
    if (!name || name.length > 100) throw new DatasetError(`dataset name must be 1–100 characters, got '${escapeControlChars(requested)}'`);
    if (hasControlChars(name)) throw new DatasetError(`dataset name '${escapeControlChars(name)}' ${CONTROL_CHARS_MESSAGE}`);
    if (ID_RE.test(name)) throw new DatasetError(`dataset name '${name}' looks like a dataset id; choose another`);
    const taken = datasetIdByName(db, name);
    if (taken !== undefined && taken !== hashOwner) throw new DatasetError(`a dataset named '${name}' already exists (${taken}); choose another --name or remove it first`);
    return name;
  }
  const base = replaceControlChars(fallback).replace(/\s+/g, '-').slice(0, 90) || 'dataset';
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (datasetIdByName(db, name) === undefined) return name;
  }
}

/**
 * Validates a decoded source, computes its statistics and splits, and stores it atomically. If the content is
 * already stored (same hash), returns that dataset with `existing: true` and writes nothing.
 */
export function storeDataset(home: string, db: Db, decoded: DecodedDataset, opts: StoreOptions = {}): StoreResult {
  validateDecoded(decoded);
  const valFraction = opts.valFraction ?? DEFAULT_VAL_FRACTION;
  const valSeed = opts.valSeed ?? DEFAULT_VAL_SEED;
  if (!(valFraction >= 0 && valFraction < 1)) throw new DatasetError(`the validation fraction must be in [0, 1), got ${valFraction}`);
  const k = decoded.classNames.length;
  const px = decoded.height * decoded.width * decoded.channels;
  let train = decoded.train;
  let test = decoded.test;
  if (!test) ({ train, test } = carveTest(train, px, k, 0.2, 0));

  const hash = contentHash({ ...decoded, train, test });
  const found = findDatasetByHash(db, hash);
  if (found) return { info: found, existing: true };
  const name = chooseName(db, opts.name, decoded.defaultName);
  const id = `ds-${hash.slice('sha256:'.length, 'sha256:'.length + 12)}`;

  const stats = channelStats(train.images, decoded.channels);
  const val = stratifiedHoldout(train.labels, k, valFraction, valSeed);
  const trainCounts = classCounts(train.labels, k);
  const valCounts = classCounts(train.labels, k, val);
  const splits: Record<SplitName, SplitInfo> = {
    train: { count: train.n - val.length, classCounts: trainCounts.map((c, i) => c - valCounts[i]) },
    val: { count: val.length, classCounts: valCounts },
    test: { count: test.n, classCounts: classCounts(test.labels, k) },
  };

  const root = datasetsRoot(home);
  mkdirSync(root, { recursive: true });
  const tmp = join(root, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const final = datasetDir(home, id);
  const writer = opts.writer ?? fsWriter;
  const files: [string, Uint8Array][] = [
    ['train.images.u8', train.images],
    ['train.labels.u16', u8(train.labels)],
    ['test.images.u8', test.images],
    ['test.labels.u16', u8(test.labels)],
    ['val.indices.u32', u8(val)],
  ];
  const total = files.reduce((a, [, d]) => a + d.byteLength, 0);
  let committed = false;
  try {
    mkdirSync(tmp);
    let done = 0;
    const t0 = performance.now();
    for (const [file, data] of files) {
      try {
        writer.write(join(tmp, file), data);
      } catch (e) {
        throw writeErr(e, file, tmp);
      }
      done += data.byteLength;
      const el = (performance.now() - t0) / 1000;
      opts.onProgress?.({ phase: 'write', done, total, etaSeconds: done > 0 ? (el / done) * (total - done) : null });
    }
    const info: DatasetInfo = {
      id,
      name,
      format: decoded.format,
      source: decoded.source,
      contentHash: hash,
      height: decoded.height,
      width: decoded.width,
      channels: decoded.channels,
      classNames: decoded.classNames,
      splits,
      mean: stats.mean,
      std: stats.std,
      valFraction,
      valSeed,
      augment: { flip: decoded.flip, padding: 4 },
      sizeBytes: total,
      createdAt: new Date().toISOString(),
    };
    const inserted = insertDataset(db, info, () => {
      // A folder left by a crash between rename and commit of an earlier import of this content has no row; replace it.
      if (existsSync(final)) rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    });
    if (inserted === 'conflict') {
      // Another process stored the same content (or took the name) between our checks and this insert.
      const again = findDatasetByHash(db, hash);
      if (again) return { info: again, existing: true };
      throw new DatasetError(`a dataset named '${name}' was just created by another import; choose another name`);
    }
    committed = true;
    return { info, existing: false };
  } finally {
    if (!committed) rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Changes the search-validation split (stratified, seeded) of a stored dataset: rewrites `val.indices.u32`
 * atomically and updates the row. Runs that already used the old split keep their recorded numbers.
 */
export function setValSplit(home: string, db: Db, idOrName: string, opts: { fraction: number; seed?: number }): DatasetInfo {
  const info = getDataset(db, idOrName);
  const seed = opts.seed ?? info.valSeed;
  const full = readStoredSplit(home, info, 'train');
  const k = info.classNames.length;
  const val = stratifiedHoldout(full.labels, k, opts.fraction, seed);
  const trainCounts = classCounts(full.labels, k);
  const valCounts = classCounts(full.labels, k, val);
  const splits = {
    ...info.splits,
    train: { count: full.n - val.length, classCounts: trainCounts.map((c, i) => c - valCounts[i]) },
    val: { count: val.length, classCounts: valCounts },
  };
  const dir = datasetDir(home, info.id);
  const tmp = join(dir, `.val-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    try {
      writeFileSync(tmp, u8(val));
    } catch (e) {
      throw writeErr(e, 'val.indices.u32', dir);
    }
    updateValSplit(db, info.id, { fraction: opts.fraction, seed, splits }, () => renameSync(tmp, join(dir, 'val.indices.u32')));
  } finally {
    rmSync(tmp, { force: true });
  }
  return getDataset(db, info.id);
}

/** Removes a dataset's row and files. Refuses (clearly) while training runs still reference it. */
export function removeDataset(home: string, db: Db, idOrName: string): DatasetInfo {
  const info = getDataset(db, idOrName);
  if (deleteDataset(db, info.id) === 'in-use') throw new DatasetError(`dataset '${info.name}' is used by training runs; delete those runs first`);
  rmSync(datasetDir(home, info.id), { recursive: true, force: true });
  return info;
}

/** Removes temporary folders older than an hour that crashed imports left behind (younger ones may be in progress). */
export function cleanStaleTemp(home: string): void {
  const root = datasetsRoot(home);
  if (!existsSync(root)) return;
  for (const e of readdirSync(root)) {
    if (!e.startsWith('.tmp-')) continue;
    const p = join(root, e);
    try {
      // Its writer is gone (killed mid-import), or it is older than any import takes.
      const pid = pidOfTempName(e, '.tmp-');
      if ((pid !== null && pid !== process.pid && !pidAlive(pid)) || Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { recursive: true, force: true });
    } catch {
      // Raced with its owner finishing; nothing to do.
    }
  }
}
