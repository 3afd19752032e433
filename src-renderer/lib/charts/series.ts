/**
 * Turns a run's metrics into chart series. Pure, so it is tested without a canvas.
 */
import type { RunEpochPoint, RunStepPoint } from '../../../src-main/ipc/api-types';

/** One line: its name and [x, y] points (y null = a gap). */
export interface Series {
  name: string;
  points: [number, number | null][];
}

/** Sandwich roles in the order the trainer runs them: max, random-1…, min. */
function roleOrder(a: string, b: string): number {
  const rank = (r: string): number => (r === 'max' ? -1 : r === 'min' ? 1e9 : Number(r.replace(/\D+/g, '')) || 0);
  return rank(a) - rank(b);
}

/** The loss of each sandwich member over steps, one series per role. */
export function lossSeries(steps: RunStepPoint[]): Series[] {
  const byRole = new Map<string, [number, number | null][]>();
  for (const p of steps) {
    for (const { role, loss } of p.losses) {
      let pts = byRole.get(role);
      if (!pts) byRole.set(role, (pts = []));
      pts.push([p.step, loss]);
    }
  }
  return [...byRole.keys()].sort(roleOrder).map((name) => ({ name, points: byRole.get(name) ?? [] }));
}

/** One value of each step point as a series. */
export function stepSeries(steps: RunStepPoint[], name: string, pick: (p: RunStepPoint) => number | null): Series {
  return { name, points: steps.map((p) => [p.step, pick(p)]) };
}

/**
 * Validation top-1 over epochs: one series per validated subnet (max first, min last). The store's epochs are
 * 0-based; the chart counts them from 1, as the CLI's "epoch 1 validation" does.
 */
export function accuracySeries(epochs: RunEpochPoint[]): Series[] {
  const bySubnet = new Map<string, [number, number | null][]>();
  for (const p of epochs) {
    let pts = bySubnet.get(p.subnet);
    if (!pts) bySubnet.set(p.subnet, (pts = []));
    pts.push([p.epoch + 1, p.valTop1]);
  }
  return [...bySubnet.keys()].sort(roleOrder).map((name) => ({ name, points: bySubnet.get(name) ?? [] }));
}
