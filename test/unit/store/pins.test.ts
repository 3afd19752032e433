/**
 * Pinned evaluations (migration 004): a version-3 database with evaluations upgrades to version 4 with every
 * evaluation unpinned and nothing else changed; pins are set and cleared per evaluation, listed per run, refused for
 * an unknown id, constrained to 0/1 in SQL, and go with the run.
 */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, schemaVersion } from '../../../src-main/store/db';
import { MIGRATIONS } from '../../../src-main/store/migrations';
import { deleteRun } from '../../../src-main/store/runs';
import {
  EvaluationNotFoundError,
  getEvaluation,
  listEvaluations,
  pinnedEvaluationIds,
  setEvaluationPinned,
} from '../../../src-main/store/evaluations';

const dir = () => mkdtempSync(join(tmpdir(), 'store-pins-'));

/** Inserts an evaluation with plain SQL, as a version-3 app would have. */
function insertV3Evaluation(db: Database.Database, runId: number, genomeId: string, accuracy: number): void {
  db.prepare(
    `INSERT INTO subnet_evaluations (run_id, genome_id, genome, split, calibration_batches, calibration_batch_size, calibration_seed,
       checkpoint_sha256, checkpoint_step, accuracy, loss, images, calibration_images, mflops, mparams, eval_ms, created_at)
     VALUES (?, ?, '{"resolution":9,"width":[4,4,8,16,16],"depth":[1,1,1],"kernelSize":[3,3,3],"expandRatio":[1,2,2]}', 'val', 1, 8, 1, ?, 12, ?, 1.5, 100, 8, 0.3, 0.01, 5, 't')`,
  ).run(runId, genomeId, 'c'.repeat(64), accuracy);
}

describe('pinned evaluations (migration 004)', () => {
  it('upgrades a version-3 database: evaluations kept, all unpinned', () => {
    const path = join(dir(), 'alphanet.db');
    const old = new Database(path);
    for (const [i, m] of MIGRATIONS.slice(0, 3).entries()) {
      old.exec(m.sql);
      old.pragma(`user_version = ${i + 1}`);
    }
    old.prepare(`INSERT INTO runs (name, config, space_id, dataset_name, seed, app_version, created_at, updated_at) VALUES ('old', '{}', 's', 'd', 7, '0.0.1', 't', 't')`).run();
    insertV3Evaluation(old, 1, 'aaaaaaaaaaaa', 0.25);
    insertV3Evaluation(old, 1, 'bbbbbbbbbbbb', 0.5);
    expect(old.pragma('user_version', { simple: true })).toBe(3);
    old.close();

    const db = openDatabase(path);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(MIGRATIONS[3].name).toBe('004-pins');
    const evals = listEvaluations(db, 1);
    expect(evals.map((e) => [e.genomeId, e.accuracy])).toEqual([
      ['aaaaaaaaaaaa', 0.25],
      ['bbbbbbbbbbbb', 0.5],
    ]);
    expect(pinnedEvaluationIds(db, 1).size).toBe(0);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

    setEvaluationPinned(db, evals[1].id, true);
    expect([...pinnedEvaluationIds(db, 1)]).toEqual([evals[1].id]);
    expect([...pinnedEvaluationIds(db, null)]).toEqual([evals[1].id]);
    expect(pinnedEvaluationIds(db, 2).size).toBe(0);
    // Pinning changes nothing else about the row.
    expect(getEvaluation(db, evals[1].id)).toEqual(evals[1]);
    setEvaluationPinned(db, evals[1].id, false);
    expect(pinnedEvaluationIds(db, 1).size).toBe(0);

    expect(() => setEvaluationPinned(db, 999, true)).toThrow(EvaluationNotFoundError);
    expect(() => db.prepare('UPDATE subnet_evaluations SET pinned = 2 WHERE id = ?').run(evals[0].id)).toThrow(/CHECK constraint/);

    setEvaluationPinned(db, evals[0].id, true);
    deleteRun(db, 1);
    expect(pinnedEvaluationIds(db, null).size).toBe(0);
    db.close();
  });
});
