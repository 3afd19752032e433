/**
 * How a point's numbers read, in one place: the tooltip, the screen-reader table and the live announcement all use
 * these, so they always agree.
 */
import { formatPercent } from '../format';
import type { ExplorerPoint } from './types';

/** Accuracy (0–1) as a percentage with two decimals: 0.7321 → "73.21 %". */
export function fmtAccuracy(a: number): string {
  return formatPercent(a, 2);
}

/** MFLOPs with three significant digits at most, at least one decimal below 100: 12.345 → "12.3". */
export function fmtMflops(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Millions of parameters with two decimals: 1.2345 → "1.23". */
export function fmtMparams(v: number): string {
  return v.toFixed(2);
}

/** Latency in ms, or "not measured". */
export function fmtLatency(v: number | null): string {
  return v === null ? 'not measured' : `${v >= 100 ? v.toFixed(0) : v.toFixed(2)} ms`;
}

/** The summary lines of a point, label and value: what the tooltip shows. */
export function summaryRows(p: ExplorerPoint): [string, string][] {
  return [
    ['accuracy', fmtAccuracy(p.accuracy)],
    ['MFLOPs', fmtMflops(p.mflops)],
    ['params', `${fmtMparams(p.mparams)} M`],
    ['latency', fmtLatency(p.latencyMs)],
  ];
}

/** One sentence for screen readers: "subnet a3f, 73.21 % accuracy, 12.3 MFLOPs, 1.23 M params, latency 4.10 ms". */
export function summarySentence(p: ExplorerPoint): string {
  return `subnet ${p.id}, ${fmtAccuracy(p.accuracy)} accuracy, ${fmtMflops(p.mflops)} MFLOPs, ${fmtMparams(p.mparams)} M params, latency ${fmtLatency(p.latencyMs)}`;
}
