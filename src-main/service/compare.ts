/**
 * Pure pieces of the Pareto explorer and the run comparison: a front over a set of evaluations with its hypervolume,
 * the config diff over dotted keys, and best accuracy under MFLOPs budgets. No database, no TF.js: the service
 * passes rows in.
 */
import { subnetCost, maxGenome, type SearchSpace } from '../engine/core';
import type { FrontInfo } from '../ipc/api-types';
import { ParetoFront, type ReferencePoint } from '../search/pareto';
import type { EvaluationRow } from '../store/evaluations';

/**
 * The evaluations a run's front is drawn over: those on `split` made on the run's newest evaluated checkpoint (the
 * highest step; a run searched while paused and again after training ends has two, and the older one's accuracies
 * describe weights that no longer exist). Oldest first, as given.
 */
export function frontScope(evals: readonly EvaluationRow[], split: 'val' | 'test' = 'val'): EvaluationRow[] {
  const onSplit = evals.filter((e) => e.split === split);
  if (!onSplit.length) return [];
  const newest = onSplit.reduce((a, b) => (b.checkpointStep > a.checkpointStep || (b.checkpointStep === a.checkpointStep && b.id > a.id) ? b : a));
  return onSplit.filter((e) => e.checkpointSha256 === newest.checkpointSha256);
}

/**
 * The reference point of a run's MFLOPs fronts: the max subnet's MFLOPs (no subnet of the space costs more) and
 * accuracy 0 — the point run-subnets.ts `referencePoint` states for the fronts it stores, computed here without
 * TF.js.
 */
export function mflopsReference(space: SearchSpace, numClasses: number): ReferencePoint {
  return { costRef: subnetCost(space, maxGenome(space), numClasses).mflops, accRef: 0 };
}

/**
 * The front (max accuracy, min cost) of `evals` with `cost(e)` as the cost (evaluations where it is null are left
 * out), its hypervolume against `reference`; null when no evaluation has a cost.
 */
export function frontOf(evals: readonly EvaluationRow[], objective: FrontInfo['objective'], cost: (e: EvaluationRow) => number | null, reference: ReferencePoint): FrontInfo | null {
  const front = new ParetoFront<number>();
  let offered = 0;
  for (const e of evals) {
    const c = cost(e);
    if (c === null) continue;
    offered++;
    front.insert({ id: String(e.id), accuracy: e.accuracy, cost: c, data: e.id });
  }
  if (!offered) return null;
  const points = front.points().map((p) => ({ evaluationId: p.data!, accuracy: p.accuracy, cost: p.cost }));
  return { objective, evaluationIds: points.map((p) => p.evaluationId), points, hypervolume: front.hypervolume(reference), reference: { ...reference } };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A config as dotted keys → leaf values. Objects nest (`optim.lr`); arrays of objects are indexed
 * (`space.stages.3.width`, the paths `runs.check` reports); arrays of plain values (a stage's `width` choices) are
 * one leaf, so a diff shows `[16, 24]` against `[16, 32]` rather than one line per element.
 */
export function flattenConfig(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  const nested = isPlainObject(value) ? Object.entries(value) : Array.isArray(value) && value.some((v) => isPlainObject(v) || Array.isArray(v)) ? value.map((v, i) => [String(i), v] as const) : null;
  if (nested === null || (prefix && nested.length === 0)) {
    if (prefix) out.set(prefix, value);
    return out;
  }
  for (const [k, v] of nested) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/** Keys (in first-seen order) whose values differ between the configs; `values[i]` is config i's (undefined: absent). */
export function configDiff(configs: readonly unknown[]): { key: string; values: unknown[] }[] {
  const flat = configs.map((c) => flattenConfig(c));
  const keys = [...new Set(flat.flatMap((f) => [...f.keys()]))];
  // JSON text compares nested leaves by value; `undefined` (absent) stays distinct from `null`.
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return keys
    .map((key) => ({ key, values: flat.map((f) => f.get(key)) }))
    .filter(({ values }) => values.some((v) => !same(v, values[0])));
}

/**
 * `count` MFLOPs budgets spread evenly from `lo` to `hi` inclusive (the cheapest subnet of any compared space, and
 * the most expensive), and the best accuracy each front reaches within each (null where no point fits). On a front
 * the best point under a budget is the costliest one that fits.
 */
export function budgetTable(fronts: readonly (FrontInfo | null)[], lo: number, hi: number, count = 5): { mflopsMax: number; best: ({ accuracy: number; evaluationId: number } | null)[] }[] {
  const budgets = Array.from({ length: count }, (_, k) => (count === 1 ? hi : lo + ((hi - lo) * k) / (count - 1)));
  return budgets.map((mflopsMax) => ({
    mflopsMax,
    best: fronts.map((f) => {
      const fit = f?.points.filter((p) => p.cost <= mflopsMax) ?? [];
      if (!fit.length) return null;
      const b = fit.reduce((x, y) => (y.accuracy > x.accuracy ? y : x));
      return { accuracy: b.accuracy, evaluationId: b.evaluationId };
    }),
  }));
}
