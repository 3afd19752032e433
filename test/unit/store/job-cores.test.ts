/**
 * Cores a job holds (migration 008): a version-7 database upgrades with its rows kept and `cores` NULL (the queue
 * counts one); the queue's claim and the runner's correction round-trip; the listing of running jobs spans both job
 * tables; a count below one is refused in SQL.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, schemaVersion } from '../../../src-main/store/db';
import { MIGRATIONS } from '../../../src-main/store/migrations';
import { listRunningJobs, setJobRuntime, transitionJob } from '../../../src-main/store/jobs';
import { createRun, getRun } from '../../../src-main/store/runs';
import { databaseAtVersion } from './old-db';

const dir = () => mkdtempSync(join(tmpdir(), 'store-job-cores-'));

describe('job cores', () => {
  it('upgrades a version-7 database: old rows kept with cores null; claims and runtime updates set it; both tables listed', () => {
    const path = join(dir(), 'alphanet.db');
    const idx = MIGRATIONS.findIndex((m) => m.name === '008-job-cores');
    expect(idx).toBe(7);
    const old = databaseAtVersion(path, idx);
    old.prepare(`INSERT INTO runs (name, config, space_id, dataset_name, seed, app_version, status, pid, created_at, updated_at) VALUES ('old', '{}', 's', 'd', 0, 't', 'running', 7, 't', 't')`).run();
    old.close();

    const db = openDatabase(path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(getRun(db, 1)).toMatchObject({ name: 'old', status: 'running', cores: null });
    const id = createRun(db, { name: 'new', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
    expect(transitionJob(db, 'runs', id, 'running', { pid: 9, cores: 2 })).toBe(true);
    expect(getRun(db, id).cores).toBe(2);
    setJobRuntime(db, 'runs', id, { backend: 'wasm' }); // cores left as is
    expect(getRun(db, id).cores).toBe(2);
    setJobRuntime(db, 'runs', id, { cores: 1 });
    expect(getRun(db, id).cores).toBe(1);
    expect(listRunningJobs(db)).toEqual([
      { table: 'runs', id: 1, pid: 7, cores: null },
      { table: 'runs', id, pid: 9, cores: 1 },
    ]);
    expect(() => db.prepare('UPDATE runs SET cores = 0 WHERE id = ?').run(id)).toThrow(/CHECK constraint failed/);
  });
});
