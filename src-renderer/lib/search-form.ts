/**
 * The search form: its settings as {@link FieldDef}s (shown with the run form's ConfigField), their starting values,
 * the checks made before `searches.start` is asked, and the request built from the form. Field paths are the
 * request's own dotted paths (`budget.mflopsMax`, `config.populationSize`), so an error the API names lands at the
 * same field as one found here. Pure: tested without a DOM.
 */
import type { PredictorInfo, SearchBudget, SearchSettings, SearchStartRequest } from '../../src-main/ipc/api-types';
import { ENGINE_OPTIONS, type FieldDef } from './run-form';

/**
 * Starting values of the evolution settings: the engine's `DEFAULT_EVOLUTION_CONFIG` (src-main/search/evolution.ts),
 * repeated because the renderer must not bundle main-process code. The request sends them explicitly, so a drift
 * would only change what the form starts from, never what a search that shows them runs with.
 */
export const SEARCH_SETTINGS_START: Required<Omit<SearchSettings, 'screen'>> = {
  populationSize: 16,
  mutateSize: 8,
  crossoverSize: 8,
  mutateProb: 0.2,
  crossoverProb: 0.5,
  generations: 10,
  seed: 0,
};

/** The evolution settings in form order. */
export const SETTINGS_FIELDS: FieldDef[] = [
  { path: 'config.populationSize', label: 'Population', kind: 'int', unit: 'subnets', help: 'Kept per generation: the best under the budget.' },
  { path: 'config.generations', label: 'Generations', kind: 'int', unit: 'rounds', help: 'Rounds of mutation and crossover after the first population.' },
  { path: 'config.mutateSize', label: 'Mutations', kind: 'int', unit: 'per generation' },
  { path: 'config.crossoverSize', label: 'Crossovers', kind: 'int', unit: 'per generation' },
  { path: 'config.mutateProb', label: 'Mutation probability', kind: 'number', unit: 'per gene', help: 'Chance that a mutation redraws each gene.' },
  { path: 'config.crossoverProb', label: 'Crossover probability', kind: 'number', unit: 'per gene', help: 'Chance that a gene comes from the second parent.' },
  { path: 'config.seed', label: 'Seed', kind: 'int', help: 'Same seed, run and budget: the same candidates.' },
];

/**
 * Predictor-guided evolution: the screen factor, shown once "Predictor-guided" is ticked. Starts at the CLI's default
 * (`alphanet search --predictor`); the engine accepts 2–64 (jobs/search-messages.ts).
 */
export const SCREEN_START = 8;
export const SCREEN_FIELD: FieldDef = {
  path: 'config.screen',
  label: 'Screen factor',
  kind: 'int',
  unit: 'candidates per evaluation',
  help: 'Scored by the predictor for each subnet evaluated for real.',
};

/** Random search only. */
export const EVALUATIONS_FIELD: FieldDef = {
  path: 'evaluations',
  label: 'Evaluations',
  kind: 'int',
  unit: 'subnets',
  optional: true,
  emptyMeans: 'as many as the evolution settings above would make',
};

/** Which engine computes the candidates' accuracy: the same numbers and the same evaluation cache either way. */
export const ENGINE_FIELD: FieldDef = {
  path: 'engine',
  label: 'Evaluation engine',
  kind: 'select',
  help: 'Which engine computes each candidate’s BN-recalibrated accuracy: TF.js here, the PyTorch engine (a GPU if torch sees one; docs/TORCH.md), or the PyTorch engine on a Slurm cluster (one job per generation, its ranks splitting the candidates; docs/CLUSTER.md). Same numbers, same cache.',
  options: ENGINE_OPTIONS,
};

/**
 * Evaluation workers: empty is `auto` (the cores the job queue gives the search). The local engine's only: torch
 * evaluates on one thread and Slurm in its job's ranks, so the form neither shows nor sends it for them (the API
 * refuses more than one, jobs/search-messages.ts). The results do not depend on it.
 */
export const WORKERS_FIELD: FieldDef = {
  path: 'workers',
  label: 'Evaluation workers',
  kind: 'int',
  unit: 'cores',
  optional: true,
  emptyMeans: 'every core the job queue gives the search',
  help: 'Candidates of a generation evaluated at once, one per core. The same results with any number.',
};

