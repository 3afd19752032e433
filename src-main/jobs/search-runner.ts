/**
 * What the search runner process does with a `start` message: open the store, pick the backend, load the run's
 * pinned checkpoint, and run the engine's search (evolution.ts) with an evaluator that goes through the run's
 * evaluation cache. After every evaluation, one transaction records the archive entry (`search_members`), the
 * engine's `SearchState` and the search's Pareto front; so a runner killed at any point (kill -9 included) resumes
 * from its last saved state, re-asking at most one subnet — whose answer the cache already holds — and reaches the
 * same final archive as an uninterrupted search. The runner writes the final status itself; the parent relays
 * messages and catches a runner that died without one.
 */
import { createOps, initBackend, type BackendChoice } from '../engine';
import { openHomeDatabase, type Db } from '../store/db';
import { now } from '../store/runs';
import {
  addSearchMember,
  getSearch,
  readSearchControl,
  readSearchState,
  saveSearchProgress,
  setSearchControl,
  setSearchRuntime,
  transitionSearch,
  type SearchRow,
} from '../store/searches';
import { saveSearchFront, type FrontData } from '../store/fronts';
import type { ChildTransport } from './transport';
import { runEvolutionSearch, runRandomSearch, type Budget, type EvolutionConfig, type SearchOptions, type SearchState } from '../search/evolution';
import { findLatencyTable } from '../search/latency-tables';
import { latencyPredictor } from '../search/latency';
import { ParentToSearchRunnerSchema, type SearchRunnerToParent } from './search-messages';
import { frontRecord } from '../search/fronts';
import { ParetoFront } from '../search/pareto';
import { createRunEvaluator, evaluationSettings, loadEvaluationData, loadRun, lutSource, referencePoint, RunSubnetError, type EvaluatedSubnet } from '../search/run-subnets';
import { searchWorkers } from '../search/run-info';
import { EvalPool } from '../search/eval-pool';
import type { SubnetCompute } from '../search/subnet-compute';
import { defaultRunnerPath } from './run-manager';
import { runAccuracyScreen } from '../search/run-predictor';
import { torchSubnetCompute } from './torch-evaluator';
import { slurmSubnetCompute, SlurmSearchInterrupted } from './slurm/slurm-search';
import { checkScreenPredictor } from '../search/predictor-views';

/** How often the runner looks at the search's `control` column (a pause or cancel from another process), ms: a single-row read, cheap next to an evaluation. */
const CONTROL_POLL_MS = 250;

export function serveSearchRunner(t: ChildTransport, exit: (code: number) => void = (c) => process.exit(c)): void {
  let request: 'pause' | 'cancel' | null = null;
  let started = false;
  let onRequest: () => void = () => undefined;
  const send = (m: SearchRunnerToParent) => t.send(m);
  // Ctrl-C reaches the whole process group: treat it (and a polite kill) as a pause; the state is already saved.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      request ??= 'pause';
      onRequest();
    });
  }
  t.onMessage((raw) => {
    const r = ParentToSearchRunnerSchema.safeParse(raw);
    if (!r.success) {
      send({ type: 'error', message: `search runner: malformed message ${JSON.stringify(raw)}: ${r.error.message}` });
      return;
    }
    const msg = r.data;
    if (msg.type === 'pause' || msg.type === 'cancel') {
      if (request !== 'cancel') request = msg.type;
      onRequest();
      return;
    }
    if (started) {
      send({ type: 'error', message: 'search runner: a second start message; one runner runs one search' });
      return;
    }
    started = true;
    const job = runSearchJob(msg.home, msg.searchId, () => request, (cb) => (onRequest = cb), send, { cores: msg.cores });
    void job.then(
      () => t.drain().then(() => exit(0)),
      () => t.drain().then(() => exit(1)),
    );
  });
  send({ type: 'ready', pid: process.pid });
}

export interface SearchJobOptions {
  /** The cores the job queue gave the search: its evaluation workers with `workers: auto`. */
  cores?: number;
  /** Tests: the evaluation pool once started (to kill one of its workers). */
  onPool?: (pool: EvalPool) => void;
}

