/**
 * The search form: its settings as {@link FieldDef}s (shown with the run form's ConfigField), their starting values,
 * the checks made before `searches.start` is asked, and the request built from the form. Field paths are the
 * request's own dotted paths (`budget.mflopsMax`, `config.populationSize`), so an error the API names lands at the
 * same field as one found here. Pure: tested without a DOM.
 */
import type { SearchBudget, SearchSettings, SearchStartRequest } from '../../src-main/ipc/api-types';
import type { FieldDef } from './run-form';

/**
 * Starting values of the evolution settings: the engine's `DEFAULT_EVOLUTION_CONFIG` (src-main/search/evolution.ts),
 * repeated because the renderer must not bundle main-process code. The request sends them explicitly, so a drift
 * would only change what the form starts from, never what a search that shows them runs with.
 */
export const SEARCH_SETTINGS_START: Required<SearchSettings> = {
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
  help: 'torch: the PyTorch engine computes each candidate’s BN-recalibrated accuracy (a GPU if torch sees one; docs/TORCH.md). Same numbers, same cache.',
  options: [
    { value: 'local', label: 'local (TF.js on this machine)' },
    { value: 'torch', label: 'torch (PyTorch)' },
  ],
};

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
  engine: 'local' | 'torch';
  budget: BudgetForm;
  /** Values as typed (a number, or the text when it is not one, so the check can name the field). */
  config: Record<keyof SearchSettings, unknown>;
  evaluations: unknown;
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
    budget: {
      mflopsMin: range ? floorTo(range.minMFlops) : null,
      mflopsMax: range ? ceilTo(range.maxMFlops) : null,
      mparamsMax: null,
      latencyMaxMs: null,
    },
    config: { ...SEARCH_SETTINGS_START },
    evaluations: undefined,
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
  if (form.kind === 'random' && form.evaluations !== undefined && (!isInt(form.evaluations) || form.evaluations < 1)) {
    errors['evaluations'] = 'Must be a whole number ≥ 1, or empty.';
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
  const req: SearchStartRequest = {
    runId,
    kind: form.kind,
    objective: form.objective,
    engine: form.engine,
    budget,
    config: { ...form.config } as SearchSettings,
  };
  const name = form.name.trim();
  if (name) req.name = name;
  if (form.kind === 'random' && form.evaluations !== undefined) req.evaluations = form.evaluations as number;
  return req;
}
