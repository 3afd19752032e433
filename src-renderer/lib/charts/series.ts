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

/**
 * One series per sandwich member over steps: the max subnet's loss (label-smoothed CE) and, for each distilled member,
 * its divergence to the max subnet where the step recorded one. Not the α surrogate the optimiser sees: that value can
 * be negative and reads as nonsense on a chart (it stays in the metrics export). Members without a divergence
 * (distillation `none`, runs recorded before it was logged) plot their loss.
 */
export function lossSeries(steps: RunStepPoint[]): Series[] {
  const byRole = new Map<string, [number, number | null][]>();
  for (const p of steps) {
    for (const { role, loss, divergence } of p.losses) {
      let pts = byRole.get(role);
      if (!pts) byRole.set(role, (pts = []));
      pts.push([p.step, divergence ?? loss]);
    }
  }
  return [...byRole.keys()].sort(roleOrder).map((name) => ({ name, points: byRole.get(name) ?? [] }));
}

/** What the loss chart plots for a run distilled with `distillation` (the run summary's kind), as its title. */
export function lossChartTitle(distillation: string): string {
  const max = 'max subnet: label-smoothed cross-entropy';
  switch (distillation) {
    case 'adaptive-alpha':
      return `Training loss — ${max}; others: the selected α-divergence to it (the larger of D_α₋ and D_α₊; not the surrogate)`;
    case 'alpha':
      return `Training loss — ${max}; others: the clipped α-divergence to it (not the surrogate)`;
    case 'kl':
      return `Training loss — ${max}; others: KL divergence to it`;
    default:
      return `Training loss — ${max}; others: cross-entropy on the labels (no distillation)`;
  }
}

/**
 * The per-step shares chart of a run distilled with `distillation`: the α₋ share (the fraction of distilled samples
 * whose selected divergence was D_α₋) only where adaptive α selects one; the share of gradient elements clipped by
 * value for every run.
 */
export function sharesChart(distillation: string, steps: RunStepPoint[]): { title: string; series: Series[] } {
  const clipped = stepSeries(steps, 'clipped share', (p) => p.clippedShare);
  return distillation === 'adaptive-alpha'
    ? { title: 'α₋ share of distilled samples, clipped share of gradients', series: [stepSeries(steps, 'α₋ share', (p) => p.alphaMinShare), clipped] }
    : { title: 'Clipped share of gradients (per step)', series: [clipped] };
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
