/**
 * What can be known about a trained run's subnets without TF.js: the run's config, space and dataset, and the
 * settings an evaluation would use. The SearchManager checks a search request with these in the parent process —
 * the Electron main process in the app, which must not load TF.js — and `run-subnets.ts` (which loads weights and
 * evaluates) re-exports them.
 */
import type { DatasetInfo } from '../data/types';
import { type SearchSpace, configSpace, parseTrainConfig, type TrainConfig } from '../engine/core';
import type { Db } from '../store/db';
import { getRun, type RunRow } from '../store/runs';
import type { EvalSplit } from '../store/evaluations';
import { resolveDataset } from '../data/resolve-dataset';

/** A user-facing problem with a run or a subnet (unknown run, no checkpoint, bad subnet name, empty split). */
export class RunSubnetError extends Error {
  override name = 'RunSubnetError';
}

/** A run's config, space and dataset (what `runInfo` returns). */
export interface RunInfo {
  run: RunRow;
  config: TrainConfig;
  space: SearchSpace;
  dataset: DatasetInfo;
  /** Classifier outputs: the dataset's classes. */
  numClasses: number;
}

/** The run's config, space and dataset, without loading weights (cheap: no tensors). */
export async function runInfo(home: string, db: Db, runId: number): Promise<RunInfo> {
  const run = getRun(db, runId);
  const config = parseTrainConfig(run.config, `config of run ${runId}`);
  const space = configSpace(config);
  let dataset: DatasetInfo;
  try {
    dataset = await resolveDataset(home, db, run.datasetId ?? config.dataset);
  } catch (e) {
    throw new RunSubnetError(`run ${runId}: its dataset '${run.datasetName}' is not available: ${(e as Error).message}`);
  }
  return { run, config, space, dataset, numClasses: dataset.classNames.length };
}

/** How a subnet is evaluated; every field except `batchSize` is part of the cache key. */
export interface EvaluationSettings {
  /** `val` (the search-validation split carved out of train; default) or `test` (final numbers only). */
  split: EvalSplit;
  /** BN calibration batches from the augmented training split (default: the run's `validation.calibrationBatches`, 16). */
  calibrationBatches: number;
  /** Images per calibration batch (default: the run's `validation.calibrationBatchSize`, 64). */
  calibrationBatchSize: number;
  /** Seed choosing and augmenting the calibration images (default: the run's seed). */
  calibrationSeed: number;
  /** Images per evaluation batch (default: the run's `validation.batchSize`, 256); does not change the result. */
  batchSize: number;
}

/** The run's evaluation settings with `over` applied; a bad value throws a `RunSubnetError` naming it. */
export function evaluationSettings(r: { config: TrainConfig }, over: Partial<EvaluationSettings> = {}): EvaluationSettings {
  const v = r.config.validation;
  const s: EvaluationSettings = {
    split: over.split ?? 'val',
    calibrationBatches: over.calibrationBatches ?? v.calibrationBatches,
    calibrationBatchSize: over.calibrationBatchSize ?? v.calibrationBatchSize,
    calibrationSeed: over.calibrationSeed ?? r.config.seed,
    batchSize: over.batchSize ?? v.batchSize,
  };
  if (s.split !== 'val' && s.split !== 'test') throw new RunSubnetError(`split must be val or test, got '${String(s.split)}'`);
  for (const k of ['calibrationBatches', 'calibrationBatchSize', 'batchSize'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new RunSubnetError(`${k} must be a positive integer, got ${s[k]}`);
  }
  if (!Number.isInteger(s.calibrationSeed) || s.calibrationSeed < 0) throw new RunSubnetError(`calibrationSeed must be an integer ≥ 0, got ${s.calibrationSeed}`);
  return s;
}

/**
 * The evaluation workers a search runs with: `requested` (null: `auto`, the `cores` the job queue gave it, or one).
 * The native TensorFlow backends already use every core for one evaluation, so they evaluate with one; asking them
 * for more is an error, as it is for training.
 */
export function searchWorkers(requested: number | null, o: { cores?: number; backend: string }): number {
  const native = o.backend !== 'wasm' && o.backend !== 'cpu';
  if (requested === null) return native ? 1 : Math.max(1, o.cores ?? 1);
  if (!Number.isInteger(requested) || requested < 1) throw new RunSubnetError(`workers must be a positive integer or auto, got ${requested}`);
  if (native && requested > 1) throw new RunSubnetError(`workers: ${requested} evaluation workers need the wasm or cpu backend (the '${o.backend}' backend uses every core by itself)`);
  return requested;
}
