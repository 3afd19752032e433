/**
 * Repository of the `datasets` table (migration 001; docs/STORE.md, "Datasets"): one row per stored dataset, whose
 * pixels live in files next to it (`data/files.ts` writes both together). Every function takes the database handle
 * and caches nothing, so the app, the CLI and a runner can share the file.
 *
 * The row's shape (`DatasetInfo` and its parts) is defined here, with the table, so that the data modules build on
 * the store and not the other way round; `data/types.ts` re-exports it.
 */
import type { Db } from './db';

/** What the table's `format` CHECK allows. */
export const DATASET_FORMATS = ['idx', 'cifar10', 'cifar100', 'folder', 'demo'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export type SplitName = 'train' | 'val' | 'test';

export interface SplitInfo {
  count: number;
  /** Images per class, indexed like `classNames`. */
  classCounts: number[];
}

/** How the loaders augment this dataset's training batches. */
export interface AugmentPolicy {
  /** Random horizontal flip with p = 0.5. Off for digits and other grayscale IDX sets, where a flip changes meaning. */
  flip: boolean;
  /** Zero padding (pixels per side) before a random crop back to the original size. */
  padding: number;
}

export interface DatasetInfo {
  id: string;
  name: string;
  format: DatasetFormat;
  /** Where it was imported from (absolute path), or a description of the generator for the demo set. */
  source: string;
  /** `sha256:<hex>` of the stored pixels, labels, shape and class names: the identity used to recognise re-imports. */
  contentHash: string;
  height: number;
  width: number;
  channels: 1 | 3;
  classNames: string[];
  /** `train` excludes the images carved out into `val`. */
  splits: Record<SplitName, SplitInfo>;
  /** Per channel, in [0,1] pixel units, over the source's whole training set (train + val), so they do not move when
   * the validation split is changed. */
  mean: number[];
  std: number[];
  /** Fraction of each training class held out as the search-validation split. */
  valFraction: number;
  /** Seed of the stratified validation split. */
  valSeed: number;
  augment: AugmentPolicy;
  /** Bytes on disk. */
  sizeBytes: number;
  createdAt: string;
}

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

/** The dataset whose content has this hash (`sha256:<hex>`), or undefined. */
export function findDatasetByHash(db: Db, contentHash: string): DatasetInfo | undefined {
  const r = db.prepare('SELECT * FROM datasets WHERE content_hash = ?').get(contentHash) as Row | undefined;
  return r ? rowToInfo(r) : undefined;
}

/** The id of the dataset named exactly `name`, or undefined. */
export function datasetIdByName(db: Db, name: string): string | undefined {
  return (db.prepare('SELECT id FROM datasets WHERE name = ?').get(name) as { id: string } | undefined)?.id;
}

/** The stored datasets of one format (e.g. the demo set), with the source their generator recorded. */
export function datasetsOfFormat(db: Db, format: DatasetFormat): { id: string; source: string }[] {
  return db.prepare('SELECT id, source FROM datasets WHERE format = ?').all(format) as { id: string; source: string }[];
}

/**
 * Inserts a dataset's row and runs `commit` (the caller puts the files in place) in the same transaction: if `commit`
 * throws, the row is not kept. `conflict` when the table's UNIQUE or CHECK constraints refuse the row (another
 * process stored the same content or took the name in the meantime); nothing is kept then either.
 */
export function insertDataset(db: Db, d: DatasetInfo, commit: () => void = () => {}): 'inserted' | 'conflict' {
  try {
    db.transaction(() => {
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
      commit();
    }).immediate();
  } catch (e) {
    if (((e as { code?: string }).code ?? '').startsWith('SQLITE_CONSTRAINT')) return 'conflict';
    throw e;
  }
  return 'inserted';
}

/**
 * Records a new search-validation split and runs `commit` (the caller renames the new index file into place) in the
 * same transaction, so the row and the file change together.
 */
export function updateValSplit(db: Db, id: string, v: { fraction: number; seed: number; splits: Record<SplitName, SplitInfo> }, commit: () => void = () => {}): void {
  db.transaction(() => {
    db.prepare('UPDATE datasets SET val_fraction = ?, val_seed = ?, splits = ? WHERE id = ?').run(v.fraction, v.seed, JSON.stringify(v.splits), id);
    commit();
  }).immediate();
}

/** Deletes a dataset's row: `in-use` (and nothing deleted) while training runs still reference it. */
export function deleteDataset(db: Db, id: string): 'deleted' | 'in-use' {
  try {
    db.transaction(() => {
      db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
    }).immediate();
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'in-use';
    throw e;
  }
  return 'deleted';
}
