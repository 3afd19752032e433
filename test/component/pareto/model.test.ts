import { describe, expect, it } from 'vitest';
import { summaryRows, summarySentence } from '../../../src-renderer/lib/pareto/format';
import { applyBudget, buildBase, buildModel, DEFAULT_SERIES } from '../../../src-renderer/lib/pareto/model';
import type { ExplorerPoint } from '../../../src-renderer/lib/pareto/types';

const pts: ExplorerPoint[] = [
  { id: 'a1', accuracy: 0.6, mflops: 3, latencyMs: 2, mparams: 1, series: 'a' },
  { id: 'a2', accuracy: 0.7, mflops: 8, latencyMs: null, mparams: 2, series: 'a' },
  { id: 'a3', accuracy: 0.65, mflops: 9, latencyMs: 5, mparams: 2.5, series: 'a' },
  { id: 'a4', accuracy: 0.8, mflops: 20, latencyMs: 9, mparams: 4, series: 'a', pinned: true },
  { id: 'k1', accuracy: 0.7, mflops: 4, latencyMs: 3, mparams: 1.1, series: 'kl' },
  { id: 'k2', accuracy: 0.75, mflops: 12, latencyMs: 6, mparams: 3, series: 'kl' },
  { id: 'x1', accuracy: 0.5, mflops: 2, latencyMs: 1, mparams: 0.5 },
];
const ids = (m: ReturnType<typeof buildModel>, idx: number[]) => idx.map((i) => m.points[i].id);

describe('buildModel', () => {
  it('computes a front per series, series in definition order, unlisted ones appended', () => {
    const m = buildModel(pts, 'mflops', {}, [
      { id: 'kl', label: 'KL' },
      { id: 'a', label: 'adaptive α' },
    ]);
    expect(m.series.map((s) => [s.id, s.label, s.count, s.colorIndex])).toEqual([
      ['kl', 'KL', 2, 0],
      ['a', 'adaptive α', 4, 1],
      [DEFAULT_SERIES, 'subnets', 1, 2],
    ]);
    expect(ids(m, m.series[0].front)).toEqual(['k1', 'k2']);
    expect(ids(m, m.series[1].front)).toEqual(['a1', 'a2', 'a4']);
    expect(ids(m, m.series[2].front)).toEqual(['x1']);
    expect(Array.from(m.xs)).toEqual(pts.map((p) => p.mflops));
    expect(m.omitted).toBe(0);
    expect(m.series.every((s) => s.best === -1)).toBe(true); // no budget: no "best under budget"
  });

  it('on the latency axis leaves out unmeasured points and recomputes the fronts in ms', () => {
    const m = buildModel(pts, 'latency', {});
    expect(m.omitted).toBe(1);
    expect(m.points.map((p) => p.id)).not.toContain('a2');
    expect(Array.from(m.xs)).toEqual([2, 5, 9, 3, 6, 1]);
    const a = m.series.find((s) => s.id === 'a')!;
    expect(ids(m, a.front)).toEqual(['a1', 'a3', 'a4']);
    expect(m.byId.get('a3')).toBe(1);
  });

  it('marks feasibility and finds the best point within the budget per series', () => {
    const m = buildModel(pts, 'mflops', { mflopsMax: 10 });
    expect(m.budgetSet).toBe(true);
    expect(Array.from(m.feasible)).toEqual([1, 1, 1, 0, 1, 0, 1]);
    expect(m.feasibleCount).toBe(5);
    const best = Object.fromEntries(m.series.map((s) => [s.id, s.best < 0 ? null : m.points[s.best].id]));
    expect(best).toEqual({ a: 'a2', kl: 'k1', [DEFAULT_SERIES]: 'x1' });
    const none = buildModel(pts, 'mflops', { mflopsMax: 1 });
    expect(none.series.every((s) => s.best === -1)).toBe(true);
    expect(none.feasibleCount).toBe(0);
  });

  it('prefers the cheaper of equally accurate feasible points', () => {
    const m = buildModel(
      [
        { id: 'p', accuracy: 0.7, mflops: 9, latencyMs: null, mparams: 1 },
        { id: 'q', accuracy: 0.7, mflops: 5, latencyMs: null, mparams: 1 },
      ],
      'mflops',
      { mparamsMax: 2 },
    );
    expect(m.points[m.series[0].best].id).toBe('q');
  });

  it('rejects duplicate ids and non-finite numbers, naming the point and field', () => {
    expect(() => buildModel([pts[0], pts[0]], 'mflops', {})).toThrow("points: duplicate id 'a1'");
    expect(() => buildModel([{ ...pts[0], accuracy: NaN }], 'mflops', {})).toThrow("points: 'a1' has accuracy NaN");
    expect(() => buildModel([{ ...pts[0], mparams: Infinity }], 'mflops', {})).toThrow("'a1' has mparams Infinity");
    expect(() => buildModel([{ ...pts[0], latencyMs: NaN }], 'mflops', {})).toThrow("'a1' has latencyMs NaN");
  });

  it('a budget change reuses the base (same fronts and index), recomputing only feasibility', () => {
    const base = buildBase(pts, 'mflops');
    const loose = applyBudget(base, { mflopsMax: 100 });
    const tight = applyBudget(base, { mflopsMax: 5 });
    expect(tight.index).toBe(base.index);
    expect(tight.series.map((s) => s.front)).toEqual(base.series.map((s) => s.front));
    expect(loose.feasibleCount).toBe(7);
    expect(Array.from(tight.feasible)).toEqual([1, 0, 0, 0, 1, 0, 1]);
    expect(applyBudget(base, {}).series.every((s) => s.best === -1)).toBe(true);
    expect(base.series.every((s) => !('best' in s))).toBe(true); // the base is not mutated
  });

  it('indexes the shown points for hit-testing', () => {
    const m = buildModel(pts, 'mflops', {});
    expect(m.index.size).toBe(pts.length);
    expect(m.points[m.index.nearest(12.1, 0.749, { sx: 10, sy: 1000, maxDist: 5 })].id).toBe('k2');
  });
});

describe('point summaries', () => {
  it('formats the tooltip rows and the screen-reader sentence', () => {
    expect(summaryRows(pts[1])).toEqual([
      ['accuracy', '70.00 %'],
      ['MFLOPs', '8.00'],
      ['params', '2.00 M'],
      ['latency', 'not measured'],
    ]);
    expect(summarySentence(pts[5])).toBe('subnet k2, 75.00 % accuracy, 12.0 MFLOPs, 3.00 M params, latency 6.00 ms');
  });
});
