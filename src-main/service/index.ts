/**
 * The workbench service: every method of the renderer's API (`WorkbenchApi`, api-types.ts) over the existing modules —
 * datasets (src-main/data), runs (jobs/run-manager.ts + store/runs.ts), spaces (engine registry), and subnets, searches,
 * exports and run comparison (search-service.ts) — plus the pushed events `datasets.job`, `runs.event` and
 * `searches.event`. Plain Node: the Electron main process (IPC) and the served mode (HTTP +
 * WebSocket, src-main/server) are two thin transports over this one object, and the unit tests drive it directly.
 *
 * Callers validate arguments with `ipc/api-schemas.ts` first; `run` then calls the handler and maps any error to
 * `{ message, field? }` with a status (errors.ts).
 */
import { machineCores } from '../train/workers';
import { jobCores } from '../settings';
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { EventEmitter } from 'node:events';
import { dirname, isAbsolute, resolve } from 'node:path';
import { productName, version } from '../../package.json';
import { DEMO_SOURCE } from '../data/demo';
import { findDataset, listDatasets } from '../store/datasets';
import { removeDataset } from '../data/files';
import { sampleGrid } from '../data/samples';
import { writeJsonAtomic } from '../atomic-files';
import { listSpaces } from '../engine/core';
import type { AppInfo, DatasetInfo, RunEvent, RunSummary } from '../ipc/api-types';
import type { ApiArgs, ApiHandlers, ApiResult, ServiceEvents } from '../ipc/api-schemas';
import { isAllowedExternalUrl } from '../ipc/external-links';
import type { ApiMethod } from '../ipc/protocol';
import type { ApiReply } from '../ipc/reply';
import { openHomeDatabase, type Db } from '../store/db';
import {
  getRun,
  lastRunEventId,
  listCheckpoints,
  listEpochMetrics,
  listRunEvents,
  listRuns,
  listStepMetrics,
  type RunRow,
} from '../store/runs';
import type { SearchManager, SpawnSearchRunner } from '../jobs/search-manager';
import { RunManager, type SpawnRunner } from '../jobs/run-manager';
import type { RunnerToParent } from '../jobs/run-messages';
import type { SpawnWorker } from '../jobs/worker-client';
import { probeBackend } from './backend-probe';
import { checkConfig, datasetFacts } from './config-check';
import { DataJobs } from './data-jobs';
import { EngineWorker } from './engine-worker';
import { ApiError, requireAbsolute, toApiError, type ApiStatus } from './errors';
import { FolderPolicy, isInside, realPathOfPrefix } from './folders';
import { runPresets } from './presets';
import { watchForeignRuns } from './run-watcher';
import { createSearchService } from './search-service';
import { createClusterHandlers } from './clusters-service';
import { listRunClusterJobs } from '../store/cluster-jobs';
import {
  bestMaxTop1,
  calibrationOf,
  checkpointInfo,
  clusterJobInfo,
  epochPoint,
  eventInfo,
  progressPoint,
  runMetricsView,
  runSummary,
} from './views';

