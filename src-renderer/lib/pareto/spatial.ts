/**
 * A static 2-D k-d tree for the chart's hit-testing: the nearest point to the mouse (hover, click) and the points in
 * a rectangle (box-select), without scanning every point on each mouse move.
 *
 * The tree is implicit, in the style of kdbush: the point order itself is the tree. A range [lo, hi] splits at its
 * middle element m, partitioned so that everything before m is ≤ it on the range's axis and everything after is ≥;
 * the two halves split on the other axis, down to leaves of at most {@link LEAF} points. Building is O(n log n)
 * (one quickselect per level) and needs no node objects.
 *
 * Points are stored in data units. The nearest-point query takes a per-axis scale (pixels per data unit), so
 * distances — and the search radius — are measured in screen pixels at any zoom, though the axes have different
 * units and zoom independently. Axes are linear, so scaling each axis preserves the pruning bound.
 */

/** Leaf size: below this, scanning beats descending further. */
const LEAF = 16;

export class KdTree {
  /** Number of indexed points. */
  readonly size: number;
  /** Original indices, in tree order. */
  private readonly ids: Uint32Array;
  /** Coordinates in tree order, interleaved x0, y0, x1, y1, … */
  private readonly coords: Float64Array;

  /**
   * Indexes points i = 0…n−1 at (xs[i], ys[i]). Queries return these indices. Non-finite coordinates are left out.
   */
  constructor(xs: ArrayLike<number>, ys: ArrayLike<number>) {
    if (xs.length !== ys.length) throw new Error(`KdTree: ${xs.length} x coordinates but ${ys.length} y coordinates`);
    const keep: number[] = [];
    for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) keep.push(i);
    this.size = keep.length;
    this.ids = Uint32Array.from(keep);
    this.coords = new Float64Array(2 * keep.length);
    keep.forEach((i, k) => {
      this.coords[2 * k] = xs[i];
      this.coords[2 * k + 1] = ys[i];
    });
    this.build(0, this.size - 1, 0);
  }

  private build(lo: number, hi: number, axis: number): void {
    if (hi - lo <= LEAF) return;
    const m = (lo + hi) >> 1;
    this.select(m, lo, hi, axis);
    this.build(lo, m - 1, 1 - axis);
    this.build(m + 1, hi, 1 - axis);
  }

  /** Hoare-style quickselect: puts the k-th smallest (on `axis`) of [lo, hi] at k, smaller before, larger after. */
  private select(k: number, lo: number, hi: number, axis: number): void {
    const c = this.coords;
    while (hi > lo) {
      // Median of three as pivot: sorted or clustered input (search results often arrive sorted) stays O(n).
      const mid = (lo + hi) >> 1;
      if (c[2 * mid + axis] < c[2 * lo + axis]) this.swap(mid, lo);
      if (c[2 * hi + axis] < c[2 * lo + axis]) this.swap(hi, lo);
      if (c[2 * hi + axis] < c[2 * mid + axis]) this.swap(hi, mid);
      const pivot = c[2 * mid + axis];
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (c[2 * i + axis] < pivot) i++;
        while (c[2 * j + axis] > pivot) j--;
        if (i <= j) {
          this.swap(i, j);
          i++;
          j--;
        }
      }
      if (k <= j) hi = j;
      else if (k >= i) lo = i;
      else return;
    }
  }

  private swap(i: number, j: number): void {
    const ids = this.ids;
    const c = this.coords;
    const t = ids[i];
    ids[i] = ids[j];
    ids[j] = t;
    const x = c[2 * i];
    const y = c[2 * i + 1];
    c[2 * i] = c[2 * j];
    c[2 * i + 1] = c[2 * j + 1];
    c[2 * j] = x;
    c[2 * j + 1] = y;
  }

  /**
   * The index of the point nearest to (x, y), or −1 if none lies within `maxDist`.
   * @param sx pixels per data unit on x (default 1: plain data units).
   * @param sy pixels per data unit on y (default 1).
   * @param maxDist search radius in the scaled units (pixels), inclusive. Default Infinity.
   * @param accept optional filter: points it rejects are never returned.
   */
  nearest(x: number, y: number, opts: { sx?: number; sy?: number; maxDist?: number; accept?: (index: number) => boolean } = {}): number {
    const sx = opts.sx ?? 1;
    const sy = opts.sy ?? 1;
    const maxDist = opts.maxDist ?? Infinity;
    const accept = opts.accept;
    const c = this.coords;
    let best = -1;
    let bestD = maxDist * maxDist;
    const consider = (k: number) => {
      const dx = (c[2 * k] - x) * sx;
      const dy = (c[2 * k + 1] - y) * sy;
      const d = dx * dx + dy * dy;
      // Ties go to the lower original index, so results do not depend on the tree's internal order.
      if ((d < bestD || (d === bestD && (best < 0 || this.ids[k] < this.ids[best]))) && (!accept || accept(this.ids[k]))) {
        bestD = d;
        best = k;
      }
    };
    const visit = (lo: number, hi: number, axis: number): void => {
      if (hi < lo) return;
      if (hi - lo <= LEAF) {
        for (let k = lo; k <= hi; k++) consider(k);
        return;
      }
      const m = (lo + hi) >> 1;
      consider(m);
      const delta = (axis === 0 ? x - c[2 * m] : y - c[2 * m + 1]) * (axis === 0 ? sx : sy);
      const [nearLo, nearHi, farLo, farHi] = delta < 0 ? [lo, m - 1, m + 1, hi] : [m + 1, hi, lo, m - 1];
      visit(nearLo, nearHi, 1 - axis);
      if (delta * delta <= bestD) visit(farLo, farHi, 1 - axis);
    };
    visit(0, this.size - 1, 0);
    return best < 0 ? -1 : this.ids[best];
  }

  /** Indices of all points with x0 ≤ x ≤ x1 and y0 ≤ y ≤ y1 (bounds in either order), in ascending index order. */
  within(x0: number, y0: number, x1: number, y1: number): number[] {
    const [ax, bx] = x0 <= x1 ? [x0, x1] : [x1, x0];
    const [ay, by] = y0 <= y1 ? [y0, y1] : [y1, y0];
    const c = this.coords;
    const out: number[] = [];
    const inside = (k: number) => {
      const px = c[2 * k];
      const py = c[2 * k + 1];
      if (px >= ax && px <= bx && py >= ay && py <= by) out.push(this.ids[k]);
    };
    const stack: number[] = [0, this.size - 1, 0];
    while (stack.length) {
      const axis = stack.pop()!;
      const hi = stack.pop()!;
      const lo = stack.pop()!;
      if (hi < lo) continue;
      if (hi - lo <= LEAF) {
        for (let k = lo; k <= hi; k++) inside(k);
        continue;
      }
      const m = (lo + hi) >> 1;
      inside(m);
      const v = c[2 * m + axis];
      const [min, max] = axis === 0 ? [ax, bx] : [ay, by];
      if (min <= v) stack.push(lo, m - 1, 1 - axis);
      if (max >= v) stack.push(m + 1, hi, 1 - axis);
    }
    return out.sort((a, b) => a - b);
  }
}
