/**
 * The store's rows as the API's DTOs (api-types.ts): run summaries, step and epoch points, events. Pure functions of
 * the rows, so the table, the detail page and the pushed events all show the same numbers.
 */
import type {
  ClusterJobInfo,
  FrontInfo,
  GenomeInfo,
  RunDetail,
  RunEpochPoint,
  RunEventInfo,
  RunMetrics,
  RunStepPoint,
  RunSummary,
  SearchBudget,
  SearchSummary,
  SubnetEvaluation,
} from '../ipc/api-types';
import type { SearchSpace } from '../engine/core';
import type { Progress } from '../jobs/run-messages';
import type { CheckpointRow, EpochMetric, RunEvent, RunRow, StepMetric } from '../store/runs';
import type { EvaluationRow } from '../store/evaluations';
import type { FrontRow } from '../store/fronts';
import type { SearchRow } from '../store/searches';
import type { ClusterJobRow } from '../store/cluster-jobs';
import type { SearchFrontMessage } from '../jobs/search-messages';

/** Sandwich roles as the API names them: `max`, `random-1`, `random-2`…, `min` (the runner sends plain `random`). */
export function numberRoles<T extends { role: string }>(members: readonly T[]): (T & { role: string })[] {
  let k = 0;
  return members.map((m) => (m.role === 'random' ? { ...m, role: `random-${++k}` } : m));
}

/** The distillation kind of a stored config (`adaptive-alpha`, `kl`, `alpha`, `none`). */
function distillationOf(config: unknown): string {
  const d = (config as { distillation?: { kind?: unknown } } | null)?.distillation;
  return typeof d?.kind === 'string' ? d.kind : 'adaptive-alpha';
}

/** The configured number of epochs, or null for a config without one. */
function epochsOf(config: unknown): number | null {
  const e = (config as { epochs?: unknown } | null)?.epochs;
  return typeof e === 'number' ? e : null;
}

/**
 * Seconds to the end of training from the wall times of the last stored steps: their mean time per step times the
 * steps left. For runs trained by another process, which send this one no progress messages. Validation pauses inside
 * the window count, so the estimate is honest about a run's real pace. Null with fewer than two steps.
 */
export function etaFromStepTimes(rows: readonly { step: number; time: string }[], totalSteps: number | null): number | null {
  if (rows.length < 2 || !totalSteps) return null;
  const first = rows[0];
  const last = rows[rows.length - 1];
  const perStep = (Date.parse(last.time) - Date.parse(first.time)) / 1000 / (last.step - first.step);
  return Number.isFinite(perStep) && perStep >= 0 ? perStep * Math.max(0, totalSteps - last.step) : null;
}

/**
 * @param bestMaxTop1 best validation top-1 of the max subnet so far (from the epoch metrics), or null.
 * @param etaSec the last progress message's ETA while the run trains here, else null.
 */
export function runSummary(r: RunRow, bestMaxTop1: number | null, etaSec: number | null): RunSummary {
  const progress = r.status === 'finished' ? 1 : r.totalSteps ? Math.min(1, r.step / r.totalSteps) : 0;
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    datasetId: r.datasetId,
    datasetName: r.datasetName,
    spaceId: r.spaceId,
    distillation: distillationOf(r.config),
    backend: r.backend,
    workers: r.cores,
    step: r.step,
    totalSteps: r.totalSteps,
    epoch: r.epoch,
    epochs: epochsOf(r.config),
    progress,
    etaSec: r.status === 'running' ? etaSec : null,
    bestAccuracy: bestMaxTop1,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    error: r.error,
  };
}

/** Best top-1 of the `max` subnet over the epochs, or null before the first validation. */
export function bestMaxTop1(epochs: readonly Pick<EpochMetric, 'subnet' | 'valTop1'>[]): number | null {
  const xs = epochs.filter((e) => e.subnet === 'max').map((e) => e.valTop1);
  return xs.length ? Math.max(...xs) : null;
}

/** A step's point, from its stored metrics or (with `nonfinite` renamed) a live progress message. */
export function stepPoint(
  s: Pick<StepMetric, 'step' | 'epoch' | 'lr' | 'alphaMinShare' | 'clippedShare' | 'nonfinite' | 'imagesPerSec'> & {
    losses: readonly { role: string; loss: number | null; divergence?: number | null }[];
  },
): RunStepPoint {
  return {
    step: s.step,
    epoch: s.epoch,
    lr: s.lr,
    losses: numberRoles(s.losses).map((l) => ({ role: l.role, loss: l.loss, ...(typeof l.divergence === 'number' ? { divergence: l.divergence } : {}) })),
    alphaMinShare: s.alphaMinShare,
    clippedShare: s.clippedShare,
    nonfinite: s.nonfinite,
    imagesPerSec: s.imagesPerSec,
  };
}

/** A live progress message as a step point (the same shape the stored metrics give). */
export const progressPoint = (p: Progress): RunStepPoint => stepPoint({ ...p, nonfinite: p.nonFinite });

export function epochPoint(e: Pick<EpochMetric, 'epoch' | 'step' | 'subnet' | 'mflops' | 'valTop1' | 'valLoss'>): RunEpochPoint {
  return { epoch: e.epoch, step: e.step, subnet: e.subnet, mflops: e.mflops, valTop1: e.valTop1, valLoss: e.valLoss };
}

