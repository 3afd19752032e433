/**
 * What crosses a process boundary around search jobs, as zod schemas: the request that queues a search (from the
 * CLI, the app or the served mode) and the typed messages between the `SearchManager` and the search runner
 * process, validated on receipt in both directions.
 */
import { z } from 'zod';
import { BACKENDS } from '../engine/core';
import { CONTROL_CHARS_MESSAGE, hasControlChars } from '../text';
import { DEFAULT_EVOLUTION_CONFIG, type EvolutionConfig } from '../search/evolution';
import type { SearchEngine } from '../store/searches';

/** What can compute a search's evaluations (`searches.engine`). */
export const SEARCH_ENGINES = ['local', 'torch', 'slurm'] as const satisfies readonly SearchEngine[];

const int = z.number().int();
const nonNegInt = int.nonnegative();
const prob = z.number().min(0).max(1);
const nonNeg = z.number().finite().nonnegative();

/** Settings of the evolutionary search; every field defaults to `DEFAULT_EVOLUTION_CONFIG` (see evolution.ts). */
export const EvolutionConfigSchema = z.strictObject({
  /** Initial population (default 16). */
  populationSize: int.min(1).optional(),
  /** Mutated children per generation (default 8). */
  mutateSize: nonNegInt.optional(),
  /** Crossed-over children per generation (default 8). */
  crossoverSize: nonNegInt.optional(),
  /** Per-gene mutation probability (default 0.2). */
  mutateProb: prob.optional(),
  /** Per-gene crossover probability (default 0.5). */
  crossoverProb: prob.optional(),
  /** Generations after the initial population (default 10). */
  generations: nonNegInt.optional(),
  /** Seed of every draw (default 0). */
  seed: nonNegInt.optional(),
  /** Draws per candidate before falling back (default 2000). */
  maxTries: int.min(1).optional(),
  /**
   * Predictor-guided search: score `screen` × the candidates per generation with the run's accuracy predictor and
   * evaluate only the usual number (absent: plain evolution). Needs a predictor of the searched checkpoint.
   */
  screen: int.min(2).max(64).optional(),
});

/** Budgets, any combination, inclusive bounds. */
/**
 * Evaluation workers of a search: `auto` (the cores the job queue gives it) or N. The renderer's form repeats the
 * upper bound (src-renderer/lib/search-form.ts `MAX_WORKERS`).
 */
export const SearchWorkersSchema = z.union([z.literal('auto'), int.min(1).max(256)]);

export const BudgetSchema = z.strictObject({
  mflopsMin: nonNeg.optional(),
  mflopsMax: nonNeg.optional(),
  /** Millions of parameters. */
  mparamsMax: nonNeg.optional(),
  /** Milliseconds of predicted latency (needs this machine's latency table). */
  latencyMaxMs: nonNeg.optional(),
});

/** A search to queue. */
export const SearchRequestSchema = z
  .strictObject({
    runId: int.positive(),
    /** Display name (default `<kind> of run <id>`). */
    name: z.string().min(1).max(200).refine((s) => !hasControlChars(s), CONTROL_CHARS_MESSAGE).optional(),
    /** `evolution` (default) or `random` (the baseline). */
    kind: z.enum(['evolution', 'random']).default('evolution'),
    config: EvolutionConfigSchema.default({}),
    /** Random search: evaluations to make (default: what the evolutionary search with `config` makes, P + G·(M + C)). */
    evaluations: int.positive().optional(),
    budget: BudgetSchema.default({}),
    /** Accuracy against `mflops` (default) or predicted `latency` (needs this machine's latency table). */
    objective: z.enum(['mflops', 'latency']).default('mflops'),
    /** `val` (default): the search-validation split. `test` only for a final check: searching on it leaks. */
    split: z.enum(['val', 'test']).default('val'),
    /** BN calibration (defaults: the run's validation settings and seed). */
    calibrationBatches: int.positive().optional(),
    calibrationBatchSize: int.positive().optional(),
    calibrationSeed: nonNegInt.optional(),
    /** The checkpoint to evaluate: the run's newest (default) or best; pinned for the whole search. */
    checkpoint: z.enum(['latest', 'best']).default('latest'),
    /** TF.js backend of the runner (default `auto`). */
    backend: z.enum(['auto', ...BACKENDS]).default('auto'),
    /**
     * What computes the evaluations: `local` (default, TF.js in the runner) or `torch` (the PyTorch engine's
     * evaluator; the same numbers and the same cache, docs/TORCH.md). MFLOPs, latency and the search stay here.
     */
    engine: z.enum(SEARCH_ENGINES).default('local'),
    /**
     * Engine `slurm`: the cluster profile (Settings → Clusters) whose jobs evaluate each generation, one job per
     * generation whose ranks split the candidates (the torch evaluator's numbers, docs/CLUSTER.md).
     */
    cluster: z.string().min(1).max(200).optional(),
    /** Engine `slurm`: nodes per evaluation job (default 1). */
    nodes: int.min(1).max(4096).default(1),
    /** Engine `slurm`: CPU ranks per node (default 1; with GPUs, one rank per GPU). */
    ranksPerNode: int.min(1).max(1024).default(1),
    /** Engine `slurm`: GPUs per node (default 0: the profile's). */
    gpusPerNode: int.min(0).max(64).default(0),
    /**
     * Evaluation workers (default `auto`: the cores the job queue gives the search): a generation's candidates are
     * evaluated N at a time, each worker a thread with its own backend (wasm or cpu; the native backends use every
     * core by themselves and evaluate with one). The results do not depend on it.
     */
    workers: SearchWorkersSchema.default('auto'),
  })
  .superRefine((r, ctx) => {
    if (r.kind === 'random' && r.config.screen !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['config', 'screen'], message: 'predictor screening is for the evolutionary search' });
    }
    if (r.engine === 'torch' && typeof r.workers === 'number' && r.workers > 1) {
      ctx.addIssue({ code: 'custom', path: ['workers'], message: 'the torch engine evaluates in one process on one thread; several evaluation workers are for the local engine' });
    }
    if (r.engine === 'slurm' && typeof r.workers === 'number' && r.workers > 1) {
      ctx.addIssue({ code: 'custom', path: ['workers'], message: 'a Slurm search evaluates on the cluster: set its nodes and ranks per node, not evaluation workers' });
    }
    if (r.engine === 'slurm' && !r.cluster) ctx.addIssue({ code: 'custom', path: ['cluster'], message: "engine 'slurm' needs a cluster (Settings → Clusters, or `alphanet clusters add`)" });
    if (r.engine !== 'slurm' && r.cluster !== undefined) ctx.addIssue({ code: 'custom', path: ['cluster'], message: "a cluster goes with engine 'slurm'" });
    if (r.kind === 'evolution' && r.evaluations !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['evaluations'], message: 'is for random search; an evolutionary search makes P + G·(M + C) evaluations' });
    }
    const b = r.budget;
    if (b.mflopsMin !== undefined && b.mflopsMax !== undefined && b.mflopsMin > b.mflopsMax) {
      ctx.addIssue({ code: 'custom', path: ['budget', 'mflopsMin'], message: `${b.mflopsMin} is above mflopsMax ${b.mflopsMax}` });
    }
  });