export interface WorkbenchServiceOptions {
  /** The data directory (database, datasets, runs). */
  home: string;
  /** Default: the home's database, opened here and closed by `close`. */
  db?: Db;
  /** How training runners start. Default: a Node child process (`forkRunner`); the desktop app passes a
   * `utilityProcess`-based one. */
  spawnRunner?: SpawnRunner;
  /** `electron` (native dialogs available) or `served` (a browser; paths are typed in). */
  mode: AppInfo['mode'];
  /** A native open dialog; absent in the served mode (`app.pickPath` then answers null). */
  pickPath?: (opts: { title: string; directory: boolean }) => Promise<string | null>;
  /** Shows a file in the file manager; absent in the served mode (`app.revealPath` answers false). */
  revealPath?: (path: string) => boolean | Promise<boolean>;
  /** Opens a URL in the system browser, called only for allow-listed URLs (ipc/external-links.ts); absent in the
   * served mode, where the browser opens links itself. */
  openExternal?: (url: string) => void | Promise<void>;
  /** A native save dialog for `runs.saveConfig(config, null)`; resolves to the chosen path or null. */
  saveDialog?: (defaultName: string) => Promise<string | null>;
  /** The backend report of `app.info`. Default: the engine worker's `doctor`, once (backend-probe.ts). */
  probeBackend?: () => Promise<AppInfo['backend']>;
  /** Start runs queued by other processes too, as the app does (default true). */
  adoptQueued?: boolean;
  /** How often runs trained by other processes are looked up in the store for live updates (ms, default 2000). */
  foreignRunPollMs?: number;
  /** Where the dataset worker is (default: out/main/data-worker.js, found by data-jobs.ts). */
  dataWorkerPath?: () => string;
  /** How search runners start. Default: a Node child process (`forkSearchRunner`); the desktop app passes a
   * `utilityProcess`-based one. */
  spawnSearchRunner?: SpawnSearchRunner;
  /** Extra environment of the engine worker, which evaluates and exports subnets (e.g. `ALPHANET_BACKEND`); default none. */
  childEnv?: NodeJS.ProcessEnv;
  /** How the engine worker starts. Default: a Node child process (engine-worker.ts `forkEngineWorker`); the desktop
   * app passes a `utilityProcess`-based one. */
  spawnEngineWorker?: SpawnWorker;
  /**
   * The folders whose files the API may read or write (`datasets.import`, `runs.saveConfig`, `exports.start`;
   * folders.ts). Default: in the served mode the data directory and the user's home folder; in the desktop app no
   * limit (its user picks paths in native dialogs).
   */
  allowedFolders?: readonly string[] | null;
}

