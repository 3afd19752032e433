/**
 * An in-memory WorkbenchApi for component tests: two datasets, a few runs, one preset and one space, and a
 * `runs.check` that refuses what the engine would refuse for the fields the tests touch (a non-positive or
 * fractional epoch count, a non-list of stage widths) and prices a space by its widths, so edits move the MFLOPs.
 * Subnets, searches, exports and comparisons keep to the contract's rules the pages rely on: a search
 * refuses a budget no subnet meets at `budget.mflopsMax`, an export refuses a relative or missing `dir`, a
 * comparison takes 2–4 runs. Pushed events are sent with `emitRun` / `emitJob` / `emitSearch`.
 */
import { vi } from 'vitest';
import type {
  ClusterJobInfo,
  ClusterJobLog,
  ConfigCheck,
  DatasetInfo,
  DatasetJobEvent,
  LatencyTableInfo,
  PredictorEvent,
  PredictorView,
  RunEvent,
  RunComparison,
  RunDetail,
  RunPreset,
  RunSummary,
  SearchDetail,
  SearchEvent,
  SearchStartRequest,
  SearchSummary,
  SpaceInfo,
  SubnetEvaluation,
  WorkbenchApi,
} from '../../src-main/ipc/api-types';
import { budgetTable, frontOf } from '../../src-main/service/compare';
import type { EvaluationRow } from '../../src-main/store/evaluations';
import { parseClusterProfile, type ClusterProfile } from '../../src-main/store/cluster-profile';
import { INFO } from './app-info';

export { INFO };

export function dataset(id: string, name: string, over: Partial<DatasetInfo> = {}): DatasetInfo {
  const classNames = ['disk', 'ring', 'square'];
  return {
    id,
    name,
    format: 'demo',
    source: 'built-in demo generator v1',
    contentHash: `sha256:${id}`,
    height: 32,
    width: 32,
    channels: 3,
    classNames,
    splits: {
      train: { count: 270, classCounts: [90, 90, 90] },
      val: { count: 30, classCounts: [10, 10, 10] },
      test: { count: 60, classCounts: [20, 20, 20] },
    },
    mean: [0.5, 0.5, 0.5],
    std: [0.25, 0.25, 0.25],
    valFraction: 0.1,
    valSeed: 0,
    augment: { flip: true, padding: 4 },
    sizeBytes: 1_234_567,
    createdAt: '2026-11-20T10:00:00.000Z',
    ...over,
  };
}

export function run(id: number, name: string, over: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    name,
    status: 'finished',
    datasetId: 'ds-demo',
    datasetName: 'demo',
    spaceId: 'tiny',
    distillation: 'adaptive-alpha',
    backend: 'wasm',
    workers: 1,
    step: 10,
    totalSteps: 10,
    epoch: 1,
    epochs: 1,
    progress: 1,
    etaSec: null,
    bestAccuracy: 0.5,
    createdAt: `2026-11-2${id}T10:00:00.000Z`,
    startedAt: null,
    finishedAt: null,
    error: null,
    ...over,
  };
}

export const SPACE: SpaceInfo = {
  id: 'tiny',
  description: 'A tiny space for tests.',
  resolution: 32,
  space: {
    id: 'tiny',
    inputChannels: 3,
    numClasses: 10,
    resolutions: [24, 32],
    firstConv: { width: [8, 16], kernelSize: 3, stride: 1 },
    stages: [
      { name: 'mb1', width: [8, 16], depth: [1, 2], kernelSize: [3, 5], expandRatio: [1], stride: 1, se: false },
      { name: 'mb2', width: [16, 24], depth: [1, 2], kernelSize: [3, 5], expandRatio: [3, 4], stride: 2, se: true },
    ],
    lastConv: { width: [64, 128] },
  },
};

export const PRESET: RunPreset = {
  id: 'demo',
  label: 'Demo quick-start',
  description: 'A few minutes on the demo dataset.',
  config: { space: 'tiny', dataset: 'demo', epochs: 3, batchSize: 32, distillation: { kind: 'adaptive-alpha' } },
};

