/**
 * What the runner process does with a `start` message: open the store, claim nothing (the parent already moved the
 * run to `running`), pick the backend, load the dataset, train, and write the final status itself. The child writes
 * all metrics to SQLite; the parent only relays messages and catches a child that died without a final status.
 */
import { createOps, initBackend, parseTrainConfig, configSpace } from '../engine';
import { openHomeDatabase, type Db } from '../store/db';
import { detachJob, endJob, failJob, setJobRuntime } from '../store/jobs';
import { addRunEvent, getRun, readRunControl } from '../store/runs';
import { datasetSource, resolveDataset } from '../train/dataset-source';
import { ParentToRunnerSchema, type RunnerToParent } from './run-messages';
import { runDir } from '../train/paths';
import { Trainer } from '../train/trainer';
import { DataParallel, trainWorkerPath } from '../train/data-parallel';
import { resolveWorkers } from '../train/workers';
import type { ChildTransport } from './transport';
import type { TorchRunOptions, TorchRunOutcome } from './torch-run';

/** How often the runner looks at the run's `control` column (a pause or cancel from another process), ms. */
const CONTROL_POLL_MS = 1000;

/**
 * Trains a run on the PyTorch engine (config `engine: 'torch'`: src-main/jobs/torch-run.ts; `engine: 'slurm'`: the same
 * engine in a cluster job, src-main/jobs/slurm/slurm-run.ts), handed in by the runner's entry point (runner-main.ts)
 * because it starts processes or jobs, a layer above train/.
 */
export type TorchRunner = (o: TorchRunOptions) => Promise<TorchRunOutcome>;

/** What the parent asked a runner for, by message or through the row's control column. */
type RunnerRequest = ReturnType<TorchRunOptions['control']>;

export function serveRunner(t: ChildTransport, exit: (code: number) => void = (c) => process.exit(c), torch?: TorchRunner): void {
  let request: RunnerRequest = null;
  let started = false;
  const send = (m: RunnerToParent) => t.send(m);
  // Ctrl-C reaches the whole process group: treat it (and a polite kill) as a pause with a checkpoint.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => (request ??= 'pause'));

  t.onMessage((raw) => {
    const r = ParentToRunnerSchema.safeParse(raw);
    if (!r.success) {
      send({ type: 'error', message: `runner: malformed message ${JSON.stringify(raw)}: ${r.error.message}` });
      return;
    }
    const msg = r.data;
    if (msg.type === 'pause' || msg.type === 'cancel' || msg.type === 'detach') {
      // A cancel stands; a detach (the parent closing) overrides a pause its Ctrl-C may have signalled first.
      if (request !== 'cancel') request = msg.type;
      return;
    }
    if (started) {
      send({ type: 'error', message: 'runner: a second start message; one runner trains one run' });
      return;
    }
    started = true;
    void runOne(msg.home, msg.runId, msg.resume, msg.cores, () => request, send, torch).then(
      () => t.drain().then(() => exit(0)),
      () => t.drain().then(() => exit(1)),
    );
  });
  send({ type: 'ready', pid: process.pid });
}

/** The runner's request: the parent's message, else the row's control column (read at most once a second); cancel wins. */
function requestOf(db: Db, runId: number, ipcRequest: () => RunnerRequest): () => RunnerRequest {
  let lastPoll = 0;
  let dbRequest: 'pause' | 'cancel' | null = null;
  return () => {
    const t = Date.now();
    if (t - lastPoll >= CONTROL_POLL_MS) {
      lastPoll = t;
      dbRequest = readRunControl(db, runId);
    }
    return ipcRequest() === 'cancel' || dbRequest === 'cancel' ? 'cancel' : (ipcRequest() ?? dbRequest);
  };
}

