/**
 * The job columns both job tables share (store/jobs.ts): the lifecycle, enforced by the repository and by each
 * table's trigger alike; the table allow-list; what a runner writes when its job ends or fails; the runtime and
 * control columns; deletion refused while running.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError, openDatabase, type Db } from '../../../src-main/store/db';
import {
  JOB_STATUSES,
  JOB_TRANSITIONS,
  deleteStoppedJob,
  endJob,
  failJob,
  readJobControl,
  setJobControl,
  setJobRuntime,
  setJobWantsResume,
  transitionJob,
  type JobStatus,
  type JobTable,
} from '../../../src-main/store/jobs';
import { createRun, getRun } from '../../../src-main/store/runs';
import { createSearch, getSearch } from '../../../src-main/store/searches';

const open = () => openDatabase(join(mkdtempSync(join(tmpdir(), 'store-jobs-')), 'alphanet.db'));
const mkRun = (db: Db) => createRun(db, { name: 'r', config: { a: 1 }, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
const mkSearch = (db: Db) =>
  createSearch(db, {
    runId: mkRun(db),
    name: 's',
    kind: 'random',
    config: {},
    budget: {},
    objective: 'mflops',
    targetEvaluations: 3,
    split: 'val',
    calibrationBatches: 1,
    calibrationBatchSize: 8,
    calibrationSeed: 0,
    checkpointPath: '/x.ckpt',
    checkpointSha256: 'c'.repeat(64),
    checkpointStep: 1,
    backendRequest: 'auto',
    total: 3,
    appVersion: 't',
  }).id;

/** Each job table: how to create a row and read it back, and what its trigger says. */
const TABLES: { table: JobTable; noun: string; mk: (db: Db) => number; get: (db: Db, id: number) => { status: JobStatus; control: string | null; pid: number | null; backend: string | null; error: string | null; finishedAt: string | null; wantsResume: boolean; heartbeatAt: string | null } }[] = [
  { table: 'runs', noun: 'run', mk: mkRun, get: getRun },
  { table: 'searches', noun: 'search', mk: mkSearch, get: getSearch },
];