/** The most evaluation workers a search may ask for (jobs/search-messages.ts). */
export const MAX_WORKERS = 256;

/** Engine `slurm`: where each generation's evaluation job goes and its shape. */
export const CLUSTER_FIELDS: FieldDef[] = [
  { path: 'cluster', label: 'Cluster', kind: 'select', help: 'A cluster of Settings → Clusters.' },
  { path: 'nodes', label: 'Nodes', kind: 'int', unit: 'nodes', help: 'Per evaluation job.' },
  { path: 'ranksPerNode', label: 'CPU ranks per node', kind: 'int', unit: 'processes', help: 'Each rank takes every N-th candidate; with GPUs, one rank per GPU instead.' },
  { path: 'gpusPerNode', label: 'GPUs per node', kind: 'int', unit: 'one rank each', help: "0: the cluster profile's GPUs per node; CPU ranks if it has none." },
];

/** The budget as the form holds it: null = no bound. MFLOPs in millions of MACs, params in millions, latency in ms. */
export interface BudgetForm {
  mflopsMin: number | null;
  mflopsMax: number | null;
  mparamsMax: number | null;
  latencyMaxMs: number | null;
}

export interface SearchForm {
  name: string;
  kind: 'evolution' | 'random';
  objective: 'mflops' | 'latency';
  engine: 'local' | 'torch' | 'slurm';
  /**
   * Engine `slurm`: the cluster profile (null: none chosen) and each job's nodes, CPU ranks per node and GPUs per node
   * (0: the profile's), as typed.
   */
  cluster: string | null;
  nodes: unknown;
  ranksPerNode: unknown;
  gpusPerNode: unknown;
  budget: BudgetForm;
  /** Values as typed (a number, or the text when it is not one, so the check can name the field). */
  config: Record<keyof SearchSettings, unknown>;
  evaluations: unknown;
  /** Evaluation workers as typed; undefined: `auto`. */
  workers: unknown;
  /** Predictor-guided evolution: `config.screen` goes into the request only when this is on. */
  guided: boolean;
}

/** The run's subnets span this: the slider ranges. */
export interface CostRange {
  minMFlops: number;
  maxMFlops: number;
  /** Millions of parameters. */
  minMParams: number;
  maxMParams: number;
}

/** A fresh form: the whole MFLOPs range of the run, no params or latency bound, the engine's settings. */
export function initialSearchForm(range: CostRange | null): SearchForm {
  return {
    name: '',
    kind: 'evolution',
    objective: 'mflops',
    engine: 'local',
    cluster: null,
    nodes: 1,
    ranksPerNode: 1,
    gpusPerNode: 0,
    budget: {
      mflopsMin: range ? floorTo(range.minMFlops) : null,
      mflopsMax: range ? ceilTo(range.maxMFlops) : null,
      mparamsMax: null,
      latencyMaxMs: null,
    },
    config: { ...SEARCH_SETTINGS_START, screen: SCREEN_START },
    evaluations: undefined,
    workers: undefined,
    guided: false,
  };
}

