/**
 * The argument lists of every {@link WorkbenchApi} method, as zod schemas, in one table. Both transports (Electron IPC
 * through `guard.ts`, the served mode's HTTP server) validate a call's arguments here before any handler runs, so a
 * malformed payload never reaches the service. Deeper checks that produce field errors for the user (a run config's
 * fields, a dataset's existence) are the service's: `runs.check` must answer, not refuse, for a bad config.
 *
 * A compile-time check below keeps each schema's output assignable to the method's parameters in api-types.ts.
 */
import { z } from 'zod';
import { IMPORT_FORMATS, MAX_FOLDER_SIZE, MIN_FOLDER_SIZE, SPLITS, type SplitName } from '../data/types';
import { BudgetSchema, EvolutionConfigSchema, SEARCH_ENGINES, SearchWorkersSchema } from '../jobs/search-messages';
import { ClusterProfileInputSchema } from '../store/cluster-profile';
import type { WorkbenchApi } from './api-types';
import { CONTROL_CHARS_MESSAGE, hasControlChars } from '../text';
import { API_METHODS, type ApiMethod, type EVENT_TOPICS, type EventTopic } from './protocol';

// ---- types derived from the contract ---------------------------------------------------------------------------

/** The `WorkbenchApi` member behind `namespace.method`. */
type Member<M extends ApiMethod> = M extends `${infer N extends keyof WorkbenchApi}.${infer F}`
  ? F extends keyof WorkbenchApi[N]
    ? WorkbenchApi[N][F]
    : never
  : never;
type Fn = (...args: never[]) => unknown;
/** The parameters of a method, as the renderer passes them. */
export type ApiArgs<M extends ApiMethod> = Member<M> extends Fn ? Parameters<Member<M>> : never;
/** What a method's promise resolves to. */
export type ApiResult<M extends ApiMethod> = Member<M> extends Fn ? Awaited<ReturnType<Member<M>>> : never;
/** One implementation per method: what the service provides and both transports call. */
export type ApiHandlers = { [M in ApiMethod]: (...args: ApiArgs<M>) => Promise<ApiResult<M>> };

// ---- the table -------------------------------------------------------------------------------------------------

/** An argument: its name (used in error messages and as the error's `field`) and its schema. */
type Arg = readonly [name: string, schema: z.ZodType];

/** Longest path, URL or id accepted (characters): generous for real input, small enough to refuse junk early. */
const MAX_PATH = 4096;
const MAX_URL = 2048;
const MAX_ID = 200;

const datasetId = z.string().min(1).max(MAX_ID);
const runId = z.number().int().positive();
/** A run config input: any JSON object; its fields are the service's to check (`runs.check` answers, never refuses). */
const config = z.record(z.string(), z.unknown());
const path = z.string().min(1).max(MAX_PATH);
/** Image folders: side of the stored square images (the importer's own bounds) and forced channels. */
const imageSize = z.number().int().min(MIN_FOLDER_SIZE).max(MAX_FOLDER_SIZE);
const imageChannels = z.union([z.literal(1), z.literal(3)]);
const clusterName = z.string().min(1).max(64);
/** The most of a job log one call returns (bytes): what the run page shows, not a bulk download. */
const MAX_JOB_LOG = 1024 * 1024;
/** Evaluation and search ids. */
const id = z.number().int().positive();
/** A subnet named as `subnets.evaluate` takes it: a name, or a genome as JSON text (a few hundred characters). */
const MAX_SUBNET = 16_384;
const objective = z.enum(['mflops', 'latency']);
/** A dataset or search name: one printable line. */
const name = (max: number) => z.string().min(1).max(max).refine((s) => !hasControlChars(s), CONTROL_CHARS_MESSAGE);

const a = <const T extends readonly Arg[]>(...args: T): T => args;

