import { describe, expect, it } from 'vitest';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluationsToReach, homeCopy, hypervolumeCurve } from '../../../src-main/bench/predictor-bench';
import { openHomeDatabase } from '../../../src-main/store/db';
import { createRun, listRuns } from '../../../src-main/store/runs';

describe('predictor bench: hypervolume per real evaluation', () => {
  const ref = { costRef: 10, accRef: 0 };
  // In evaluation order: a cheap weak subnet, a dominated one, a better one, then one beyond the reference cost.
  const members = [
    { cost: 4, accuracy: 0.5 },
    { cost: 6, accuracy: 0.4 },
    { cost: 8, accuracy: 0.7 },
    { cost: 12, accuracy: 0.9 },
  ];

  it('is the hypervolume of the front of the first k members, computed by hand', () => {
    // k=1: (10−4)·0.5 = 3; k=2: the dominated point adds nothing; k=3: (8−4)·0.5 + (10−8)·0.7 = 3.4; k=4: outside the box.
    const curve = hypervolumeCurve(members, ref);
    expect(curve).toHaveLength(4);
    expect(curve[0]).toBeCloseTo(3, 12);
    expect(curve[1]).toBeCloseTo(3, 12);
    expect(curve[2]).toBeCloseTo(3.4, 12);
    expect(curve[3]).toBeCloseTo(3.4, 12);
  });

  it('finds the first evaluation count that reaches a target, or null', () => {
    const curve = hypervolumeCurve(members, ref);
    expect(evaluationsToReach(curve, 3)).toBe(1);
    expect(evaluationsToReach(curve, 3.2)).toBe(3);
    expect(evaluationsToReach(curve, 3.4)).toBe(3);
    expect(evaluationsToReach(curve, 3.5)).toBeNull();
  });
});

describe('predictor bench: each search gets its own data directory', () => {
  it('copies the database (writes to one copy reach neither the other nor the original) and links the rest', async () => {
    const home = mkdtempSync(join(tmpdir(), 'alphanet-pb-home-'));
    const dirs = [home];
    try {
      const db = openHomeDatabase(home);
      createRun(db, { name: 'trained', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' });
      db.close();
      mkdirSync(join(home, 'runs', '1'), { recursive: true });
      writeFileSync(join(home, 'runs', '1', 'checkpoint'), 'weights');
      const a = await homeCopy(home);
      const b = await homeCopy(home);
      dirs.push(a, b);
      const da = openHomeDatabase(a);
      createRun(da, { name: 'search in a', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' });
      da.close();
      expect(withDb(a, (d) => listRuns(d).map((r) => r.name)).sort()).toEqual(['search in a', 'trained']);
      expect(withDb(b, (d) => listRuns(d).map((r) => r.name))).toEqual(['trained']);
      expect(withDb(home, (d) => listRuns(d).map((r) => r.name))).toEqual(['trained']);
      // The run's files are shared, not copied.
      expect(lstatSync(join(a, 'runs')).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(b, 'runs', '1', 'checkpoint'), 'utf8')).toBe('weights');
    } finally {
      for (const d of dirs.reverse()) rmSync(d, { recursive: true, force: true });
    }
  });
});

function withDb<T>(home: string, f: (db: ReturnType<typeof openHomeDatabase>) => T): T {
  const db = openHomeDatabase(home);
  try {
    return f(db);
  } finally {
    db.close();
  }
}
