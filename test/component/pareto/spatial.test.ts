import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src-main/engine/core/rng';
import { KdTree } from '../../../src-renderer/lib/pareto/spatial';

function bruteNearest(xs: number[], ys: number[], x: number, y: number, sx: number, sy: number, maxDist: number, accept?: (i: number) => boolean): number {
  let best = -1;
  let bestD = maxDist * maxDist;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i]) || (accept && !accept(i))) continue;
    const d = ((xs[i] - x) * sx) ** 2 + ((ys[i] - y) * sy) ** 2;
    if (d < bestD || (d === bestD && best < 0)) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

function bruteWithin(xs: number[], ys: number[], x0: number, y0: number, x1: number, y1: number): number[] {
  return xs.map((_, i) => i).filter((i) => xs[i] >= x0 && xs[i] <= x1 && ys[i] >= y0 && ys[i] <= y1);
}

describe('KdTree', () => {
  const rng = new Rng(3);
  // MFLOPs-like x (2–25) and accuracy-like y (0.4–0.8): very different units, as on the chart.
  const n = 5000;
  const xs = Array.from({ length: n }, () => rng.uniform(2, 25));
  const ys = Array.from({ length: n }, () => rng.uniform(0.4, 0.8));
  const tree = new KdTree(xs, ys);

  it('finds the same nearest point as brute force under anisotropic pixel scales and a radius', () => {
    const q = new Rng(4);
    for (let t = 0; t < 500; t++) {
      const x = q.uniform(0, 27);
      const y = q.uniform(0.35, 0.85);
      // Pixels per unit as at different zoom levels: 30–3000 px per MFLOP, 500–50000 px per accuracy unit.
      const sx = 30 * 10 ** q.uniform(0, 2);
      const sy = 500 * 10 ** q.uniform(0, 2);
      const r = q.uniform(2, 20);
      expect(tree.nearest(x, y, { sx, sy, maxDist: r })).toBe(bruteNearest(xs, ys, x, y, sx, sy, r));
    }
  });

  it('without a radius always finds a point; with a filter, only accepted ones', () => {
    expect(tree.nearest(100, 100)).toBe(bruteNearest(xs, ys, 100, 100, 1, 1, Infinity));
    const even = (i: number) => i % 2 === 0;
    for (let t = 0; t < 50; t++) {
      const x = 2 + t / 2;
      const got = tree.nearest(x, 0.6, { sx: 40, sy: 900, maxDist: 30, accept: even });
      expect(got).toBe(bruteNearest(xs, ys, x, 0.6, 40, 900, 30, even));
      if (got >= 0) expect(got % 2).toBe(0);
    }
  });

  it('returns −1 when nothing lies within the radius', () => {
    expect(tree.nearest(1000, 1000, { maxDist: 5 })).toBe(-1);
    expect(new KdTree([], []).nearest(0, 0)).toBe(-1);
  });

  it('finds every point in a rectangle, in index order, bounds in either order', () => {
    const q = new Rng(5);
    for (let t = 0; t < 100; t++) {
      const [x0, x1] = [q.uniform(0, 27), q.uniform(0, 27)];
      const [y0, y1] = [q.uniform(0.35, 0.85), q.uniform(0.35, 0.85)];
      expect(tree.within(x0, y0, x1, y1)).toEqual(bruteWithin(xs, ys, Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)));
    }
    expect(tree.within(-1, -1, 100, 100)).toHaveLength(n);
  });

  it('handles sorted input, heavy duplicates and ties (lowest index wins)', () => {
    const sx = Array.from({ length: 3000 }, (_, i) => Math.floor(i / 10)); // sorted, 10 copies of each x
    const sy = Array.from({ length: 3000 }, (_, i) => (i % 3) / 10);
    const t = new KdTree(sx, sy);
    for (const [x, y] of [
      [0, 0],
      [150.2, 0.1],
      [299, 0.2],
      [57.5, 0.05],
    ]) {
      expect(t.nearest(x, y, { sx: 1, sy: 10 })).toBe(bruteNearest(sx, sy, x, y, 1, 10, Infinity));
      expect(t.within(x - 3, y - 0.1, x + 3, y + 0.1)).toEqual(bruteWithin(sx, sy, x - 3, y - 0.1, x + 3, y + 0.1));
    }
    const same = new KdTree(Array(100).fill(1), Array(100).fill(1));
    expect(same.nearest(1, 1)).toBe(0);
    expect(same.within(0, 0, 2, 2)).toHaveLength(100);
  });

  it('leaves out non-finite coordinates and rejects mismatched arrays', () => {
    const t = new KdTree([0, NaN, 2, 3], [0, 1, Infinity, 3]);
    expect(t.size).toBe(2);
    expect(t.within(-10, -10, 10, 10)).toEqual([0, 3]);
    expect(t.nearest(2, 2)).toBe(3);
    expect(() => new KdTree([1, 2], [1])).toThrow('2 x coordinates but 1 y coordinates');
  });

  it('answers a hover query over 10,000 points in well under a millisecond', () => {
    const big = new Rng(9);
    const bx = Float64Array.from({ length: 10_000 }, () => big.uniform(2, 25));
    const by = Float64Array.from({ length: 10_000 }, () => big.uniform(0.4, 0.8));
    const t = new KdTree(bx, by);
    const t0 = performance.now();
    for (let k = 0; k < 1000; k++) t.nearest(2 + (k % 230) / 10, 0.4 + (k % 40) / 100, { sx: 35, sy: 900, maxDist: 10 });
    // 1,000 queries; a linear scan would take ~10-30 ms for the same work. Generous bound for a loaded machine.
    expect(performance.now() - t0).toBeLessThan(200);
  });
});
