/**
 * Validation before BN recalibration (migration 005): a version-4 database with epoch metrics upgrades with its rows
 * kept and their "before" columns NULL; new rows round-trip both measurements; the before top-1 is constrained to
 * [0, 1] in SQL.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, schemaVersion } from '../../../src-main/store/db';
import { MIGRATIONS } from '../../../src-main/store/migrations';
import { databaseAtVersion } from './old-db';
import { createRun, insertEpochMetrics, listEpochMetrics, type EpochMetric } from '../../../src-main/store/runs';

const dir = () => mkdtempSync(join(tmpdir(), 'store-val-before-'));

const row = (over: Partial<EpochMetric> = {}): EpochMetric => ({
  epoch: 0,
  step: 8,
  subnet: 'min',
  genome: { resolution: 32 },
  mflops: 2.5,
  valTop1: 0.5,
  valLoss: 1.5,
  valTop1Before: 0.125,
  valLossBefore: 2.25,
  valImages: 64,
  time: 't',
  ...over,
});

describe('epoch metrics before and after BN recalibration', () => {
  it('upgrades a version-4 database: old rows kept, measured only after calibration (before = null)', () => {
    const path = join(dir(), 'alphanet.db');
    const idx = MIGRATIONS.findIndex((m) => m.name === '005-val-before');
    expect(idx).toBeGreaterThanOrEqual(4);
    const old = databaseAtVersion(path, idx);
    old.prepare(`INSERT INTO runs (name, config, space_id, dataset_name, seed, app_version, created_at, updated_at) VALUES ('old', '{}', 's', 'd', 0, 't', 't', 't')`).run();
    old.prepare(`INSERT INTO epoch_metrics (run_id, epoch, step, subnet, genome, mflops, val_top1, val_loss, val_images, time) VALUES (1, 2, 30, 'max', '{}', 9, 0.75, 0.5, 100, 't')`).run();
    old.close();

    const db = openDatabase(path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(listEpochMetrics(db, 1)).toEqual([
      { epoch: 2, step: 30, subnet: 'max', genome: {}, mflops: 9, valTop1: 0.75, valLoss: 0.5, valTop1Before: null, valLossBefore: null, valImages: 100, time: 't' },
    ]);
  });

  it('round-trips both measurements and refuses a before top-1 outside [0, 1]', () => {
    const db = openDatabase(join(dir(), 'alphanet.db'));
    const run = createRun(db, { name: 'r', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
    insertEpochMetrics(db, run, [row(), row({ subnet: 'max', valTop1Before: 0, valLossBefore: 7.5 })]);
    expect(listEpochMetrics(db, run)).toEqual([row({ subnet: 'max', valTop1Before: 0, valLossBefore: 7.5 }), row()]);
    expect(() => insertEpochMetrics(db, run, [row({ epoch: 1, valTop1Before: 1.5 })])).toThrow(/CHECK constraint/);
    expect(listEpochMetrics(db, run)).toHaveLength(2); // the transaction wrote nothing
  });
});