/** Runs one search to its end, a pause or a cancel; writes the final status. Rejects (after recording) on failure. */
export async function runSearchJob(
  home: string,
  searchId: number,
  ipcRequest: () => 'pause' | 'cancel' | null,
  onRequest: (cb: () => void) => void,
  send: (m: SearchRunnerToParent) => void,
  o: SearchJobOptions = {},
): Promise<void> {
  let db: Db | undefined;
  let evaluations = 0;
  try {
    db = openHomeDatabase(home);
    const store = db;
    const s = getSearch(db, searchId);
    if (s.status !== 'running') throw new Error(`search ${searchId} is ${s.status}, not running: the parent must claim it first`);
    const backend = await initBackend({ force: s.backendRequest === 'auto' ? undefined : (s.backendRequest as BackendChoice) });
    // The torch engine's evaluator is one process on one thread: such a search holds one core.
    const workers = s.engine === 'torch' || s.engine === 'slurm' ? 1 : searchWorkers(s.workers, { cores: o.cores, backend: backend.chosen });
    setSearchRuntime(db, searchId, { backend: backend.chosen, pid: process.pid, cores: workers });
    const ops = createOps(backend.opsMode);
    const run = await loadRun(home, db, s.runId, { checkpoint: { path: s.checkpointPath, sha256: s.checkpointSha256, step: s.checkpointStep }, ops });
    try {
      const budget = s.budget as Budget;
      const needsLatency = s.objective === 'latency' || budget.latencyMaxMs !== undefined;
      const lut = findLatencyTable(home, run.space, run.numClasses, ops);
      if (needsLatency && !lut) {
        throw new RunSubnetError(`a latency ${s.objective === 'latency' ? 'objective' : 'budget'} needs this machine's latency table for space '${run.space.id}' (backend ${backend.chosen}); build it with \`alphanet latency ${s.runId} --build-table\``);
      }
      const settings = evaluationSettings(run, { split: s.split, calibrationBatches: s.calibrationBatches, calibrationBatchSize: s.calibrationBatchSize, calibrationSeed: s.calibrationSeed });
      const latency = lut ? lutSource(store, lut.table) : undefined;
      // The torch engine computes the accuracies in its own process; the cache, costs and latency stay here. Locally,
      // with N workers a generation's candidates are evaluated N at a time: this thread and N − 1 worker threads.
      let compute: SubnetCompute | undefined;
      if (s.engine === 'torch') {
        compute = await torchSubnetCompute({ home, runId: s.runId, space: run.space, numClasses: run.numClasses, dataset: run.dataset, checkpoint: run.checkpoint, settings, threads: 1 });
        setSearchRuntime(db, searchId, { backend: `${compute.backend} (latency: ${backend.chosen})` });
      } else if (s.engine === 'slurm') {
        if (!s.cluster) throw new Error(`search ${searchId} has engine slurm but no cluster`);
        const cluster = s.cluster;
        compute = await slurmSubnetCompute({
          db: store,
          searchId,
          cluster,
          home,
          runId: s.runId,
          space: run.space,
          numClasses: run.numClasses,
          dataset: run.dataset,
          checkpoint: run.checkpoint,
          settings,
          // A pause or cancel while a generation's job runs cancels the job; the search then stops as usual.
          stopRequested: () => ipcRequest() !== null || readSearchControl(store, searchId) !== null,
          onState: (message) => send({ type: 'event', searchId, kind: 'cluster', message }),
        });
        setSearchRuntime(db, searchId, { backend: `slurm ${cluster.name}, ${cluster.nodes} node${cluster.nodes > 1 ? 's' : ''} × ${cluster.ranksPerNode} rank${cluster.ranksPerNode > 1 ? 's' : ''}: ${compute.backend} (latency: ${backend.chosen})` });
      } else if (workers > 1) {
        const workerPath = defaultRunnerPath(process.env, { file: 'eval-worker.js', envVar: 'ALPHANET_EVAL_WORKER', what: 'the evaluation worker' });
        const pool = await EvalPool.start({ workers, workerPath, run, data: await loadEvaluationData(run, settings) });
        o.onPool?.(pool);
        compute = pool;
      }
      const evaluator = createRunEvaluator(run, settings, { ...(latency ? { latency } : {}), ...(compute ? { compute } : {}) });
      // Predictor-guided: the run's predictor of the pinned checkpoint screens, refitted on the cache every generation.
      const screen = (s.config as Partial<EvolutionConfig>).screen;
      const predictor =
        screen !== undefined
          ? runAccuracyScreen(run, settings, checkScreenPredictor(store, s.runId, s.split, { sha256: s.checkpointSha256, step: s.checkpointStep }), {
              onRefit: (r) => send({ type: 'event', searchId, kind: 'predictor', message: `predictor refitted on ${r.samples} evaluated subnets in ${(r.ms / 1000).toFixed(1)} s` }),
            })
          : undefined;
      const ref = referencePoint(run.space, run.numClasses, s.objective, lut?.table);
      // A latency front is one device's: the table's.
      const deviceId = s.objective === 'latency' && latency ? latency.deviceId : null;
      try {
        const outcome = await searchWithRecording(store, s, run.space, {
          numClasses: run.numClasses,
          latencyPredictor: lut ? latencyPredictor(lut.table, run.space) : undefined,
          predictor,
          evaluate: async (g) => resultOf(await evaluator.evaluate(g)),
          evaluateMany: async (items) => (await evaluator.evaluateMany(items.map((i) => i.genome))).map(resultOf),
          concurrency: evaluator.batch,
          ref,
          deviceId,
          ipcRequest,
          onRequest,
          send,
          onCount: (n) => (evaluations = n),
        });
        const final = outcome.done ? 'finished' : (ipcRequest() ?? readSearchControl(store, searchId)) === 'cancel' ? 'cancelled' : 'paused';
        transitionSearch(store, searchId, final, { control: null, pid: null, ...(final === 'paused' ? {} : { finishedAt: now() }) }, ['running']);
        send({ type: 'done', searchId, status: final, evaluations });
      } finally {
        await evaluator.dispose();
      }
    } finally {
      run.dispose();
    }
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    try {
      if (db) {
        transitionSearch(db, searchId, 'failed', { error: message, control: null, pid: null, finishedAt: now() }, ['running']);
        setSearchControl(db, searchId, null);
      }
    } finally {
      send({ type: 'done', searchId, status: 'failed', evaluations, error: message });
    }
    throw e;
  } finally {
    db?.close();
  }
}

