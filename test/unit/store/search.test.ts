/**
 * The search tables (migration 003): the upgrade of an existing version-2 database keeps its runs; evaluations
 * round-trip and are cached by exactly their key; the search lifecycle is enforced in SQL; members, fronts and the
 * cascade from runs.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, schemaVersion, type Db } from '../../../src-main/store/db';
import { MIGRATIONS } from '../../../src-main/store/migrations';
import { databaseAtVersion } from './old-db';
import { createRun, deleteRun, getRun, transitionRun } from '../../../src-main/store/runs';
import {
  SEARCH_STATUSES,
  SEARCH_TRANSITIONS,
  addSearchMember,
  createSearch,
  deleteSearch,
  getSearch,
  listSearchMembers,
  listSearches,
  readSearchControl,
  readSearchState,
  saveSearchProgress,
  setSearchControl,
  transitionSearch,
  type SearchInput,
} from '../../../src-main/store/searches';
import { deviceIdOf } from '../../../src-main/search/latency';
import { findDevice, upsertDevice } from '../../../src-main/store/devices';
import {
  findEvaluation,
  getEvaluation,
  insertEvaluation,
  listEvaluations,
  setEvaluationLatency,
  type EvaluationInput,
} from '../../../src-main/store/evaluations';
import {
  findRunFront,
  findSearchFront,
  listRunFronts,
  saveRunFront,
  saveSearchFront,
  type FrontData,
} from '../../../src-main/store/fronts';
import { frontRecord } from '../../../src-main/search/fronts';
import { JOB_STATUSES, JOB_TRANSITIONS } from '../../../src-main/store/jobs';
import { ParetoFront, hypervolume } from '../../../src-main/search/pareto';

const dir = () => mkdtempSync(join(tmpdir(), 'store-search-'));
const open = () => openDatabase(join(dir(), 'alphanet.db'));
const mkRun = (db: Db) => createRun(db, { name: 'r', config: { a: 1 }, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;

const evalInput = (runId: number, over: Partial<EvaluationInput> = {}): EvaluationInput => ({
  runId,
  genomeId: 'aaaaaaaaaaaa',
  split: 'val',
  calibrationBatches: 4,
  calibrationBatchSize: 32,
  calibrationSeed: 0,
  checkpointSha256: 'c'.repeat(64),
  genome: { resolution: 9, width: [4], depth: [1], kernelSize: [3], expandRatio: [1] },
  checkpointStep: 40,
  accuracy: 0.5,
  loss: 1.25,
  before: { accuracy: 0.1, loss: 2.3, method: 'reset' },
  images: 1000,
  calibrationImages: 128,
  mflops: 1.5,
  mparams: 0.25,
  latency: null,
  backend: 'wasm',
  evalMs: 120,
  ...over,
});

const searchInput = (runId: number, over: Partial<SearchInput> = {}): SearchInput => ({
  runId,
  name: 's',
  kind: 'evolution',
  config: { populationSize: 4 },
  budget: { mflopsMax: 3 },
  objective: 'mflops',
  targetEvaluations: null,
  split: 'val',
  calibrationBatches: 4,
  calibrationBatchSize: 32,
  calibrationSeed: 0,
  checkpointPath: '/x/step.ckpt',
  checkpointSha256: 'c'.repeat(64),
  checkpointStep: 40,
  backendRequest: 'auto',
  total: 12,
  appVersion: 't',
  ...over,
});

describe('search store', () => {
  it('upgrades an existing version-2 database to version 3 and keeps its runs', () => {
    const path = join(dir(), 'alphanet.db');
    // A database as the previous release left it: migrations 1 and 2 only, with a run in it.
    const old = databaseAtVersion(path, 2);
    old.prepare(
      `INSERT INTO runs (name, config, space_id, dataset_name, seed, app_version, created_at, updated_at) VALUES ('old', '{"epochs":3}', 's', 'd', 7, '0.0.1', 't', 't')`,
    ).run();
    expect(old.pragma('user_version', { simple: true })).toBe(2);
    old.close();

    const db = openDatabase(path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(MIGRATIONS.map((m) => m.name)).toContain('003-search');
    expect(getRun(db, 1)).toMatchObject({ name: 'old', seed: 7, config: { epochs: 3 } });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    for (const t of ['devices', 'subnet_evaluations', 'searches', 'search_members', 'pareto_fronts']) expect(tables).toContain(t);
    // The old run can be searched right away.
    const ev = insertEvaluation(db, evalInput(1));
    expect(ev.inserted).toBe(true);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('round-trips an evaluation and finds it by exactly its cache key', () => {
    const db = open();
    const run = mkRun(db);
    const dev = upsertDevice(db, deviceIdOf({ cpuModel: 'X', cpuCount: 2, backend: 'wasm' }), { cpuModel: 'X', cpuCount: 2, backend: 'wasm' });
    expect(upsertDevice(db, deviceIdOf({ backend: 'wasm', cpuCount: 2, cpuModel: 'X' }), { backend: 'wasm', cpuCount: 2, cpuModel: 'X' })).toBe(dev); // key order does not matter
    expect(dev).toBe(deviceIdOf({ cpuModel: 'X', cpuCount: 2, backend: 'wasm' }));
    expect(findDevice(db, dev)).toEqual({ cpuModel: 'X', cpuCount: 2, backend: 'wasm' });

    const input = evalInput(run, { latency: { ms: 3.5, method: 'measured', batch: 1, deviceId: dev } });
    const { row, inserted } = insertEvaluation(db, input);
    expect(inserted).toBe(true);
    const { evalMs: _e, ...rest } = input;
    expect(row).toMatchObject(rest);
    expect(getEvaluation(db, row.id)).toEqual(row);
    expect(findEvaluation(db, input)?.id).toBe(row.id);

    // The same key again (another process got there first): the stored row stands.
    const again = insertEvaluation(db, { ...input, accuracy: 0.9 });
    expect(again).toEqual({ row, inserted: false });

    // Every key field matters; nothing else does.
    const variants: Partial<EvaluationInput>[] = [
      { genomeId: 'bbbbbbbbbbbb' },
      { split: 'test' },
      { calibrationBatches: 5 },
      { calibrationBatchSize: 64 },
      { calibrationSeed: 1 },
      { checkpointSha256: 'd'.repeat(64) },
    ];
    for (const v of variants) expect(findEvaluation(db, { ...input, ...v }), JSON.stringify(v)).toBeUndefined();
    expect(findEvaluation(db, { ...input, images: 5 } as EvaluationInput)?.id).toBe(row.id);
    for (const v of variants) expect(insertEvaluation(db, evalInput(run, v)).inserted).toBe(true);
    expect(listEvaluations(db, run)).toHaveLength(7);
    expect(listEvaluations(db, run, { split: 'test' })).toHaveLength(1);
    expect(listEvaluations(db, run, { checkpointSha256: 'd'.repeat(64) })).toHaveLength(1);

    const noBefore = insertEvaluation(db, evalInput(run, { genomeId: 'cccccccccccc', before: null }));
    expect(noBefore.row.before).toBeNull();
    expect(noBefore.row.latency).toBeNull();
    expect(setEvaluationLatency(db, noBefore.row.id, { ms: 2, method: 'lut', batch: 1, deviceId: dev }).latency).toEqual({ ms: 2, method: 'lut', batch: 1, deviceId: dev });
    expect(() => getEvaluation(db, 999)).toThrow(/no evaluation with id 999/);
  });

  it('refuses an evaluation that breaks the schema (accuracy outside [0, 1], unknown split, NaN loss)', () => {
    const db = open();
    const run = mkRun(db);
    expect(() => insertEvaluation(db, evalInput(run, { accuracy: 1.5 }))).toThrow(/CHECK constraint/);
    expect(() => insertEvaluation(db, evalInput(run, { split: 'train' as never }))).toThrow(/CHECK constraint/);
    expect(() => insertEvaluation(db, evalInput(run, { loss: NaN }))).toThrow(/NOT NULL/);
    expect(listEvaluations(db, run)).toEqual([]);
  });

  it('searches share the job lifecycle and control columns (test/unit/store/jobs.test.ts has every edge)', () => {
    const db = open();
    expect(SEARCH_STATUSES).toEqual(JOB_STATUSES);
    expect(SEARCH_TRANSITIONS).toBe(JOB_TRANSITIONS);
    const s = createSearch(db, searchInput(mkRun(db)));
    expect(() => transitionSearch(db, s.id, 'finished', {}, ['queued'])).toThrow(/a search cannot move from queued to finished/);
    expect(transitionSearch(db, s.id, 'running', { pid: 42, startedAt: 'now', wantsResume: false })).toBe(true);
    setSearchControl(db, s.id, 'pause');
    expect(readSearchControl(db, s.id)).toBe('pause');
    expect(transitionSearch(db, s.id, 'paused', { control: null, pid: null })).toBe(true);
    expect(getSearch(db, s.id)).toMatchObject({ status: 'paused', control: null, pid: null, startedAt: 'now' });
    expect(() => db.prepare("UPDATE searches SET status = 'finished' WHERE id = ?").run(s.id)).toThrow(/invalid search status transition/);
  });

  it('stores the search state, progress, members in order and the front; deleting the run cascades', () => {
    const db = open();
    const run = mkRun(db);
    const other = mkRun(db);
    const s = createSearch(db, searchInput(run, { name: 'evo', budget: { mflopsMax: 3, mparamsMax: 1 } }));
    expect(s).toMatchObject({ status: 'queued', evaluations: 0, total: 12, config: { populationSize: 4 }, budget: { mflopsMax: 3, mparamsMax: 1 }, objective: 'mflops' });
    expect(readSearchState(db, s.id)).toBeNull();
    createSearch(db, searchInput(other));

    const evals = [0.3, 0.6, 0.5].map((acc, i) => insertEvaluation(db, evalInput(run, { genomeId: `${i}`.repeat(12), accuracy: acc, mflops: 1 + i })).row);
    evals.forEach((e, i) => addSearchMember(db, s.id, { position: i, evaluationId: e.id, generation: i >> 1, origin: i ? 'mutate' : 'min', parents: i ? [evals[0].genomeId] : null, cost: e.mflops, cached: i === 2 }));
    const state = { version: 1, archive: [1, 2, 3], rng: [1, 2, 3, 4] };
    saveSearchProgress(db, s.id, { state, evaluations: 3, total: 12, elapsedMs: 300, etaMs: 900 });
    expect(readSearchState(db, s.id)).toEqual(state);
    expect(getSearch(db, s.id)).toMatchObject({ evaluations: 3, elapsedMs: 300, etaMs: 900 });

    const members = listSearchMembers(db, s.id);
    expect(members.map((m) => [m.position, m.evaluationId, m.origin, m.cached])).toEqual([
      [0, evals[0].id, 'min', false],
      [1, evals[1].id, 'mutate', false],
      [2, evals[2].id, 'mutate', true],
    ]);
    expect(members[1].parents).toEqual([evals[0].genomeId]);
    expect(members[2].evaluation).toEqual(evals[2]);

    const front = new ParetoFront<FrontData>();
    for (const e of evals) front.insert({ id: String(e.id), accuracy: e.accuracy, cost: e.mflops, data: { evaluationId: e.id, genomeId: e.genomeId } });
    const ref = { costRef: 10, accRef: 0 };
    saveSearchFront(db, s, frontRecord(front, ref));
    saveSearchFront(db, s, frontRecord(front, ref)); // replaced, not duplicated
    const stored = findSearchFront(db, s.id)!;
    expect(stored.points.map((p) => p.data!.evaluationId)).toEqual([evals[0].id, evals[1].id]);
    expect(stored.hypervolume).toBeCloseTo(hypervolume([evals[0], evals[1]].map((e) => ({ accuracy: e.accuracy, cost: e.mflops })), ref), 12);
    expect(stored.hypervolume).toBeCloseTo(1 * 0.3 + 8 * 0.6, 12);
    expect(stored.reference).toEqual(ref);
    expect(listSearches(db, { runId: run }).map((x) => x.name)).toEqual(['evo']);

    // A running search is not deleted; a run is deleted with its searches, members, evaluations and fronts.
    transitionSearch(db, s.id, 'running');
    expect(() => deleteSearch(db, s.id)).toThrow(/running/);
    transitionSearch(db, s.id, 'cancelled');
    deleteRun(db, run);
    const count = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    expect(count('searches')).toBe(1); // the other run's
    expect(count('search_members')).toBe(0);
    expect(count('subnet_evaluations')).toBe(0);
    expect(count('pareto_fronts')).toBe(0);
  });

  it('keeps one run front per objective, split, checkpoint and device: saving again replaces it', () => {
    const db = open();
    const run = mkRun(db);
    const scope = { runId: run, objective: 'mflops' as const, split: 'val' as const, checkpointSha256: 'c'.repeat(64), deviceId: null };
    const point = (evaluationId: number, accuracy: number, cost: number) => ({ id: String(evaluationId), accuracy, cost, data: { evaluationId, genomeId: `g${evaluationId}` } });
    const reference = { costRef: 5, accRef: 0.1 };
    saveRunFront(db, scope, { points: [point(1, 0.5, 2)], offered: 1, hypervolume: 1.2, reference });
    saveRunFront(db, scope, { points: [point(4, 0.55, 1.5), point(3, 0.6, 4)], offered: 4, hypervolume: 1.625, reference });
    const f = findRunFront(db, scope)!;
    expect(f).toMatchObject({ ...scope, searchId: null, offered: 4, hypervolume: 1.625, reference });
    expect(f.points.map((p) => p.data!.evaluationId)).toEqual([4, 3]);
    // Another checkpoint and a latency front on a device are separate fronts.
    const dev = upsertDevice(db, deviceIdOf({ cpuModel: 'X' }), { cpuModel: 'X' });
    saveRunFront(db, { ...scope, checkpointSha256: 'e'.repeat(64) }, { points: [point(9, 0.2, 1)], offered: 1, hypervolume: 0.4, reference });
    saveRunFront(db, { ...scope, objective: 'latency', deviceId: dev }, { points: [point(9, 0.2, 1)], offered: 1, hypervolume: 0.4, reference });
    expect(listRunFronts(db, run)).toHaveLength(3);
    expect(findRunFront(db, scope)!.points).toHaveLength(2);
    expect(findRunFront(db, { ...scope, objective: 'latency', deviceId: dev })!.deviceId).toBe(dev);
    // The unique index holds even for NULL device ids.
    expect(() =>
      db.prepare(`INSERT INTO pareto_fronts (run_id, objective, split, checkpoint_sha256, points, size, offered, hypervolume, cost_ref, acc_ref, updated_at) VALUES (?, 'mflops', 'val', ?, '{}', 0, 0, 0, 1, 0, 't')`).run(run, 'c'.repeat(64)),
    ).toThrow(/UNIQUE/);
    expect(transitionRun(db, run, 'running')).toBe(true);
  });
});