export const API_ARGS = {
  'app.info': a(),
  'app.openExternal': a(['url', z.string().max(MAX_URL)]),
  'app.revealPath': a(['path', path]),
  'app.pickPath': a(['opts', z.strictObject({ title: z.string().max(200), directory: z.boolean() })]),
  'datasets.list': a(),
  'datasets.get': a(['id', datasetId]),
  'datasets.samples': a([
    'id',
    datasetId,
  ], [
    'opts',
    z.strictObject({
      split: z.enum(SPLITS as readonly SplitName[] as [SplitName, ...SplitName[]]),
      /** Thumbnails per class: 1–64. */
      perClass: z.number().int().min(1).max(64),
    }),
  ]),
  'datasets.import': a([
    'req',
    z.strictObject({
      path,
      format: z.enum(IMPORT_FORMATS).optional(),
      name: name(MAX_ID).optional(),
      valFraction: z.number().min(0).lt(1).optional(),
      size: imageSize.optional(),
      channels: imageChannels.optional(),
    }),
  ]),
  'datasets.createDemo': a(),
  'datasets.delete': a(['id', datasetId]),
  'spaces.list': a(),
  'runs.list': a(),
  'runs.get': a(['id', runId]),
  'runs.metrics': a(['id', runId]),
  'runs.presets': a(),
  'runs.check': a(['config', config]),
  'runs.start': a(['config', config]),
  'runs.pause': a(['id', runId]),
  'runs.resume': a(['id', runId]),
  'runs.cancel': a(['id', runId]),
  'runs.delete': a(['id', runId]),
  'runs.saveConfig': a(['config', config], ['path', path.nullable()], ['opts', z.strictObject({ overwrite: z.boolean() })]),
  'subnets.list': a(['runId', runId]),
  'subnets.evaluate': a([
    'req',
    z.strictObject({ runId, subnet: z.string().min(1).max(MAX_SUBNET), split: z.enum(['val', 'test']).optional(), latency: z.boolean().optional() }),
  ]),
  'subnets.pin': a(['evaluationId', id], ['pinned', z.boolean()]),
  'subnets.front': a(['runId', runId], ['objective', objective]),
  'predictor.get': a(['runId', runId]),
  'predictor.importance': a(['runId', runId]),
  'predictor.build': a(['runId', runId], ['opts', z.strictObject({ samples: z.number().int().min(12).max(10_000).optional() })]),
  'predictor.cancelBuild': a(['runId', runId]),
  'predictor.genes': a(['runId', runId]),
  'latency.table': a(['runId', runId]),
  'latency.build': a(['runId', runId]),
  'latency.cancelBuild': a(['runId', runId]),
  'searches.list': a(['runId', runId.nullable()]),
  'searches.get': a(['id', id]),
  // The shapes of the engine's own schemas (jobs/search-messages.ts); the service then parses the whole request with
  // `SearchRequestSchema` (defaults, cross-field rules) and checks the budget against the run's space, naming the
  // field inside the request (`budget.mflopsMax`).
  'searches.start': a([
    'req',
    z.strictObject({
      runId,
      name: name(200).optional(),
      kind: z.enum(['evolution', 'random']).optional(),
      objective: objective.optional(),
      budget: BudgetSchema.optional(),
      config: EvolutionConfigSchema.omit({ maxTries: true }).optional(),
      evaluations: z.number().int().positive().optional(),
      engine: z.enum(SEARCH_ENGINES).optional(),
      workers: SearchWorkersSchema.optional(),
      cluster: clusterName.optional(),
      nodes: z.number().int().min(1).max(4096).optional(),
      ranksPerNode: z.number().int().min(1).max(1024).optional(),
      gpusPerNode: z.number().int().min(0).max(64).optional(),
    }),
  ]),
  'searches.pause': a(['id', id]),
  'searches.resume': a(['id', id]),
  'searches.cancel': a(['id', id]),
  // An empty `formats` is the service's to refuse (field `formats`, as the export form names it).
  'exports.start': a(['req', z.strictObject({ runId, evaluationId: id, formats: z.array(z.enum(['tfjs', 'onnx'])).max(2), dir: path })]),
  'exports.cancel': a(['dir', path]),
  'compare.runs': a(['ids', z.array(runId).min(2).max(4)]),
  'clusters.list': a(),
  // The profile's own schema (store/cluster-profile.ts): field errors name `profile.<field>`.
  'clusters.add': a(['profile', ClusterProfileInputSchema], ['replace', z.boolean()]),
  'clusters.remove': a(['name', clusterName]),
  'clusters.test': a(['name', clusterName]),
  'clusters.jobLog': a(['runId', runId], ['jobId', z.string().regex(/^\d+(_\d+)?$/, 'a Slurm job id')], ['maxBytes', z.number().int().min(1).max(MAX_JOB_LOG).optional()]),
} as const satisfies Record<ApiMethod, readonly Arg[]>;

