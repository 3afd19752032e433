/**
 * Import of a user's dataset: format detection, decoding, validation, statistics, storage — one transaction.
 */
import type { Db } from '../store/db';
import { decodeCifar10, decodeCifar100, CIFAR100_RE, CIFAR10_TEST_RE, CIFAR10_TRAIN_RE } from './formats/cifar';
import { decodeFolder, DEFAULT_FOLDER_SIZE, IMAGE_EXT_RE } from './formats/folder';
import { decodeIdx, IDX_RE } from './formats/idx';
import { openSource, type Source } from './source';
import { cleanStaleTemp, storeDataset, type FileWriter, type StoreResult } from './files';
import { DatasetError, IMPORT_FORMATS, type DecodedDataset, type ImportFormat, type ImportProgress } from './types';

export interface ImportOptions {
  /** Default: the folder or archive name (made unique with -2, -3… if taken). An explicit name must be free. */
  name?: string;
  /** Default: detected from the file names. */
  format?: ImportFormat;
  /** Image folders only: side of the stored square images; default 32. */
  size?: number;
  /** Image folders only: force 1 or 3 channels; default the images' own (all the same). */
  channels?: 1 | 3;
  /** Fraction of each training class held out for search validation; default 0.1. */
  valFraction?: number;
  /** Seed of that split; default 0. */
  valSeed?: number;
  onProgress?: (p: ImportProgress) => void;
  /** The folders the import may read (the served mode's allowed folders): a symbolic link out of them is refused. */
  within?: readonly string[];
  /** Replaces the file writer (tests inject a failing one to simulate a full disk). */
  writer?: FileWriter;
}

export interface ImportResult extends StoreResult {
  /** Seconds the import took. */
  seconds: number;
}

/** Guesses the format of a source from its file names. */
export function detectFormat(src: Source): ImportFormat {
  const rels = src.files.map((f) => f.rel);
  if (rels.some((r) => CIFAR10_TRAIN_RE.test(r) || CIFAR10_TEST_RE.test(r))) return 'cifar10';
  if (rels.some((r) => CIFAR100_RE.test(r))) return 'cifar100';
  if (rels.some((r) => IDX_RE.test(r))) return 'idx';
  if (rels.some((r) => IMAGE_EXT_RE.test(r))) return 'folder';
  throw new DatasetError(
    `cannot tell the format of ${src.path}: found no IDX files (train-images-idx3-ubyte…), CIFAR batches (data_batch_1.bin… or train.bin/test.bin) or class folders of PNG/JPEG images; pass --format (${IMPORT_FORMATS.join(', ')})`,
  );
}

/**
 * Imports `path` (a folder or a .tar.gz/.tgz/.tar) into `home`. Resolves to the stored dataset, or to the existing
 * one with `existing: true` when the same content is already there. Errors are {@link DatasetError}s naming the file
 * and the cause; after any failure nothing of the import remains.
 */
export async function importDataset(home: string, db: Db, path: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const t0 = performance.now();
  if (opts.format !== undefined && !IMPORT_FORMATS.includes(opts.format)) {
    throw new DatasetError(`unknown format '${opts.format}' (one of ${IMPORT_FORMATS.join(', ')})`);
  }
  cleanStaleTemp(home);
  opts.onProgress?.({ phase: 'read', done: 0, total: 1, etaSeconds: null });
  const src = openSource(path, { within: opts.within });
  opts.onProgress?.({ phase: 'read', done: 1, total: 1, etaSeconds: 0 });
  const format = opts.format ?? detectFormat(src);
  // After detection too: a size asked for a CIFAR archive would otherwise be ignored without a word.
  if (format !== 'folder' && (opts.size !== undefined || opts.channels !== undefined)) {
    throw new DatasetError(`an image size or channel count applies to image folders only, not to ${format} (${path})`);
  }
  let decoded: DecodedDataset;
  switch (format) {
    case 'idx':
      decoded = decodeIdx(src);
      break;
    case 'cifar10':
      decoded = decodeCifar10(src);
      break;
    case 'cifar100':
      decoded = decodeCifar100(src);
      break;
    case 'folder':
      decoded = await decodeFolder(src, { size: opts.size ?? DEFAULT_FOLDER_SIZE, channels: opts.channels, onProgress: opts.onProgress });
      break;
  }
  opts.onProgress?.({ phase: 'check', done: 0, total: 1, etaSeconds: null });
  const r = storeDataset(home, db, decoded, { name: opts.name, valFraction: opts.valFraction, valSeed: opts.valSeed, writer: opts.writer, onProgress: opts.onProgress });
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}