/** The engine's defaults for the fields the fake fills in. */
const DEFAULTS = {
  epochs: 20,
  batchSize: 64,
  seed: 0,
  augment: true,
  distillation: { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5, klWarmupEpochs: 0 },
  optimizer: { momentum: 0.9, nesterov: true, warmupEpochs: 1 },
  backend: 'auto',
  engine: 'local',
  gpus: 0,
};

function fakeCheck(config: Record<string, unknown>): ConfigCheck {
  const errors: ConfigCheck['errors'] = [];
  const epochs = config['epochs'] ?? DEFAULTS.epochs;
  if (typeof epochs !== 'number' || !Number.isInteger(epochs) || epochs <= 0) {
    errors.push({ field: 'epochs', message: 'Too small: expected number to be >0' });
  }
  const space = typeof config['space'] === 'object' ? (config['space'] as typeof SPACE.space) : SPACE.space;
  const stages = space['stages'] as { width: unknown }[];
  let spaceOk = true;
  stages.forEach((st, i) => {
    if (!Array.isArray(st.width)) {
      spaceOk = false;
      // Bracketed like the engine's own formatIssues: the form must match it to the field either way.
      errors.push({ field: `space.stages[${i}].width`, message: 'Invalid input: expected array, received string' });
    }
  });
  const widths = spaceOk ? stages.map((st) => st.width as number[]) : [];
  const flops = spaceOk
    ? {
        minMFlops: widths.reduce((n, w) => n + (w[0] ?? 0), 0) / 10,
        maxMFlops: widths.reduce((n, w) => n + (w[w.length - 1] ?? 0), 0) / 10,
        minParams: 100_000,
        maxParams: 400_000,
      }
    : null;
  // The engine's rules for the slurm engine's settings (engine/core/train-config.ts), with its messages.
  if (config['engine'] === 'slurm' && !config['cluster']) errors.push({ field: 'cluster', message: "engine 'slurm' needs a cluster (alphanet clusters list)" });
  if (config['engine'] !== 'slurm' && (config['cluster'] !== undefined || (config['nodes'] ?? 1) !== 1)) {
    errors.push({ field: config['cluster'] !== undefined ? 'cluster' : 'nodes', message: "cluster and nodes are settings of engine 'slurm'" });
  }
  const ok = errors.length === 0;
  return { ok, errors, flops, normalized: ok ? withDefaults(DEFAULTS, config) : null };
}

/** `config` over `defaults`, object by object, as zod's defaults fill a config in. */
function withDefaults(defaults: Record<string, unknown>, config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(config)) {
    const d = defaults[k];
    const plain = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = plain(d) && plain(v) ? withDefaults(d, v) : v;
  }
  return out;
}

/** A subnet of the tiny space (2 MB stages: widths for first conv, mb1, mb2, last conv). */
export function evaluation(id: number, runId: number, over: Partial<SubnetEvaluation> = {}): SubnetEvaluation {
  return {
    id,
    runId,
    genomeId: `g${String(id).padStart(11, '0')}`,
    genome: { resolution: 32, width: [8, 16, 24, 128], depth: [1, 2], kernelSize: [3, 5], expandRatio: [1, 4] },
    stageNames: ['first', 'mb1', 'mb2', 'last'],
    accuracy: 0.4 + id / 100,
    accuracyBefore: 0.1 + id / 100,
    loss: 1.2,
    mflops: 2 + id,
    mparams: 0.1 + id / 100,
    latencyMs: 1 + id / 10,
    latencyMethod: 'measured',
    split: 'val',
    calibration: { batches: 4, batchSize: 32, seed: 0 },
    checkpointStep: 10,
    createdAt: '2026-11-22T10:00:00.000Z',
    pinned: false,
    ...over,
  };
}

export function search(id: number, runId: number, over: Partial<SearchSummary> = {}): SearchSummary {
  return {
    id,
    runId,
    runName: `run ${runId}`,
    name: `search ${id}`,
    kind: 'evolution',
    objective: 'mflops',
    engine: 'local',
    workers: null,
    cluster: null,
    status: 'running',
    budget: { mflopsMax: 8 },
    config: { populationSize: 6, mutateSize: 3, crossoverSize: 3, mutateProb: 0.2, crossoverProb: 0.5, generations: 1, seed: 0 },
    evaluations: 0,
    total: 12,
    progress: 0,
    etaSec: null,
    elapsedSec: 0,
    frontSize: 0,
    hypervolume: null,
    reference: null,
    createdAt: '2026-11-22T10:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    error: null,
    ...over,
  };
}

