/**
 * Evolutionary search under budgets (METHOD.md §5, AlphaNet `parallel_supernet_evo_search.py`), with its quirks fixed,
 * and a random-search baseline that shares the same machinery.
 *
 * Algorithm (METHOD.md §5.2):
 *   generation 0: the min subnet (when it is within the budget) + uniform random subnets, rejection-sampled within
 *                 the budget, `populationSize` in all;
 *   generations 1…G: `mutateSize` mutated and `crossoverSize` crossed-over children of parents drawn uniformly from
 *                 the parent pool; every child is redrawn until it is within the budget.
 * Fixed quirks (METHOD.md §5.3): every candidate is evaluated (no ⌊len/world⌋·world truncation); the last generation is
 * evaluated too (G + 1 populations in all: P + G·(M + C) candidates); the archive — every evaluated subnet, keyed by
 * genome ID — is reported through `onEvaluated` as it grows.
 *
 * Deliberate deviations (documented in docs/SEARCH.md):
 *   - Parent pool: the reference draws parents from its archive of the best subnet per 10-MFLOP bucket. On the 32×32
 *     spaces (3–25 MFLOPs) that would be three parents, so we draw from the archive's Pareto layers (non-dominated
 *     sorting) until at least `populationSize` subnets are in the pool — the same idea (a front of good subnets
 *     across the cost range) independent of the cost scale.
 *   - A child equal to its parent(s) or already evaluated is redrawn (bounded tries) so that evaluations are not
 *     wasted; if no new child is found in `maxTries`, a new uniform random subnet within the budget is used, and if
 *     even that fails (a tiny, exhausted space) the duplicate is kept and its archived result reused without calling
 *     the evaluator.
 *
 * Resumability: all randomness comes from one seeded `Rng` whose state is in `SearchState`, and a generation's
 * candidates are drawn before any of them is evaluated; the state after every evaluation therefore determines the
 * rest of the search exactly. Restoring it continues to the same final archive as an uninterrupted run.
 *
 * Parallel evaluation: since a generation is drawn up front and nothing random happens while it is evaluated, its
 * candidates can be computed several at a time (`evaluateMany`, `concurrency`) as long as the results are recorded
 * in candidate order; the archive, each saved state and the front are then exactly those of evaluating one by one.
 */
import type { CandidateOrigin, SearchKind, SearchObjective } from '../store/searches';
import {
  Rng,
  type RngState,
  subnetCost,
  canonicalGenomeJson,
  genomeId,
  minGenome,
  maxGenome,
  randomGenome,
  validateGenome,
  widthChoices,
  type Genome,
  type SearchSpace,
} from '../engine/core';
import { ParetoFront, hypervolume, paretoLayers, type FrontPoint } from './pareto';

/** Budgets, any combination. Bounds are inclusive. */
export interface Budget {
  mflopsMin?: number;
  mflopsMax?: number;
  /** Millions of parameters. */
  mparamsMax?: number;
  /** Milliseconds, as the latency predictor returns them. Needs `latencyPredictor`. */
  latencyMaxMs?: number;
}

/** Settings of the evolutionary search. Defaults are sized for small data (32×32 spaces, a few s per evaluation). */
export interface EvolutionConfig {
  /** Initial population (the reference: 512 "default", 4 shipped; METHOD.md §5.1). Default 16. */
  populationSize: number;
  /** Mutated children per generation. Default 8. */
  mutateSize: number;
  /** Crossed-over children per generation. Default 8. */
  crossoverSize: number;
  /** Per-gene mutation probability (the reference: 0.2). Default 0.2. */
  mutateProb: number;
  /** Per-gene probability of taking the second parent's gene in crossover (the reference: 0.5). Default 0.5. */
  crossoverProb: number;
  /** Generations after the initial population (the reference's evo_iter). Default 10 → 16 + 10·16 = 176 evaluations. */
  generations: number;
  /** Seed of every random draw. Default 0. */
  seed: number;
  /** Tries to draw one candidate within the budget before giving up (or falling back). Default 2000. */
  maxTries: number;
  /**
   * Predictor-guided search (docs/SEARCH.md "Accuracy predictor"): draw `screen` × as many candidates per generation, score them with the
   * accuracy predictor (`SearchOptions.predictor`) and evaluate only the generation's usual number, chosen by
   * predicted hypervolume improvement. Absent: plain evolution. Evolution only.
   */
  screen?: number;
}

