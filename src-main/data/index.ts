/**
 * Datasets: import of IDX, CIFAR-10/100 and image folders, the built-in demo set, splits, validation of
 * bad input, statistics, sample grids, and the batch loaders the trainer consumes. docs/DATASETS.md describes it.
 * Plain Node: nothing here imports `electron`.
 */
export * from './types';
export { Rng, permutation } from '../engine/core';
export { findDataset, listDatasets } from '../store/datasets';
export {
  cleanStaleTemp,
  datasetDir,
  datasetsRoot,
  fsWriter,
  getDataset,
  loadSplit,
  removeDataset,
  setValSplit,
  type FileWriter,
  type StoreResult,
} from './files';
export { DEFAULT_VAL_FRACTION, DEFAULT_VAL_SEED, channelStats, contentHash, stratifiedHoldout } from './splits';
export { DEMO_CLASSES, DEMO_COUNTS, DEMO_SOURCE, ensureDemoDataset, generateDemo } from './demo';
export {
  calibrationBatches,
  calibrationPlan,
  clearCalibrationCache,
  createLoader,
  type Batch,
  type CalibrationBatchPlan,
  type CalibrationOptions,
  type Loader,
  type LoaderOptions,
} from './loader';
export { detectFormat, importDataset, type ImportOptions, type ImportResult } from './import';
export { openSource, parseTar, type Source, type SourceFile } from './source';
export { parseIdx } from './formats/idx';
export { CIFAR10_NAMES } from './formats/cifar';
export { DEFAULT_FOLDER_SIZE, decodeImage } from './formats/folder';
export { imageDataUrl, sampleGrid, type SampleGrid } from './samples';
