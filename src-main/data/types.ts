/** Shared types and the error class of the datasets module (src-main/data). */

import type { DatasetFormat, SplitName } from '../store/datasets';

// The stored row's shape is defined with its table (the store does not import data/); the data modules and the API
// take it from here.
export type { AugmentPolicy, DatasetFormat, DatasetInfo, SplitInfo, SplitName } from '../store/datasets';

/** The formats a user can import (the demo set is built in). */
export const IMPORT_FORMATS = ['idx', 'cifar10', 'cifar100', 'folder'] as const;
/** Side of an image folder's stored square images: the bounds the importer, the CLI, the API and the form check. */
export const MIN_FOLDER_SIZE = 4;
export const MAX_FOLDER_SIZE = 512;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];

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
