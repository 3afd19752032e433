import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src-main/ipc/api-types';
import { openDatabase } from '../../../src-main/store/db';
import { addRunEvent, createRun, getRun, insertEpochMetrics, insertStepMetrics, transitionRun, updateRunProgress, type StepMetric } from '../../../src-main/store/runs';
import { watchForeignRuns } from '../../../src-main/service/run-watcher';
import { etaFromStepTimes, runSummary } from '../../../src-main/service/views';

const open = () => openDatabase(join(mkdtempSync(join(tmpdir(), 'watch-')), 'alphanet.db'));
const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 10, 0, s)).toISOString();
const metric = (step: number, time: string): StepMetric => ({
  step,
  epoch: 0,
  time,
  lr: 0.1,
  loss: 1,
  losses: [
    { role: 'max', loss: 2 },
    { role: 'min', loss: -0.25, divergence: 0.5 },
  ],
  alphaMinShare: 0.5,
  clippedShare: 0,
  nonfinite: 0,
  stepMs: 10,
  imagesPerSec: 100,
});

describe('etaFromStepTimes', () => {
  it('mean wall time per step over the window times the steps left', () => {
    // Steps 10 → 20 took 30 s: 3 s a step, 80 steps left.
    expect(etaFromStepTimes([{ step: 10, time: at(0) }, { step: 15, time: at(10) }, { step: 20, time: at(30) }], 100)).toBeCloseTo(240, 9);
    expect(etaFromStepTimes([{ step: 10, time: at(0) }], 100)).toBeNull();
    expect(etaFromStepTimes([{ step: 10, time: at(0) }, { step: 20, time: at(5) }], null)).toBeNull();
    expect(etaFromStepTimes([{ step: 10, time: at(0) }, { step: 120, time: at(5) }], 100)).toBe(0);
  });
});

describe('watchForeignRuns', () => {
  it('turns what another process writes to the store into the live events of a run trained here', () => {
    const db = open();
    const r = createRun(db, { name: 'cli run', config: { epochs: 2 }, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't', totalSteps: 100 });
    const other = createRun(db, { name: 'local', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' });
    transitionRun(db, r.id, 'running', { pid: 1 });
    transitionRun(db, other.id, 'running', { pid: 1 });
    insertStepMetrics(db, r.id, [metric(1, at(0)), metric(2, at(2))]);
    updateRunProgress(db, r.id, { step: 2, epoch: 0 });
    const events: RunEvent[] = [];
    const w = watchForeignRuns({
      db,
      isLocal: (id) => id === other.id, // reported by its runner's messages, never by the watcher
      emit: (e) => events.push(e),
      summary: (row) => runSummary(row, null, null),
      intervalMs: 3_600_000,
    });
    try {
      // First look: the run is announced; steps stored before the watch began are history (runs.metrics has them).
      w.poll();
      expect(events.map((e) => e.type)).toEqual(['status']);
      expect(events.every((e) => e.type !== 'status' || e.run.id === r.id)).toBe(true);

      insertStepMetrics(db, r.id, [metric(3, at(4)), metric(4, at(6))]);
      updateRunProgress(db, r.id, { step: 4, epoch: 0 });
      insertEpochMetrics(db, r.id, [{ epoch: 0, step: 4, subnet: 'max', genome: {}, mflops: 1, valTop1: 0.5, valLoss: 1, valTop1Before: null, valLossBefore: null, valImages: 8, time: at(7) }]);
      addRunEvent(db, r.id, { kind: 'checkpoint', message: 'checkpoint at step 4', step: 4 });
      events.length = 0;
      w.poll();
      const progress = events.filter((e) => e.type === 'progress');
      expect(progress.map((e) => e.step.step)).toEqual([3, 4]);
      // 4 steps in 6 s → 2 s a step over steps 1–4, 96 steps left.
      expect(progress[1].etaSec).toBeCloseTo(192, 9);
      expect(progress[1].step.losses[1]).toEqual({ role: 'min', loss: -0.25, divergence: 0.5 });
      expect(events.filter((e) => e.type === 'epoch')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'event').map((e) => e.event.message)).toEqual(['checkpoint at step 4']);
      expect(w.eta(getRun(db, r.id))).toBeCloseTo(192, 9);

      // Nothing new: nothing sent.
      events.length = 0;
      w.poll();
      expect(events).toEqual([]);

      // It finishes in the other process: one last status.
      transitionRun(db, r.id, 'finished');
      w.poll();
      expect(events).toHaveLength(1);
      expect(events[0].type === 'status' && events[0].run.status).toBe('finished');
    } finally {
      w.close();
      db.close();
    }
  });
});