/** A run's stored step and epoch metrics as the API's `runs.metrics` gives them (and `alphanet runs metrics` exports). */
export function runMetricsView(steps: readonly StepMetric[], epochs: readonly EpochMetric[]): RunMetrics {
  return { steps: steps.map(stepPoint), epochs: epochs.map(epochPoint) };
}

export function eventInfo(e: RunEvent): RunEventInfo {
  return { id: e.id, time: e.time, step: e.step, kind: e.kind, message: e.message };
}

/** A run's submission to a Slurm cluster as the run page shows it. */
export function clusterJobInfo(j: ClusterJobRow): ClusterJobInfo {
  return {
    cluster: j.cluster, jobId: j.jobId, nodes: j.nodes, ranksPerNode: j.ranksPerNode, gpusPerNode: j.gpusPerNode, state: j.state, reason: j.reason,
    nodeList: j.nodeList, remoteDir: j.remoteDir, outcome: j.outcome, error: j.error, submittedAt: j.submittedAt,
  };
}

export function checkpointInfo(c: CheckpointRow): RunDetail['checkpoints'][number] {
  return { step: c.step, epoch: c.epoch, sha256: c.sha256, bytes: c.bytes, time: c.createdAt };
}

/**
 * The BN calibration shown on the detail page: the last validation's top-1 per subnet before BN recalibration
 * (`before`: the supernet's running statistics as training leaves them; null for runs validated before the trainer
 * measured it) and after it (`after`).
 */
export function calibrationOf(epochs: readonly EpochMetric[]): RunDetail['calibration'] {
  if (!epochs.length) return [];
  const last = Math.max(...epochs.map((e) => e.epoch));
  return epochs.filter((e) => e.epoch === last).map((e) => ({ subnet: e.subnet, before: e.valTop1Before, after: e.valTop1 }));
}

// ---- subnets, searches, fronts -----------------------------------------------------------------------------------

/** Names of a space's genome entries as the API shows them: `first` (stem), the stages' own names, `last` (head). */
export function stageNamesOf(space: Pick<SearchSpace, 'stages'>): string[] {
  return ['first', ...space.stages.map((s) => s.name), 'last'];
}

/** An evaluation row as the explorer's point. */
export function subnetEvaluation(e: EvaluationRow, pinned: boolean, stageNames: string[]): SubnetEvaluation {
  return {
    id: e.id,
    runId: e.runId,
    genomeId: e.genomeId,
    genome: e.genome as GenomeInfo,
    stageNames,
    accuracy: e.accuracy,
    accuracyBefore: e.before?.accuracy ?? null,
    loss: e.loss,
    mflops: e.mflops,
    mparams: e.mparams,
    latencyMs: e.latency?.ms ?? null,
    latencyMethod: e.latency?.method ?? null,
    split: e.split,
    calibration: { batches: e.calibrationBatches, batchSize: e.calibrationBatchSize, seed: e.calibrationSeed },
    checkpointStep: e.checkpointStep,
    createdAt: e.createdAt,
    pinned,
  };
}

/** A stored front (of a search or a run) as the API's front. */
export function frontOfRow(f: FrontRow): FrontInfo {
  const points = f.points.map((p) => ({ evaluationId: p.data?.evaluationId ?? Number(p.id), accuracy: p.accuracy, cost: p.cost }));
  return { objective: f.objective, evaluationIds: points.map((p) => p.evaluationId), points, hypervolume: f.hypervolume, reference: { ...f.reference } };
}

/** A runner's live `front` message as the API's front. */
export function frontOfMessage(m: SearchFrontMessage): FrontInfo {
  const points = m.points.map((p) => ({ evaluationId: p.evaluationId, accuracy: p.accuracy, cost: p.cost }));
  return { objective: m.objective, evaluationIds: points.map((p) => p.evaluationId), points, hypervolume: m.hypervolume, reference: { ...m.reference } };
}

/**
 * A search row as the searches table shows it. `front`: the search's stored front (size, hypervolume, reference),
 * undefined before its first evaluation. Settings are the resolved evolution config, without the engine-internal
 * `maxTries`.
 */
export function searchSummary(s: SearchRow, runName: string, front: FrontRow | undefined): SearchSummary {
  const c = s.config as Record<string, number>;
  const progress = s.status === 'finished' ? 1 : s.total > 0 ? Math.min(1, s.evaluations / s.total) : 0;
  return {
    id: s.id,
    runId: s.runId,
    runName,
    name: s.name,
    kind: s.kind,
    objective: s.objective,
    engine: s.engine,
    workers: s.cores,
    cluster: s.cluster,
    status: s.status,
    budget: s.budget as SearchBudget,
    config: {
      populationSize: c.populationSize,
      mutateSize: c.mutateSize,
      crossoverSize: c.crossoverSize,
      mutateProb: c.mutateProb,
      crossoverProb: c.crossoverProb,
      generations: c.generations,
      seed: c.seed,
      ...(c.screen !== undefined ? { screen: c.screen } : {}),
    },
    evaluations: s.evaluations,
    total: s.total,
    progress,
    etaSec: s.status === 'running' && s.etaMs !== null ? s.etaMs / 1000 : null,
    elapsedSec: s.elapsedMs / 1000,
    frontSize: front?.points.length ?? 0,
    hypervolume: front?.hypervolume ?? null,
    reference: front ? { ...front.reference } : null,
    createdAt: s.createdAt,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    error: s.error,
  };
}
