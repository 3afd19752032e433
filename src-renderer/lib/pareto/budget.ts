/**
 * Budget feasibility: which points the current budget allows. Infeasible points stay on the chart, greyed, so the
 * user sees what a looser budget would buy.
 */
import type { Budget, ExplorerPoint } from './types';

/**
 * Why a point is over budget, one short phrase per violated bound (empty: feasible). A point without a latency
 * violates a latency bound: nothing shows that it meets it.
 */
export function budgetViolations(p: ExplorerPoint, b: Budget): string[] {
  const out: string[] = [];
  if (b.mflopsMin !== undefined && p.mflops < b.mflopsMin) out.push(`below ${fmt(b.mflopsMin)} MFLOPs`);
  if (b.mflopsMax !== undefined && p.mflops > b.mflopsMax) out.push(`over ${fmt(b.mflopsMax)} MFLOPs`);
  if (b.mparamsMax !== undefined && p.mparams > b.mparamsMax) out.push(`over ${fmt(b.mparamsMax)} M params`);
  if (b.latencyMaxMs !== undefined) {
    if (p.latencyMs === null) out.push('latency not measured');
    else if (p.latencyMs > b.latencyMaxMs) out.push(`over ${fmt(b.latencyMaxMs)} ms`);
  }
  return out;
}

/** Whether the budget allows the point (every bound inclusive). */
export function isFeasible(p: ExplorerPoint, b: Budget): boolean {
  return (
    (b.mflopsMin === undefined || p.mflops >= b.mflopsMin) &&
    (b.mflopsMax === undefined || p.mflops <= b.mflopsMax) &&
    (b.mparamsMax === undefined || p.mparams <= b.mparamsMax) &&
    (b.latencyMaxMs === undefined || (p.latencyMs !== null && p.latencyMs <= b.latencyMaxMs))
  );
}

/** Whether any bound is set (the legend then explains the grey points). */
export function hasBudget(b: Budget): boolean {
  return b.mflopsMin !== undefined || b.mflopsMax !== undefined || b.mparamsMax !== undefined || b.latencyMaxMs !== undefined;
}

/**
 * Checks a budget before use, so a bad slider value fails loudly instead of greying everything: each bound must be a
 * finite number ≥ 0, and mflopsMin ≤ mflopsMax. Throws an Error naming the field.
 */
export function checkBudget(b: Budget): void {
  for (const key of ['mflopsMin', 'mflopsMax', 'mparamsMax', 'latencyMaxMs'] as const) {
    const v = b[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`budget.${key} must be a finite number ≥ 0, got ${v}`);
  }
  if (b.mflopsMin !== undefined && b.mflopsMax !== undefined && b.mflopsMin > b.mflopsMax) {
    throw new Error(`budget.mflopsMin (${b.mflopsMin}) is above budget.mflopsMax (${b.mflopsMax})`);
  }
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}
