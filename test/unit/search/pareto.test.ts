/** The incremental front and its hypervolume against brute force on random point sets (seeded property tests). */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src-main/engine/core';
import { ParetoFront, dominates, hypervolume, paretoLayers, type FrontPoint } from '../../../src-main/search/pareto';

/** O(n²): a point is on the front iff nothing dominates it and no earlier point equals it (stable ties). */
function bruteFront(pts: FrontPoint[]): FrontPoint[] {
  return pts
    .filter((p, i) => !pts.some((q, j) => dominates(q, p) || (j < i && q.cost === p.cost && q.accuracy === p.accuracy)))
    .sort((a, b) => a.cost - b.cost);
}

/** Area on the grid of all coordinates: each cell counts when some point dominates its lower-left... corner. */
function bruteHv(pts: FrontPoint[], costRef: number, accRef: number): number {
  const xs = [...new Set([...pts.map((p) => p.cost), costRef])].filter((x) => x <= costRef).sort((a, b) => a - b);
  const ys = [...new Set([...pts.map((p) => p.accuracy), accRef])].filter((y) => y >= accRef).sort((a, b) => a - b);
  let hv = 0;
  for (let i = 0; i + 1 < xs.length; i++) {
    for (let j = 0; j + 1 < ys.length; j++) {
      // The cell [xs[i], xs[i+1]] × [ys[j], ys[j+1]] is dominated iff a point has cost ≤ xs[i] and acc ≥ ys[j+1].
      if (pts.some((p) => p.cost <= xs[i] && p.accuracy >= ys[j + 1])) hv += (xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j]);
    }
  }
  return hv;
}

function randomPoints(rng: Rng, n: number, discrete: boolean): FrontPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    // Discrete values make ties and equal costs/accuracies common.
    cost: discrete ? rng.int(12) : rng.next() * 100,
    accuracy: discrete ? rng.int(10) / 10 : rng.next(),
  }));
}

describe('ParetoFront', () => {
  it('matches the brute-force front after every insertion, with ties kept stable', () => {
    for (let trial = 0; trial < 60; trial++) {
      const rng = new Rng(1000 + trial);
      const pts = randomPoints(rng, 1 + rng.int(80), trial % 2 === 0);
      const f = new ParetoFront();
      pts.forEach((p, i) => {
        const accepted = f.insert(p);
        const want = bruteFront(pts.slice(0, i + 1));
        expect(f.points().map((q) => q.id)).toEqual(want.map((q) => q.id));
        expect(accepted).toBe(want.some((q) => q.id === p.id));
        expect(f.size).toBe(want.length);
      });
    }
  });

  it('hypervolume equals the brute-force grid area, for reference points inside and outside the cloud', () => {
    for (let trial = 0; trial < 60; trial++) {
      const rng = new Rng(2000 + trial);
      const pts = randomPoints(rng, 1 + rng.int(40), trial % 2 === 1);
      const f = ParetoFront.of(pts);
      const discrete = trial % 2 === 1;
      for (const ref of [
        { costRef: discrete ? 12 : 100, accRef: 0 },
        { costRef: discrete ? 6 : 50, accRef: 0.3 },
        { costRef: -1, accRef: 0 },
      ]) {
        const want = bruteHv(pts, ref.costRef, ref.accRef);
        expect(f.hypervolume(ref)).toBeCloseTo(want, 9);
        expect(hypervolume(pts, ref)).toBeCloseTo(want, 9);
      }
    }
  });

  it('hypervolume of a known front', () => {
    const pts = [
      { id: 'a', cost: 1, accuracy: 0.5 },
      { id: 'b', cost: 3, accuracy: 0.8 },
    ];
    // [1,3]×[0,0.5] + [3,5]×[0,0.8] = 1 + 1.6
    expect(hypervolume(pts, { costRef: 5, accRef: 0 })).toBeCloseTo(2.6, 12);
  });

  it('serialises and restores, continuing identically', () => {
    const rng = new Rng(7);
    const pts = randomPoints(rng, 200, false).map((p) => ({ ...p, data: { g: p.id } }));
    const a = ParetoFront.of(pts.slice(0, 100));
    const b = ParetoFront.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(b.points()).toEqual(a.points());
    expect(b.offered).toBe(100);
    for (const p of pts.slice(100)) expect(b.insert(p)).toBe(a.insert(p));
    expect(b.points()).toEqual(ParetoFront.of(pts).points());
  });

  it('rejects non-finite objectives and invalid serialised fronts', () => {
    expect(() => new ParetoFront().insert({ id: 'x', cost: NaN, accuracy: 1 })).toThrow(/non-finite/);
    const bad = { version: 1 as const, offered: 2, points: [{ id: 'a', cost: 1, accuracy: 1 }, { id: 'b', cost: 2, accuracy: 0.5 }] };
    expect(() => ParetoFront.fromJSON(bad)).toThrow(/not a front/);
  });

  it('stays fast: 20 000 points, with a long front', () => {
    const rng = new Rng(3);
    const f = new ParetoFront();
    const t0 = performance.now();
    // Points near a concave curve: many join the front, many are removed later.
    for (let i = 0; i < 20_000; i++) {
      const c = rng.next() * 100;
      f.insert({ id: `q${i}`, cost: c, accuracy: Math.sqrt(c) + rng.next() * 0.05 });
    }
    // Generous: the CI machine is shared; an O(n²) structure would take minutes here.
    expect(performance.now() - t0).toBeLessThan(5000);
    const pts = f.points();
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i].cost).toBeGreaterThan(pts[i - 1].cost);
      expect(pts[i].accuracy).toBeGreaterThan(pts[i - 1].accuracy);
    }
  });

  it('paretoLayers peels fronts until enough points are taken', () => {
    const pts = randomPoints(new Rng(9), 50, false);
    const layers = paretoLayers(pts, 20);
    expect(layers.flat().length).toBeGreaterThanOrEqual(20);
    expect(layers[0].map((p) => p.id)).toEqual(bruteFront(pts).map((p) => p.id));
    const all = paretoLayers(pts);
    expect(all.flat().length).toBe(50);
  });
});
