/**
 * The two-objective Pareto front of a static set of points — maximise accuracy, minimise cost — for drawing.
 *
 * The search library keeps a front incrementally as candidates arrive (`src-main/search/pareto.ts`, a treap); the
 * chart instead gets a whole point set at once (and again after every budget or axis change), where one sort and one
 * scan is the simplest O(n log n): after sorting by cost ascending (ties: accuracy descending), a point is on the
 * front iff its accuracy beats every point before it. Same tie rule as the library: of points equal in both
 * objectives only the first in input order is kept, and a point with equal cost but lower accuracy is dominated.
 */

/**
 * Indices of the front among `items`, in increasing cost (and so strictly increasing accuracy). Items whose cost or
 * accuracy is not finite are skipped. O(n log n).
 * @param cost the cost of an item (lower is better), e.g. MFLOPs or latency in ms.
 * @param accuracy the accuracy of an item (higher is better).
 * @param subset restrict to these indices (default: all items).
 */
export function frontIndices<T>(
  items: readonly T[],
  cost: (item: T) => number,
  accuracy: (item: T) => number,
  subset?: readonly number[],
): number[] {
  const idx = (subset ?? items.map((_, i) => i)).filter((i) => Number.isFinite(cost(items[i])) && Number.isFinite(accuracy(items[i])));
  const c = new Float64Array(items.length);
  const a = new Float64Array(items.length);
  for (const i of idx) {
    c[i] = cost(items[i]);
    a[i] = accuracy(items[i]);
  }
  // Input order as the last key keeps the first of exact duplicates (Array.prototype.sort is stable, but be explicit).
  idx.sort((i, j) => c[i] - c[j] || a[j] - a[i] || i - j);
  const out: number[] = [];
  let best = -Infinity;
  for (const i of idx) {
    if (a[i] > best) {
      out.push(i);
      best = a[i];
    }
  }
  return out;
}

/**
 * The vertices of the front's step line: the best accuracy reachable at each cost. From each front point the line
 * runs right at that accuracy to the next point's cost, then up; after the last point it runs right to `xEnd`
 * (when given and larger). `front` must be in increasing cost, as {@link frontIndices} returns it.
 */
export function stepVertices(front: readonly { x: number; y: number }[], xEnd?: number): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  for (let k = 0; k < front.length; k++) {
    const p = front[k];
    if (k > 0) out.push({ x: p.x, y: front[k - 1].y });
    out.push({ x: p.x, y: p.y });
  }
  const last = front[front.length - 1];
  if (last && xEnd !== undefined && xEnd > last.x) out.push({ x: xEnd, y: last.y });
  return out;
}