export const DEFAULT_EVOLUTION_CONFIG: EvolutionConfig = {
  populationSize: 16,
  mutateSize: 8,
  crossoverSize: 8,
  mutateProb: 0.2,
  crossoverProb: 0.5,
  generations: 10,
  seed: 0,
  maxTries: 2000,
};

/** What the evaluator returns; `accuracy` (0…1 or %, consistently) is required, the rest is kept in the archive. */
export interface EvalResult {
  accuracy: number;
  [key: string]: unknown;
}

/** Evaluates one subnet. The run integration adds BN calibration and a result cache behind this. */
export type Evaluator = (genome: Genome, info: { id: string; index: number }) => Promise<EvalResult>;

/** One subnet of a batch handed to `SearchOptions.evaluateMany`. */
export interface BatchItem {
  genome: Genome;
  id: string;
  /** Its archive index once recorded. */
  index: number;
}

/** Predicted (or measured) latency of a subnet in milliseconds. */
export type LatencyPredictor = (genome: Genome) => number;

export interface Candidate {
  genome: Genome;
  origin: CandidateOrigin;
  /** Parent genome IDs (mutation: one, crossover: two). */
  parents?: string[];
  /** Predictor-guided search: the accuracy the predictor gave it when it was chosen (never a measurement). */
  predicted?: number;
}

/**
 * The accuracy predictor a guided search screens candidates with. Predictions are in the evaluator's accuracy unit;
 * they only choose what to evaluate — the archive, the front and everything reported hold measured accuracies.
 */
export interface AccuracyScreen {
  predict(genomes: Genome[]): ArrayLike<number>;
  /** Before each generation after the first: learn from the real evaluations so far (awaited). */
  refit?(archive: readonly ArchiveEntry[]): Promise<void>;
}

export interface ArchiveEntry {
  id: string;
  genome: Genome;
  accuracy: number;
  mflops: number;
  mparams: number;
  latencyMs?: number;
  /** The cost on the search's objective axis (MFLOPs or ms). */
  cost: number;
  generation: number;
  /** 0-based order of evaluation (evaluator calls). */
  index: number;
  origin: CandidateOrigin;
  parents?: string[];
  /** Predictor-guided search: the predicted accuracy that chose it (`accuracy` is the measured one). */
  predicted?: number;
  /** Evaluation wall time in ms. */
  ms: number;
  /** Everything the evaluator returned. */
  result: EvalResult;
}

/** The whole search, JSON-serialisable; enough to resume exactly. */
export interface SearchState {
  version: 1;
  kind: SearchKind;
  spaceId: string;
  numClasses: number;
  config: EvolutionConfig;
  budget: Budget;
  objective: SearchObjective;
  /** Random search: how many evaluations to make. */
  targetEvaluations?: number;
  rng: RngState;
  /** Generation of `population` (0 = initial). */
  generation: number;
  /** Candidates of the current generation; `cursor` of them are done. */
  population: Candidate[];
  cursor: number;
  /** Every evaluated subnet, in evaluation order. */
  archive: ArchiveEntry[];
  /** Candidates whose genome was already archived (result reused, evaluator not called). */
  reused: number;
  /** Evaluation time so far (ms, summed over sessions): the ETA's basis. */
  elapsedMs: number;
  done: boolean;
}

export interface SearchProgress {
  kind: SearchKind;
  generation: number;
  evaluations: number;
  /** Evaluations the whole search will make (an upper bound when duplicates get reused). */
  total: number;
  elapsedMs: number;
  /** Remaining time at the mean evaluation time so far; null before the first evaluation. */
  etaMs: number | null;
  frontSize: number;
  best: { id: string; accuracy: number; cost: number } | null;
}

