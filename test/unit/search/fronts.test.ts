/**
 * The run-level front that every evaluation of a run is offered to (search/fronts.ts): points join or not by
 * dominance, the stored front keeps its offers and its hypervolume against the reference point, and each objective,
 * split, checkpoint and device has a front of its own.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src-main/store/db';
import { createRun } from '../../../src-main/store/runs';
import { upsertDevice } from '../../../src-main/store/devices';
import { findRunFront, listRunFronts } from '../../../src-main/store/fronts';
import { deviceIdOf } from '../../../src-main/search/latency';
import { offerToRunFront } from '../../../src-main/search/fronts';
import { hypervolume } from '../../../src-main/search/pareto';

describe('offerToRunFront', () => {
  it('maintains a run front incrementally, one per objective, split, checkpoint and device', () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'run-front-')), 'alphanet.db'));
    const run = createRun(db, { name: 'r', config: { a: 1 }, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
    const scope = { runId: run, objective: 'mflops' as const, split: 'val' as const, checkpointSha256: 'c'.repeat(64), deviceId: null };
    const ref = { costRef: 5, accRef: 0.1 };
    const pts = [
      { accuracy: 0.5, cost: 2 },
      { accuracy: 0.4, cost: 3 }, // dominated
      { accuracy: 0.6, cost: 4 },
      { accuracy: 0.55, cost: 1.5 }, // dominates the first
    ];
    const joined = pts.map((p, i) => offerToRunFront(db, scope, { evaluationId: i + 1, genomeId: `g${i}`, ...p }, ref));
    expect(joined).toEqual([true, false, true, true]);
    const f = findRunFront(db, scope)!;
    expect(f.points.map((p) => p.data!.evaluationId)).toEqual([4, 3]);
    expect(f.offered).toBe(4);
    expect(f.reference).toEqual(ref);
    expect(f.hypervolume).toBeCloseTo(hypervolume(pts, ref), 12);
    expect(f.hypervolume).toBeCloseTo(2.5 * 0.45 + 1 * 0.5, 12);
    // Another checkpoint and a latency front on a device are separate fronts: the first is left as it was.
    const dev = upsertDevice(db, deviceIdOf({ cpuModel: 'X' }), { cpuModel: 'X' });
    expect(offerToRunFront(db, { ...scope, checkpointSha256: 'e'.repeat(64) }, { evaluationId: 9, genomeId: 'x', accuracy: 0.2, cost: 1 }, ref)).toBe(true);
    expect(offerToRunFront(db, { ...scope, objective: 'latency', deviceId: dev }, { evaluationId: 9, genomeId: 'x', accuracy: 0.2, cost: 1 }, ref)).toBe(true);
    expect(listRunFronts(db, run)).toHaveLength(3);
    expect(findRunFront(db, scope)!.points.map((p) => p.data!.evaluationId)).toEqual([4, 3]);
    expect(findRunFront(db, { ...scope, objective: 'latency', deviceId: dev })!.points.map((p) => p.data!.genomeId)).toEqual(['x']);
    db.close();
  });
});