/** An error as both transports deliver it: a message for the user and the field it names. */
function fieldError(field: string, message: string): Error {
  return Object.assign(new Error(message), { field });
}

/**
 * A long operation as the service runs it with its cancel: `start` stays pending until `cancel` is called, which
 * rejects it with the service's "… was cancelled" and answers true (false when nothing was pending), as
 * EngineWorker.cancel does.
 */
export function untilCancelled<T>(what: string) {
  let reject: ((e: Error) => void) | null = null;
  const start = vi.fn((..._args: unknown[]) => new Promise<T>((_resolve, rj) => (reject = rj)));
  const cancel = vi.fn(async (..._args: unknown[]) => {
    if (!reject) return false;
    reject(new Error(`${what} was cancelled`));
    reject = null;
    return true;
  });
  return { start, cancel };
}

export interface Fake {
  api: WorkbenchApi;
  emitRun(e: RunEvent): void;
  emitJob(e: DatasetJobEvent): void;
  emitSearch(e: SearchEvent): void;
}

export function fakeApi(
  opts: { datasets?: DatasetInfo[]; runs?: RunSummary[]; evaluations?: SubnetEvaluation[]; searches?: SearchSummary[]; latencyTable?: LatencyTableInfo | null; clusters?: ClusterProfile[]; predictor?: PredictorView | null; clusterJobs?: Record<number, ClusterJobInfo[]> } = {},
): Fake {
  let clusters = opts.clusters ?? [];
  const clusterJobs = opts.clusterJobs ?? {};
  /** Reads of each job's log so far: the log grows by one line per read, as a running job's does. */
  const logReads = new Map<string, number>();
  let latencyTable = opts.latencyTable ?? null;
  let datasets = opts.datasets ?? [dataset('ds-demo', 'demo'), dataset('ds-digits', 'digits', { channels: 1, format: 'idx' })];
  let runs = opts.runs ?? [];
  let evaluations = opts.evaluations ?? [];
  const searches = opts.searches ?? [];
  const searchSubs = new Set<(e: SearchEvent) => void>();
  const findRun = (id: number): RunSummary => {
    const r = runs.find((x) => x.id === id);
    if (!r) throw new Error(`no run ${id}`);
    return r;
  };
  /**
   * The MFLOPs front of the val evaluations and its hypervolume against (costRef, 0), computed by the service's own
   * code (service/compare.ts `frontOf`, over search/pareto.ts), so pages show what the product computes; costRef
   * defaults to the largest cost of `evals` (the service uses the space's max subnet, which the fake has no space
   * for). `frontOf` reads an evaluation's id, accuracy and the cost given here, which an API evaluation has too.
   */
  const front = (evals: SubnetEvaluation[], ref?: number) => {
    const val = evals.filter((e) => e.split === 'val');
    const costRef = ref ?? Math.max(...val.map((e) => e.mflops));
    return frontOf(val as unknown as EvaluationRow[], 'mflops', (e) => e.mflops, { costRef, accRef: 0 });
  };
  const runSubs = new Set<(e: RunEvent) => void>();
  const jobSubs = new Set<(e: DatasetJobEvent) => void>();
  const predictorSubs = new Set<(e: PredictorEvent) => void>();
  let predictorView = opts.predictor ?? null;
  /** A predictor whose prediction is the measured top-1 minus a point (τ 1 on its held-out half). */
  const fakePredictor = (runId: number): PredictorView => {
    const evals = evaluations.filter((e) => e.runId === runId && e.split === 'val');
    const m = { n: Math.floor(evals.length / 2), kendallTau: 1, spearmanRho: 1, rmsePoints: 1 };
    return {
      predictor: { id: 1, runId, split: 'val', checkpointStep: 12, checkpointSha256: 'a'.repeat(64), stale: false, trainSize: evals.length - m.n, sampled: 0, metrics: m, sizeTable: [{ trainSize: evals.length - m.n, ...m }], fitMs: 1200, backend: 'wasm', createdAt: '2026-12-03T04:00:00.000Z' },
      points: evals.map((e, i) => ({ evaluationId: e.id, genomeId: e.genomeId, measured: e.accuracy, predicted: e.accuracy - 0.01, heldOut: i < m.n })),
    };
  };
  const api: WorkbenchApi = {
    app: {
      info: vi.fn(async () => INFO),
      openExternal: vi.fn(async () => false),
      revealPath: vi.fn(async () => false),
      pickPath: vi.fn(async () => null),
    },
    datasets: {
      list: vi.fn(async () => datasets),
      get: vi.fn(async (id: string) => {
        const d = datasets.find((x) => x.id === id);
        if (!d) throw new Error(`no dataset ${id}`);
        return d;
      }),
      samples: vi.fn(async (id: string, o) => ({ datasetId: id, split: o.split, classNames: ['disk'], images: [[]] })),
      import: vi.fn(async (req) => ({ jobId: 'job-1', kind: 'import' as const, source: req.path })),
      createDemo: vi.fn(async () => ({ jobId: 'job-demo', kind: 'demo' as const, source: 'demo' })),
      delete: vi.fn(async (id: string) => {
        datasets = datasets.filter((d) => d.id !== id);
      }),
      onJob: (cb) => {
        jobSubs.add(cb);
        return () => jobSubs.delete(cb);
      },
    },
    spaces: { list: vi.fn(async () => [SPACE]) },
    runs: {
      list: vi.fn(async () => runs),
      get: vi.fn(async (id: number): Promise<RunDetail> => ({
        summary: findRun(id),
        config: { ...withDefaults(DEFAULTS, PRESET.config), distillation: { kind: findRun(id).distillation } },
        seed: 0,
        appVersion: '0.1.0',
        events: [],
        checkpoints: [],
        calibration: [],
        clusterJobs: (clusterJobs[id] ?? []).map((j) => ({ ...j })),
      })),
      metrics: vi.fn(async () => ({ steps: [], epochs: [] })),
      presets: vi.fn(async () => [PRESET]),
      check: vi.fn(async (c: Record<string, unknown>) => fakeCheck(c)),
      start: vi.fn(async (c: Record<string, unknown>) => {
        const r = fakeCheck(c);
        if (!r.ok) throw Object.assign(new Error(r.errors[0]?.message ?? 'invalid'), { field: r.errors[0]?.field });
        const summary = run(runs.length + 100, 'started', { status: 'queued', progress: 0 });
        runs = [...runs, summary];
        return summary;
      }),
      pause: vi.fn(async () => undefined),
      resume: vi.fn(async () => undefined),
      cancel: vi.fn(async () => undefined),
      delete: vi.fn(async (id: number) => {
        runs = runs.filter((r) => r.id !== id);
      }),
      saveConfig: vi.fn(async (_c: Record<string, unknown>, p: string | null) => p),
      onEvent: (cb) => {
        runSubs.add(cb);
        return () => runSubs.delete(cb);
      },
    },
    subnets: {
      list: vi.fn(async (runId: number) => evaluations.filter((e) => e.runId === runId)),
      evaluate: vi.fn(async (req) => {
        const like = evaluations.find((e) => e.runId === req.runId && e.genomeId === req.subnet);
        if (!like) throw fieldError('subnet', `run ${req.runId} has evaluated no subnet ${req.subnet}`);
        const made = { ...like, id: Math.max(...evaluations.map((e) => e.id)) + 1, split: req.split ?? 'val', accuracy: like.accuracy - 0.01 };
        evaluations = [...evaluations, made];
        return made;
      }),
      pin: vi.fn(async (id: number, pinned: boolean) => {
        const e = evaluations.find((x) => x.id === id);
        if (!e) throw new Error(`no evaluation ${id}`);
        const out = { ...e, pinned };
        evaluations = evaluations.map((x) => (x.id === id ? out : x));
        return out;
      }),
      front: vi.fn(async (runId: number) => {
        const evals = evaluations.filter((e) => e.runId === runId);
        return evals.length ? front(evals) : null;
      }),
    },
    predictor: {
      get: vi.fn(async () => predictorView),
      importance: vi.fn(async () =>
        predictorView
          ? {
              predictor: predictorView.predictor,
              genes: [
                { key: 'resolution', label: 'res', kind: 'resolution' as const, importance: 0.6, marginal: [{ value: 24, mean: 0.7 }, { value: 32, mean: 0.75 }] },
                { key: 'depth[1]', label: 'd mb2', kind: 'depth' as const, importance: 0.25, marginal: [{ value: 1, mean: 0.71 }, { value: 2, mean: 0.74 }] },
              ],
              mainEffects: 0.85,
            }
          : null,
      ),
      build: vi.fn(async (runId: number) => {
        for (const s of predictorSubs) s({ runId, progress: { phase: 'fit', fit: 1, fits: 1, trainSize: 10, epoch: 100, epochs: 200 } });
        predictorView = fakePredictor(runId);
        return predictorView;
      }),
      cancelBuild: vi.fn(async () => false),
      genes: vi.fn(async (runId: number) => ({
        axes: [
          { key: 'resolution', label: 'res', kind: 'resolution' as const, values: [24, 28, 32] },
          { key: 'depth[1]', label: 'd mb2', kind: 'depth' as const, values: [1, 2] },
        ],
        points: evaluations.filter((e) => e.runId === runId && e.split === 'val').map((e) => ({ genomeId: e.genomeId, values: [e.genome.resolution, e.genome.depth[1]] })),
      })),
      onEvent: (cb: (e: PredictorEvent) => void) => {
        predictorSubs.add(cb);
        return () => predictorSubs.delete(cb);
      },
    },
    latency: {
      table: vi.fn(async () => latencyTable),
      build: vi.fn(async (): Promise<LatencyTableInfo> => {
        latencyTable = {
          path: '/home/me/.alphanet/latency/alphanet-cifar32.json',
          device: 'AMD EPYC ×2, wasm (portable), tfjs 4.22.0',
          createdAt: '2026-11-28T20:00:00.000Z',
          buildSeconds: 41.5,
          entries: 346,
          heldOut: { subnets: 20, medianRelError: 0.061, p90RelError: 0.093, maxRelError: 0.214 },
        };
        return latencyTable;
      }),
      cancelBuild: vi.fn(async () => false),
    },
    searches: {
      list: vi.fn(async (runId: number | null) => searches.filter((s) => runId === null || s.runId === runId)),
      get: vi.fn(async (id: number): Promise<SearchDetail> => {
        const summary = searches.find((s) => s.id === id);
        if (!summary) throw new Error(`no search ${id}`);
        return { summary, evaluations: [], front: null };
      }),
      start: vi.fn(async (req: SearchStartRequest) => {
        const r = findRun(req.runId);
        const cheapest = Math.min(2, ...evaluations.filter((e) => e.runId === r.id).map((e) => e.mflops));
        if (req.budget?.mflopsMax !== undefined && req.budget.mflopsMax < cheapest) {
          throw fieldError('budget.mflopsMax', `no subnet of run ${r.id} has at most ${req.budget.mflopsMax} MFLOPs (the smallest has ${cheapest})`);
        }
        const id = Math.max(0, ...searches.map((x) => x.id)) + 1;
        const s = search(id, r.id, { status: 'queued', budget: req.budget ?? {}, name: req.name ?? 'evolution search', config: { ...search(id, r.id).config, ...req.config } });
        searches.unshift(s);
        return s;
      }),
      pause: vi.fn(async () => undefined),
      resume: vi.fn(async () => undefined),
      cancel: vi.fn(async () => undefined),
      onEvent: (cb) => {
        searchSubs.add(cb);
        return () => searchSubs.delete(cb);
      },
    },
    exports: {
      start: vi.fn(async (req) => {
        if (!req.dir.startsWith('/')) throw fieldError('dir', `dir must be an absolute path, got '${req.dir}'`);
        const files = [
          ...(req.formats.includes('tfjs') ? [{ path: `${req.dir}/model.json`, bytes: 5120 }, { path: `${req.dir}/weights.bin`, bytes: 204_800 }] : []),
          ...(req.formats.includes('onnx') ? [{ path: `${req.dir}/model.onnx`, bytes: 210_000 }] : []),
          { path: `${req.dir}/provenance.json`, bytes: 900 },
        ];
        return { dir: req.dir, files, provenance: { runId: req.runId, evaluationId: req.evaluationId, appVersion: '0.1.0' } };
      }),
      cancel: vi.fn(async () => false),
    },
    clusters: {
      list: vi.fn(async () => clusters.map((c) => ({ ...c }))),
      // The real validation (Node-free), so a bad field is refused as the service refuses it.
      add: vi.fn(async (input, replace: boolean) => {
        const r = parseClusterProfile(input);
        if (!r.ok) throw fieldError(`profile.${r.field}`, r.message);
        if (!replace && clusters.some((c) => c.name === r.profile.name)) throw fieldError('profile.name', `a cluster named '${r.profile.name}' exists already`);
        const saved: ClusterProfile = { ...r.profile, createdAt: '2026-12-03T04:00:00.000Z' };
        clusters = [...clusters.filter((c) => c.name !== saved.name), saved].sort((a, b) => a.name.localeCompare(b.name));
        return saved;
      }),
      remove: vi.fn(async (n: string) => {
        clusters = clusters.filter((c) => c.name !== n);
      }),
      jobLog: vi.fn(async (runId: number, jobId: string, maxBytes = 64 * 1024): Promise<ClusterJobLog> => {
        const job = (clusterJobs[runId] ?? []).find((j) => j.jobId === jobId);
        if (!job) throw Object.assign(new Error(`run ${runId} has no Slurm job ${jobId}`), { field: 'jobId' });
        const reads = (logReads.get(jobId) ?? 0) + 1;
        logReads.set(jobId, reads);
        const full = [`alphanet: job ${jobId} on ${job.nodes} node(s) (${job.nodeList ?? 'n1'}), rendezvous n1:21234`, ...Array.from({ length: reads }, (_, i) => `rank 0: step ${i + 1}`)].join('\n') + '\n';
        const bytes = new TextEncoder().encode(full).length;
        return { jobId, job: { ...job }, path: `${job.remoteDir}/slurm-${jobId}.out`, exists: true, bytes, text: full.slice(-maxBytes), truncated: bytes > maxBytes, readAt: '2026-12-03T05:00:00.000Z' };
      }),
      // A login node whose name contains "unreachable" fails the first check, as ssh would.
      test: vi.fn(async (n: string) => {
        const c = clusters.find((x) => x.name === n);
        if (!c) throw new Error(`no cluster named '${n}'`);
        if (c.sshHost?.includes('unreachable')) return [{ name: `ssh login to ${c.sshHost}`, ok: false, detail: `ssh cannot resolve ${c.sshHost}` }];
        return [
          { name: `ssh login to ${c.sshHost}`, ok: true, detail: 'logged in as me@login1' },
          { name: 'Slurm commands', ok: true, detail: 'sbatch, squeue, scontrol, scancel' },
        ];
      }),
    },
    compare: {
      runs: vi.fn(async (ids: number[]): Promise<RunComparison> => {
        if (ids.length < 2 || ids.length > 4) throw fieldError('ids', `compare 2 to 4 runs, got ${ids.length}`);
        const rs = ids.map(findRun);
        // One shared reference: the largest cost of any compared run's evaluations.
        const costRef = Math.max(0, ...evaluations.filter((e) => ids.includes(e.runId)).map((e) => e.mflops));
        const fronts = rs.map((r) => {
          const evals = evaluations.filter((e) => e.runId === r.id);
          return evals.length ? front(evals, costRef) : null;
        });
        return {
          runs: rs,
          configDiff: [{ key: 'distillation.kind', values: rs.map((r) => r.distillation) }],
          metrics: rs.map(() => ({ steps: [], epochs: [] })),
          fronts,
          reference: { costRef, accRef: 0 },
          // Two budgets, 5 and 10 MFLOPs, by the service's own table.
          budgets: budgetTable(fronts, 5, 10, 2),
        };
      }),
    },
  };
  return {
    api,
    emitRun: (e) => runSubs.forEach((cb) => cb(e)),
    emitJob: (e) => jobSubs.forEach((cb) => cb(e)),
    emitSearch: (e) => searchSubs.forEach((cb) => cb(e)),
  };
}
