/**
 * Evaluated subnets as the pages show them: points for the Pareto explorer, the genome as a per-stage table, run
 * labels that tell runs apart at a glance (name + distillation), and a few number formats. Pure: tested without a DOM.
 */
import type { GenomeInfo, RunSummary, SubnetEvaluation } from '../../src-main/ipc/api-types';
import { DISTILLATION_LABELS } from './format';
import type { Budget, ExplorerPoint } from './pareto';
import type { BudgetForm } from './search-form';

/** “alpha-run · adaptive α”: what legends and headings call a run. */
export function runLabel(run: Pick<RunSummary, 'name' | 'distillation'>): string {
  return `${run.name} · ${DISTILLATION_LABELS[run.distillation] ?? run.distillation}`;
}

/**
 * The evaluations a Pareto chart shows, the same scope as the service's fronts (service/compare.ts `frontScope`):
 * validation-split ones only (test-split results are for reporting), made on the newest evaluated checkpoint (older
 * ones describe weights that no longer exist), one per genome — the newest, since a re-evaluation supersedes the old
 * number. Input order is kept otherwise.
 */
export function chartEvaluations(evals: readonly SubnetEvaluation[]): SubnetEvaluation[] {
  const newest = new Map<string, SubnetEvaluation>();
  // A loop, not a spread into Math.max: a large archive would overflow the argument limit.
  let step = -Infinity;
  for (const e of evals) if (e.split === 'val') step = Math.max(step, e.checkpointStep);
  for (const e of evals) {
    if (e.split !== 'val' || e.checkpointStep !== step) continue;
    const have = newest.get(e.genomeId);
    if (!have || e.id > have.id) newest.set(e.genomeId, e);
  }
  return evals.filter((e) => newest.get(e.genomeId) === e);
}

/**
 * A chart point for an evaluation. `series`: the run's series id on a chart of several runs, where the same genome
 * can appear in two runs of one space, so the point's id then names the run as well.
 */
export function toPoint(e: SubnetEvaluation, series?: string): ExplorerPoint {
  return {
    id: series === undefined ? e.genomeId : `${e.genomeId} · run ${e.runId}`,
    accuracy: e.accuracy,
    mflops: e.mflops,
    latencyMs: e.latencyMs,
    mparams: e.mparams,
    runId: e.runId,
    pinned: e.pinned,
    ...(series === undefined ? {} : { series }),
  };
}

/** One row of the genome table. Depth, kernel and expand ratio exist for the MB stages only (null elsewhere). */
export interface GenomeRow {
  name: string;
  width: number;
  depth: number | null;
  kernel: number | null;
  expand: number | null;
}

/**
 * The genome per stage: the first conv, each MB stage, the last conv. Width genes cover all of them; depth, kernel
 * and expand genes the MB stages only (engine `Genome`). `stageNames` may name every width gene or the MB stages
 * alone; missing names become `first conv`/`stage i`/`last conv`.
 */
export function genomeRows(g: GenomeInfo, stageNames: readonly string[]): GenomeRow[] {
  const n = g.width.length;
  const mb = g.depth.length;
  // Width genes beyond the MB stages: one first and one last conv in every space the engine builds.
  const lead = n - mb >= 2 ? 1 : 0;
  const names = stageNames.length === n ? stageNames : stageNames.length === mb ? [...(lead ? ['first conv'] : []), ...stageNames, 'last conv'] : [];
  return g.width.map((width, i) => {
    const s = i - lead;
    const isStage = s >= 0 && s < mb;
    return {
      name: names[i] ?? (isStage ? `stage ${s + 1}` : i === 0 ? 'first conv' : 'last conv'),
      width,
      depth: isStage ? (g.depth[s] ?? null) : null,
      kernel: isStage ? (g.kernelSize[s] ?? null) : null,
      expand: isStage ? (g.expandRatio[s] ?? null) : null,
    };
  });
}

/** The chart's budget for the form's bounds (null bounds left out). */
export function toBudget(b: BudgetForm): Budget {
  const out: Budget = {};
  for (const k of ['mflopsMin', 'mflopsMax', 'mparamsMax', 'latencyMaxMs'] as const) {
    const v = b[k];
    if (v !== null && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  return out;
}

/** How a latency was obtained, for the panel. */
export function latencyMethodLabel(m: SubnetEvaluation['latencyMethod']): string {
  return m === 'measured' ? 'measured on this machine' : m === 'lut' ? 'predicted by the lookup table' : 'not measured';
}

/** A hypervolume for display: four significant digits (its unit is accuracy × cost, so only comparisons matter). */
export function formatHypervolume(hv: number | null | undefined): string {
  return hv == null || !Number.isFinite(hv) ? '—' : String(Number(hv.toPrecision(4)));
}
