/**
 * The API the renderer talks to: `window.api` from the Electron preload, or the same interface over HTTP + WebSocket
 * in the browser-served mode. Types only, and free of Node and DOM types, so the renderer (which must not bundle
 * main-process code) imports it with `import type`. Every type imported here must come from a Node-free module.
 *
 * Conventions (both transports):
 * - Every method returns a promise; a refused or failed call rejects with an `Error` whose message is meant for the
 *   user (the transports carry `{ message, field? }` and rebuild it as an {@link ApiError}-shaped error).
 * - `on*` subscribe to pushed events and return a function that unsubscribes.
 * - Arguments are plain JSON; main validates every one with zod before any handler runs.
 */
import type { DatasetInfo, ImportFormat, ImportProgress, SplitName } from '../data/types';
import type { ClusterCheck, ClusterProfile, ClusterProfileInput } from '../store/cluster-profile';

/** What the app reports about itself: shown in the renderer's status line. */
export interface AppInfo {
  /** `productName` from package.json. */
  name: string;
  /** `version` from package.json. */
  version: string;
  /** Versions of the runtime the main process runs in (`electron`/`chrome` are '' in the served mode). */
  versions: { electron: string; chrome: string; node: string };
  /** `process.platform` of the main process. */
  platform: string;
  /** Absolute path of the per-user data directory (Electron's userData unless `ALPHANET_HOME` overrides it). */
  dataDir: string;
  /** `electron` (desktop app, native dialogs available) or `served` (browser; paths are typed in). */
  mode: 'electron' | 'served';
  /** The engine backend runs will use by default on this machine, with the reason (engine `formatBackendReport`). */
  backend: { name: string; detail: string };
  /** This machine's cores, and how many training runs and searches may hold at once (settings `jobCores`). */
  cores: { machine: number; jobs: number };
}

/** The error shape both transports deliver. `field`: dotted path of the offending input, when there is one. */
export interface ApiErrorInfo {
  message: string;
  field?: string;
}

// ---- datasets --------------------------------------------------------------------------------------------------

export type { DatasetInfo, ImportFormat, ImportProgress, SplitName };
export type { ClusterCheck, ClusterProfile, ClusterProfileInput };

/** A page of thumbnails: `perClass` images of each class as PNG data URLs. */
export interface DatasetSamples {
  datasetId: string;
  split: SplitName;
  classNames: string[];
  /** `images[c]`: data URLs of class c. */
  images: string[][];
}

/** This machine's latency lookup table for a space on the active backend (docs/SEARCH.md, "Latency"). */
export interface LatencyTableInfo {
  path: string;
  /** What it was built on, in words: CPU ×count, backend (ops mode), tfjs version. */
  device: string;
  /** ISO time of the build. */
  createdAt: string;
  buildSeconds: number;
  /** Layer entries. */
  entries: number;
  /** Error on random subnets held out during the build (null for tables built before it was recorded). */
  heldOut: { subnets: number; medianRelError: number; p90RelError: number; maxRelError: number } | null;
}

export interface ImportRequest {
  /** Absolute path on the machine that runs main (a file, an archive, or a folder of class folders). */
  path: string;
  /** Default: detected from the path. */
  format?: ImportFormat;
  /** Default: from the source. */
  name?: string;
  /** Fraction of each training class held out for search validation (default 0.1). */
  valFraction?: number;
  /** Image folders only: side of the stored square images in pixels, 4–512 (default 32). Refused for other formats. */
  size?: number;
  /** Image folders only: force 1 (greyscale) or 3 (RGB) channels (default: the images' own). Refused for other formats. */
  channels?: 1 | 3;
}

/** Import (or demo generation) jobs run off the main thread; their progress arrives as events. */
export interface DatasetJob {
  jobId: string;
  kind: 'import' | 'demo';
  /** The path, or 'demo'. */
  source: string;
}

export type DatasetJobEvent =
  | { jobId: string; type: 'progress'; progress: ImportProgress }
  | { jobId: string; type: 'done'; dataset: DatasetInfo; reused: boolean }
  | { jobId: string; type: 'error'; error: ApiErrorInfo };

// ---- runs ------------------------------------------------------------------------------------------------------

export type RunStatus = 'queued' | 'running' | 'paused' | 'finished' | 'failed' | 'cancelled';

