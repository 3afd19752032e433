import { describe, expect, it } from 'vitest';
import { evaluationsToReach, hypervolumeCurve } from '../../../src-main/bench/predictor-bench';

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
