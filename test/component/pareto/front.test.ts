import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src-main/engine/core/rng';
import { frontIndices, stepVertices } from '../../../src-renderer/lib/pareto/front';

interface P {
  c: number;
  a: number;
}

/** Brute force: i is on the front iff nothing dominates it and no earlier point equals it in both objectives. */
function bruteFront(ps: P[]): number[] {
  const on = ps
    .map((p, i) => i)
    .filter((i) =>
      ps.every((q, j) => {
        if (j === i) return true;
        const dominates = q.c <= ps[i].c && q.a >= ps[i].a && (q.c < ps[i].c || q.a > ps[i].a);
        const earlierTwin = j < i && q.c === ps[i].c && q.a === ps[i].a;
        return !dominates && !earlierTwin;
      }),
    );
  return on.sort((i, j) => ps[i].c - ps[j].c);
}

const cost = (p: P) => p.c;
const acc = (p: P) => p.a;

describe('frontIndices', () => {
  it('matches brute force on random sets, with many ties on a coarse grid', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rng.int(60);
      // Values on a 6×6 grid: equal costs, equal accuracies and exact duplicates are common.
      const ps = Array.from({ length: n }, () => ({ c: rng.int(6), a: rng.int(6) / 10 }));
      expect(frontIndices(ps, cost, acc)).toEqual(bruteFront(ps));
    }
  });

  it('matches brute force on 2,000 continuous points and is strictly increasing in both objectives', () => {
    const rng = new Rng(11);
    const ps = Array.from({ length: 2000 }, () => {
      const c = rng.uniform(2, 25);
      return { c, a: 0.5 + 0.3 * Math.log(c) / Math.log(25) + rng.normal() * 0.03 };
    });
    const f = frontIndices(ps, cost, acc);
    expect(f).toEqual(bruteFront(ps));
    for (let k = 1; k < f.length; k++) {
      expect(ps[f[k]].c).toBeGreaterThan(ps[f[k - 1]].c);
      expect(ps[f[k]].a).toBeGreaterThan(ps[f[k - 1]].a);
    }
  });

  it('keeps the first of exact duplicates, drops equal cost with lower accuracy, skips non-finite values', () => {
    const ps = [
      { c: 5, a: 0.7 }, // 0: dominated by 3 (same cost, higher accuracy)
      { c: 2, a: 0.5 }, // 1: front
      { c: 2, a: 0.5 }, // 2: twin of 1, dropped
      { c: 5, a: 0.8 }, // 3: front
      { c: NaN, a: 0.99 }, // 4: skipped
      { c: 9, a: Infinity }, // 5: skipped
    ];
    expect(frontIndices(ps, cost, acc)).toEqual([1, 3]);
  });

  it('restricts to a subset of indices', () => {
    const ps = [
      { c: 1, a: 0.9 },
      { c: 2, a: 0.5 },
      { c: 3, a: 0.6 },
    ];
    expect(frontIndices(ps, cost, acc)).toEqual([0]);
    expect(frontIndices(ps, cost, acc, [1, 2])).toEqual([1, 2]);
    expect(frontIndices(ps, cost, acc, [])).toEqual([]);
  });
});

describe('stepVertices', () => {
  it('draws right then up between front points and extends the last to xEnd', () => {
    const f = [
      { x: 1, y: 0.5 },
      { x: 3, y: 0.6 },
      { x: 4, y: 0.8 },
    ];
    expect(stepVertices(f, 10)).toEqual([
      { x: 1, y: 0.5 },
      { x: 3, y: 0.5 },
      { x: 3, y: 0.6 },
      { x: 4, y: 0.6 },
      { x: 4, y: 0.8 },
      { x: 10, y: 0.8 },
    ]);
    expect(stepVertices(f, 2)).toHaveLength(5); // xEnd left of the last point: no tail
    expect(stepVertices([], 5)).toEqual([]);
  });
});
