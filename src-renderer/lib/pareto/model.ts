/**
 * Everything the chart derives from its inputs, computed once per input change and never per mouse move. In two
 * stages, so that dragging a budget slider does not redo the expensive part:
 * - {@link buildBase} (points, axis, series): the shown points as flat coordinate arrays, series membership, each
 *   series' front and the k-d tree for hit-testing — O(n log n);
 * - {@link applyBudget} (base, budget): feasibility and each series' best point within the budget — O(n).
 */
import { hasBudget, isFeasible } from './budget';
import { frontIndices } from './front';
import { KdTree } from './spatial';
import type { Budget, ExplorerPoint, SeriesDef, XAxis } from './types';

/** The series id of points that name none. */
export const DEFAULT_SERIES = '';

export interface BaseSeries extends SeriesDef {
  /** Position in the palette (series i gets colour i mod palette size). */
  colorIndex: number;
  /** Shown points in the series. */
  count: number;
  /** Indices into {@link BaseModel.points} of the series' front, in increasing cost. */
  front: number[];
}

export interface SeriesView extends BaseSeries {
  /** Index of the most accurate point the budget allows (ties: the cheaper), −1 if none or no budget is set. */
  best: number;
}

/** The budget-independent part of the model. */
export interface BaseModel {
  xAxis: XAxis;
  /** The points shown on this axis (in latency mode, those with a latency), in input order. */
  points: ExplorerPoint[];
  /** Cost of each shown point on the x axis (MFLOPs or ms). */
  xs: Float64Array;
  /** Accuracy of each shown point (0–1). */
  ys: Float64Array;
  /** Index into {@link series} of each shown point. */
  seriesOf: Uint16Array;
  series: BaseSeries[];
  /** Input points left out because they have no latency (latency axis only). */
  omitted: number;
  /** Hit-testing index over (xs, ys). */
  index: KdTree;
  /** Point id → index into {@link points}. */
  byId: Map<string, number>;
}

export interface ExplorerModel extends BaseModel {
  series: SeriesView[];
  /** 1 where the budget allows the point. */
  feasible: Uint8Array;
  feasibleCount: number;
  budgetSet: boolean;
}

/**
 * The budget-independent model. Throws an Error naming the point and field when a point has a duplicate id or a
 * non-finite accuracy, MFLOPs or params, or a latency that is neither null nor a finite number, rather than drawing
 * nonsense. Series: those in `seriesDefs` first, in that order; a point naming an unknown series adds one labelled
 * with its id; points naming none form the series {@link DEFAULT_SERIES}, labelled "subnets".
 */
export function buildBase(input: readonly ExplorerPoint[], xAxis: XAxis, seriesDefs: readonly SeriesDef[] = []): BaseModel {
  const series: BaseSeries[] = [];
  const seriesIndex = new Map<string, number>();
  const members: number[][] = [];
  const addSeries = (id: string, label: string) => {
    seriesIndex.set(id, series.length);
    series.push({ id, label, colorIndex: series.length, count: 0, front: [] });
    members.push([]);
  };
  for (const s of seriesDefs) if (!seriesIndex.has(s.id)) addSeries(s.id, s.label);

  const points: ExplorerPoint[] = [];
  let omitted = 0;
  const byId = new Map<string, number>();
  for (const p of input) {
    if (byId.has(p.id)) throw new Error(`points: duplicate id '${p.id}'`);
    byId.set(p.id, -1);
    for (const key of ['accuracy', 'mflops', 'mparams'] as const) {
      if (!Number.isFinite(p[key])) throw new Error(`points: '${p.id}' has ${key} ${p[key]} (need a finite number)`);
    }
    if (p.latencyMs !== null && !Number.isFinite(p.latencyMs)) throw new Error(`points: '${p.id}' has latencyMs ${p.latencyMs} (need a finite number or null)`);
    if (xAxis === 'latency' && p.latencyMs === null) {
      omitted++;
      continue;
    }
    points.push(p);
  }
  byId.clear();

  const cost = (p: ExplorerPoint): number => (xAxis === 'latency' ? (p.latencyMs as number) : p.mflops);
  const n = points.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const seriesOf = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const p = points[i];
    byId.set(p.id, i);
    xs[i] = cost(p);
    ys[i] = p.accuracy;
    const sid = p.series ?? DEFAULT_SERIES;
    if (!seriesIndex.has(sid)) addSeries(sid, sid === DEFAULT_SERIES ? 'subnets' : sid);
    const s = seriesIndex.get(sid)!;
    seriesOf[i] = s;
    members[s].push(i);
  }
  series.forEach((s, k) => {
    s.count = members[k].length;
    s.front = frontIndices(points, cost, (p) => p.accuracy, members[k]);
  });
  return { xAxis, points, xs, ys, seriesOf, series, omitted, index: new KdTree(xs, ys), byId };
}

/** Adds the budget's view to a base model: feasibility per point and each series' best feasible point. */
export function applyBudget(base: BaseModel, budget: Budget): ExplorerModel {
  const { points, xs, ys, seriesOf } = base;
  const n = points.length;
  const feasible = new Uint8Array(n);
  const budgetSet = hasBudget(budget);
  const best = base.series.map(() => -1);
  let feasibleCount = 0;
  for (let i = 0; i < n; i++) {
    if (!isFeasible(points[i], budget)) continue;
    feasible[i] = 1;
    feasibleCount++;
    const s = seriesOf[i];
    const b = best[s];
    if (b < 0 || ys[i] > ys[b] || (ys[i] === ys[b] && xs[i] < xs[b])) best[s] = i;
  }
  const series = base.series.map((s, k) => ({ ...s, best: budgetSet ? best[k] : -1 }));
  return { ...base, series, feasible, feasibleCount, budgetSet };
}

/** Both stages at once: {@link applyBudget}({@link buildBase}(…), budget). */
export function buildModel(input: readonly ExplorerPoint[], xAxis: XAxis, budget: Budget, seriesDefs: readonly SeriesDef[] = []): ExplorerModel {
  return applyBudget(buildBase(input, xAxis, seriesDefs), budget);
}