/** Slider step for a range: about 200 steps, rounded to 1, 2 or 5 × a power of ten. */
export function sliderStep(lo: number, hi: number): number {
  const raw = Math.max(hi - lo, 1e-6) / 200;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Two decimals down/up: slider ends that still include the run's extreme subnets. */
function floorTo(x: number): number {
  return Math.floor(x * 100) / 100;
}
function ceilTo(x: number): number {
  return Math.ceil(x * 100) / 100;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * What is wrong with the form, by field path (empty: nothing). The same limits the engine enforces (integers ≥ 0,
 * population ≥ 1, probabilities in [0, 1], a budget whose minimum is not above its maximum), checked here so the
 * user sees them while typing; the API checks again and may refuse more (a budget no subnet of the run meets).
 */
export function searchFormErrors(form: SearchForm): Record<string, string> {
  const errors: Record<string, string> = {};
  const c = form.config;
  for (const k of ['populationSize', 'generations', 'mutateSize', 'crossoverSize', 'seed'] as const) {
    if (!isInt(c[k]) || c[k] < 0) errors[`config.${k}`] = 'Must be a whole number ≥ 0.';
  }
  if (isInt(c.populationSize) && c.populationSize < 1) errors['config.populationSize'] = 'Must be at least 1.';
  for (const k of ['mutateProb', 'crossoverProb'] as const) {
    if (!isNum(c[k]) || c[k] < 0 || c[k] > 1) errors[`config.${k}`] = 'Must be a number from 0 to 1.';
  }
  if (usesScreen(form) && (!isInt(c.screen) || c.screen < 2 || c.screen > 64)) errors['config.screen'] = 'Must be a whole number from 2 to 64.';
  if (form.kind === 'random' && form.evaluations !== undefined && (!isInt(form.evaluations) || form.evaluations < 1)) {
    errors['evaluations'] = 'Must be a whole number ≥ 1, or empty.';
  }
  if (usesWorkers(form) && (!isInt(form.workers) || form.workers < 1 || form.workers > MAX_WORKERS)) {
    errors['workers'] = `Must be a whole number from 1 to ${MAX_WORKERS}, or empty.`;
  }
  if (form.engine === 'slurm') {
    if (!form.cluster) errors['cluster'] = 'Choose a cluster (Settings → Clusters).';
    for (const k of ['nodes', 'ranksPerNode'] as const) if (!isInt(form[k]) || form[k] < 1) errors[k] = 'Must be a whole number ≥ 1.';
    if (!isInt(form.gpusPerNode) || form.gpusPerNode < 0 || form.gpusPerNode > 64) errors['gpusPerNode'] = "Must be a whole number from 0 to 64 (0: the cluster profile's).";
  }
  const b = form.budget;
  for (const k of ['mflopsMin', 'mflopsMax', 'mparamsMax', 'latencyMaxMs'] as const) {
    const v = b[k];
    if (v !== null && (!isNum(v) || v < 0)) errors[`budget.${k}`] = 'Must be a number ≥ 0, or empty for no bound.';
  }
  if (isNum(b.mflopsMin) && isNum(b.mflopsMax) && b.mflopsMin > b.mflopsMax) {
    errors['budget.mflopsMin'] = `Above the maximum (${b.mflopsMax} MFLOPs).`;
  }
  return errors;
}

/** The request the form stands for (call only when {@link searchFormErrors} is empty). */
export function searchRequest(runId: number, form: SearchForm): SearchStartRequest {
  const budget: SearchBudget = {};
  for (const k of ['mflopsMin', 'mflopsMax', 'mparamsMax', 'latencyMaxMs'] as const) {
    const v = form.budget[k];
    if (v !== null) budget[k] = v;
  }
  const { screen, ...settings } = form.config;
  const req: SearchStartRequest = {
    runId,
    kind: form.kind,
    objective: form.objective,
    engine: form.engine,
    budget,
    config: { ...settings, ...(usesScreen(form) ? { screen } : {}) } as SearchSettings,
  };
  if (form.engine === 'slurm') Object.assign(req, { cluster: form.cluster!, nodes: form.nodes as number, ranksPerNode: form.ranksPerNode as number, gpusPerNode: form.gpusPerNode as number });
  const name = form.name.trim();
  if (name) req.name = name;
  if (form.kind === 'random' && form.evaluations !== undefined) req.evaluations = form.evaluations as number;
  if (usesWorkers(form)) req.workers = form.workers as number;
  return req;
}

/** Evaluation workers typed, for the local engine (the others evaluate elsewhere: the field is hidden for them). */
function usesWorkers(form: SearchForm): boolean {
  return form.engine === 'local' && form.workers !== undefined;
}

/** Guided screening is evolution's: a random search ignores the box (its control is disabled then). */
function usesScreen(form: SearchForm): boolean {
  return form.guided && form.kind === 'evolution';
}

/**
 * Why a predictor-guided search cannot start from this form, or null when it can: it needs the evolutionary kind and
 * the run's predictor of its newest checkpoint (the one a search pins), which the API checks again before queueing.
 * `predictor`: the run's predictor, null when it has none, undefined while not known yet.
 */
export function guidedUnavailable(kind: SearchForm['kind'], predictor: PredictorInfo | null | undefined): string | null {
  if (kind !== 'evolution') return 'Predictor screening is for the evolutionary search.';
  if (predictor === undefined) return 'Looking for the run’s accuracy predictor…';
  if (predictor === null) return 'This run has no accuracy predictor yet.';
  if (predictor.stale) return `The run’s accuracy predictor is stale: it learned from step ${predictor.checkpointStep}, and the run has a newer checkpoint.`;
  return null;
}