export interface SearchOptions {
  space: SearchSpace;
  evaluate: Evaluator;
  /** Classifier size of the supernet (changes FLOPs and params); default the space's. */
  numClasses?: number;
  config?: Partial<EvolutionConfig>;
  budget?: Budget;
  /** Default 'mflops'. 'latency' needs `latencyPredictor`. */
  objective?: SearchObjective;
  latencyPredictor?: LatencyPredictor;
  /** Needed when `config.screen` is set: the accuracy predictor that screens candidates. */
  predictor?: AccuracyScreen;
  /** A state from `onEvaluated` / a previous outcome: continue it (its settings win over the ones given here). */
  resume?: SearchState;
  /**
   * Evaluates several subnets at once (a pool of workers), one result per item in the order given. With it the
   * search hands over up to `concurrency` candidates of a generation at a time and records the results in
   * candidate order: archive, states and front are those of one-by-one evaluation. Default: `evaluate` on each.
   */
  evaluateMany?: (items: BatchItem[]) => Promise<EvalResult[]>;
  /** Candidates evaluated together (default 1): a pause waits for at most one such batch. */
  concurrency?: number;
  /** Stops before the next evaluation (batch); the outcome then has `done: false` and a resumable state. */
  signal?: AbortSignal;
  /** After every evaluation, with the new entry and the state to persist. Awaited, so it may write to disk. */
  onEvaluated?: (entry: ArchiveEntry, state: SearchState) => void | Promise<void>;
  onProgress?: (p: SearchProgress) => void;
}

export interface SearchOutcome {
  state: SearchState;
  archive: ArchiveEntry[];
  /** Front of the archive: accuracy vs the objective's cost. Point data = the archive entry. */
  front: ParetoFront<ArchiveEntry>;
  done: boolean;
}

export class BudgetError extends Error {
  override name = 'BudgetError';
}

/** MFLOPs, params (M) and, with a predictor, latency of a genome. */
export function genomeCosts(space: SearchSpace, g: Genome, numClasses: number, latency?: LatencyPredictor): { mflops: number; mparams: number; latencyMs?: number } {
  const c = subnetCost(space, g, numClasses);
  return { mflops: c.mflops, mparams: c.mparams, ...(latency ? { latencyMs: latency(g) } : {}) };
}

export function withinBudget(costs: { mflops: number; mparams: number; latencyMs?: number }, b: Budget): boolean {
  if (b.mflopsMin !== undefined && costs.mflops < b.mflopsMin) return false;
  if (b.mflopsMax !== undefined && costs.mflops > b.mflopsMax) return false;
  if (b.mparamsMax !== undefined && costs.mparams > b.mparamsMax) return false;
  if (b.latencyMaxMs !== undefined && (costs.latencyMs === undefined || costs.latencyMs > b.latencyMaxMs)) return false;
  return true;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4));

/**
 * Throws a `BudgetError` that names the space's range when no subnet can meet the budget (every cost is monotone in
 * every gene, so the min and max subnets bound it). A feasible-looking budget can still be too narrow for rejection
 * sampling; that is reported when drawing.
 */
export function checkBudget(space: SearchSpace, budget: Budget, numClasses = space.numClasses, latency?: LatencyPredictor): void {
  const lo = genomeCosts(space, minGenome(space), numClasses, latency);
  const hi = genomeCosts(space, maxGenome(space), numClasses, latency);
  const range = `space '${space.id}' spans ${fmt(lo.mflops)}–${fmt(hi.mflops)} MFLOPs, ${fmt(lo.mparams)}–${fmt(hi.mparams)} M params` +
    (lo.latencyMs !== undefined ? `, ${fmt(lo.latencyMs)}–${fmt(hi.latencyMs!)} ms predicted latency` : '');
  const errs: string[] = [];
  const { mflopsMin, mflopsMax, mparamsMax, latencyMaxMs } = budget;
  for (const [k, v] of Object.entries(budget)) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) errs.push(`${k} must be a finite number ≥ 0, got ${String(v)}`);
  }
  if (mflopsMin !== undefined && mflopsMax !== undefined && mflopsMin > mflopsMax) errs.push(`MFLOPs min ${fmt(mflopsMin)} is above MFLOPs max ${fmt(mflopsMax)}`);
  if (mflopsMax !== undefined && mflopsMax < lo.mflops) errs.push(`MFLOPs max ${fmt(mflopsMax)} is below the min subnet's ${fmt(lo.mflops)} MFLOPs`);
  if (mflopsMin !== undefined && mflopsMin > hi.mflops) errs.push(`MFLOPs min ${fmt(mflopsMin)} is above the max subnet's ${fmt(hi.mflops)} MFLOPs`);
  if (mparamsMax !== undefined && mparamsMax < lo.mparams) errs.push(`params max ${fmt(mparamsMax)} M is below the min subnet's ${fmt(lo.mparams)} M`);
  if (latencyMaxMs !== undefined) {
    if (!latency) errs.push('a latency budget needs a latency predictor (build the latency table first)');
    else if (latencyMaxMs < lo.latencyMs!) errs.push(`latency max ${fmt(latencyMaxMs)} ms is below the min subnet's predicted ${fmt(lo.latencyMs!)} ms`);
  }
  if (errs.length) throw new BudgetError(`impossible budget: ${errs.join('; ')} (${range})`);
}