// Compile-time: every schema's output fits the method's parameters (a wrong entry makes `Mismatched` non-never).
type Parsed<T extends readonly Arg[]> = { -readonly [K in keyof T]: z.output<T[K][1]> };
type Mismatched = { [M in ApiMethod]: Parsed<(typeof API_ARGS)[M]> extends ApiArgs<M> ? never : M }[ApiMethod];
const mismatched: [Mismatched] extends [never] ? true : Mismatched = true;
void mismatched;

// ---- parsing ---------------------------------------------------------------------------------------------------

/** A call refused for its arguments; `field` is the argument's name plus the dotted path inside it. */
export class ApiArgsError extends Error {
  override name = 'ApiArgsError';
  constructor(
    readonly method: string,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Dotted path of a zod issue (`stages.3.width`), '' for the root. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

export function isApiMethod(name: string): name is ApiMethod {
  return (API_METHODS as readonly string[]).includes(name);
}

/**
 * Validates the raw argument list of `method`: the count, then each argument against its schema. Returns the parsed
 * arguments (zod's output: unknown keys of strict objects refused, nothing coerced). Throws {@link ApiArgsError}
 * naming the argument, e.g. `datasets.samples: argument 'opts.perClass': Too big: expected number to be <=64`.
 */
export function parseApiArgs<M extends ApiMethod>(method: M, args: unknown): ApiArgs<M> {
  const spec: readonly Arg[] = API_ARGS[method];
  // A list of the wrong shape or length is the field `args` (the whole argument list), so every refusal names one.
  if (!Array.isArray(args)) throw new ApiArgsError(method, 'args', `${method}: the arguments must be a list`);
  if (args.length !== spec.length) {
    const names = spec.map(([n]) => n).join(', ');
    throw new ApiArgsError(method, 'args', `${method}: expected ${spec.length} argument${spec.length === 1 ? '' : 's'}${names ? ` (${names})` : ''}, got ${args.length}`);
  }
  const out = spec.map(([name, schema], i) => {
    const r = schema.safeParse(args[i]);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const field = [name, issuePath(issue.path)].filter(Boolean).join('.');
    throw new ApiArgsError(method, field, `${method}: argument '${field}': ${issue.message}`);
  });
  return out as ApiArgs<M>;
}

/** The parser `guardHandler` takes for a method's channel. */
export const argsParser =
  <M extends ApiMethod>(method: M) =>
  (args: unknown[]): ApiArgs<M> =>
    parseApiArgs(method, args);

// ---- events ----------------------------------------------------------------------------------------------------

type Subscription<T extends EventTopic> = (typeof EVENT_TOPICS)[T] extends `${infer N extends keyof WorkbenchApi}.${infer F}`
  ? F extends keyof WorkbenchApi[N]
    ? WorkbenchApi[N][F]
    : never
  : never;
/** What a topic's events carry: the argument of its `on*` callback. */
export type EventPayload<T extends EventTopic> = Subscription<T> extends (cb: (e: infer P) => void) => unknown ? P : never;
/** Event map of the service's emitter (node:events typing): one payload per topic. */
export type ServiceEvents = { [T in EventTopic]: [payload: EventPayload<T>] };
