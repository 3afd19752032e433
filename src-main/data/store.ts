/**
 * Storage of datasets: uint8 files in `<home>/datasets/<id>/` plus one row in the `datasets` table.
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
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db';
import { pidAlive, pidOfTempName } from '../process-alive';
import { datasetDir, datasetsRoot, readStoredSplit } from './files';
import { carveTest, channelStats, classCounts, complement, gather, stratifiedHoldout } from './splits';
import { CONTROL_CHARS_MESSAGE, escapeControlChars, hasControlChars, replaceControlChars } from '../text';
import {
  DatasetError,
  type AugmentPolicy,
  type DatasetFormat,
  type DatasetInfo,
  type DecodedDataset,
  type ImportProgress,
  type RawSplit,
  type SplitInfo,
  type SplitName,
} from './types';

/** Writes one file. Injected in tests to simulate a full disk. */
export interface FileWriter {
  write(path: string, data: Uint8Array): void;
}
export const fsWriter: FileWriter = { write: (path, data) => writeFileSync(path, data) };

/** Default fraction of each training class held out for search validation. */
export const DEFAULT_VAL_FRACTION = 0.1;
/** Default seed of the validation split. */
export const DEFAULT_VAL_SEED = 0;

const ID_RE = /^ds-[0-9a-f]{12}$/;

interface Row {
  id: string;
  name: string;
  format: DatasetFormat;
  source: string;
  content_hash: string;
  height: number;
  width: number;
  channels: 1 | 3;
  class_names: string;
  splits: string;
  mean: string;
  std: string;
  val_fraction: number;
  val_seed: number;
  augment: string;
  size_bytes: number;
  created_at: string;
}

function rowToInfo(r: Row): DatasetInfo {
  return {
    id: r.id,
    name: r.name,
    format: r.format,
    source: r.source,
    contentHash: r.content_hash,
    height: r.height,
    width: r.width,
    channels: r.channels,
    classNames: JSON.parse(r.class_names) as string[],
    splits: JSON.parse(r.splits) as Record<SplitName, SplitInfo>,
    mean: JSON.parse(r.mean) as number[],
    std: JSON.parse(r.std) as number[],
    valFraction: r.val_fraction,
    valSeed: r.val_seed,
    augment: JSON.parse(r.augment) as AugmentPolicy,
    sizeBytes: r.size_bytes,
    createdAt: r.created_at,
  };
}

/** All datasets, oldest first. */
export function listDatasets(db: Db): DatasetInfo[] {
  return (db.prepare('SELECT * FROM datasets ORDER BY created_at, name').all() as Row[]).map(rowToInfo);
}

/** A dataset by id or name, or undefined. */
export function findDataset(db: Db, idOrName: string): DatasetInfo | undefined {
  const r = (db.prepare('SELECT * FROM datasets WHERE id = ?').get(idOrName) ?? db.prepare('SELECT * FROM datasets WHERE name = ?').get(idOrName)) as Row | undefined;
  return r ? rowToInfo(r) : undefined;
}

/** A dataset by id or name; throws a DatasetError listing the known names if there is none. */
export function getDataset(db: Db, idOrName: string): DatasetInfo {
  const d = findDataset(db, idOrName);
  if (d) return d;
  const names = listDatasets(db).map((x) => x.name);
  throw new DatasetError(`unknown dataset '${idOrName}'${names.length ? ` (known: ${names.join(', ')})` : ' (none imported yet; try `alphanet datasets import <path>`)'}`);
}

/** The stored datasets of one format (e.g. the demo set), with the source their generator recorded. */
export function datasetsOfFormat(db: Db, format: string): { id: string; source: string }[] {
  return db.prepare('SELECT id, source FROM datasets WHERE format = ?').all(format) as { id: string; source: string }[];
}

export function findByHash(db: Db, contentHash: string): DatasetInfo | undefined {
  const r = db.prepare('SELECT * FROM datasets WHERE content_hash = ?').get(contentHash) as Row | undefined;
  return r ? rowToInfo(r) : undefined;
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
    const taken = db.prepare('SELECT id FROM datasets WHERE name = ?').get(name) as { id: string } | undefined;
    if (taken && taken.id !== hashOwner) throw new DatasetError(`a dataset named '${name}' already exists (${taken.id}); choose another --name or remove it first`);
    return name;
  }
  const base = replaceControlChars(fallback).replace(/\s+/g, '-').slice(0, 90) || 'dataset';
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (!db.prepare('SELECT 1 FROM datasets WHERE name = ?').get(name)) return name;
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
  const found = findByHash(db, hash);
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
    try {
      db.transaction(() => {
        insertRow(db, info);
        // A folder left by a crash between rename and commit of an earlier import of this content has no row; replace it.
        if (existsSync(final)) rmSync(final, { recursive: true, force: true });
        renameSync(tmp, final);
      })();
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_CONSTRAINT')) {
        // Another process stored the same content (or took the name) between our checks and this insert.
        const again = findByHash(db, hash);
        if (again) return { info: again, existing: true };
        throw new DatasetError(`a dataset named '${name}' was just created by another import; choose another name`);
      }
      throw e;
    }
    committed = true;
    return { info, existing: false };
  } finally {
    if (!committed) rmSync(tmp, { recursive: true, force: true });
  }
}

function insertRow(db: Db, d: DatasetInfo): void {
  db.prepare(
    `INSERT INTO datasets (id, name, format, source, content_hash, height, width, channels, class_names, splits, mean, std,
       val_fraction, val_seed, augment, size_bytes, created_at)
     VALUES (@id, @name, @format, @source, @contentHash, @height, @width, @channels, @classNames, @splits, @mean, @std,
       @valFraction, @valSeed, @augment, @sizeBytes, @createdAt)`,
  ).run({
    ...d,
    classNames: JSON.stringify(d.classNames),
    splits: JSON.stringify(d.splits),
    mean: JSON.stringify(d.mean),
    std: JSON.stringify(d.std),
    augment: JSON.stringify(d.augment),
  });
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
    db.transaction(() => {
      db.prepare('UPDATE datasets SET val_fraction = ?, val_seed = ?, splits = ? WHERE id = ?').run(opts.fraction, seed, JSON.stringify(splits), info.id);
      renameSync(tmp, join(dir, 'val.indices.u32'));
    })();
  } finally {
    rmSync(tmp, { force: true });
  }
  return getDataset(db, info.id);
}

/** Removes a dataset's row and files. Refuses (clearly) while training runs still reference it. */
export function removeDataset(home: string, db: Db, idOrName: string): DatasetInfo {
  const info = getDataset(db, idOrName);
  try {
    db.transaction(() => {
      db.prepare('DELETE FROM datasets WHERE id = ?').run(info.id);
    })();
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      throw new DatasetError(`dataset '${info.name}' is used by training runs; delete those runs first`);
    }
    throw e;
  }
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