/** The genes as (choices, index) slots, so mutation and crossover treat every gene alike. */
interface GeneView {
  get(g: Genome): number;
  set(g: Genome, v: number): void;
  choices: number[];
}

function geneViews(space: SearchSpace): GeneView[] {
  const views: GeneView[] = [{ get: (g) => g.resolution, set: (g, v) => (g.resolution = v), choices: space.resolutions }];
  const wc = widthChoices(space);
  if (space.widthMode === 'multiplier') {
    // One gene: the shared width index (schema: every width list has the same length).
    views.push({
      get: (g) => wc[0].indexOf(g.width[0]),
      set: (g, v) => (g.width = wc.map((c) => c[v])),
      choices: wc[0].map((_, i) => i),
    });
  } else {
    wc.forEach((c, i) => views.push({ get: (g) => g.width[i], set: (g, v) => (g.width[i] = v), choices: c }));
  }
  space.stages.forEach((st, i) => {
    views.push({ get: (g) => g.depth[i], set: (g, v) => (g.depth[i] = v), choices: st.depth });
    views.push({ get: (g) => g.kernelSize[i], set: (g, v) => (g.kernelSize[i] = v), choices: st.kernelSize });
    views.push({ get: (g) => g.expandRatio[i], set: (g, v) => (g.expandRatio[i] = v), choices: st.expandRatio });
  });
  return views;
}

const cloneGenome = (g: Genome): Genome => ({
  resolution: g.resolution,
  width: g.width.slice(),
  depth: g.depth.slice(),
  kernelSize: g.kernelSize.slice(),
  expandRatio: g.expandRatio.slice(),
});

/** Every gene independently with probability p becomes a *different* value, uniform over the other choices. */
export function mutateGenome(space: SearchSpace, parent: Genome, p: number, rng: Rng): Genome {
  const child = cloneGenome(parent);
  for (const v of geneViews(space)) {
    if (v.choices.length < 2 || rng.next() >= p) continue;
    const cur = v.get(child);
    const others = v.choices.filter((c) => c !== cur);
    v.set(child, rng.choice(others));
  }
  return child;
}

/** Uniform crossover: each gene (in multiplier mode, the shared width index) from `b` with probability p. */
export function crossoverGenomes(space: SearchSpace, a: Genome, b: Genome, p: number, rng: Rng): Genome {
  const child = cloneGenome(a);
  for (const v of geneViews(space)) if (rng.next() < p) v.set(child, v.get(b));
  return child;
}

/** Resolved settings of a new or resumed search. */
interface Ctx {
  space: SearchSpace;
  numClasses: number;
  latency?: LatencyPredictor;
  state: SearchState;
  rng: Rng;
  evaluated: Map<string, ArchiveEntry>;
  predictor?: AccuracyScreen;
}

function costsOf(ctx: Ctx, g: Genome) {
  return genomeCosts(ctx.space, g, ctx.numClasses, ctx.latency);
}

function inBudget(ctx: Ctx, g: Genome): boolean {
  return withinBudget(costsOf(ctx, g), ctx.state.budget);
}

