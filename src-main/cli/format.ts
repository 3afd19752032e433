/**
 * Text formatting shared by the command files: numbers, percentages, durations, one evaluation in a line, a front
 * as a table. (Each command's own layouts stay in its file.)
 */
import type { Db } from '../store/db';
import { getEvaluation, type EvaluationRow } from '../store/evaluations';
import { type FrontRow } from '../store/fronts';

/** `x` with `d` decimals; a non-finite value as is (`NaN`, `Infinity`). */
export const fx = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** A fraction as a percentage with one decimal; `–` for none. */
export const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

/** Seconds as `1h02m`, `3m05s` or `42s`; `?` when unknown. */
export const duration = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
};

/** One evaluation in a line: accuracy (and before calibration), loss, MFLOPs, params, latency. */
export function evaluationLine(e: EvaluationRow): string {
  const before = e.before ? ` (before BN calibration ${pct(e.before.accuracy)})` : '';
  const lat = e.latency ? `, ${fx(e.latency.ms)} ms (${e.latency.method}, batch ${e.latency.batch})` : '';
  return `top-1 ${pct(e.accuracy)}${before} on ${e.split} (${e.images} images), loss ${fx(e.loss, 3)}, ${fx(e.mflops)} MFLOPs, ${fx(e.mparams, 3)} M params${lat}`;
}

/** A front as a table, with its hypervolume and reference point. */
export function frontTable(db: Db, f: FrontRow): string {
  const unit = f.objective === 'latency' ? 'ms' : 'MFLOPs';
  const rows = f.points.map((p, i) => {
    const e = getEvaluation(db, p.data!.evaluationId);
    return `${String(i + 1).padStart(4)}  ${String(e.id).padStart(6)}  ${e.genomeId}  ${pct(e.accuracy).padStart(6)}  ${fx(p.cost).padStart(9)}  ${fx(e.mparams, 3).padStart(8)}`;
  });
  return [
    `${'rank'.padStart(4)}  ${'eval'.padStart(6)}  ${'subnet'.padEnd(12)}  ${'top-1'.padStart(6)}  ${unit.padStart(9)}  ${'M params'.padStart(8)}`,
    ...rows,
    `${f.points.length} on the front of ${f.offered} offered; hypervolume ${f.hypervolume.toPrecision(5)} (${unit} × accuracy) against the reference point (${unit} ${fx(f.reference.costRef, 3)}, top-1 ${pct(f.reference.accRef)})`,
  ].join('\n');
}
