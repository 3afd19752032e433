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
}

/** The error shape both transports deliver. `field`: dotted path of the offending input, when there is one. */
export interface ApiErrorInfo {
  message: string;
  field?: string;
}

// ---- datasets --------------------------------------------------------------------------------------------------

export type { DatasetInfo, ImportFormat, ImportProgress, SplitName };

/** A page of thumbnails: `perClass` images of each class as PNG data URLs. */
export interface DatasetSamples {
  datasetId: string;
  split: SplitName;
  classNames: string[];
  /** `images[c]`: data URLs of class c. */
  images: string[][];
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
  step: number;
  totalSteps: number | null;
  epoch: number;
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
  /** Loss of each sandwich member by role (`max`, `random-1`…, `min`). */
  losses: { role: string; loss: number | null }[];
  alphaMinShare: number | null;
  clippedShare: number | null;
  nonfinite: number;
  imagesPerSec: number | null;
}

export interface RunEpochPoint {
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
    /** Writes a config as JSON to `path` (served mode) or a save dialog's choice (Electron, when path is null). */
    saveConfig(config: Record<string, unknown>, path: string | null): Promise<string | null>;
    onEvent(cb: (e: RunEvent) => void): Unsubscribe;
  };
}