/** Uniform random within the budget; `fresh` also asks for a not-yet-used genome. Undefined after maxTries. */
function drawRandom(ctx: Ctx, fresh: (g: Genome) => boolean): Genome | undefined {
  for (let t = 0; t < ctx.state.config.maxTries; t++) {
    const g = randomGenome(ctx.space, ctx.rng);
    if (inBudget(ctx, g) && fresh(g)) return g;
  }
  return undefined;
}

function budgetText(b: Budget): string {
  const parts = Object.entries(b).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** Uniform random within the budget, preferring unused genomes; throws when the budget admits (almost) nothing. */
function drawRandomOrThrow(ctx: Ctx, used: Set<string>): Genome {
  const key = (g: Genome) => canonicalGenomeJson(g);
  const g = drawRandom(ctx, (x) => !used.has(key(x))) ?? drawRandom(ctx, () => true);
  if (!g) {
    const lo = costsOf(ctx, minGenome(ctx.space));
    const hi = costsOf(ctx, maxGenome(ctx.space));
    throw new BudgetError(
      `no uniform random subnet met the budget (${budgetText(ctx.state.budget)}) in ${ctx.state.config.maxTries} tries; ` +
        `space '${ctx.space.id}' spans ${fmt(lo.mflops)}–${fmt(hi.mflops)} MFLOPs and ${fmt(lo.mparams)}–${fmt(hi.mparams)} M params — widen the budget`,
    );
  }
  return g;
}

/** Candidates of generation `ctx.state.generation` (drawn all at once, before any is evaluated). */
function drawGeneration(ctx: Ctx): Candidate[] {
  const { state, space } = ctx;
  const cfg = state.config;
  const used = new Set<string>([...ctx.evaluated.values()].map((e) => canonicalGenomeJson(e.genome)));
  const take = (c: Candidate) => {
    used.add(canonicalGenomeJson(c.genome));
    return c;
  };
  const out: Candidate[] = [];
  if (state.kind === 'random') {
    const remaining = (state.targetEvaluations ?? 0) - state.archive.length;
    const n = Math.min(cfg.populationSize, remaining);
    for (let i = 0; i < n; i++) out.push(take({ genome: drawRandomOrThrow(ctx, used), origin: 'random' }));
    return out;
  }
  // Predictor-guided: draw `screen` × the candidates, keep the usual number (the predictor chooses).
  const factor = cfg.screen ?? 1;
  if (state.generation === 0) {
    const min = minGenome(space);
    if (inBudget(ctx, min)) out.push(take({ genome: min, origin: 'min' }));
    const want = cfg.populationSize - out.length;
    const pool: Candidate[] = [];
    for (let i = 0; i < want * factor; i++) pool.push(take({ genome: drawRandomOrThrow(ctx, used), origin: 'random' }));
    return [...out, ...(factor > 1 ? screenCandidates(ctx, pool, want) : pool)];
  }
  const pool = parentPool(ctx);
  const fresh = (g: Genome, parents: Genome[]) => {
    const k = canonicalGenomeJson(g);
    return !used.has(k) && parents.every((p) => canonicalGenomeJson(p) !== k) && inBudget(ctx, g);
  };
  const breed = (origin: 'mutate' | 'crossover'): Candidate => {
    for (let t = 0; t < cfg.maxTries; t++) {
      const a = ctx.rng.choice(pool);
      if (origin === 'mutate') {
        const g = mutateGenome(space, a.genome, cfg.mutateProb, ctx.rng);
        if (fresh(g, [a.genome])) return { genome: g, origin, parents: [a.id] };
      } else {
        const b = ctx.rng.choice(pool);
        const g = crossoverGenomes(space, a.genome, b.genome, cfg.crossoverProb, ctx.rng);
        if (fresh(g, [a.genome, b.genome])) return { genome: g, origin, parents: [a.id, b.id] };
      }
    }
    return { genome: drawRandomOrThrow(ctx, used), origin: 'random-fallback' };
  };
  for (let i = 0; i < cfg.mutateSize * factor; i++) out.push(take(breed('mutate')));
  for (let i = 0; i < cfg.crossoverSize * factor; i++) out.push(take(breed('crossover')));
  return factor > 1 ? screenCandidates(ctx, out, cfg.mutateSize + cfg.crossoverSize) : out;
}

/**
 * Chooses `k` of the pool by predicted hypervolume improvement, greedily: each pick is the candidate whose
 * (predicted accuracy, cost) point adds the most hypervolume to the archive's measured points plus the picks so
 * far (the reference box spans all of them), so the picks spread along the front instead of crowding at the
 * largest subnets. Candidates predicted to be dominated come last, nearest to the front first. Pool order breaks
 * ties, so the choice is deterministic.
 */
function screenCandidates(ctx: Ctx, pool: Candidate[], k: number): Candidate[] {
  if (!ctx.predictor) throw new Error('a predictor-guided search needs an accuracy predictor');
  const predicted = ctx.predictor.predict(pool.map((c) => c.genome));
  if (predicted.length !== pool.length) throw new Error(`the accuracy predictor returned ${predicted.length} predictions for ${pool.length} candidates`);
  const pts = pool.map((c, i) => {
    const costs = costsOf(ctx, c.genome);
    const p = Number(predicted[i]);
    if (!Number.isFinite(p)) throw new Error(`the accuracy predictor returned no finite accuracy for candidate ${i}`);
    return { c, accuracy: p, cost: ctx.state.objective === 'latency' ? costs.latencyMs! : costs.mflops };
  });
  const current: { accuracy: number; cost: number }[] = ctx.state.archive.map((e) => ({ accuracy: e.accuracy, cost: e.cost }));
  const all = [...current, ...pts];
  const ref = {
    costRef: Math.max(...all.map((p) => p.cost)) * (1 + 1e-6) + 1e-9,
    accRef: Math.min(...all.map((p) => p.accuracy)) - 1e-6,
  };
  const chosen: Candidate[] = [];
  const left = pts.slice();
  let hv = hypervolume(current, ref);
  while (chosen.length < k && left.length) {
    let best = 0;
    let bestScore = -Infinity;
    left.forEach((p, i) => {
      const gain = hypervolume([...current, p], ref) - hv;
      // Dominated: how far below the best accuracy at no higher cost (negative, so nearer is better).
      const score = gain > 0 ? gain : -current.reduce((g, q) => (q.cost <= p.cost ? Math.max(g, q.accuracy - p.accuracy) : g), 0);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    });
    const [p] = left.splice(best, 1);
    current.push(p);
    hv = hypervolume(current, ref);
    chosen.push({ ...p.c, predicted: p.accuracy });
  }
  return chosen;
}

/** Pareto layers of the archive until ≥ populationSize subnets (ties broken by evaluation order). */
function parentPool(ctx: Ctx): ArchiveEntry[] {
  const pts: FrontPoint<ArchiveEntry>[] = ctx.state.archive.map((e) => ({ id: e.id, accuracy: e.accuracy, cost: e.cost, data: e }));
  return paretoLayers(pts, ctx.state.config.populationSize).flat().map((p) => p.data!);
}

/** Evaluations an evolutionary search with this config makes: P + G·(M + C). */
export function evolutionEvaluations(c: Pick<EvolutionConfig, 'populationSize' | 'generations' | 'mutateSize' | 'crossoverSize'>): number {
  return c.populationSize + c.generations * (c.mutateSize + c.crossoverSize);
}

function totalEvaluations(s: SearchState): number {
  if (s.kind === 'random') return s.targetEvaluations ?? 0;
  return evolutionEvaluations(s.config);
}

function validateConfig(c: EvolutionConfig): void {
  const ints: (keyof Omit<EvolutionConfig, 'screen'>)[] = ['populationSize', 'mutateSize', 'crossoverSize', 'generations', 'maxTries'];
  for (const k of ints) if (!Number.isInteger(c[k]) || c[k] < 0) throw new Error(`${k} must be an integer ≥ 0, got ${c[k]}`);
  if (c.populationSize < 1) throw new Error('populationSize must be ≥ 1');
  if (c.maxTries < 1) throw new Error('maxTries must be ≥ 1');
  if (c.screen !== undefined && (!Number.isInteger(c.screen) || c.screen < 2)) throw new Error(`screen must be an integer ≥ 2, got ${c.screen}`);
  for (const k of ['mutateProb', 'crossoverProb'] as const) if (!(c[k] >= 0 && c[k] <= 1)) throw new Error(`${k} must be in [0, 1], got ${c[k]}`);
}

function initState(kind: SearchKind, opts: SearchOptions, targetEvaluations?: number): SearchState {
  const config = { ...DEFAULT_EVOLUTION_CONFIG, ...opts.config };
  validateConfig(config);
  return {
    version: 1,
    kind,
    spaceId: opts.space.id,
    numClasses: opts.numClasses ?? opts.space.numClasses,
    config,
    budget: { ...opts.budget },
    objective: opts.objective ?? 'mflops',
    ...(targetEvaluations !== undefined ? { targetEvaluations } : {}),
    rng: new Rng(config.seed).state(),
    generation: 0,
    population: [],
    cursor: 0,
    archive: [],
    reused: 0,
    elapsedMs: 0,
    done: false,
  };
}

async function runSearch(kind: SearchKind, opts: SearchOptions, targetEvaluations?: number): Promise<SearchOutcome> {
  const state: SearchState = opts.resume ? structuredClone(opts.resume) : initState(kind, opts, targetEvaluations);
  if (state.version !== 1) throw new Error(`unsupported search state version ${String(state.version)}`);
  if (state.kind !== kind) throw new Error(`cannot resume a ${state.kind} search as a ${kind} search`);
  if (state.spaceId !== opts.space.id) throw new Error(`the search state belongs to space '${state.spaceId}', not '${opts.space.id}'`);
  if (state.objective === 'latency' && !opts.latencyPredictor) throw new Error("objective 'latency' needs a latency predictor");
  const latency = opts.latencyPredictor;
  checkBudget(opts.space, state.budget, state.numClasses, latency);
  if (state.config.screen !== undefined) {
    if (kind !== 'evolution') throw new Error('predictor screening (screen) is for the evolutionary search');
    if (!opts.predictor) throw new Error('a predictor-guided search (screen) needs an accuracy predictor');
  }

  const ctx: Ctx = { space: opts.space, numClasses: state.numClasses, latency, state, rng: new Rng(state.rng), evaluated: new Map(), predictor: opts.predictor };
  const front = new ParetoFront<ArchiveEntry>();
  for (const e of state.archive) {
    ctx.evaluated.set(e.id, e);
    front.insert({ id: e.id, accuracy: e.accuracy, cost: e.cost, data: e });
  }
  const total = totalEvaluations(state);
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be an integer ≥ 1, got ${concurrency}`);
  const evaluateBatch = async (items: BatchItem[]): Promise<EvalResult[]> => {
    if (opts.evaluateMany) {
      const rs = await opts.evaluateMany(items);
      if (rs.length !== items.length) throw new Error(`the evaluator returned ${rs.length} results for ${items.length} subnets`);
      return rs;
    }
    const rs: EvalResult[] = [];
    for (const it of items) rs.push(await opts.evaluate(it.genome, { id: it.id, index: it.index }));
    return rs;
  };
  const lastGeneration = kind === 'evolution' ? state.config.generations : Infinity;

  const progress = (): SearchProgress => {
    const n = state.archive.length;
    const pts = front.points();
    const best = pts.length ? pts[pts.length - 1] : null;
    return {
      kind,
      generation: state.generation,
      evaluations: n,
      total,
      elapsedMs: state.elapsedMs,
      etaMs: n > 0 ? (state.elapsedMs / n) * Math.max(0, total - n) : null,
      frontSize: front.size,
      best: best ? { id: best.id, accuracy: best.accuracy, cost: best.cost } : null,
    };
  };

  while (!state.done) {
    if (state.cursor >= state.population.length) {
      // The current generation is finished (or none was drawn yet): draw the next one.
      const next = state.population.length === 0 && state.generation === 0 && state.archive.length === 0 ? 0 : state.generation + 1;
      const finished = kind === 'random' ? state.archive.length >= total : next > lastGeneration;
      if (finished) {
        state.done = true;
        break;
      }
      // Guided: the predictor learns from every real evaluation so far before it screens the next generation.
      if (next > 0 && state.config.screen !== undefined) await opts.predictor!.refit?.(state.archive);
      state.generation = next;
      state.population = drawGeneration(ctx);
      state.cursor = 0;
      state.rng = ctx.rng.state();
      // A random search over an exhausted space draws only known subnets: stop instead of looping.
      if (kind === 'random' && state.population.every((c) => ctx.evaluated.has(genomeId(opts.space.id, c.genome)))) {
        state.done = true;
        break;
      }
      continue;
    }
    if (opts.signal?.aborted) break;
    // The next batch: up to `concurrency` not-yet-evaluated candidates from the cursor on, computed together and
    // recorded below in candidate order, so the archive and every saved state are those of one-by-one evaluation.
    const batch: { pos: number; genome: Genome; id: string }[] = [];
    const inBatch = new Set<string>();
    let end = state.cursor;
    while (end < state.population.length && batch.length < concurrency) {
      const g = validateGenome(opts.space, state.population[end].genome);
      const id = genomeId(opts.space.id, g);
      if (!ctx.evaluated.has(id) && !inBatch.has(id)) {
        batch.push({ pos: end, genome: g, id });
        inBatch.add(id);
      }
      end++;
    }
    const t0 = performance.now();
    const results = batch.length ? await evaluateBatch(batch.map((b, i) => ({ genome: b.genome, id: b.id, index: state.archive.length + i }))) : [];
    // Wall time shared out equally: summed, it is the time the search took (the ETA's basis), however parallel.
    const ms = batch.length ? (performance.now() - t0) / batch.length : 0;
    const byPos = new Map(batch.map((b, i) => [b.pos, { ...b, result: results[i] }]));
    for (; state.cursor < end; state.cursor++) {
      const b = byPos.get(state.cursor);
      if (!b) {
        // Only when the space offered nothing new (see the module comment): the archived result stands.
        state.reused++;
        continue;
      }
      const { genome: g, id, result } = b;
      if (!result || typeof result.accuracy !== 'number' || !Number.isFinite(result.accuracy)) {
        throw new Error(`the evaluator returned no finite accuracy for subnet ${id}`);
      }
      const cand = state.population[state.cursor];
      const costs = costsOf(ctx, g);
      const cost = state.objective === 'latency' ? costs.latencyMs! : costs.mflops;
      const entry: ArchiveEntry = {
        id,
        genome: g,
        accuracy: result.accuracy,
        mflops: costs.mflops,
        mparams: costs.mparams,
        ...(costs.latencyMs !== undefined ? { latencyMs: costs.latencyMs } : {}),
        cost,
        generation: state.generation,
        index: state.archive.length,
        origin: cand.origin,
        ...(cand.parents ? { parents: cand.parents } : {}),
        ...(cand.predicted !== undefined ? { predicted: cand.predicted } : {}),
        ms,
        result,
      };
      state.archive.push(entry);
      ctx.evaluated.set(id, entry);
      front.insert({ id, accuracy: entry.accuracy, cost, data: entry });
      state.elapsedMs += ms;
      const saved = structuredClone({ ...state, cursor: state.cursor + 1 });
      if (opts.onEvaluated) await opts.onEvaluated(entry, saved);
      opts.onProgress?.(progress());
    }
  }
  if (state.done) opts.onProgress?.(progress());
  return { state, archive: state.archive, front, done: state.done };
}

/** The evolutionary search (see the module comment). Resume with `resume: state`. */
export function runEvolutionSearch(opts: SearchOptions): Promise<SearchOutcome> {
  return runSearch('evolution', opts);
}

/**
 * The baseline: uniform random subnets within the budget (no repeats while the space allows), `evaluations` of them
 * — pass the evolutionary search's `archive.length` for a comparison at equal cost. Uses `config.seed`, and
 * `config.populationSize` only as its batch size between state snapshots.
 */
export function runRandomSearch(opts: SearchOptions & { evaluations: number }): Promise<SearchOutcome> {
  if (!opts.resume && (!Number.isInteger(opts.evaluations) || opts.evaluations < 1)) throw new Error(`evaluations must be an integer ≥ 1, got ${opts.evaluations}`);
  return runSearch('random', opts, opts.evaluations);
}
