/**
 * The store's rows as the API's DTOs (api-types.ts): run summaries, step and epoch points, events. Pure functions of
 * the rows, so the table, the detail page and the pushed events all show the same numbers.
 */
import type { RunDetail, RunEpochPoint, RunEventInfo, RunStepPoint, RunSummary } from '../ipc/api-types';
import type { Progress } from '../train/messages';
import type { CheckpointRow, EpochMetric, RunEvent, RunRow, StepMetric } from '../store/runs';

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
    step: r.step,
    totalSteps: r.totalSteps,
    epoch: r.epoch,
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
export function stepPoint(s: Pick<StepMetric, 'step' | 'epoch' | 'lr' | 'alphaMinShare' | 'clippedShare' | 'nonfinite' | 'imagesPerSec'> & { losses: readonly { role: string; loss: number | null }[] }): RunStepPoint {
  return {
    step: s.step,
    epoch: s.epoch,
    lr: s.lr,
    losses: numberRoles(s.losses).map((l) => ({ role: l.role, loss: l.loss })),
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

export function eventInfo(e: RunEvent): RunEventInfo {
  return { id: e.id, time: e.time, step: e.step, kind: e.kind, message: e.message };
}

export function checkpointInfo(c: CheckpointRow): RunDetail['checkpoints'][number] {
  return { step: c.step, epoch: c.epoch, sha256: c.sha256, bytes: c.bytes, time: c.createdAt };
}

/**
 * The BN calibration shown on the detail page: the last validation's BN-calibrated top-1 per subnet (`after`). The
 * trainer validates only with recalibrated statistics, so the accuracy before recalibration is not measured
 * (`before: null`) rather than invented.
 */
export function calibrationOf(epochs: readonly EpochMetric[]): RunDetail['calibration'] {
  if (!epochs.length) return [];
  const last = Math.max(...epochs.map((e) => e.epoch));
  return epochs.filter((e) => e.epoch === last).map((e) => ({ subnet: e.subnet, before: null, after: e.valTop1 }));
}
