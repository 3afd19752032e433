import { describe, expect, it } from 'vitest';
import { fitDomain, niceTicks, panBy, pixelsPerUnit, sameDomain, screenBoxToData, tickDecimals, toDataX, toDataY, toScreenX, toScreenY, zoomAt, type Domain, type Viewport } from '../../../src-renderer/lib/pareto/scale';

const vp: Viewport = { left: 60, top: 10, width: 800, height: 400 };
const d: Domain = { x0: 0, x1: 20, y0: 0.5, y1: 0.9 };

describe('screen mapping', () => {
  it('maps the domain corners to the plot corners, y flipped', () => {
    expect(toScreenX(d, vp, 0)).toBe(60);
    expect(toScreenX(d, vp, 20)).toBe(860);
    expect(toScreenY(d, vp, 0.9)).toBeCloseTo(10, 9);
    expect(toScreenY(d, vp, 0.5)).toBeCloseTo(410, 9);
    expect(toScreenX(d, vp, 5)).toBe(260);
  });

  it('round-trips screen ↔ data', () => {
    for (const [x, y] of [
      [3.7, 0.61],
      [19.9, 0.89],
      [-4, 1.2],
    ]) {
      expect(toDataX(d, vp, toScreenX(d, vp, x))).toBeCloseTo(x, 9);
      expect(toDataY(d, vp, toScreenY(d, vp, y))).toBeCloseTo(y, 9);
    }
  });

  it('gives pixels per data unit', () => {
    expect(pixelsPerUnit(d, vp)).toEqual({ sx: 40, sy: 1000 });
  });
});

describe('zoom and pan', () => {
  it('zoomAt keeps the focus point at the same screen position and scales the spans', () => {
    const fx = 7;
    const fy = 0.62;
    const z = zoomAt(d, 2, fx, fy);
    expect(z.x1 - z.x0).toBeCloseTo(10, 9);
    expect(z.y1 - z.y0).toBeCloseTo(0.2, 9);
    expect(toScreenX(z, vp, fx)).toBeCloseTo(toScreenX(d, vp, fx), 9);
    expect(toScreenY(z, vp, fy)).toBeCloseTo(toScreenY(d, vp, fy), 9);
    // Zooming back out restores the window.
    expect(sameDomain(zoomAt(z, 0.5, fx, fy), d)).toBe(true);
  });

  it('zoomAt can limit itself to one axis and rejects bad factors', () => {
    const zx = zoomAt(d, 4, 10, 0.7, 'x');
    expect([zx.x0, zx.x1, zx.y0, zx.y1]).toEqual([7.5, 12.5, 0.5, 0.9]);
    const zy = zoomAt(d, 2, 10, 0.7, 'y');
    expect(zy.x0).toBe(0);
    expect(zy.y1 - zy.y0).toBeCloseTo(0.2, 12);
    expect(() => zoomAt(d, 0, 1, 1)).toThrow('factor must be a positive number');
    expect(() => zoomAt(d, NaN, 1, 1)).toThrow('factor');
  });

  it('panBy moves the data under the pointer with it', () => {
    const p = panBy(d, vp, 80, -40); // right by a tenth of the width, up by a tenth of the height
    expect(p.x0).toBeCloseTo(-2, 9);
    expect(p.x1).toBeCloseTo(18, 9);
    expect(p.y0).toBeCloseTo(0.46, 9);
    expect(p.y1).toBeCloseTo(0.86, 9);
    // The data point that was at screen (300, 200) is now at (380, 160).
    const x = toDataX(d, vp, 300);
    const y = toDataY(d, vp, 200);
    expect(toScreenX(p, vp, x)).toBeCloseTo(380, 9);
    expect(toScreenY(p, vp, y)).toBeCloseTo(160, 9);
  });

  it('screenBoxToData orders the corners', () => {
    const b = screenBoxToData(d, vp, 460, 10, 260, 210);
    expect(b.x0).toBeCloseTo(5, 9);
    expect(b.x1).toBeCloseTo(10, 9);
    expect(b.y0).toBeCloseTo(0.7, 9);
    expect(b.y1).toBeCloseTo(0.9, 9);
  });

  it('sameDomain tolerates rounding only', () => {
    expect(sameDomain(d, { ...d, x1: 20 + 1e-12 })).toBe(true);
    expect(sameDomain(d, { ...d, x1: 20.001 })).toBe(false);
  });
});

describe('fitDomain', () => {
  it('pads the data range by 5 % on each side and ignores non-finite values', () => {
    const f = fitDomain([2, 12, NaN], [0.5, 0.7, 0.9]);
    expect(f.x0).toBeCloseTo(1.5, 12);
    expect(f.x1).toBeCloseTo(12.5, 12);
    expect(f.y0).toBeCloseTo(0.49, 12);
    expect(f.y1).toBeCloseTo(0.71, 12);
  });

  it('widens degenerate spans and falls back to the unit square without points', () => {
    const one = fitDomain([10], [0]);
    expect([one.x0, one.x1, one.y0, one.y1]).toEqual([9.5, 10.5, -1, 1]);
    expect(fitDomain([], [])).toEqual({ x0: 0, x1: 1, y0: 0, y1: 1 });
  });
});

describe('niceTicks', () => {
  it('picks 1/2/5 × 10^k steps inside the range', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(1.3, 24.6, 6)).toEqual([5, 10, 15, 20]);
    expect(niceTicks(48.2, 81.7, 7)).toEqual([50, 55, 60, 65, 70, 75, 80]);
    expect(niceTicks(0.1, 0.4, 3)).toEqual([0.1, 0.2, 0.3, 0.4]); // no 0.30000000000000004
    expect(niceTicks(-3, 3, 6)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  });

  it('handles an empty or inverted range', () => {
    expect(niceTicks(5, 5)).toEqual([5]);
    expect(niceTicks(5, 1)).toEqual([5]);
    expect(niceTicks(NaN, 1)).toEqual([]);
  });

  it('tickDecimals follows the step', () => {
    expect(tickDecimals([0.1, 0.2])).toBe(1);
    expect(tickDecimals([0.05, 0.1])).toBe(2);
    expect(tickDecimals([5, 10])).toBe(0);
  });
});