/** What the engine's search keeps of an evaluation. */
const resultOf = ({ row, cached }: EvaluatedSubnet) => ({ accuracy: row.accuracy, loss: row.loss, evaluationId: row.id, cached });

interface RecordingOptions {
  numClasses: number;
  latencyPredictor: SearchOptions['latencyPredictor'];
  predictor?: SearchOptions['predictor'];
  evaluate: SearchOptions['evaluate'];
  evaluateMany: SearchOptions['evaluateMany'];
  concurrency: number;
  ref: { costRef: number; accRef: number };
  deviceId: string | null;
  ipcRequest: () => 'pause' | 'cancel' | null;
  onRequest: (cb: () => void) => void;
  send: (m: SearchRunnerToParent) => void;
  onCount: (n: number) => void;
}

/** The engine's search over `space`, resumed from the row's saved state, recording every step (module comment). */
async function searchWithRecording(db: Db, s: SearchRow, space: Parameters<typeof runEvolutionSearch>[0]['space'], o: RecordingOptions) {
  const saved = readSearchState(db, s.id) as SearchState | null;
  const front = new ParetoFront<FrontData>();
  const pointOf = (e: SearchState['archive'][number]) => ({ id: String(e.result.evaluationId), accuracy: e.accuracy, cost: e.cost, data: { evaluationId: e.result.evaluationId as number, genomeId: e.id } });
  for (const e of saved?.archive ?? []) front.insert(pointOf(e));
  o.onCount(saved?.archive.length ?? 0);

  const abort = new AbortController();
  let lastPoll = 0;
  const checkControl = (force = false) => {
    const t = Date.now();
    if (!force && t - lastPoll < CONTROL_POLL_MS && !o.ipcRequest()) return;
    lastPoll = t;
    if (o.ipcRequest() || readSearchControl(db, s.id)) abort.abort();
  };
  o.onRequest(() => abort.abort());
  checkControl(true);

  const frontMessage = () => ({
    type: 'front' as const,
    searchId: s.id,
    objective: s.objective,
    points: front.points().map((p) => ({ evaluationId: p.data!.evaluationId, genomeId: p.data!.genomeId, accuracy: p.accuracy, cost: p.cost })),
    hypervolume: front.hypervolume(o.ref),
    reference: o.ref,
  });
  const opts: SearchOptions = {
    space,
    numClasses: o.numClasses,
    evaluate: o.evaluate,
    evaluateMany: o.evaluateMany,
    concurrency: o.concurrency,
    config: s.config as Partial<EvolutionConfig>,
    budget: s.budget as Budget,
    objective: s.objective,
    latencyPredictor: o.latencyPredictor,
    ...(o.predictor ? { predictor: o.predictor } : {}),
    ...(saved ? { resume: saved } : {}),
    signal: abort.signal,
    onEvaluated: async (entry, state) => {
      const n = state.archive.length;
      const cached = entry.result.cached === true;
      front.insert(pointOf(entry));
      db.transaction(() => {
        addSearchMember(db, s.id, {
          position: entry.index,
          evaluationId: entry.result.evaluationId as number,
          generation: entry.generation,
          origin: entry.origin,
          parents: entry.parents ?? null,
          cost: entry.cost,
          cached,
        });
        saveSearchProgress(db, s.id, { state, evaluations: n, total: s.total, elapsedMs: state.elapsedMs, etaMs: (state.elapsedMs / n) * Math.max(0, s.total - n) });
        saveSearchFront(db, s, frontRecord(front, o.ref), o.deviceId);
      }).immediate();
      o.onCount(n);
      o.send({
        type: 'evaluated',
        searchId: s.id,
        position: entry.index,
        evaluationId: entry.result.evaluationId as number,
        genomeId: entry.id,
        genome: entry.genome,
        generation: entry.generation,
        origin: entry.origin,
        ...(entry.parents ? { parents: entry.parents } : {}),
        accuracy: entry.accuracy,
        ...(entry.predicted !== undefined ? { predicted: entry.predicted } : {}),
        loss: entry.result.loss as number,
        mflops: entry.mflops,
        mparams: entry.mparams,
        latencyMs: entry.latencyMs ?? null,
        cost: entry.cost,
        cached,
      });
      o.send(frontMessage());
      // Evaluations are synchronous compute: yield to the event loop so a pause/cancel message (or signal) is seen.
      await new Promise((resolve) => setImmediate(resolve));
      checkControl();
    },
    onProgress: (p) => o.send({ type: 'progress', searchId: s.id, ...p }),
  };
  let outcome: Awaited<ReturnType<typeof runEvolutionSearch>>;
  try {
    outcome = s.kind === 'random' ? await runRandomSearch({ ...opts, evaluations: s.targetEvaluations ?? s.total }) : await runEvolutionSearch(opts);
  } catch (e) {
    // A cluster job cancelled for a pause or cancel: the search stops with its last saved state, as between evaluations.
    if (e instanceof SlurmSearchInterrupted) return { done: false as const };
    throw e;
  }
  if (outcome.done) {
    db.transaction(() => {
      saveSearchProgress(db, s.id, { state: outcome.state, evaluations: outcome.archive.length, total: s.total, elapsedMs: outcome.state.elapsedMs, etaMs: 0 });
      saveSearchFront(db, s, frontRecord(front, o.ref), o.deviceId);
    }).immediate();
  }
  return outcome;
}
