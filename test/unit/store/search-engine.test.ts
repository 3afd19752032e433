/**
 * The engine of a search (migration 010): a version-9 database upgrades with its searches kept as `local` (TF.js,
 * what they ran on), and a new search records the engine it was queued with.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, schemaVersion } from '../../../src-main/store/db';
import { MIGRATIONS } from '../../../src-main/store/migrations';
import { createSearch, getSearch } from '../../../src-main/store/searches';
import { databaseAtVersion } from './old-db';

describe('search engine', () => {
  it('upgrades a version-9 database: old searches are local; new ones keep the engine they were queued with', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'store-search-engine-')), 'alphanet.db');
    const idx = MIGRATIONS.findIndex((m) => m.name === '010-search-engine');
    expect(idx).toBe(9);
    const old = databaseAtVersion(path, idx);
    old.prepare(`INSERT INTO runs (name, config, space_id, dataset_name, seed, app_version, status, created_at, updated_at) VALUES ('r', '{}', 's', 'd', 0, 't', 'finished', 't', 't')`).run();
    old
      .prepare(
        `INSERT INTO searches (run_id, name, kind, config, budget, objective, split, calibration_batches, calibration_batch_size, calibration_seed,
           checkpoint_path, checkpoint_sha256, checkpoint_step, total, app_version, created_at, updated_at)
         VALUES (1, 'old', 'evolution', '{}', '{}', 'mflops', 'val', 1, 8, 0, '/c', 'ab', 3, 6, 't', 't', 't')`,
      )
      .run();
    old.close();

    const db = openDatabase(path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(getSearch(db, 1)).toMatchObject({ name: 'old', engine: 'local' });
    const input = { ...getSearch(db, 1), name: 'on torch' };
    expect(createSearch(db, { ...input, engine: 'torch' }).engine).toBe('torch');
    expect(createSearch(db, { ...input, engine: undefined }).engine).toBe('local');
    // Migration 012: a slurm search records its cluster and the jobs' shape; the others none.
    expect(getSearch(db, 1).cluster).toBeNull();
    const cluster = { name: 'hpc', nodes: 2, ranksPerNode: 4, gpusPerNode: 0 };
    expect(createSearch(db, { ...input, engine: 'slurm', cluster })).toMatchObject({ engine: 'slurm', cluster });
    expect(() => createSearch(db, { ...input, engine: 'slurm', cluster: { ...cluster, nodes: 0 } })).toThrow(/CHECK constraint/);
    db.close();
  });
});
