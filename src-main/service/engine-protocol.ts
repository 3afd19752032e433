/**
 * The engine worker's operations (the op table of jobs/worker-protocol.ts): the work that needs TF.js — which
 * backend loads, evaluating a run's subnet, exporting it, and this machine's latency table (its summary, a build with
 * its error report, one subnet's measured latency). The service calls them in the engine worker process
 * (engine-worker-main.ts, out/main/engine-worker.js) and the CLI in its own process (cli/engine.ts); both through
 * these schemas, and the CLI prints (`--json`) the very result objects. No TF.js here: Electron main imports it.
 *
 * Result schemas name every field a caller reads; what they only pass on (a backend report's details, an export's
 * provenance, a latency report) is checked as an object and kept whole.
 */
import { z } from 'zod';
import { BACKENDS } from '../engine/core';
import type { ArchJson, ProvenanceJson } from '../export';
import type { LatencyTableInfo } from '../ipc/api-types';
import type { DeviceFingerprint, LatencyErrorReport, LatencyTable, Timing } from '../search/latency';
import type { EvaluationRow } from '../store/evaluations';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
/** An object passed on whole, of the type its module declares (checked as an object; its fields are not read here). */
const passed = <T>() => z.custom<T>((v) => typeof v === 'object' && v !== null && !Array.isArray(v));

/** What every operation takes: the data directory, and the backend to force (default: ALPHANET_BACKEND, then settings.json, then the best that loads). */
const base = {
  home: z.string().min(1),
  backend: z.enum(['auto', ...BACKENDS]).optional(),
};
/** How a subnet is evaluated (defaults: the run's validation settings). */
const evaluationOptions = {
  split: z.enum(['val', 'test']).optional(),
  calibrationBatches: posInt.optional(),
  seed: nonNegInt.optional(),
  checkpoint: z.enum(['latest', 'best']).optional(),
};
/** A run id (its space and classifier size) or a space: a registered id or a JSON file. */
const target = z.string().min(1);

const SubnetRefSchema = z.object({ label: z.string(), genomeId: z.string() });

/** A stored evaluation (store/search.ts `EvaluationRow`). */
export const EvaluationRowSchema = z.looseObject({
  id: posInt,
  runId: posInt,
  genomeId: z.string(),
  genome: z.looseObject({}),
  split: z.enum(['val', 'test']),
  accuracy: z.number(),
  loss: z.number(),
  mflops: z.number(),
  mparams: z.number(),
  checkpointSha256: z.string(),
  checkpointStep: nonNegInt,
  createdAt: z.string(),
}) as unknown as z.ZodType<EvaluationRow>;

export const LatencyTableInfoSchema = z.object({
  path: z.string(),
  device: z.string(),
  createdAt: z.string(),
  buildSeconds: z.number(),
  entries: nonNegInt,
  heldOut: z.object({ subnets: nonNegInt, medianRelError: z.number(), p90RelError: z.number(), maxRelError: z.number() }).nullable(),
}) satisfies z.ZodType<LatencyTableInfo>;

const ErrorStatsSchema = z.object({ medianRelError: z.number(), p90RelError: z.number(), meanRelError: z.number(), maxRelError: z.number() });

