/**
 * A two-objective Pareto front — maximise accuracy, minimise cost (MFLOPs or latency) — maintained incrementally.
 *
 * The front is kept as a treap (randomised balanced search tree) ordered by cost. On the front, cost and accuracy
 * both increase strictly, so a single order serves both objectives and every operation is a split or a merge:
 *   - a new point p is dominated (or tied) iff its cost-predecessor q (largest cost ≤ p.cost) has q.acc ≥ p.acc —
 *     O(log n);
 *   - otherwise the points p dominates (cost ≥ p.cost and acc ≤ p.acc) form one contiguous run right after p's
 *     position: split it off and drop it — O(log n) plus O(1) amortised per removed point (a point leaves once).
 * n insertions therefore cost O(n log n) expected. Priorities come from a seeded generator, so the tree (and hence
 * timing) is deterministic; the *content* of the front never depends on them.
 *
 * Ties are stable: a point equal in both objectives to a front point is rejected, so the first one inserted stays.
 *
 * Hypervolume (the area dominated by the front and bounded by a reference point (costRef, accRef), i.e. the set of
 * (cost, acc) with cost ≤ costRef, acc ≥ accRef that some front point dominates) is computed exactly as a sum of
 * rectangles over the sorted front.
 */
import { Rng } from '../engine/core';

export interface FrontPoint<T = unknown> {
  /** A unique key (a genome ID). */
  id: string;
  accuracy: number;
  cost: number;
  /** Anything the caller wants carried along (must be JSON-serialisable to use `toJSON`). */
  data?: T;
}

export interface ReferencePoint {
  /** The worst cost that still counts (points with cost ≥ costRef add nothing). */
  costRef: number;
  /** The worst accuracy that still counts (points with accuracy ≤ accRef add nothing). */
  accRef: number;
}

export interface ParetoFrontJson<T = unknown> {
  version: 1;
  /** Front points in increasing cost. */
  points: FrontPoint<T>[];
  /** How many points were offered (accepted or not). */
  offered: number;
}

interface Node<T> {
  p: FrontPoint<T>;
  prio: number;
  l: Node<T> | null;
  r: Node<T> | null;
}

/** Splits by cost: left gets cost < c, right cost ≥ c. */
function splitCost<T>(t: Node<T> | null, c: number): [Node<T> | null, Node<T> | null] {
  if (!t) return [null, null];
  if (t.p.cost < c) {
    const [a, b] = splitCost(t.r, c);
    t.r = a;
    return [t, b];
  }
  const [a, b] = splitCost(t.l, c);
  t.l = b;
  return [a, t];
}

/** Splits by accuracy (valid because accuracy increases with cost on a front): left gets acc ≤ a. */
function splitAcc<T>(t: Node<T> | null, acc: number): [Node<T> | null, Node<T> | null] {
  if (!t) return [null, null];
  if (t.p.accuracy <= acc) {
    const [a, b] = splitAcc(t.r, acc);
    t.r = a;
    return [t, b];
  }
  const [a, b] = splitAcc(t.l, acc);
  t.l = b;
  return [a, t];
}

function merge<T>(a: Node<T> | null, b: Node<T> | null): Node<T> | null {
  if (!a) return b;
  if (!b) return a;
  if (a.prio > b.prio) {
    a.r = merge(a.r, b);
    return a;
  }
  b.l = merge(a, b.l);
  return b;
}

function count<T>(t: Node<T> | null): number {
  let n = 0;
  const stack: Node<T>[] = [];
  let cur = t;
  while (cur || stack.length) {
    while (cur) {
      stack.push(cur);
      cur = cur.l;
    }
    cur = stack.pop()!;
    n++;
    cur = cur.r;
  }
  return n;
}

function rightmost<T>(t: Node<T> | null): Node<T> | null {
  while (t && t.r) t = t.r;
  return t;
}

function leftmost<T>(t: Node<T> | null): Node<T> | null {
  while (t && t.l) t = t.l;
  return t;
}

/** `a` dominates `b`: no worse in both objectives and better in one. */
export function dominates(a: { accuracy: number; cost: number }, b: { accuracy: number; cost: number }): boolean {
  return a.cost <= b.cost && a.accuracy >= b.accuracy && (a.cost < b.cost || a.accuracy > b.accuracy);
}

export class ParetoFront<T = unknown> {
  private root: Node<T> | null = null;
  private n = 0;
  private rng: Rng;
  /** Points offered to `insert`, accepted or not. */
  offered = 0;

  /** `seed` only shapes the tree (priorities), never its content. */
  constructor(seed = 0x5eed) {
    this.rng = new Rng(seed);
  }

  get size(): number {
    return this.n;
  }

