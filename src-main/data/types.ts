/** Shared types and the error class of the datasets module (src-main/data). */

export const DATASET_FORMATS = ['idx', 'cifar10', 'cifar100', 'folder', 'demo'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];
/** The formats a user can import (the demo set is built in). */
export const IMPORT_FORMATS = ['idx', 'cifar10', 'cifar100', 'folder'] as const;
/** Side of an image folder's stored square images: the bounds the importer, the CLI, the API and the form check. */
export const MIN_FOLDER_SIZE = 4;
export const MAX_FOLDER_SIZE = 512;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export type SplitName = 'train' | 'val' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];

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

/** A problem with a dataset or its source, meant for the user: names the file and the cause. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

export interface ImportProgress {
  /** `read` (files), `decode` (images), `check` (validation and statistics), `write` (to the data directory). */
  phase: 'read' | 'decode' | 'check' | 'write';
  done: number;
  total: number;
  /** Estimated seconds left in this phase, from its rate so far; null until there is a rate. */
  etaSeconds: number | null;
}

/** One split as decoded from a source: uint8 HWC pixels, labels < number of classes. */
export interface RawSplit {
  images: Uint8Array;
  labels: Uint16Array;
  n: number;
}

/** A source decoded in memory, before validation, statistics and storage. */
export interface DecodedDataset {
  format: DatasetFormat;
  source: string;
  height: number;
  width: number;
  channels: 1 | 3;
  classNames: string[];
  train: RawSplit;
  /** Null when the source has no test set (an image folder without train/ and test/): one is carved out of train. */
  test: RawSplit | null;
  flip: boolean;
  /** Suggested name when the user gives none. */
  defaultName: string;
}