export const ENGINE_OPS = {
  /** Loads TF.js (`alphanet doctor`): the backend chosen, why higher rungs were skipped. */
  doctor: {
    input: z.object(base),
    result: z.looseObject({
      chosen: z.string(),
      tfBackend: z.string(),
      tfjsVersion: z.string(),
      home: z.string(),
      node: z.string(),
      platform: z.string(),
      /** The backend report in words, as `alphanet doctor` prints it first. */
      text: z.string(),
    }),
  },
  /** One subnet of a trained run, BN-recalibrated, through the run's evaluation cache (`alphanet evaluate`). */
  evaluate: {
    input: z.object({
      ...base,
      runId: posInt,
      /** min, max, a named subnet, random[:seed], a genome (JSON text or .json file), or an evaluation id / subnet ID of the run. */
      subnet: z.string().min(1),
      ...evaluationOptions,
      /** lut (this machine's table), measure, or none; default lut when a table exists, else measure. */
      latency: z.enum(['lut', 'measure', 'none']).optional(),
      /** Who computes a cache miss: the workbench's TF.js engine (default) or the PyTorch engine (docs/TORCH.md). */
      engine: z.enum(['local', 'torch']).optional(),
    }),
    result: z.object({
      runId: posInt,
      subnet: SubnetRefSchema,
      cached: z.boolean(),
      checkpoint: z.object({ path: z.string(), sha256: z.string(), step: nonNegInt, epoch: nonNegInt }),
      evaluation: EvaluationRowSchema,
      /** Checkpoints skipped because their hash check failed, as messages. */
      skipped: z.array(z.string()),
    }),
  },
  /** A subnet of a trained run as TF.js and/or ONNX with arch.json and provenance.json (`alphanet export`). */
  export: {
    input: z.object({
      ...base,
      runId: posInt,
      /** An evaluation id of the run (exports exactly what was evaluated), or a subnet as `evaluate` takes it. */
      subnet: z.string().min(1),
      format: z.enum(['tfjs', 'onnx', 'both']),
      /** Output folder (created; files in it are replaced). */
      out: z.string().min(1),
      ...evaluationOptions,
    }),
    result: z.object({
      outDir: z.string(),
      /** Paths relative to outDir. */
      files: z.array(z.string()),
      arch: passed<ArchJson>(),
      provenance: passed<ProvenanceJson>(),
      evaluation: EvaluationRowSchema,
      cached: z.boolean(),
      subnet: SubnetRefSchema,
    }),
  },
  /** This machine's latency table for the target's space, if there is one (`alphanet latency --info`); measures nothing. */
  'latency.info': {
    input: z.object({ ...base, target, batch: posInt.optional() }),
    result: z.object({
      info: LatencyTableInfoSchema.nullable(),
      space: z.string(),
      /** This machine's backend and ops mode, in words. */
      device: z.string(),
      heldOut: ErrorStatsSchema.extend({ subnets: nonNegInt }).nullable(),
    }),
  },
  /**
   * Builds the table when `build` (else loads it), then re-measures random subnets against it (`alphanet latency
   * [--build-table]`). Progress: the build's rounds.
   */
  'latency.check': {
    input: z.object({
      ...base,
      target,
      build: z.boolean(),
      batch: posInt.optional(),
      warmup: posInt.optional(),
      repeats: posInt.optional(),
      reportSubnets: posInt.optional(),
      statistic: z.enum(['median', 'min']).optional(),
      clock: z.enum(['wall', 'cpu']).optional(),
    }),
    result: z.object({
      built: z.boolean(),
      path: z.string(),
      device: passed<DeviceFingerprint>(),
      entries: nonNegInt,
      buildMs: z.number(),
      scale: z.number(),
      overheadMs: z.number(),
      heldOut: passed<NonNullable<LatencyTable['heldOut']>>().nullable(),
      info: LatencyTableInfoSchema,
      report: passed<LatencyErrorReport>(),
      space: z.string(),
      numClasses: posInt,
      batch: posInt,
      statistic: z.string(),
      repeats: posInt,
      clock: z.string(),
      /** The max subnet's predicted latency (ms). */
      maxMs: z.number(),
    }),
  },
  /**
   * Builds and stores the run's accuracy predictor (`alphanet predictor --build`), evaluating random subnets first
   * when the run has fewer than `samples`. Progress: `sample <done>/<total>: …` per evaluation, `fit <i>/<n> on <m>
   * subnets: epoch <e>/<E>` every tenth of each fit (service/predictor-service.ts reads them).
   */
  'predictor.build': {
    input: z.object({
      ...base,
      runId: posInt,
      samples: posInt.optional(),
      heldOut: posInt.optional(),
      epochs: posInt.optional(),
      seed: nonNegInt.optional(),
      split: z.enum(['val', 'test']).optional(),
      checkpoint: z.enum(['latest', 'best']).optional(),
    }),
    result: z.object({ predictorId: posInt, sampled: nonNegInt }),
  },
  /** One subnet's latency measured now at batch 1 (and `batch`), with the table's prediction (`alphanet latency --subnet`). */
  'latency.measure': {
    input: z.object({ ...base, target, subnet: z.string().min(1), batch: posInt.optional(), warmup: posInt.optional(), repeats: posInt.optional() }),
    result: z.object({
      space: z.string(),
      genomeId: z.string(),
      backend: z.string(),
      measurements: z.array(passed<Timing & { batch: number }>()),
      predictedMs: z.number().nullable(),
      table: z.string().nullable(),
      device: z.string(),
      tableBatch: posInt.nullable(),
    }),
  },
};

export type EngineOps = typeof ENGINE_OPS;
export type EngineOp = keyof EngineOps;