async function runOne(home: string, runId: number, resume: boolean, cores: number | undefined, ipcRequest: () => RunnerRequest, send: (m: RunnerToParent) => void, torch?: TorchRunner): Promise<void> {
  let db: Db | undefined;
  let step = 0;
  try {
    db = openHomeDatabase(home);
    const run = getRun(db, runId);
    if (run.status !== 'running') throw new Error(`run ${runId} is ${run.status}, not running: the parent must claim it first`);
    const config = parseTrainConfig(run.config, `config of run ${runId}`);
    const request = requestOf(db, runId, ipcRequest);
    if (config.engine !== 'local') {
      if (!torch) throw new Error(`this runner was started without the ${config.engine} engine`);
      const dataset = await resolveDataset(home, db, run.datasetId ?? config.dataset);
      const outcome = await torch({
        db,
        home,
        runId,
        runDir: runDir(home, runId),
        config,
        dataset,
        resume,
        cores,
        control: request,
        send: (m) => {
          if (m.type === 'progress') step = m.step;
          send(m);
        },
      });
      step = outcome.step;
      if (outcome.status === 'detached') {
        // The job runs on without us: the row stays `running`, without a pid, until a workbench adopts it again.
        detachJob(db, 'runs', runId);
        const message = `the workbench closed: the ${config.engine} job runs on at step ${step} and is followed again when the workbench starts`;
        addRunEvent(db, runId, { kind: 'start', step, message });
        send({ type: 'event', runId, kind: 'start', message, step });
        return;
      }
      endJob(db, 'runs', runId, outcome.status);
      addRunEvent(db, runId, { kind: outcome.status === 'finished' ? 'finish' : outcome.status === 'paused' ? 'pause' : 'cancel', step, message: `${outcome.status} on the ${config.engine} engine: ${step} steps` });
      send({ type: 'done', runId, status: outcome.status, step });
      return;
    }
    const backend = await initBackend({ force: config.backend === 'auto' ? undefined : config.backend });
    setJobRuntime(db, 'runs', runId, { backend: backend.chosen, pid: process.pid });
    const info = await resolveDataset(home, db, run.datasetId ?? config.dataset);
    const data = datasetSource(home, info, { batchSize: config.batchSize, seed: config.seed, augment: config.augment });
    const workers = resolveWorkers(config, { cores, backend: backend.chosen });
    // What the run really holds (fewer than the queue gave when the batch does not split further): the queue counts it.
    setJobRuntime(db, 'runs', runId, { cores: workers });
    const trainer = new Trainer({
      db,
      runId,
      runDir: runDir(home, runId),
      config,
      data,
      ops: createOps(backend.opsMode),
      resume,
      // A local run dies with the workbench: leaving means a pause with a checkpoint.
      control: () => {
        const r = request();
        return r === 'detach' ? 'pause' : r;
      },
      onProgress: (p) => {
        step = p.step;
        send(p);
      },
      onEpoch: (e) => send(e),
      onEvent: (e) => send({ type: 'event', runId, ...e }),
    });
    let outcome;
    let parallel: DataParallel | undefined;
    try {
      if (workers > 1) {
        parallel = trainer.parallel = await DataParallel.start({
          workers,
          workerPath: trainWorkerPath(),
          net: trainer.net,
          space: configSpace(config),
          backend: backend.chosen,
          opsMode: backend.opsMode,
        });
      }
      outcome = await trainer.run();
    } finally {
      await parallel?.close();
      trainer.dispose();
    }
    step = outcome.step;
    const final = outcome.status;
    endJob(db, 'runs', runId, final);
    const persistShare = outcome.stepMs > 0 ? outcome.persistMs / outcome.stepMs : 0;
    send({ type: 'done', runId, status: final, step, persistShare });
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    try {
      if (db) {
        failJob(db, 'runs', runId, message);
        addRunEvent(db, runId, { kind: 'fail', step, message });
      }
    } finally {
      send({ type: 'done', runId, status: 'failed', step, error: message });
    }
    throw e;
  } finally {
    db?.close();
  }
}