describe.each(TABLES)('job columns of $table', ({ table, noun, mk, get }) => {
  it('allows exactly the lifecycle edges, in the repository and in SQL', () => {
    const db = open();
    // Drive a job into each status through legal edges, then try every edge out of it with raw SQL.
    const paths: Record<JobStatus, JobStatus[]> = {
      queued: [],
      running: ['running'],
      paused: ['running', 'paused'],
      finished: ['running', 'finished'],
      failed: ['failed'],
      cancelled: ['cancelled'],
    };
    for (const from of JOB_STATUSES) {
      for (const to of JOB_STATUSES) {
        if (to === from) continue;
        const id = mk(db);
        for (const s of paths[from]) expect(transitionJob(db, table, id, s)).toBe(true);
        expect(get(db, id).status).toBe(from);
        const raw = () => db.prepare(`UPDATE ${table} SET status = ? WHERE id = ?`).run(to, id);
        if (JOB_TRANSITIONS[from].includes(to)) expect(raw).not.toThrow();
        else expect(raw).toThrow(new RegExp(`invalid ${noun} status transition`));
      }
    }
    // The repository refuses an illegal edge before touching the database, and reports a lost race as false.
    const id = mk(db);
    expect(() => transitionJob(db, table, id, 'finished', {}, ['queued'])).toThrow(new RegExp(`a ${noun} cannot move from queued to finished`));
    expect(() => transitionJob(db, table, id, 'queued')).toThrow(new RegExp(`no ${noun} can move to queued`));
    expect(transitionJob(db, table, id, 'paused', {}, ['running'])).toBe(false);
    expect(transitionJob(db, table, id, 'running', { pid: 42, startedAt: 'now', wantsResume: false })).toBe(true);
    expect(get(db, id)).toMatchObject({ status: 'running', pid: 42, wantsResume: false });
    expect(() => db.prepare(`UPDATE ${table} SET status = 'bogus' WHERE id = ?`).run(id)).toThrow(/status transition|CHECK constraint/);
  });

  it('control, wants_resume and runtime columns; a runner ending or failing its job', () => {
    const db = open();
    const a = mk(db);
    expect(readJobControl(db, table, a)).toBeNull();
    expect(readJobControl(db, table, 9999)).toBeNull();
    transitionJob(db, table, a, 'running', { pid: 1 });
    setJobRuntime(db, table, a, { backend: 'wasm', pid: 77 });
    setJobRuntime(db, table, a, { pid: 78 }); // the backend stays
    expect(get(db, a)).toMatchObject({ backend: 'wasm', pid: 78 });
    expect(get(db, a).heartbeatAt).not.toBeNull();
    setJobControl(db, table, a, 'pause');
    expect(readJobControl(db, table, a)).toBe('pause');
    expect(endJob(db, table, a, 'paused')).toBe(true);
    expect(get(db, a)).toMatchObject({ status: 'paused', control: null, pid: null, finishedAt: null });
    setJobWantsResume(db, table, a, true);
    expect(get(db, a).wantsResume).toBe(true);
    expect(endJob(db, table, a, 'finished')).toBe(false); // not running
    transitionJob(db, table, a, 'running');
    expect(endJob(db, table, a, 'finished')).toBe(true);
    expect(get(db, a).finishedAt).not.toBeNull();

    const b = mk(db);
    transitionJob(db, table, b, 'running', { pid: 5 });
    setJobControl(db, table, b, 'cancel');
    expect(failJob(db, table, b, 'out of memory')).toBe(true);
    expect(get(db, b)).toMatchObject({ status: 'failed', error: 'out of memory', control: null, pid: null });
    // A job that is no longer running keeps its status, but a stray request is still cleared.
    const c = mk(db);
    setJobControl(db, table, c, 'pause');
    expect(failJob(db, table, c, 'late')).toBe(false);
    expect(get(db, c)).toMatchObject({ status: 'queued', control: null, error: null });
  });

  it('deletes a job only when it is not running', () => {
    const db = open();
    const id = mk(db);
    transitionJob(db, table, id, 'running');
    expect(() => deleteStoppedJob(db, table, { id, status: get(db, id).status })).toThrow(new RegExp(`${noun} ${id} is running; pause or cancel it first`));
    transitionJob(db, table, id, 'cancelled');
    deleteStoppedJob(db, table, { id, status: 'cancelled' });
    expect(() => get(db, id)).toThrow(/no (run|search) with id/);
  });

  it('does not delete a job another process started after the caller read its row', () => {
    const db = open();
    const id = mk(db);
    const stale = { id, status: get(db, id).status }; // queued, as the caller saw it
    transitionJob(db, table, id, 'running'); // meanwhile, another process claims and starts it
    expect(() => deleteStoppedJob(db, table, stale)).toThrow(new RegExp(`${noun} ${id} is running`));
    expect(get(db, id).status).toBe('running');
  });
});

describe('job table allow-list', () => {
  it('refuses any other table name before it reaches SQL', () => {
    const db = open();
    const id = mkRun(db);
    for (const bad of ['datasets', 'runs; DROP TABLE runs', 'toString', '__proto__']) {
      const t = bad as JobTable;
      expect(() => transitionJob(db, t, id, 'running')).toThrow(StoreError);
      expect(() => transitionJob(db, t, id, 'running')).toThrow(/is not a job table \(runs, searches\)/);
      expect(() => setJobControl(db, t, id, 'pause')).toThrow(/is not a job table/);
      expect(() => readJobControl(db, t, id)).toThrow(/is not a job table/);
      expect(() => setJobWantsResume(db, t, id, true)).toThrow(/is not a job table/);
      expect(() => setJobRuntime(db, t, id, { pid: 1 })).toThrow(/is not a job table/);
      expect(() => deleteStoppedJob(db, t, { id, status: 'queued' })).toThrow(/is not a job table/);
    }
    expect(getRun(db, id)).toMatchObject({ status: 'queued', control: null, wantsResume: false });
  });
});
