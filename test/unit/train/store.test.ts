/** The runs tables (migration 002): the job lifecycle on runs, metrics, events, checkpoints, cascade delete. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, schemaVersion } from '../../../src-main/store/db';
import {
  RUN_STATUSES,
  RUN_TRANSITIONS,
  addRunEvent,
  createRun,
  deleteRun,
  getRun,
  insertCheckpoint,
  insertStepMetrics,
  listCheckpoints,
  listRunEvents,
  listStepMetrics,
  transitionRun,
} from '../../../src-main/store/runs';
import { JOB_STATUSES, JOB_TRANSITIONS } from '../../../src-main/store/jobs';

const open = () => openDatabase(join(mkdtempSync(join(tmpdir(), 'runs-')), 'alphanet.db'));
const mk = (db: ReturnType<typeof open>) => createRun(db, { name: 'r', config: { a: 1 }, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' });

describe('runs store', () => {
  it('creates the schema at version 2 with WAL and foreign keys', () => {
    const db = open();
    expect(schemaVersion(db)).toBeGreaterThanOrEqual(2); // later migrations (003-search, …) stack on top
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const r = mk(db);
    expect(r.status).toBe('queued');
    expect(r.config).toEqual({ a: 1 });
  });

  it('moves runs along the shared job lifecycle (test/unit/store/jobs.test.ts has every edge)', () => {
    const db = open();
    expect(RUN_STATUSES).toEqual(JOB_STATUSES);
    expect(RUN_TRANSITIONS).toBe(JOB_TRANSITIONS);
    const r = mk(db);
    expect(() => transitionRun(db, r.id, 'finished', {}, ['queued'])).toThrow(/a run cannot move from queued to finished/);
    expect(transitionRun(db, r.id, 'running', {}, ['paused'])).toBe(false);
    expect(transitionRun(db, r.id, 'running', { pid: 42, startedAt: 'now' })).toBe(true);
    expect(getRun(db, r.id)).toMatchObject({ status: 'running', pid: 42, startedAt: 'now' });
    expect(() => db.prepare("UPDATE runs SET status = 'queued' WHERE id = ?").run(r.id)).toThrow(/invalid run status transition/);
  });

  it('stores metrics, events and checkpoints, keeps one best, and deletes them with the run', () => {
    const db = open();
    const r = mk(db);
    insertStepMetrics(db, r.id, [
      { step: 1, epoch: 0, time: 't', lr: 0.1, loss: 3, losses: [{ role: 'max', loss: 3 }], alphaMinShare: 0.2, clippedShare: 0.01, nonfinite: 0, stepMs: 10, imagesPerSec: 6400 },
      { step: 2, epoch: 0, time: 't', lr: 0.1, loss: 2, losses: [{ role: 'max', loss: 2 }], alphaMinShare: null, clippedShare: 0, nonfinite: 0, stepMs: 10, imagesPerSec: null },
    ]);
    // A step seen again (after a rollback) replaces its row.
    insertStepMetrics(db, r.id, [{ step: 2, epoch: 0, time: 't', lr: 0.05, loss: 1.5, losses: [], alphaMinShare: null, clippedShare: 0, nonfinite: 1, stepMs: 10, imagesPerSec: null }]);
    expect(listStepMetrics(db, r.id).map((m) => [m.step, m.lr])).toEqual([[1, 0.1], [2, 0.05]]);
    addRunEvent(db, r.id, { kind: 'nan', message: 'x', step: 2, data: { a: 1 } });
    expect(listRunEvents(db, r.id)[0]).toMatchObject({ kind: 'nan', step: 2, data: { a: 1 } });
    const c1 = insertCheckpoint(db, { runId: r.id, step: 10, epoch: 1, path: '/a', sha256: 'x', bytes: 1, metric: 0.5 });
    insertCheckpoint(db, { runId: r.id, step: 20, epoch: 2, path: '/b', sha256: 'y', bytes: 1, metric: 0.4 });
    insertCheckpoint(db, { runId: r.id, step: 30, epoch: 3, path: '/c', sha256: 'z', bytes: 1, metric: 0.6 });
    insertCheckpoint(db, { runId: r.id, step: 35, epoch: 3, path: '/d', sha256: 'w', bytes: 1 });
    const cks = listCheckpoints(db, r.id);
    expect(cks.map((c) => c.step)).toEqual([35, 30, 20, 10]);
    expect(cks.filter((c) => c.isBest).map((c) => c.step)).toEqual([30]);
    expect(c1.isBest).toBe(true);
    expect(getRun(db, r.id).bestMetric).toBe(0.6);
    transitionRun(db, r.id, 'running');
    expect(() => deleteRun(db, r.id)).toThrow(/running/);
    transitionRun(db, r.id, 'cancelled');
    deleteRun(db, r.id);
    for (const t of ['step_metrics', 'run_events', 'checkpoints']) {
      expect((db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n).toBe(0);
    }
  });
});