export type SearchRequest = z.infer<typeof SearchRequestSchema>;
export type SearchRequestInput = z.input<typeof SearchRequestSchema>;

/** The resolved evolution config of a request. */
export function resolvedConfig(r: Pick<SearchRequest, 'config'>): EvolutionConfig {
  const given = Object.fromEntries(Object.entries(r.config).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_EVOLUTION_CONFIG, ...given };
}

export const ParentToSearchRunnerSchema = z.discriminatedUnion('type', [
  /** Run search `searchId` of the database in `home` (the row holds everything; its saved state, if any, resumes). */
  z.strictObject({
    type: z.literal('start'),
    home: z.string().min(1),
    searchId: int.positive(),
    resume: z.boolean(),
    /** The cores the job queue gave the search (its evaluation workers, with `workers: auto`). */
    cores: int.positive().optional(),
  }),
  /** Stop before the next evaluation; the search becomes `paused` (its state is saved after every evaluation). */
  z.strictObject({ type: z.literal('pause') }),
  /** Stop before the next evaluation; the search becomes `cancelled`. */
  z.strictObject({ type: z.literal('cancel') }),
]);
export type ParentToSearchRunner = z.infer<typeof ParentToSearchRunnerSchema>;

const FrontPointSchema = z.strictObject({ evaluationId: int, genomeId: z.string(), accuracy: z.number(), cost: z.number() });

export const SearchProgressSchema = z.strictObject({
  type: z.literal('progress'),
  searchId: int,
  kind: z.enum(['evolution', 'random']),
  generation: int,
  /** Subnets evaluated so far (archive size). */
  evaluations: int,
  /** Evaluations the search makes in all. */
  total: int,
  /** Evaluation time so far, summed over sessions, ms. */
  elapsedMs: z.number(),
  /** Remaining time at the mean evaluation time so far, ms (null before the first evaluation). */
  etaMs: z.number().nullable(),
  frontSize: int,
  best: z.strictObject({ id: z.string(), accuracy: z.number(), cost: z.number() }).nullable(),
});
export type SearchProgressMessage = z.infer<typeof SearchProgressSchema>;

export const SearchEvaluatedSchema = z.strictObject({
  type: z.literal('evaluated'),
  searchId: int,
  /** 0-based position in the search's archive. */
  position: int,
  evaluationId: int,
  genomeId: z.string(),
  genome: z.unknown(),
  generation: int,
  origin: z.enum(['min', 'random', 'mutate', 'crossover', 'random-fallback']),
  parents: z.array(z.string()).optional(),
  /** Measured top-1 (always: a predicted accuracy is never reported as this). */
  accuracy: z.number(),
  /** Predictor-guided search: what the predictor said when it chose this subnet. */
  predicted: z.number().optional(),
  loss: z.number(),
  mflops: z.number(),
  mparams: z.number(),
  latencyMs: z.number().nullable(),
  /** Cost on the search's objective axis. */
  cost: z.number(),
  /** Answered from the run's evaluation cache. */
  cached: z.boolean(),
});
export type SearchEvaluatedMessage = z.infer<typeof SearchEvaluatedSchema>;

export const SearchFrontSchema = z.strictObject({
  type: z.literal('front'),
  searchId: int,
  objective: z.enum(['mflops', 'latency']),
  /** In increasing cost. */
  points: z.array(FrontPointSchema),
  hypervolume: z.number(),
  reference: z.strictObject({ costRef: z.number(), accRef: z.number() }),
});
export type SearchFrontMessage = z.infer<typeof SearchFrontSchema>;

export const SearchRunnerToParentSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), pid: int }),
  SearchProgressSchema,
  SearchEvaluatedSchema,
  SearchFrontSchema,
  z.strictObject({ type: z.literal('event'), searchId: int, kind: z.string(), message: z.string() }),
  z.strictObject({
    type: z.literal('done'),
    searchId: int,
    status: z.enum(['finished', 'paused', 'cancelled', 'failed']),
    evaluations: int,
    error: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('error'), message: z.string() }),
]);
export type SearchRunnerToParent = z.infer<typeof SearchRunnerToParentSchema>;