/** One row of the runs table. */
export interface RunSummary {
  id: number;
  name: string;
  status: RunStatus;
  datasetId: string | null;
  datasetName: string;
  spaceId: string;
  /** `adaptive-alpha`, `kl`, `alpha`, `none`. */
  distillation: string;
  backend: string | null;
  /** Data-parallel workers (= cores) it trains with while running, last trained with otherwise; null before it ran. */
  workers: number | null;
  step: number;
  totalSteps: number | null;
  /** 0-based epoch the run is in (equals `epochs` once training has ended); show it with `displayEpoch`. */
  epoch: number;
  /** Configured epochs, or null if the config has none. */
  epochs: number | null;
  /** step / totalSteps in [0, 1]; 1 for a finished run. */
  progress: number;
  /** Seconds to the end at the recent speed, while running; null otherwise. */
  etaSec: number | null;
  /** Best validation top-1 (of the max subnet) so far, in [0, 1]. */
  bestAccuracy: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export interface RunStepPoint {
  step: number;
  epoch: number;
  lr: number;
  /**
   * Each sandwich member by role (`max`, `random-1`…, `min`): its training loss (for α losses the surrogate, which can
   * be negative) and, for distilled members, the divergence to the teacher (never negative; absent for `none`).
   */
  losses: { role: string; loss: number | null; divergence?: number }[];
  alphaMinShare: number | null;
  clippedShare: number | null;
  nonfinite: number;
  imagesPerSec: number | null;
}

export interface RunEpochPoint {
  /** 0-based: the epoch that had just ended when the subnet was validated (the first epoch is 0; show `epoch + 1`). */
  epoch: number;
  step: number;
  /** `min`, `max`, `random-1`… */
  subnet: string;
  mflops: number;
  valTop1: number;
  valLoss: number;
}

export interface RunEventInfo {
  id: number;
  time: string;
  step: number | null;
  /** `start`, `pause`, `checkpoint`, `nan`, `rollback`, `validation`… */
  kind: string;
  message: string;
}

export interface RunDetail {
  summary: RunSummary;
  /** The validated config as stored (every default filled in). */
  config: Record<string, unknown>;
  seed: number;
  appVersion: string;
  events: RunEventInfo[];
  checkpoints: { step: number; epoch: number; sha256: string; bytes: number; time: string }[];
  /** BN calibration of the last validation: accuracy before/after recalibration per subnet, when recorded. */
  calibration: { subnet: string; before: number | null; after: number }[];
  /** Slurm jobs of an `engine: slurm` run, oldest first (a resume is a new job; docs/CLUSTER.md). */
  clusterJobs: ClusterJobInfo[];
}

/** One submission of a run to a Slurm cluster, as the tracker last saw it (store `cluster_jobs`). */
export interface ClusterJobInfo {
  cluster: string;
  jobId: string;
  nodes: number;
  ranksPerNode: number;
  gpusPerNode: number;
  /** Slurm's state word (PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, TIMEOUT, …) and its reason. */
  state: string;
  reason: string | null;
  nodeList: string | null;
  remoteDir: string;
  outcome: 'finished' | 'paused' | 'cancelled' | 'failed' | null;
  error: string | null;
  submittedAt: string;
}

/** The end of a cluster job's own Slurm log (`slurm-<job id>.out` in its directory on the cluster). */
export interface ClusterJobLog {
  jobId: string;
  /** The job as the tracker last saw it (state, reason, nodes), so a refresh of the log refreshes those too. */
  job: ClusterJobInfo;
  /** Where the log is on the cluster. */
  path: string;
  /** False until the job has started (Slurm creates the file then); `text` is empty then. */
  exists: boolean;
  /** The log's size in bytes. */
  bytes: number;
  /** Its last `maxBytes` (all of it when smaller). */
  text: string;
  /** True when `text` is only the end of the log. */
  truncated: boolean;
  /** When it was read (ISO time). */
  readAt: string;
}

export interface RunMetrics {
  steps: RunStepPoint[];
  epochs: RunEpochPoint[];
}

/** A named starting point for the new-run form. */
export interface RunPreset {
  id: 'demo' | 'small-28' | 'small-32' | 'slimmable' | 'imagenet';
  label: string;
  /** One sentence: what it is for. */
  description: string;
  /** A complete config input (the form's initial values). */
  config: Record<string, unknown>;
}

/** The outcome of checking a config without starting it: errors at fields, and the subnets' MFLOPs when valid. */
export interface ConfigCheck {
  ok: boolean;
  /** One per bad field; `field` is the dotted path (`optim.lr`, `space.stages.3.width`). */
  errors: { field: string; message: string }[];
  /** Present when the search space part is valid, even if other fields are not. MFLOPs in millions of MACs;
   * params as plain counts. */
  flops: { minMFlops: number; maxMFlops: number; minParams: number; maxParams: number } | null;
  /** The config with defaults filled in, when ok. */
  normalized: Record<string, unknown> | null;
}

export type RunEvent =
  | { type: 'status'; run: RunSummary }
  | { type: 'progress'; runId: number; step: RunStepPoint; totalSteps: number; etaSec: number }
  | { type: 'epoch'; runId: number; points: RunEpochPoint[] }
  | { type: 'event'; runId: number; event: RunEventInfo }
  | { type: 'deleted'; runId: number };

/** A built-in search space the form can start from. */
export interface SpaceInfo {
  id: string;
  description: string;
  resolution: number;
  /** The space as JSON (schema `SearchSpaceSchema`), for the per-stage editor. */
  space: Record<string, unknown>;
}

// ---- subnets, searches, export, comparison ----------------------------------------------------------------------

/** A subnet's genes as the engine stores them (engine `Genome`): `width` has n + 2 entries [first conv, stage 1 … n,
 * last conv]; `depth`, `kernelSize` and `expandRatio` have n, one per stage. */
export interface GenomeInfo {
  resolution: number;
  width: number[];
  depth: number[];
  kernelSize: number[];
  expandRatio: number[];
}

/** One evaluated subnet of a run (a point of the Pareto explorer). */
export interface SubnetEvaluation {
  /** Evaluation id (unique across runs). */
  id: number;
  runId: number;
  /** Stable 12-hex id of the genome (engine `genomeId`). */
  genomeId: string;
  genome: GenomeInfo;
  /** `['first', …stage names, 'last']`, aligned with `genome.width`; `stageNames[1..n]` go with `depth` etc. */
  stageNames: string[];
  /** Top-1 in [0, 1] after BN recalibration. */
  accuracy: number;
  /** Top-1 before recalibration (null when not measured). */
  accuracyBefore: number | null;
  loss: number;
  mflops: number;
  /** Millions of parameters. */
  mparams: number;
  /** Batch-1 latency on this machine, ms (`latencyMethod`: measured, or predicted by the lookup table). */
  latencyMs: number | null;
  latencyMethod: 'measured' | 'lut' | null;
  split: 'val' | 'test';
  calibration: { batches: number; batchSize: number; seed: number };
  checkpointStep: number;
  createdAt: string;
  /** Pinned by the user (kept on top of lists, drawn as a diamond). */
  pinned: boolean;
}

/** Held-out quality of an accuracy predictor (null: undefined, e.g. τ of constant accuracies). */
export interface PredictorMetricsInfo {
  /** Held-out subnets. */
  n: number;
  kendallTau: number | null;
  spearmanRho: number | null;
  /** Points of top-1. */
  rmsePoints: number | null;
}

/** A run's stored accuracy predictor (docs/SEARCH.md, "Accuracy predictor"). */
export interface PredictorInfo {
  id: number;
  runId: number;
  split: 'val' | 'test';
  checkpointStep: number;
  checkpointSha256: string;
  /** The run has a newer checkpoint than the one this predictor learned from. */
  stale: boolean;
  trainSize: number;
  /** Random subnets evaluated for its build. */
  sampled: number;
  metrics: PredictorMetricsInfo;
  /** Held-out metrics of fits on growing training prefixes; the last row is this predictor. */
  sizeTable: (PredictorMetricsInfo & { trainSize: number })[];
  fitMs: number;
  backend: string | null;
  createdAt: string;
}

/** The predictor and, for every evaluated subnet of its checkpoint, the measured and the predicted top-1. */
export interface PredictorView {
  predictor: PredictorInfo;
  points: { evaluationId: number; genomeId: string; measured: number; predicted: number; heldOut: boolean }[];
}

/** One gene of a space, as an axis: its choice values and what it is. */
export interface GeneAxis {
  key: string;
  label: string;
  kind: 'resolution' | 'width' | 'depth' | 'kernelSize' | 'expandRatio';
  values: number[];
}

/** The genes of a run's evaluated subnets (val split): every gene with a choice, and each subnet's values. */
export interface SubnetGenes {
  axes: GeneAxis[];
  /** By genome id; `values` follow `axes`. */
  points: { genomeId: string; values: number[] }[];
}

/** Which genes drive accuracy: fANOVA-style main-effect shares from the run's predictor. */
export interface GeneImportanceInfo {
  predictor: PredictorInfo;
  genes: { key: string; label: string; kind: GeneAxis['kind']; importance: number; marginal: { value: number; mean: number }[] }[];
  /** Σ shares: the variance main effects explain (the rest: interactions). */
  mainEffects: number;
}

/** Progress of a predictor build (the `predictor.event` topic). */
export interface PredictorEvent {
  runId: number;
  progress: { phase: 'sample'; done: number; total: number } | { phase: 'fit'; fit: number; fits: number; trainSize: number; epoch: number; epochs: number };
}

/** Budgets, any combination, inclusive bounds. */
export interface SearchBudget {
  mflopsMin?: number;
  mflopsMax?: number;
  /** Millions of parameters. */
  mparamsMax?: number;
  /** Milliseconds (needs this machine's latency table). */
  latencyMaxMs?: number;
}

/** Evolution settings; every field defaults to the engine's `DEFAULT_EVOLUTION_CONFIG`. */
export interface SearchSettings {
  populationSize?: number;
  mutateSize?: number;
  crossoverSize?: number;
  mutateProb?: number;
  crossoverProb?: number;
  generations?: number;
  seed?: number;
  /**
   * Predictor-guided evolution (docs/SEARCH.md, "Accuracy predictor"): candidates scored by the run's accuracy
   * predictor per real evaluation, 2–64; absent: plain evolution. Needs the run's predictor of the searched checkpoint.
   */
  screen?: number;
}

export interface SearchStartRequest {
  runId: number;
  name?: string;
  /** Default `evolution`; `random` is the baseline with the same number of evaluations. */
  kind?: 'evolution' | 'random';
  /** Default `mflops`. */
  objective?: 'mflops' | 'latency';
  budget?: SearchBudget;
  config?: SearchSettings;
  /** Random search only: evaluations to make. */
  evaluations?: number;
  /**
   * What computes the evaluations: `local` (default, TF.js), `torch` (the PyTorch engine; same numbers, same cache) or
   * `slurm` (the torch evaluator in one cluster job per generation, its ranks splitting the candidates).
   */
  engine?: 'local' | 'torch' | 'slurm';
  /** Engine `slurm`: the cluster profile, and the shape of each evaluation job (defaults 1 node × 1 rank, the profile's GPUs). */
  cluster?: string;
  nodes?: number;
  ranksPerNode?: number;
  gpusPerNode?: number;
  /**
   * Evaluation workers (local engine): `auto` (default) takes the cores the job queue gives the search; N asks for N.
   * The results do not depend on it.
   */
  workers?: 'auto' | number;
}

export interface SearchSummary {
  id: number;
  runId: number;
  runName: string;
  name: string;
  kind: 'evolution' | 'random';
  objective: 'mflops' | 'latency';
  engine: 'local' | 'torch' | 'slurm';
  /** Evaluation workers (= cores) it evaluates with while running, last evaluated with otherwise; null before it ran. */
  workers: number | null;
  /** Engine `slurm`: the cluster profile its jobs go to and their shape (GPUs 0: the profile's); null otherwise. */
  cluster: { name: string; nodes: number; ranksPerNode: number; gpusPerNode: number } | null;
  status: RunStatus;
  budget: SearchBudget;
  /** The resolved settings (every default filled in; `screen` only on a predictor-guided search). */
  config: Required<Omit<SearchSettings, 'screen'>> & Pick<SearchSettings, 'screen'>;
  evaluations: number;
  total: number;
  /** evaluations / total in [0, 1]. */
  progress: number;
  etaSec: number | null;
  elapsedSec: number;
  frontSize: number;
  hypervolume: number | null;
  /** The hypervolume's reference point: cost at or above every subnet's, accuracy 0. */
  reference: { costRef: number; accRef: number } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

/** A Pareto front (max accuracy, min cost), points in increasing cost. */
export interface FrontInfo {
  objective: 'mflops' | 'latency';
  /** Evaluation ids of the front, in increasing cost. */
  evaluationIds: number[];
  points: { evaluationId: number; accuracy: number; cost: number }[];
  hypervolume: number;
  reference: { costRef: number; accRef: number };
}

export interface SearchDetail {
  summary: SearchSummary;
  /** Every subnet this search evaluated, in order. */
  evaluations: SubnetEvaluation[];
  front: FrontInfo | null;
}

export type SearchEvent =
  | { type: 'status'; search: SearchSummary }
  | { type: 'evaluated'; searchId: number; evaluation: SubnetEvaluation; progress: number; etaSec: number | null }
  | { type: 'front'; searchId: number; front: FrontInfo };

/** What to evaluate: `min`, `max`, `random`, `random:<seed>`, a registered name (`alphanet-a0`), a genome id the
 * run has evaluated, or a genome as JSON text. */
export interface EvaluateRequest {
  runId: number;
  subnet: string;
  /** Default `val`. */
  split?: 'val' | 'test';
  /** Also measure batch-1 latency on this machine (default true). */
  latency?: boolean;
}

export interface ExportRequest {
  runId: number;
  evaluationId: number;
  formats: ('tfjs' | 'onnx')[];
  /** Absolute destination directory on the machine that runs main; created if missing, must be empty if it exists. */
  dir: string;
}

export interface ExportInfo {
  dir: string;
  files: { path: string; bytes: number }[];
  /** The provenance.json written next to the model. */
  provenance: Record<string, unknown>;
}

/** 2–4 runs side by side. */
export interface RunComparison {
  runs: RunSummary[];
  /** Only config keys (dotted paths) whose values differ; `values[i]` belongs to `runs[i]` (undefined: absent). */
  configDiff: { key: string; values: unknown[] }[];
  /** Training curves per run. */
  metrics: RunMetrics[];
  /** Each run's MFLOPs front over all its evaluations (null if none), hypervolumes against ONE shared reference. */
  fronts: (FrontInfo | null)[];
  /** The shared reference point of the hypervolumes. */
  reference: { costRef: number; accRef: number };
  /** Best accuracy under a few MFLOPs budgets; `best[i]` per run, null when no evaluated subnet fits. */
  budgets: { mflopsMax: number; best: ({ accuracy: number; evaluationId: number } | null)[] }[];
}

export type Unsubscribe = () => void;

export interface WorkbenchApi {
  app: {
    /** Facts about the running app; never rejects in a correctly wired app. */
    info(): Promise<AppInfo>;
    /** Opens an allow-listed https: URL in the system browser (no-op + false otherwise). */
    openExternal(url: string): Promise<boolean>;
    /** Shows a file or folder in the file manager (Electron); false in the served mode. */
    revealPath(path: string): Promise<boolean>;
    /** A native open dialog (Electron); null when cancelled or in the served mode. */
    pickPath(opts: { title: string; directory: boolean }): Promise<string | null>;
  };
  datasets: {
    list(): Promise<DatasetInfo[]>;
    get(id: string): Promise<DatasetInfo>;
    samples(id: string, opts: { split: SplitName; perClass: number }): Promise<DatasetSamples>;
    /** Starts an import off the main thread; progress and the result arrive through `onJob`. */
    import(req: ImportRequest): Promise<DatasetJob>;
    /** Generates the built-in demo set (reuses it when present). */
    createDemo(): Promise<DatasetJob>;
    delete(id: string): Promise<void>;
    onJob(cb: (e: DatasetJobEvent) => void): Unsubscribe;
  };
  spaces: {
    list(): Promise<SpaceInfo[]>;
  };
  runs: {
    list(): Promise<RunSummary[]>;
    get(id: number): Promise<RunDetail>;
    metrics(id: number): Promise<RunMetrics>;
    presets(): Promise<RunPreset[]>;
    /** Validates a config input with the engine's schema; never rejects for a bad config (see `ConfigCheck`). */
    check(config: Record<string, unknown>): Promise<ConfigCheck>;
    /** Validates and queues a run; rejects with the first field error if the config is invalid. */
    start(config: Record<string, unknown>): Promise<RunSummary>;
    pause(id: number): Promise<void>;
    resume(id: number): Promise<void>;
    cancel(id: number): Promise<void>;
    /** Deletes a run that is not running, with its files. */
    delete(id: number): Promise<void>;
    /**
     * Writes a config as JSON to `path` (served mode) or a save dialog's choice (Electron, when path is null; the
     * dialog asks before replacing a file). A file already at `path` is replaced only with `overwrite: true`, and
     * keeps its permissions. Resolves to the path written, or null when the dialog was cancelled.
     */
    saveConfig(config: Record<string, unknown>, path: string | null, opts: { overwrite: boolean }): Promise<string | null>;
    onEvent(cb: (e: RunEvent) => void): Unsubscribe;
  };
  subnets: {
    /** Every evaluated subnet of a run (all searches and single evaluations), pinned first. */
    list(runId: number): Promise<SubnetEvaluation[]>;
    /** Evaluates (or re-evaluates) a subnet of a finished run with BN recalibration, off the main thread; answers
     * from the run's cache when the same subnet, checkpoint, split and calibration were evaluated before. */
    evaluate(req: EvaluateRequest): Promise<SubnetEvaluation>;
    pin(evaluationId: number, pinned: boolean): Promise<SubnetEvaluation>;
    /** The run's front over all its evaluations on the val split. */
    front(runId: number, objective: 'mflops' | 'latency'): Promise<FrontInfo | null>;
  };
  predictor: {
    /** The run's accuracy predictor on val, with predicted vs measured for its checkpoint's subnets; null when none. */
    get(runId: number): Promise<PredictorView | null>;
    /** Gene importance from the run's predictor; null when it has none. */
    importance(runId: number): Promise<GeneImportanceInfo | null>;
    /**
     * Builds (or rebuilds) it in a child process, first evaluating random subnets until `samples` (default 100) are
     * evaluated; progress as `onEvent`. Minutes on the 32×32 space.
     */
    build(runId: number, opts: { samples?: number }): Promise<PredictorView>;
    /**
     * Cancels the run's build, queued or running: `build` then rejects ("… was cancelled") and no predictor is stored
     * (the subnets it evaluated stay cached). False when no build of the run was pending.
     */
    cancelBuild(runId: number): Promise<boolean>;
    /** Every gene of the run's space with a choice, and the gene values of its evaluated subnets. */
    genes(runId: number): Promise<SubnetGenes>;
    onEvent(cb: (e: PredictorEvent) => void): Unsubscribe;
  };
  latency: {
    /** This machine's latency table for the run's space on the active backend, or null when none was built. */
    table(runId: number): Promise<LatencyTableInfo | null>;
    /**
     * Builds (or rebuilds) it in a child process, queued with evaluations and exports: about a minute on the 32×32
     * space. A latency budget or objective needs it.
     */
    build(runId: number): Promise<LatencyTableInfo>;
    /** Cancels the run's table build: `build` rejects ("… was cancelled"), the table on disk is left as it was. False when none was pending. */
    cancelBuild(runId: number): Promise<boolean>;
  };
  searches: {
    list(runId: number | null): Promise<SearchSummary[]>;
    get(id: number): Promise<SearchDetail>;
    /** Validates and queues a search on a finished run; rejects naming the field (e.g. an impossible budget). */
    start(req: SearchStartRequest): Promise<SearchSummary>;
    pause(id: number): Promise<void>;
    resume(id: number): Promise<void>;
    cancel(id: number): Promise<void>;
    onEvent(cb: (e: SearchEvent) => void): Unsubscribe;
  };
  exports: {
    /** Exports an evaluated subnet (off the main thread) and returns the files written. */
    start(req: ExportRequest): Promise<ExportInfo>;
    /** Cancels the export into `dir`: `start` rejects ("… was cancelled") and nothing is left in or at `dir`. False when none was pending. */
    cancel(dir: string): Promise<boolean>;
  };
  compare: {
    runs(ids: number[]): Promise<RunComparison>;
  };
  /** Slurm cluster profiles (docs/CLUSTER.md), the same ones `alphanet clusters` manages. */
  clusters: {
    list(): Promise<ClusterProfile[]>;
    /** Validates and saves a profile; rejects naming the field (`profile.runDir`), or when the name is taken and
     * `replace` is false. Nothing is contacted: `test` does that. */
    add(profile: ClusterProfileInput, replace: boolean): Promise<ClusterProfile>;
    remove(name: string): Promise<void>;
    /** Runs every check of the profile (login, Slurm commands, job options, run directory, Python); never rejects
     * for a failing check: each says what is missing. */
    test(name: string): Promise<ClusterCheck[]>;
    /** The end of the Slurm log of job `jobId` of run `runId` (at most `maxBytes`, default 64 KiB, at most 1 MiB),
     * read from the cluster now: locally, or over ssh for an ssh profile. */
    jobLog(runId: number, jobId: string, maxBytes?: number): Promise<ClusterJobLog>;
  };
}
