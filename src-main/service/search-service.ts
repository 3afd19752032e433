/**
 * The service's subnet, search, export and comparison methods: `subnets.*`, `searches.*`,
 * `exports.start`, `compare.runs`, and the `searches.event` topic.
 *
 * Nothing here imports TF.js (the Electron main process must not load it; test/unit/architecture/import-graph.test.ts).
 * Evaluation, export and the latency table run in the engine worker, one request at a time (engine-worker.ts, typed
 * messages of engine-protocol.ts), and searches run in search runner processes under a `SearchManager` this module
 * owns; this process checks what it can without TF.js (run, checkpoint, dataset, budget, destination: refused naming
 * the field before the worker is asked), reads the store and maps rows to the API's DTOs (views.ts).
 */
import { jobCores } from '../settings';
import { existsSync, readdirSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { findDataset } from '../store/datasets';
import { subnetCost, minGenome, type SearchSpace, configSpace, parseTrainConfig } from '../engine/core';
import type { ApiHandlers } from '../ipc/api-schemas';
import type { FrontInfo, PredictorEvent, RunMetrics, RunSummary, SearchEvent, SearchSummary, SubnetEvaluation } from '../ipc/api-types';
import { createPredictorHandlers } from './predictor-service';
import { BudgetError, checkBudget, type Budget } from '../search/evolution';
import { clearDeadHolds } from '../jobs/machine-hold';
import { SearchManager, type SpawnSearchRunner } from '../jobs/search-manager';
import { SearchRequestSchema } from '../jobs/search-messages';
import { RunSubnetError, runInfo } from '../search/run-info';
import type { Db } from '../store/db';
import { getRun, listCheckpoints, type RunRow } from '../store/runs';
import {
  EvaluationNotFoundError,
  getEvaluation,
  listEvaluations,
  pinnedEvaluationIds,
  setEvaluationPinned,
  type EvaluationRow,
} from '../store/evaluations';
import { findRunFront, findSearchFront } from '../store/fronts';
import { getSearch, type SearchRow } from '../store/searches';
import { exportKey, latencyBuildKey, type EngineWorker } from './engine-worker';
import { budgetTable, configDiff, frontOf, frontScope, mflopsReference } from './compare';
import { ApiError } from './errors';
import { frontOfMessage, frontOfRow, searchSummary, stageNamesOf, subnetEvaluation } from './views';

type SearchMethods = 'predictor.get' | 'predictor.importance' | 'predictor.build' | 'predictor.cancelBuild' | 'predictor.genes' | 'subnets.list' | 'subnets.evaluate' | 'subnets.pin' | 'subnets.front' | 'latency.table' | 'latency.build' | 'latency.cancelBuild' | 'searches.list' | 'searches.get' | 'searches.start' | 'searches.pause' | 'searches.resume' | 'searches.cancel' | 'exports.start' | 'exports.cancel' | 'compare.runs';

export interface SearchServiceOptions {
  home: string;
  db: Db;
  emit: (e: SearchEvent) => void;
  /** `predictor.event`: progress of predictor builds. */
  emitPredictor: (e: PredictorEvent) => void;
  /** The runs part's summary of a run (the comparison shows the same rows as the runs table). */
  runSummary: (r: RunRow) => RunSummary;
  /** The runs part's training curves of a run. */
  runMetrics: (runId: number) => RunMetrics;
  /** Wraps an event listener so that a failure is logged instead of thrown into the manager's bookkeeping. */
  guarded: <A extends unknown[]>(what: string, fn: (...a: A) => void) => (...a: A) => void;
  /** How search runners start (default: a Node child process; the desktop app passes a utilityProcess one). */
  spawnSearchRunner?: SpawnSearchRunner;
  /** Start searches queued by other processes too. */
  adoptQueued: boolean;
  /** The engine worker that evaluates, exports and builds latency tables (the service owns and closes it). */
  engine: EngineWorker;
  /** Refuses a relative path, and in the served mode one outside the allowed folders (index.ts, folders.ts). */
  allowPath: (path: string, field: string, what: 'read' | 'write') => void;
  /** Records a path this service wrote, which `app.revealPath` may then show. */
  remember: (path: string) => unknown;
}

export interface SearchService {
  readonly manager: SearchManager;
  readonly handlers: Pick<ApiHandlers, SearchMethods>;
  /** Throws unless run `runId` can be deleted as far as searches go (none of its searches is running). */
  checkRunDeletable(runId: number): void;
  /** Forgets what is cached about a deleted run. */
  forgetRun(runId: number): void;
  /** Stops the manager's scheduling (runners keep their searches; see close). The service closes the engine worker. */
  close(): void;
}

/** A run's space facts, cached per run (a run's config never changes). */
interface RunSpace {
  space: SearchSpace;
  /** Classifier outputs: the dataset's classes (the space's own count when the dataset is gone). */
  numClasses: number;
  stageNames: string[];
}

export function createSearchService(o: SearchServiceOptions): SearchService {
  const { home, db, emit, guarded } = o;
  const manager = new SearchManager({ home, db, spawn: o.spawnSearchRunner, adoptQueued: o.adoptQueued, cores: jobCores(home) });
  const { engine } = o;
  const spaces = new Map<number, RunSpace>();

  const spaceOf = (runId: number): RunSpace => {
    let s = spaces.get(runId);
    if (!s) {
      const run = getRun(db, runId);
      const config = parseTrainConfig(run.config, `config of run ${runId}`);
      const space = configSpace(config);
      const dataset = findDataset(db, run.datasetId ?? config.dataset);
      spaces.set(runId, (s = { space, numClasses: dataset?.classNames.length ?? space.numClasses, stageNames: stageNamesOf(space) }));
    }
    return s;
  };
  const view = (e: EvaluationRow, pins?: Set<number>): SubnetEvaluation =>
    subnetEvaluation(e, (pins ?? pinnedEvaluationIds(db, e.runId)).has(e.id), spaceOf(e.runId).stageNames);
  const summaryOf = (s: SearchRow): SearchSummary => searchSummary(s, getRun(db, s.runId).name, findSearchFront(db, s.id));

  /** A run whose subnets can be evaluated now: not training (its newest checkpoint would change under us) and with a checkpoint file. */
  const requireTrained = (runId: number, what: string): RunRow => {
    const r = getRun(db, runId);
    if (r.status === 'queued' || r.status === 'running') throw new ApiError(400, `runId: run ${runId} is ${r.status}; ${what} once it has finished (or is paused)`, 'runId');
    if (!listCheckpoints(db, runId).some((c) => existsSync(c.path))) throw new ApiError(400, `runId: run ${runId} has no checkpoint file; train it first`, 'runId');
    return r;
  };
  /** The run's config, space and dataset (the dataset must still exist: evaluating needs its images). */
  const infoOf = async (runId: number) => {
    try {
      return await runInfo(home, db, runId);
    } catch (e) {
      if (e instanceof RunSubnetError) throw new ApiError(400, `runId: ${e.message}`, 'runId');
      throw e;
    }
  };

  /** The run's front over its val evaluations on its newest evaluated checkpoint (compare.ts `frontScope`). */
  const runFront = (runId: number, objective: FrontInfo['objective']): FrontInfo | null => {
    const { space, numClasses } = spaceOf(runId);
    const evals = frontScope(listEvaluations(db, runId, { split: 'val' }));
    if (objective === 'mflops') return frontOf(evals, 'mflops', (e) => e.mflops, mflopsReference(space, numClasses));
    // Latencies compare only within one device and method: those of the newest evaluation that has one.
    const timed = evals.filter((e) => e.latency);
    const last = timed.at(-1)?.latency;
    if (!last) return null;
    const same = timed.filter((e) => e.latency!.deviceId === last.deviceId && e.latency!.method === last.method && e.latency!.batch === last.batch);
    // A lookup-table front has a stated reference (the max subnet's predicted latency, stored with the run's front);
    // measured latencies have none (the max subnet was not timed), so the slowest evaluated subnet bounds the box.
    const stored = last.method === 'lut' ? findRunFront(db, { runId, objective: 'latency', split: 'val', checkpointSha256: same[0].checkpointSha256, deviceId: last.deviceId }) : undefined;
    const reference = stored?.reference ?? { costRef: Math.max(...same.map((e) => e.latency!.ms)), accRef: 0 };
    return frontOf(same, 'latency', (e) => e.latency!.ms, reference);
  };

  manager.on('status', guarded('search status event', (row: SearchRow) => emit({ type: 'status', search: summaryOf(row) })));
  manager.on(
    'evaluated',
    guarded('search evaluated event', (m) => {
      // The runner stores the member before it sends the message. The row may be ahead already (with several
      // evaluation workers a batch is recorded at once), so the progress is this member's.
      const s = getSearch(db, m.searchId);
      emit({
        type: 'evaluated',
        searchId: m.searchId,
        evaluation: view(getEvaluation(db, m.evaluationId)),
        progress: s.total > 0 ? Math.min(1, (m.position + 1) / s.total) : 0,
        etaSec: s.etaMs === null ? null : s.etaMs / 1000,
      });
    }),
  );
  manager.on('front', guarded('search front event', (m) => emit({ type: 'front', searchId: m.searchId, front: frontOfMessage(m) })));
  // Adopt searches queued (or left wanting a resume) by an earlier session or another process.
  manager.pump();

  const handlers: SearchService['handlers'] = {
    ...createPredictorHandlers({ db, engine, emit: o.emitPredictor, requireTrained: (runId, what) => requireTrained(runId, what) }),
    'subnets.list': async (runId) => {
      getRun(db, runId);
      const pins = pinnedEvaluationIds(db, runId);
      const all = listEvaluations(db, runId).map((e) => view(e, pins));
      return [...all.filter((e) => e.pinned), ...all.filter((e) => !e.pinned)];
    },
    'subnets.evaluate': async (req) => {
      requireTrained(req.runId, 'evaluate its subnets');
      await infoOf(req.runId);
      // The name is resolved in the worker (run-subnets.ts `resolveSubnet` lives with TF.js): what the worker refuses
      // once the run, its checkpoint and its dataset passed here is the name's fault, reported at `subnet`.
      const out = await engine.run(
        'evaluate',
        { runId: req.runId, subnet: req.subnet, split: req.split ?? 'val', ...(req.latency === false ? { latency: 'none' as const } : {}) },
        { what: `evaluating a subnet of run ${req.runId}`, field: 'subnet' },
      );
      return view(getEvaluation(db, out.evaluation.id));
    },
    'subnets.pin': async (evaluationId, pinned) => {
      setEvaluationPinned(db, evaluationId, pinned);
      return view(getEvaluation(db, evaluationId));
    },
    'subnets.front': async (runId, objective) => {
      getRun(db, runId);
      return runFront(runId, objective);
    },

    'latency.table': async (runId) => {
      getRun(db, runId);
      // The table's file name carries the device fingerprint, which needs TF.js: the worker finds it.
      return (await engine.run('latency.info', { target: String(runId) }, { what: `reading the latency table of run ${runId}`, field: 'runId' })).info;
    },
    'latency.build': async (runId) => {
      getRun(db, runId);
      await infoOf(runId);
      try {
        return (await engine.run('latency.check', { target: String(runId), build: true }, { what: `building the latency table of run ${runId}`, field: 'runId', cancelKey: latencyBuildKey(runId) })).info;
      } finally {
        // A worker killed mid-build (cancel, timeout, crash) leaves its machine hold's row behind.
        clearDeadHolds(db);
      }
    },
    // The table is written whole (temporary file renamed into place): a cancelled build leaves the old one, or none.
    'latency.cancelBuild': async (runId) => engine.cancel(latencyBuildKey(runId)),

    'searches.list': async (runId) => {
      if (runId !== null) getRun(db, runId);
      return manager.list(runId === null ? {} : { runId }).map(summaryOf);
    },
    'searches.get': async (id) => {
      const s = manager.get(id);
      const pins = pinnedEvaluationIds(db, s.runId);
      const front = manager.front(id);
      return { summary: summaryOf(s), evaluations: manager.members(id).map((m) => view(m.evaluation, pins)), front: front ? frontOfRow(front) : null };
    },
    'searches.start': async (input) => {
      // Zod errors carry the dotted path (`budget.mflopsMin`, `config.generations`): errors.ts makes it the field.
      const req = SearchRequestSchema.parse(input);
      requireTrained(req.runId, 'search it');
      const info = await infoOf(req.runId);
      // Each bound alone against the space's range, so the refusal names the bound at fault. The latency bound needs
      // this machine's lookup table, which only a process with TF.js loaded can check: the runner does.
      for (const [k, v] of Object.entries(req.budget) as [keyof Budget, number | undefined][]) {
        if (v === undefined || k === 'latencyMaxMs') continue;
        try {
          checkBudget(info.space, { [k]: v }, info.numClasses);
        } catch (e) {
          if (e instanceof BudgetError) throw new ApiError(400, `budget.${k}: ${e.message}`, `budget.${k}`);
          throw e;
        }
      }
      const row = await manager.enqueue(req);
      const summary = summaryOf(manager.get(row.id));
      // A search that started at once was announced by the manager; one waiting for a slot is announced here.
      if (summary.status === 'queued') emit({ type: 'status', search: summary });
      return summary;
    },
    'searches.pause': async (id) => {
      manager.pause(id);
    },
    'searches.resume': async (id) => {
      const s = manager.resume(id);
      // Still paused when no slot is free yet: say it is wanted (the manager reports the start itself).
      if (s.status !== 'running') emit({ type: 'status', search: summaryOf(s) });
    },
    'searches.cancel': async (id) => {
      manager.cancel(id);
    },

    'exports.start': async (req) => {
      if (!req.formats.length) throw new ApiError(400, 'formats: choose at least one format (tfjs, onnx)', 'formats');
      o.allowPath(req.dir, 'dir', 'write');
      let ev: EvaluationRow;
      try {
        ev = getEvaluation(db, req.evaluationId);
      } catch (e) {
        if (e instanceof EvaluationNotFoundError) throw new ApiError(400, `evaluationId: no evaluation ${req.evaluationId}`, 'evaluationId');
        throw e;
      }
      getRun(db, req.runId);
      await infoOf(req.runId); // its dataset must still be there (the export records the accuracy it measured)
      if (ev.runId !== req.runId) throw new ApiError(400, `evaluationId: evaluation ${ev.id} belongs to run ${ev.runId}, not run ${req.runId}`, 'evaluationId');
      if (!listCheckpoints(db, req.runId).some((c) => c.sha256 === ev.checkpointSha256 && existsSync(c.path))) {
        throw new ApiError(400, `evaluationId: the checkpoint evaluation ${ev.id} was made on (step ${ev.checkpointStep}) is no longer kept; evaluate the subnet again and export that`, 'evaluationId');
      }
      const dir = req.dir;
      if (existsSync(dir)) {
        if (!statSync(dir).isDirectory()) throw new ApiError(400, `dir: ${dir} is a file, not a folder`, 'dir');
        if (readdirSync(dir).length) throw new ApiError(400, `dir: ${dir} is not empty; choose a new or empty folder (an export never overwrites files)`, 'dir');
      }
      // The folder itself may be new, but not its parent: an export creates one folder, never a chain of them.
      if (!existsSync(dirname(dir)) || !statSync(dirname(dir)).isDirectory()) throw new ApiError(400, `dir: no folder ${dirname(dir)} to create ${basename(dir)} in`, 'dir');
      // Written into a hidden sibling first and moved into place whole: a failed export leaves no half a model.
      const tmp = join(dirname(dir), `.${basename(dir)}.export-${process.pid}-${randomBytes(4).toString('hex')}`);
      const format = req.formats.includes('tfjs') && req.formats.includes('onnx') ? 'both' : req.formats[0];
      try {
        const out = await engine.run('export', { runId: req.runId, subnet: String(ev.id), format, out: tmp }, { what: `exporting evaluation ${ev.id}`, field: 'evaluationId', cancelKey: exportKey(dir) });
        if (existsSync(dir)) rmdirSync(dir); // empty (checked above); rmdir refuses if something arrived since
        renameSync(tmp, dir);
        o.remember(dir);
        return { dir, files: out.files.map((f) => ({ path: f, bytes: statSync(join(dir, f)).size })), provenance: out.provenance as unknown as Record<string, unknown> };
      } finally {
        // A cancelled export is answered once its worker has exited: nothing is written into tmp after this.
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    'exports.cancel': async (dir) => engine.cancel(exportKey(dir)),

    'compare.runs': async (ids) => {
      if (ids.length < 2 || ids.length > 4 || new Set(ids).size !== ids.length) throw new ApiError(400, `ids: choose 2 to 4 different runs, got [${ids.join(', ')}]`, 'ids');
      const runs = ids.map((id) => getRun(db, id));
      const facts = ids.map(spaceOf);
      // ONE reference point for every run, so the hypervolumes compare: the cost of the most expensive max subnet
      // among the runs' spaces (no subnet of any of them costs more) and accuracy 0. Each run's own reference
      // (subnets.front) would reward a run on a smaller space with a smaller box.
      const reference = { costRef: Math.max(...facts.map((f) => mflopsReference(f.space, f.numClasses).costRef)), accRef: 0 };
      const fronts = ids.map((id) => frontOf(frontScope(listEvaluations(db, id, { split: 'val' })), 'mflops', (e) => e.mflops, reference));
      const cheapest = Math.min(...facts.map((f) => subnetCost(f.space, minGenome(f.space), f.numClasses).mflops));
      return {
        runs: runs.map(o.runSummary),
        configDiff: configDiff(runs.map((r) => r.config)),
        metrics: ids.map(o.runMetrics),
        fronts,
        reference,
        budgets: budgetTable(fronts, cheapest, reference.costRef),
      };
    },
  };

  return {
    manager,
    handlers,
    checkRunDeletable(runId) {
      const running = manager.list({ runId, status: ['running'] });
      if (running.length) throw new ApiError(400, `run ${runId} is being searched (search ${running.map((s) => s.id).join(', ')}); pause or cancel the search first`);
    },
    forgetRun(runId) {
      spaces.delete(runId);
    },
    close() {
      manager.close();
    },
  };
}
