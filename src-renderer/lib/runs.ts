/**
 * Runs as the pages hold them: pure helpers to sort and filter the table and to apply live `runs.onEvent` events,
 * shared by the runs table and the run detail page.
 */
import type { RunEvent, RunStatus, RunSummary } from '../../src-main/ipc/api-types';

export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'paused', 'finished', 'failed', 'cancelled'];

/** Statuses whose run still changes; the others open read-only. */
export const ACTIVE_STATUSES: ReadonlySet<RunStatus> = new Set(['queued', 'running', 'paused']);

export const canPause = (r: RunSummary): boolean => r.status === 'running' || r.status === 'queued';
/** A paused run continues; a failed one (a crash, a stop on NaN) resumes from its newest good checkpoint. */
export const canResume = (r: RunSummary): boolean => r.status === 'paused' || r.status === 'failed';
export const canCancel = (r: RunSummary): boolean => ACTIVE_STATUSES.has(r.status);
export const canDelete = (r: RunSummary): boolean => r.status !== 'running';

export type SortKey = 'name' | 'status' | 'progress' | 'workers' | 'etaSec' | 'bestAccuracy' | 'distillation' | 'datasetName' | 'createdAt';
export interface SortState {
  key: SortKey;
  dir: 'asc' | 'desc';
}

/** Sorted copy; nulls last in either direction, ties by id (newest first). */
export function sortRuns(runs: readonly RunSummary[], sort: SortState): RunSummary[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...runs].sort((a, b) => {
    const x = a[sort.key];
    const y = b[sort.key];
    if (x == null && y != null) return 1;
    if (y == null && x != null) return -1;
    let c = 0;
    if (typeof x === 'number' && typeof y === 'number') c = x - y;
    else if (x != null && y != null) c = String(x).localeCompare(String(y));
    return c !== 0 ? sign * c : b.id - a.id;
  });
}

/** Runs whose status is `status` (or any, for '') and whose name, dataset, space or distillation contain `text`. */
export function filterRuns(runs: readonly RunSummary[], status: RunStatus | '', text: string): RunSummary[] {
  const q = text.trim().toLowerCase();
  return runs.filter(
    (r) =>
      (!status || r.status === status) &&
      (!q || [r.name, r.datasetName, r.spaceId, r.distillation, String(r.id)].some((s) => s.toLowerCase().includes(q))),
  );
}

/**
 * The list after one live event. `status` replaces (or adds) the run's row; `progress` moves its step, progress and
 * ETA; `epoch` may raise its best accuracy (the max subnet's top-1); `deleted` drops it.
 */
export function applyRunEvent(runs: readonly RunSummary[], e: RunEvent): RunSummary[] {
  switch (e.type) {
    case 'status': {
      const i = runs.findIndex((r) => r.id === e.run.id);
      return i < 0 ? [e.run, ...runs] : runs.map((r) => (r.id === e.run.id ? e.run : r));
    }
    case 'deleted':
      return runs.filter((r) => r.id !== e.runId);
    case 'progress':
      return runs.map((r) =>
        r.id === e.runId
          ? {
              ...r,
              step: e.step.step,
              epoch: e.step.epoch,
              totalSteps: e.totalSteps,
              progress: e.totalSteps > 0 ? Math.min(1, e.step.step / e.totalSteps) : r.progress,
              etaSec: e.etaSec,
            }
          : r,
      );
    case 'epoch': {
      const best = Math.max(-1, ...e.points.filter((p) => p.subnet === 'max').map((p) => p.valTop1));
      if (best < 0) return [...runs];
      return runs.map((r) => (r.id === e.runId && (r.bestAccuracy == null || best > r.bestAccuracy) ? { ...r, bestAccuracy: best } : r));
    }
    case 'event':
      return [...runs];
  }
}

/**
 * The 1-based epoch a run is in, as the CLI prints it (`ep 1` during the first epoch); the store's epoch is 0-based and
 * reaches `epochs` once training ends, so it is capped there.
 */
export function displayEpoch(r: Pick<RunSummary, 'epoch' | 'epochs'>): string {
  const e = r.epochs ? Math.min(r.epoch + 1, r.epochs) : r.epoch + 1;
  return r.epochs ? `${e} / ${r.epochs}` : String(e);
}