  /**
   * Offers a point. Returns true when it joins the front (removing the points it dominates), false when a front
   * point dominates it or equals it in both objectives. NaN objectives are rejected with an error.
   */
  insert(p: FrontPoint<T>): boolean {
    if (!Number.isFinite(p.accuracy) || !Number.isFinite(p.cost)) throw new Error(`point '${p.id}' has a non-finite objective (accuracy ${p.accuracy}, cost ${p.cost})`);
    this.offered++;
    const [left, right] = splitCost(this.root, p.cost);
    // The cost-predecessor is the largest cost ≤ p.cost: the leftmost of `right` if it has exactly p.cost,
    // otherwise the rightmost of `left`. On a front it has the best accuracy among all points with cost ≤ p.cost.
    const sameCost = leftmost(right);
    const pred = sameCost && sameCost.p.cost === p.cost ? sameCost : rightmost(left);
    if (pred && pred.p.accuracy >= p.accuracy) {
      this.root = merge(left, right);
      return false;
    }
    // Everything in `right` has cost ≥ p.cost; the prefix with accuracy ≤ p.accuracy is dominated by p.
    const [dominated, keep] = splitAcc(right, p.accuracy);
    this.n -= count(dominated);
    const node: Node<T> = { p, prio: this.rng.next(), l: null, r: null };
    this.root = merge(merge(left, node), keep);
    this.n++;
    return true;
  }

  /** Whether a point with these objectives would be rejected (dominated by or equal to a front point). */
  isDominated(q: { accuracy: number; cost: number }): boolean {
    let t = this.root;
    let best: Node<T> | null = null;
    while (t) {
      if (t.p.cost <= q.cost) {
        best = t;
        t = t.r;
      } else t = t.l;
    }
    return best !== null && best.p.accuracy >= q.accuracy;
  }

  /** The front in increasing cost (and increasing accuracy). */
  points(): FrontPoint<T>[] {
    const out: FrontPoint<T>[] = [];
    const stack: Node<T>[] = [];
    let cur = this.root;
    while (cur || stack.length) {
      while (cur) {
        stack.push(cur);
        cur = cur.l;
      }
      cur = stack.pop()!;
      out.push(cur.p);
      cur = cur.r;
    }
    return out;
  }

  has(id: string): boolean {
    return this.points().some((p) => p.id === id);
  }

  hypervolume(ref: ReferencePoint): number {
    return hypervolume(this.points(), ref);
  }

  toJSON(): ParetoFrontJson<T> {
    return { version: 1, points: this.points(), offered: this.offered };
  }

  static fromJSON<T>(json: ParetoFrontJson<T>, seed?: number): ParetoFront<T> {
    if (json.version !== 1) throw new Error(`unsupported Pareto front version ${String(json.version)}`);
    const f = new ParetoFront<T>(seed);
    for (const p of json.points) {
      if (!f.insert(p)) throw new Error(`serialised front is not a front: '${p.id}' is dominated or duplicated`);
    }
    f.offered = json.offered;
    return f;
  }

  /** The front of any point set. */
  static of<T>(points: Iterable<FrontPoint<T>>): ParetoFront<T> {
    const f = new ParetoFront<T>();
    for (const p of points) f.insert(p);
    return f;
  }
}

/**
 * Exact 2-D hypervolume of a point set (dominated points and points outside the reference box add nothing):
 * for the front sorted by cost, Σ (next cost − cost) · (accuracy − accRef), each factor clipped at the reference.
 */
export function hypervolume(points: readonly { accuracy: number; cost: number }[], ref: ReferencePoint): number {
  const pts = points
    .filter((p) => p.cost < ref.costRef && p.accuracy > ref.accRef)
    .slice()
    .sort((a, b) => a.cost - b.cost || b.accuracy - a.accuracy);
  let hv = 0;
  let best = ref.accRef; // best accuracy reachable so far at the current cost
  for (let i = 0; i < pts.length; i++) {
    best = Math.max(best, pts[i].accuracy);
    const next = i + 1 < pts.length ? Math.min(pts[i + 1].cost, ref.costRef) : ref.costRef;
    hv += (next - pts[i].cost) * (best - ref.accRef);
  }
  return hv;
}

/**
 * Non-dominated sorting: layer 0 is the front, layer 1 the front of what remains, and so on, until at least
 * `minCount` points are taken (all layers when omitted). Used to pick parents when the front alone is small.
 */
export function paretoLayers<T>(points: readonly FrontPoint<T>[], minCount = Infinity): FrontPoint<T>[][] {
  let rest = points.slice();
  const layers: FrontPoint<T>[][] = [];
  let taken = 0;
  while (rest.length && taken < minCount) {
    const front = ParetoFront.of(rest);
    const ids = new Set(front.points().map((p) => p.id));
    // Points tied with a front point are not on the front (stable ties) and fall to the next layer.
    layers.push(front.points());
    taken += ids.size;
    rest = rest.filter((p) => !ids.has(p.id));
  }
  return layers;
}
