/**
 * The pure parts of the explorer and the comparison, on hand-made rows with hand-computed answers: the front's scope
 * (the newest evaluated checkpoint, one split), the front with its hypervolume, the config flattening and diff, and
 * the budget table.
 */
import { describe, expect, it } from 'vitest';
import type { EvaluationRow } from '../../../src-main/store/evaluations';
import { budgetTable, configDiff, flattenConfig, frontOf, frontScope } from '../../../src-main/service/compare';

let nextId = 1;
const ev = (accuracy: number, mflops: number, over: Partial<EvaluationRow> = {}): EvaluationRow => ({
  id: nextId++,
  runId: 1,
  genomeId: `g${nextId}`.padEnd(12, '0'),
  genome: {},
  split: 'val',
  calibrationBatches: 1,
  calibrationBatchSize: 8,
  calibrationSeed: 0,
  checkpointSha256: 'b'.repeat(64),
  checkpointStep: 20,
  accuracy,
  loss: 1,
  before: null,
  images: 100,
  calibrationImages: 8,
  mflops,
  mparams: 0.1,
  latency: null,
  backend: 'cpu',
  evalMs: 1,
  createdAt: 't',
  ...over,
});

describe('frontScope', () => {
  it("keeps the split's evaluations of the newest evaluated checkpoint", () => {
    const old = ev(0.9, 1, { checkpointSha256: 'a'.repeat(64), checkpointStep: 10 });
    const a = ev(0.5, 2);
    const test = ev(0.7, 2, { split: 'test' });
    const b = ev(0.6, 3);
    expect(frontScope([old, a, test, b]).map((e) => e.id)).toEqual([a.id, b.id]);
    expect(frontScope([old, a, test, b], 'test').map((e) => e.id)).toEqual([test.id]);
    expect(frontScope([])).toEqual([]);
  });
});

describe('frontOf', () => {
  it('is the non-dominated set in increasing cost with the exact hypervolume', () => {
    const a = ev(0.4, 1);
    const b = ev(0.3, 2); // dominated by a
    const c = ev(0.6, 3);
    const d = ev(0.6, 4); // dominated by c (same accuracy, more cost)
    const f = frontOf([a, b, c, d], 'mflops', (e) => e.mflops, { costRef: 5, accRef: 0 })!;
    expect(f.evaluationIds).toEqual([a.id, c.id]);
    expect(f.points).toEqual([
      { evaluationId: a.id, accuracy: 0.4, cost: 1 },
      { evaluationId: c.id, accuracy: 0.6, cost: 3 },
    ]);
    // (3 − 1) · 0.4 + (5 − 3) · 0.6
    expect(f.hypervolume).toBeCloseTo(2 * 0.4 + 2 * 0.6, 12);
    expect(f.reference).toEqual({ costRef: 5, accRef: 0 });
    expect(frontOf([a], 'latency', () => null, { costRef: 1, accRef: 0 })).toBeNull();
  });
});

describe('config diff', () => {
  it('flattens objects and arrays of objects, keeps arrays of values whole', () => {
    const flat = flattenConfig({ epochs: 3, optim: { lr: 0.1 }, space: { stages: [{ width: [4, 8] }, { width: [8] }] }, tags: [], extra: {} });
    expect([...flat.entries()]).toEqual([
      ['epochs', 3],
      ['optim.lr', 0.1],
      ['space.stages.0.width', [4, 8]],
      ['space.stages.1.width', [8]],
      ['tags', []],
      ['extra', {}],
    ]);
  });

  it('lists only keys that differ, absent as undefined', () => {
    const a = { epochs: 3, distillation: { kind: 'adaptive-alpha', alphaMin: -1 }, stages: [{ width: [4, 8] }] };
    const b = { epochs: 3, distillation: { kind: 'kl' }, stages: [{ width: [4, 16] }] };
    expect(configDiff([a, b, a])).toEqual([
      { key: 'distillation.kind', values: ['adaptive-alpha', 'kl', 'adaptive-alpha'] },
      { key: 'distillation.alphaMin', values: [-1, undefined, -1] },
      { key: 'stages.0.width', values: [[4, 8], [4, 16], [4, 8]] },
    ]);
    expect(configDiff([a, a])).toEqual([]);
    expect(configDiff([{ x: null }, {}])).toEqual([{ key: 'x', values: [null, undefined] }]);
  });
});

describe('budgetTable', () => {
  it('spreads budgets from lo to hi and picks the best point that fits, or null', () => {
    const front = { objective: 'mflops' as const, evaluationIds: [1, 2], points: [{ evaluationId: 1, accuracy: 0.4, cost: 1.5 }, { evaluationId: 2, accuracy: 0.6, cost: 3 }], hypervolume: 0, reference: { costRef: 5, accRef: 0 } };
    const t = budgetTable([front, null], 1, 5);
    expect(t.map((r) => r.mflopsMax)).toEqual([1, 2, 3, 4, 5]);
    expect(t.map((r) => r.best[0]?.evaluationId ?? null)).toEqual([null, 1, 2, 2, 2]);
    expect(t[1].best[0]).toEqual({ accuracy: 0.4, evaluationId: 1 });
    expect(t.every((r) => r.best[1] === null)).toBe(true);
  });
});
