/**
 * The chart's coordinate maths: the visible data window (domain), its mapping to the plot area in CSS pixels, and
 * what zoom, pan and box-select do to it. Pure functions, so they are tested without a canvas.
 *
 * Both axes are linear. Screen y grows downwards, data y (accuracy) upwards.
 */

/** The visible data window: x from x0 to x1, y from y0 to y1 (x0 < x1, y0 < y1). */
export interface Domain {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The plot area inside the canvas, in CSS pixels. */
export interface Viewport {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Data x → screen x. */
export function toScreenX(d: Domain, vp: Viewport, x: number): number {
  return vp.left + ((x - d.x0) / (d.x1 - d.x0)) * vp.width;
}

/** Data y → screen y (flipped). */
export function toScreenY(d: Domain, vp: Viewport, y: number): number {
  return vp.top + (1 - (y - d.y0) / (d.y1 - d.y0)) * vp.height;
}

/** Screen x → data x. */
export function toDataX(d: Domain, vp: Viewport, sx: number): number {
  return d.x0 + ((sx - vp.left) / vp.width) * (d.x1 - d.x0);
}

/** Screen y → data y. */
export function toDataY(d: Domain, vp: Viewport, sy: number): number {
  return d.y0 + (1 - (sy - vp.top) / vp.height) * (d.y1 - d.y0);
}

/** Pixels per data unit on each axis (for pixel-radius hit-testing in data space). */
export function pixelsPerUnit(d: Domain, vp: Viewport): { sx: number; sy: number } {
  return { sx: vp.width / (d.x1 - d.x0), sy: vp.height / (d.y1 - d.y0) };
}

/**
 * The window that shows all of the given points with `pad` (fraction of each span, default 0.05) to spare. A
 * degenerate span (one point, or all equal) is widened to ±5 % of the value, or ±1 around zero. No points at all:
 * x 0–1, y 0–1.
 */
export function fitDomain(xs: ArrayLike<number>, ys: ArrayLike<number>, pad = 0.05): Domain {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const y = ys[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (x0 > x1) return { x0: 0, x1: 1, y0: 0, y1: 1 };
  const span = (lo: number, hi: number): [number, number] => {
    if (hi > lo) {
      const p = (hi - lo) * pad;
      return [lo - p, hi + p];
    }
    const w = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    return [lo - w, hi + w];
  };
  const [ax, bx] = span(x0, x1);
  const [ay, by] = span(y0, y1);
  return { x0: ax, x1: bx, y0: ay, y1: by };
}

/**
 * Zooms by `factor` (> 1 zooms in, < 1 out) keeping the data point (fx, fy) fixed on screen, e.g. the one under
 * the mouse wheel. `axes` limits the zoom to one axis.
 */
export function zoomAt(d: Domain, factor: number, fx: number, fy: number, axes: 'both' | 'x' | 'y' = 'both'): Domain {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new Error(`zoomAt: factor must be a positive number, got ${factor}`);
  const zx = axes === 'y' ? 1 : factor;
  const zy = axes === 'x' ? 1 : factor;
  return {
    x0: fx - (fx - d.x0) / zx,
    x1: fx + (d.x1 - fx) / zx,
    y0: fy - (fy - d.y0) / zy,
    y1: fy + (d.y1 - fy) / zy,
  };
}

/** The window after dragging the plot by (dx, dy) screen pixels: the data under the pointer follows it. */
export function panBy(d: Domain, vp: Viewport, dx: number, dy: number): Domain {
  const ux = (dx / vp.width) * (d.x1 - d.x0);
  const uy = (dy / vp.height) * (d.y1 - d.y0);
  return { x0: d.x0 - ux, x1: d.x1 - ux, y0: d.y0 + uy, y1: d.y1 + uy };
}

/** The data rectangle spanned by two screen points (a box drag), ordered so that x0 ≤ x1, y0 ≤ y1. */
export function screenBoxToData(d: Domain, vp: Viewport, ax: number, ay: number, bx: number, by: number): Domain {
  const x = [toDataX(d, vp, ax), toDataX(d, vp, bx)].sort((p, q) => p - q);
  const y = [toDataY(d, vp, ay), toDataY(d, vp, by)].sort((p, q) => p - q);
  return { x0: x[0], x1: x[1], y0: y[0], y1: y[1] };
}

/** Whether two windows are the same (to within a part in 1e9 of their spans): "is the chart zoomed?". */
export function sameDomain(a: Domain, b: Domain): boolean {
  const ex = (Math.abs(a.x1 - a.x0) + Math.abs(b.x1 - b.x0)) * 5e-10;
  const ey = (Math.abs(a.y1 - a.y0) + Math.abs(b.y1 - b.y0)) * 5e-10;
  return Math.abs(a.x0 - b.x0) <= ex && Math.abs(a.x1 - b.x1) <= ex && Math.abs(a.y0 - b.y0) <= ey && Math.abs(a.y1 - b.y1) <= ey;
}

/**
 * "Nice" tick values covering [lo, hi]: multiples of 1, 2 or 5 × 10^k, about `count` of them (default 6), all
 * inside the range. Values are rounded to the step's decimals, so 0.1 + 0.2 prints as 0.3.
 */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag; // in [1, 10)
  // Round the raw step to the nearest of 1, 2, 5, 10 (geometric midpoints), so the count stays close to `count`.
  const s = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(s) + 1e-9));
  const out: number[] = [];
  for (let k = Math.ceil(lo / s - 1e-9); k * s <= hi + s * 1e-9; k++) out.push(Number((k * s).toFixed(decimals)));
  return out;
}

/** The number of decimals a tick step needs (for labels): 0.05 → 2, 2 → 0. */
export function tickDecimals(ticks: readonly number[]): number {
  if (ticks.length < 2) return 2;
  const s = Math.abs(ticks[1] - ticks[0]);
  return Math.max(0, -Math.floor(Math.log10(s) + 1e-9));
}
