import { describe, expect, it } from 'vitest';
import { budgetViolations, checkBudget, hasBudget, isFeasible } from '../../../src-renderer/lib/pareto/budget';
import type { ExplorerPoint } from '../../../src-renderer/lib/pareto/types';

const p: ExplorerPoint = { id: 'a', accuracy: 0.7, mflops: 12, latencyMs: 4, mparams: 1.5 };
const noLatency: ExplorerPoint = { ...p, id: 'b', latencyMs: null };

describe('budget feasibility', () => {
  it('allows everything without bounds', () => {
    expect(isFeasible(p, {})).toBe(true);
    expect(isFeasible(noLatency, {})).toBe(true);
    expect(hasBudget({})).toBe(false);
  });

  it('applies each bound inclusively', () => {
    expect(isFeasible(p, { mflopsMax: 12 })).toBe(true);
    expect(isFeasible(p, { mflopsMax: 11.99 })).toBe(false);
    expect(isFeasible(p, { mflopsMin: 12 })).toBe(true);
    expect(isFeasible(p, { mflopsMin: 12.01 })).toBe(false);
    expect(isFeasible(p, { mparamsMax: 1.5 })).toBe(true);
    expect(isFeasible(p, { mparamsMax: 1.4 })).toBe(false);
    expect(isFeasible(p, { latencyMaxMs: 4 })).toBe(true);
    expect(isFeasible(p, { latencyMaxMs: 3.9 })).toBe(false);
  });

  it('fails a latency bound when the latency was never measured', () => {
    expect(isFeasible(noLatency, { latencyMaxMs: 100 })).toBe(false);
    expect(budgetViolations(noLatency, { latencyMaxMs: 100 })).toEqual(['latency not measured']);
  });

  it('names every violated bound, and agrees with isFeasible', () => {
    const b = { mflopsMax: 10, mparamsMax: 1, latencyMaxMs: 3 };
    expect(budgetViolations(p, b)).toEqual(['over 10 MFLOPs', 'over 1 M params', 'over 3 ms']);
    expect(budgetViolations(p, { mflopsMin: 20 })).toEqual(['below 20 MFLOPs']);
    for (const budget of [{}, b, { mflopsMin: 20 }, { mflopsMax: 12 }, { latencyMaxMs: 4 }]) {
      expect(isFeasible(p, budget)).toBe(budgetViolations(p, budget).length === 0);
    }
  });

  it('checkBudget names the bad field', () => {
    expect(() => checkBudget({ mflopsMax: 10, mflopsMin: 2 })).not.toThrow();
    expect(() => checkBudget({ mflopsMax: NaN })).toThrow('budget.mflopsMax must be a finite number ≥ 0, got NaN');
    expect(() => checkBudget({ latencyMaxMs: -1 })).toThrow('budget.latencyMaxMs');
    expect(() => checkBudget({ mflopsMin: 30, mflopsMax: 10 })).toThrow('budget.mflopsMin (30) is above budget.mflopsMax (10)');
  });
});
