/**
 * Follows runs that train in another process — started with `alphanet train` from a terminal, or by another app
 * instance's service — so that a window watching them sees the same live page as for a run trained here: new steps
 * (with an ETA from their stored wall times), validations, events and the final status. A runner trained here sends
 * messages; a foreign one only writes the store, so the store is read every `intervalMs`.
 */
import type { RunEvent, RunSummary } from '../ipc/api-types';
import type { Db } from '../store/db';
import { findRun, lastRunEventId, listEpochMetrics, listRunEvents, listRuns, listStepMetrics, recentStepTimes, type RunRow } from '../store/runs';
import { epochPoint, etaFromStepTimes, eventInfo, stepPoint } from './views';

/** Steps over which the ETA of a foreign run is averaged. */
const ETA_WINDOW = 50;

export interface RunWatcherOptions {
  db: Db;
  /** True for runs that this process trains (they report through runner messages instead). */
  isLocal: (runId: number) => boolean;
  emit: (e: RunEvent) => void;
  /** The run's summary as the API shows it. */
  summary: (r: RunRow) => RunSummary;
  /** Default 2000 ms. */
  intervalMs?: number;
}

interface Seen {
  step: number;
  epochRows: number;
  eventId: number;
}

export interface RunWatcher {
  /** ETA of a running foreign run from its stored step times, or null. */
  eta(r: RunRow): number | null;
  /** One look at the store (the timer calls it; tests call it directly). */
  poll(): void;
  close(): void;
}

export function watchForeignRuns(o: RunWatcherOptions): RunWatcher {
  const seen = new Map<number, Seen>();
  const eta = (r: RunRow) => etaFromStepTimes(recentStepTimes(o.db, r.id, ETA_WINDOW), r.totalSteps);

  const poll = () => {
    const running = listRuns(o.db, { status: ['running'] }).filter((r) => !o.isLocal(r.id));
    const ids = new Set(running.map((r) => r.id));
    for (const r of running) {
      let s = seen.get(r.id);
      if (!s) {
        // What was stored before the watch began is history: the page loads it with runs.get / runs.metrics.
        s = { step: recentStepTimes(o.db, r.id, 1)[0]?.step ?? -1, epochRows: listEpochMetrics(o.db, r.id).length, eventId: lastRunEventId(o.db, r.id) };
        seen.set(r.id, s);
        o.emit({ type: 'status', run: o.summary(r) });
        continue;
      }
      const steps = listStepMetrics(o.db, r.id, s.step);
      if (steps.length) {
        const etaSec = eta(r) ?? 0;
        for (const m of steps) o.emit({ type: 'progress', runId: r.id, step: stepPoint(m), totalSteps: r.totalSteps ?? 0, etaSec });
        s.step = steps[steps.length - 1].step;
      }
      const epochs = listEpochMetrics(o.db, r.id);
      if (epochs.length > s.epochRows) {
        o.emit({ type: 'epoch', runId: r.id, points: epochs.slice(s.epochRows).map(epochPoint) });
        s.epochRows = epochs.length;
      }
      for (const e of listRunEvents(o.db, r.id, s.eventId)) {
        o.emit({ type: 'event', runId: r.id, event: eventInfo(e) });
        s.eventId = e.id;
      }
    }
    // A watched run that stopped running (finished, failed, paused) or was taken over here: one last status.
    for (const id of [...seen.keys()]) {
      if (ids.has(id)) continue;
      seen.delete(id);
      const r = findRun(o.db, id); // undefined if deleted meanwhile: nothing to report
      if (r) o.emit({ type: 'status', run: o.summary(r) });
    }
  };

  const timer = setInterval(() => {
    try {
      poll();
    } catch (e) {
      console.error('[service] watching runs of other processes failed:', e);
    }
  }, o.intervalMs ?? 2000);
  timer.unref();
  return { eta, poll, close: () => clearInterval(timer) };
}