export interface WorkbenchService {
  readonly home: string;
  readonly db: Db;
  readonly manager: RunManager;
  readonly searches: SearchManager;
  /** The implementation of each method; arguments must already be validated. Errors are thrown. */
  readonly handlers: ApiHandlers;
  /** `datasets.job`, `runs.event` and `searches.event`. */
  readonly events: EventEmitter<ServiceEvents>;
  /** Calls a handler with validated arguments and answers with the reply envelope and the HTTP status. */
  run<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<{ status: 200 | ApiStatus; reply: ApiReply<ApiResult<M>> }>;
  /**
   * Pauses the runs this service is training and the searches it is running (each saves its state first; waits up
   * to `timeoutMs`, default 30 s) — a Slurm run is left running on its cluster instead, and the next service on this
   * home follows it again (`RunManager.stopAll`) —, stops dataset jobs and subnet evaluations/exports, and closes the database it
   * opened. `pauseRuns: false` leaves runners training and searching headless.
   */
  close(opts?: { pauseRuns?: boolean; timeoutMs?: number }): Promise<void>;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

export function createWorkbenchService(o: WorkbenchServiceOptions): WorkbenchService {
  const home = o.home;
  const ownsDb = !o.db;
  const db = o.db ?? openHomeDatabase(home);
  const events = new EventEmitter<ServiceEvents>();
  const manager = new RunManager({ home, db, spawn: o.spawnRunner, adoptQueued: o.adoptQueued ?? true, cores: jobCores(home) });
  const engine = new EngineWorker({ home, spawn: o.spawnEngineWorker, env: o.childEnv });
  const jobs = new DataJobs({ home, db, emit: (e) => events.emit('datasets.job', e), workerPath: o.dataWorkerPath });
  const folders = (o.allowedFolders !== undefined ? o.allowedFolders : o.mode === 'served' ? [home, homedir()] : null)?.length
    ? new FolderPolicy(o.allowedFolders ?? [home, homedir()])
    : null;
  /** Refuses a path outside the allowed folders (served mode), before anything looks at it. */
  const allowPath = (path: string, field: string, what: 'read' | 'write') => {
    requireAbsolute(path, field);
    folders?.require(path, field, what);
  };
  /**
   * What `app.revealPath` may show: the data directory, and the files and folders this service wrote or was handed
   * by a native dialog in this session (exports, saved configs, picked paths) — not any path a page names.
   */
  const revealable = new Set<string>();
  const mayReveal = (path: string) => {
    const real = realPathOfPrefix(path);
    return isInside(real, realPathOfPrefix(home)) || revealable.has(real);
  };
  const remember = (path: string | null) => {
    if (path !== null) revealable.add(realPathOfPrefix(resolve(path)));
    return path;
  };
  /** The last progress message's ETA of each run training here (seconds). */
  const eta = new Map<number, number>();
  let backend: Promise<AppInfo['backend']> | undefined;

  const emitRun = (e: RunEvent) => events.emit('runs.event', e);
  const summary = (r: RunRow): RunSummary =>
    runSummary(r, bestMaxTop1(listEpochMetrics(db, r.id)), eta.get(r.id) ?? (r.status === 'running' && !lastEventId.has(r.id) ? foreign.eta(r) : null));
  const emitStatus = (id: number) => emitRun({ type: 'status', run: summary(getRun(db, id)) });

  /** Per run training here: the id of the newest stored event already pushed. */
  const lastEventId = new Map<number, number>();
  const foreign = watchForeignRuns({ db, isLocal: (id) => lastEventId.has(id), emit: emitRun, summary, intervalMs: o.foreignRunPollMs });
  /**
   * Pushes the run's stored events not pushed yet. The runner writes events to the store itself (some, such as
   * checkpoints, without a message), so the store is the one complete source; any runner message triggers a look.
   */
  const flushEvents = (runId: number) => {
    const last = lastEventId.get(runId);
    if (last === undefined) return;
    const fresh = listRunEvents(db, runId, last);
    for (const e of fresh) emitRun({ type: 'event', runId, event: eventInfo(e) });
    if (fresh.length) lastEventId.set(runId, fresh[fresh.length - 1].id);
  };

  /** Listeners run inside the manager's bookkeeping (e.g. a runner's exit): a failure here is logged, not thrown there. */
  const guarded =
    <A extends unknown[]>(what: string, fn: (...a: A) => void) =>
    (...a: A): void => {
      try {
        fn(...a);
      } catch (e) {
        console.error(`[service] ${what} failed:`, e);
      }
    };

  manager.on('status', guarded('status event', (row: RunRow) => {
    if (row.status === 'running') {
      // Events from before this start (an earlier session of a resumed run) are history, not news.
      if (!lastEventId.has(row.id)) lastEventId.set(row.id, lastRunEventId(db, row.id));
    } else {
      flushEvents(row.id);
      lastEventId.delete(row.id);
      eta.delete(row.id);
    }
    emitRun({ type: 'status', run: summary(row) });
  }));
  manager.on('message', guarded('runner message', (runId: number, m: RunnerToParent) => {
    switch (m.type) {
      case 'progress':
        eta.set(runId, m.etaSec);
        emitRun({ type: 'progress', runId, step: progressPoint(m), totalSteps: m.totalSteps, etaSec: m.etaSec });
        break;
      case 'epoch':
        emitRun({ type: 'epoch', runId, points: m.subnets.map((s) => epochPoint({ ...s, epoch: m.epoch, step: m.step })) });
        break;
      case 'error':
        // Not stored by anyone (a malformed message or a runner-side protocol error): pushed as it comes.
        emitRun({ type: 'event', runId, event: { id: 0, time: new Date().toISOString(), step: null, kind: 'error', message: m.message } });
        break;
      default:
        break;
    }
    flushEvents(runId);
  }));
  // Adopt runs queued (or left wanting a resume) by an earlier session or another process.
  manager.pump();

  const getDatasetOr404 = (id: string): DatasetInfo => {
    const d = findDataset(db, id);
    if (!d) throw new ApiError(404, `no dataset '${id}'`);
    return d;
  };
  const getRunOr404 = (id: number): RunRow => getRun(db, id); // RunNotFoundError maps to 404
  const runMetrics = (id: number) => {
    getRunOr404(id);
    return runMetricsView(listStepMetrics(db, id), listEpochMetrics(db, id));
  };
  const search = createSearchService({
    home,
    db,
    emit: (e) => events.emit('searches.event', e),
    emitPredictor: (e) => events.emit('predictor.event', e),
    runSummary: summary,
    runMetrics,
    guarded,
    spawnSearchRunner: o.spawnSearchRunner,
    adoptQueued: o.adoptQueued ?? true,
    engine,
    allowPath,
    remember,
  });
  const check = (config: Record<string, unknown>) =>
    checkConfig(config, (name) => {
      const d = findDataset(db, name);
      return d && datasetFacts(d);
    });
  /** The first field error of a config, as a refusal. */
  const requireValid = (config: Record<string, unknown>): Record<string, unknown> => {
    const c = check(config);
    if (!c.ok || !c.normalized) {
      const e = c.errors[0];
      throw new ApiError(400, `${e.field}: ${e.message}`, e.field);
    }
    return c.normalized;
  };

  const handlers: ApiHandlers = {
    'app.info': async () => {
      backend ??= (o.probeBackend ?? (() => probeBackend(engine)))();
      return {
        name: productName,
        version,
        versions: { electron: process.versions.electron ?? '', chrome: process.versions.chrome ?? '', node: process.versions.node },
        platform: process.platform,
        dataDir: home,
        mode: o.mode,
        backend: await backend,
        cores: { machine: machineCores(), jobs: jobCores(home) ?? machineCores() },
      };
    },
    'app.openExternal': async (url) => {
      if (!o.openExternal || !isAllowedExternalUrl(url)) return false;
      await o.openExternal(url);
      return true;
    },
    'app.revealPath': async (path) => (o.revealPath && isAbsolute(path) && mayReveal(path) && existsSync(path) ? o.revealPath(path) : false),
    'app.pickPath': async (opts) => remember(o.pickPath ? await o.pickPath(opts) : null),

    'datasets.list': async () => listDatasets(db),
    'datasets.get': async (id) => getDatasetOr404(id),
    'datasets.samples': async (id, { split, perClass }) => {
      const info = getDatasetOr404(id);
      const grid = sampleGrid(home, info, { split, perClass });
      return { datasetId: info.id, split, classNames: info.classNames, images: grid.classes.map((c) => c.thumbnails) };
    },
    'datasets.import': async (req) => {
      allowPath(req.path, 'path', 'read');
      if (!existsSync(req.path)) throw new ApiError(400, `path: no file or folder at ${req.path}`, 'path');
      const started = jobs.start({ kind: 'import', path: req.path, format: req.format, name: req.name, valFraction: req.valFraction, size: req.size, channels: req.channels, within: folders ? [...folders.folders] : undefined });
      started.done.catch(() => undefined); // reported as a `datasets.job` error event
      return started.job;
    },
    'datasets.createDemo': async () => {
      const started = jobs.start({ kind: 'demo' });
      started.done.catch(() => undefined);
      return started.job;
    },
    'datasets.delete': async (id) => {
      removeDataset(home, db, getDatasetOr404(id).id);
    },

    'spaces.list': async () =>
      listSpaces().map((s) => ({ id: s.id, description: s.description, resolution: Math.max(...s.resolutions), space: s as unknown as Record<string, unknown> })),

    'runs.list': async () => listRuns(db).map(summary),
    'runs.get': async (id) => {
      const r = getRunOr404(id);
      const epochs = listEpochMetrics(db, id);
      return {
        summary: summary(r),
        config: r.config as Record<string, unknown>,
        seed: r.seed,
        appVersion: r.appVersion,
        events: listRunEvents(db, id).map(eventInfo),
        checkpoints: listCheckpoints(db, id).map(checkpointInfo),
        calibration: calibrationOf(epochs),
        clusterJobs: listRunClusterJobs(db, id).map(clusterJobInfo),
      };
    },
    'runs.metrics': async (id) => runMetrics(id),
    'runs.presets': async () => runPresets(listDatasets(db)),
    'runs.check': async (config) => check(config),
    'runs.start': async (config) => {
      const normalized = requireValid(config);
      // The manager would generate a missing demo set itself, synchronously, on this thread: do it in the worker.
      if (normalized.dataset === 'demo' && !listDatasets(db).some((d) => d.format === 'demo' && d.source === DEMO_SOURCE)) {
        await jobs.start({ kind: 'demo' }).done;
      }
      const run = await manager.enqueue(normalized);
      const row = getRun(db, run.id);
      emitRun({ type: 'status', run: summary(row) });
      return summary(row);
    },
    'runs.pause': async (id) => {
      manager.pause(id);
    },
    'runs.resume': async (id) => {
      manager.resume(id);
      emitStatus(id);
    },
    'runs.cancel': async (id) => {
      manager.cancel(id);
      emitStatus(id);
    },
    'runs.delete': async (id) => {
      getRunOr404(id);
      // Its searches, evaluations and fronts go with it (the store cascades), but not from under a running search.
      search.checkRunDeletable(id);
      manager.delete(id);
      search.forgetRun(id);
      eta.delete(id);
      emitRun({ type: 'deleted', runId: id });
    },
    'runs.saveConfig': async (config, path, { overwrite }) => {
      const normalized = requireValid(config);
      let target = path;
      if (target === null) {
        if (!o.saveDialog) throw new ApiError(400, 'path: type the path of the file to write (no save dialog in the browser)', 'path');
        target = await o.saveDialog(`${String(normalized.name ?? 'run-config').replace(/[^\w.-]+/g, '-')}.json`);
        if (target === null) return null;
        overwrite = true; // the native dialog asked the user before choosing an existing file
      }
      allowPath(target, 'path', 'write');
      const dir = dirname(target);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ApiError(400, `path: no folder ${dir} to write into`, 'path');
      if (existsSync(target)) {
        if (statSync(target).isDirectory()) throw new ApiError(400, `path: ${target} is a folder`, 'path');
        if (!overwrite) throw new ApiError(400, `path: ${target} already exists; choose another name, or say to overwrite it`, 'path');
      }
      try {
        writeJsonAtomic(target, normalized, { overwrite, mkdir: false });
      } catch (e) {
        // Created by someone else between the check and the write: still not ours to replace.
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ApiError(400, `path: ${target} already exists; choose another name, or say to overwrite it`, 'path');
        throw e;
      }
      return remember(target);
    },
    ...search.handlers,
    ...createClusterHandlers({ db }),
  };

  return {
    home,
    db,
    manager,
    searches: search.manager,
    handlers,
    events,
    async run(method, args) {
      try {
        const handler = handlers[method] as (...a: unknown[]) => Promise<ApiResult<typeof method>>;
        return { status: 200, reply: { ok: true, result: await handler(...(args as unknown[])) } };
      } catch (e) {
        const { status, error } = toApiError(e);
        if (status === 500) console.error(`[service] ${method} failed:`, e);
        return { status, reply: { ok: false, error } };
      }
    },
    async close({ pauseRuns = true, timeoutMs = 30_000 } = {}) {
      if (pauseRuns) {
        const paused = manager.stopAll();
        const pausedSearches = search.manager.pauseAll();
        await Promise.race([Promise.all([...paused.map((id) => manager.waitFor(id)), ...pausedSearches.map((id) => search.manager.waitFor(id))]), sleep(timeoutMs)]);
      }
      await jobs.close();
      search.close();
      engine.close();
      foreign.close();
      manager.close();
      events.removeAllListeners();
      if (ownsDb) db.close();
    },
  };
}
