/**
 * An in-memory WorkbenchApi for component tests: two datasets, a few runs, one preset and one space, and a
 * `runs.check` that refuses what the engine would refuse for the fields the tests touch (a non-positive or
 * fractional epoch count, a non-list of stage widths) and prices a space by its widths, so edits move the MFLOPs.
 * Pushed events are sent with `emitRun` / `emitJob`.
 */
import { vi } from 'vitest';
import type {
  AppInfo,
  ConfigCheck,
  DatasetInfo,
  DatasetJobEvent,
  RunEvent,
  RunPreset,
  RunSummary,
  SpaceInfo,
  WorkbenchApi,
} from '../../src-main/ipc/api-types';

export const INFO: AppInfo = {
  name: 'AlphaNet Workbench',
  version: '0.1.0',
  versions: { electron: '', chrome: '', node: '20.20.2' },
  platform: 'linux',
  dataDir: '/home/ada/.config/AlphaNet Workbench',
  mode: 'served',
  backend: { name: 'wasm', detail: 'tfjs-node not installed' },
};

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
    step: 10,
    totalSteps: 10,
    epoch: 1,
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
  distillation: { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5 },
  optimizer: { momentum: 0.9, nesterov: true, warmupEpochs: 1 },
  backend: 'auto',
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

export interface Fake {
  api: WorkbenchApi;
  emitRun(e: RunEvent): void;
  emitJob(e: DatasetJobEvent): void;
}

export function fakeApi(opts: { datasets?: DatasetInfo[]; runs?: RunSummary[] } = {}): Fake {
  let datasets = opts.datasets ?? [dataset('ds-demo', 'demo'), dataset('ds-digits', 'digits', { channels: 1, format: 'idx' })];
  let runs = opts.runs ?? [];
  const runSubs = new Set<(e: RunEvent) => void>();
  const jobSubs = new Set<(e: DatasetJobEvent) => void>();
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
      get: vi.fn(async () => {
        throw new Error('not used');
      }),
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
  };
  return {
    api,
    emitRun: (e) => runSubs.forEach((cb) => cb(e)),
    emitJob: (e) => jobSubs.forEach((cb) => cb(e)),
  };
}
