/**
 * Subnets of a trained run: load a run's checkpoint into a supernet, name a subnet, evaluate it with BN
 * recalibration through the run's evaluation cache (SQLite, `store/evaluations.ts`), and export it with provenance.
 * Loads TF.js, so only the CLI and the search runner call these; the app reaches them through a child process,
 * never from Electron main.
 *
 *   const run = await loadRun(home, db, 3);                        // latest good checkpoint (or 'best')
 *   const { genome } = resolveSubnet(run, 'random:7');
 *   const ev = createRunEvaluator(run, evaluationSettings(run));
 *   const { row, cached } = await ev.evaluate(genome);             // asked again → the cached row, cached: true
 *   ev.dispose(); run.dispose();
 *
 * Evaluations are deterministic for a fixed checkpoint, calibration set and split on one backend, which is what
 * makes the cache (keyed by exactly those) sound. The backend must be initialised first (`initBackend`).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {
  activeBackend,
  calibrateBn,
  extractStatic,
  type StaticSubnet,
  subnetCost,
  createOps,
  defaultOpsMode,
  type SupernetOps,
  Rng,
  resolveGenome,
  genomeId,
  maxGenome,
  randomGenome,
  type Genome,
  type SearchSpace,
  Supernet,
  evaluateSubnet,
  resetStats,
  type LabelledBatch,
  CheckpointError,
  readCheckpointFile,
  type TrainConfig,
} from '../engine';
import { calibrationBatches, createLoader, type DatasetInfo } from '../data';
import { version as appVersion } from '../../package.json';
import type { Db } from '../store/db';
import { listCheckpoints, type RunRow } from '../store/runs';
import {
  EvaluationNotFoundError,
  findEvaluation,
  getEvaluation,
  insertEvaluation,
  listEvaluations,
  setEvaluationLatency,
  type EvaluationLatency,
  type EvaluationRow,
} from '../store/evaluations';
import { findDevice, upsertDevice } from '../store/devices';
import { offerToRunFront } from './fronts';
import type { SearchObjective } from '../store/searches';
import { exportSubnet, type ExportFormat, type ExportResult } from '../export';
import {
  deviceFingerprint,
  deviceIdOf,
  measureLatency,
  predictLatency,
  type DeviceFingerprint,
  type LatencyTable,
} from './latency';
import type { ReferencePoint } from './pareto';
import { computedOf, type ComputedEvaluation, type SubnetCompute } from './subnet-compute';
import { RunSubnetError, evaluationSettings, runInfo, type EvaluationSettings } from './run-info';

export { RunSubnetError, evaluationSettings, runInfo, type EvaluationSettings, type RunInfo } from './run-info';

/** Which checkpoint to load: the newest good one, the best by validation, or an exact file (a search pins one). */
export type CheckpointChoice = 'latest' | 'best' | { path: string; sha256: string; step: number };

export interface LoadedCheckpoint {
  path: string;
  sha256: string;
  step: number;
  epoch: number;
}

/** A run's supernet with the weights of one checkpoint, and what is needed to evaluate its subnets. */
export interface LoadedRun {
  home: string;
  db: Db;
  run: RunRow;
  config: TrainConfig;
  space: SearchSpace;
  dataset: DatasetInfo;
  /** Classifier outputs: the dataset's classes. */
  numClasses: number;
  checkpoint: LoadedCheckpoint;
  /** Checkpoints skipped because their hash check failed (newest first), as messages. */
  skipped: string[];
  ops: SupernetOps;
  net: Supernet;
  dispose(): void;
}

function pickCheckpoint(db: Db, runId: number, choice: CheckpointChoice): { ck: ReturnType<typeof readCheckpointFile>; row: LoadedCheckpoint; skipped: string[] } {
  if (typeof choice === 'object') {
    try {
      const ck = readCheckpointFile(choice.path, choice.sha256);
      return { ck, row: { path: choice.path, sha256: choice.sha256, step: choice.step, epoch: ck.header.state.epoch }, skipped: [] };
    } catch (e) {
      throw new RunSubnetError(`run ${runId}: the checkpoint this search evaluates is gone or changed (${(e as Error).message})`);
    }
  }
  const rows = listCheckpoints(db, runId).filter((c) => choice === 'latest' || c.isBest);
  if (!rows.length) {
    throw new RunSubnetError(choice === 'best' ? `run ${runId} has no best checkpoint yet (none was validated); use the latest` : `run ${runId} has no checkpoint yet; train it first`);
  }
  const skipped: string[] = [];
  for (const r of rows) {
    try {
      return { ck: readCheckpointFile(r.path, r.sha256), row: { path: r.path, sha256: r.sha256, step: r.step, epoch: r.epoch }, skipped };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      skipped.push(e.message);
    }
  }
  throw new RunSubnetError(`run ${runId}: no usable checkpoint (${skipped.join('; ')})`);
}

/** The ops formulation for the active backend. */
export function activeOps(): SupernetOps {
  return createOps(activeBackend()?.opsMode ?? defaultOpsMode(tf.getBackend()));
}

/**
 * Loads a run's checkpoint (default: the newest one that passes its hash check, as a resume would) into a new
 * supernet. The caller disposes the result.
 */
export async function loadRun(home: string, db: Db, runId: number, opts: { checkpoint?: CheckpointChoice; ops?: SupernetOps } = {}): Promise<LoadedRun> {
  const info = await runInfo(home, db, runId);
  if (info.space.inputChannels !== info.dataset.channels) {
    throw new RunSubnetError(`run ${runId}: space '${info.space.id}' takes ${info.space.inputChannels}-channel images, dataset '${info.dataset.name}' has ${info.dataset.channels}`);
  }
  const { ck, row, skipped } = pickCheckpoint(db, runId, opts.checkpoint ?? 'latest');
  const ops = opts.ops ?? activeOps();
  const net = new Supernet({ space: info.space, ops, numClasses: info.numClasses, seed: info.config.seed });
  try {
    net.importWeights(ck.weights);
  } catch (e) {
    net.dispose();
    throw new RunSubnetError(`run ${runId}: checkpoint ${row.path} does not fit the run's supernet: ${(e as Error).message}`);
  }
  return { home, db, ...info, checkpoint: row, skipped, ops, net, dispose: () => net.dispose() };
}

// ---- naming subnets -----------------------------------------------------------------------------------------

export interface ResolvedSubnet {
  genome: Genome;
  genomeId: string;
  /** How it was named (for messages and provenance). */
  label: string;
  /** When named by an evaluation id (or a genome ID found among the run's evaluations). */
  evaluation?: EvaluationRow;
}

/**
 * The run's evaluation a spec names — an evaluation id (a positive integer; unknown → error) or a genome ID (12 hex
 * digits) the run has evaluated (its newest evaluation) — or undefined when the spec names none.
 */
export function evaluationBySpec(db: Db, runId: number, spec: string): EvaluationRow | undefined {
  const s = spec.trim();
  if (/^\d+$/.test(s)) {
    const ev = findEvaluationById(db, Number(s));
    if (!ev || ev.runId !== runId) throw new RunSubnetError(`run ${runId} has no evaluation ${s} (see \`alphanet front ${runId}\` or \`alphanet search show\`)`);
    return ev;
  }
  if (/^[0-9a-f]{12}$/.test(s)) return listEvaluations(db, runId).findLast((e) => e.genomeId === s);
  return undefined;
}

function findEvaluationById(db: Db, id: number): EvaluationRow | undefined {
  try {
    return getEvaluation(db, id);
  } catch (e) {
    if (e instanceof EvaluationNotFoundError) return undefined;
    throw e;
  }
}

/**
 * What a user can name a subnet of a run by:
 * - `min`, `max`, a registered name (e.g. `alphanet-a0`, on its own space only);
 * - `random` or `random:<seed>` (a uniform random subnet drawn from `new Rng(seed)`, default seed 0);
 * - a genome as JSON text (`{"resolution":…}`, camelCase or the reference's snake_case) or a `.json` file holding one;
 * - an evaluation id of this run (a positive integer), or a genome ID (12 hex digits) the run has evaluated.
 */
export function resolveSubnet(r: Pick<LoadedRun, 'db' | 'run' | 'space'>, spec: string): ResolvedSubnet {
  const s = spec.trim();
  const done = (genome: Genome, label: string, evaluation?: EvaluationRow): ResolvedSubnet => ({ genome, genomeId: genomeId(r.space.id, genome), label, ...(evaluation ? { evaluation } : {}) });
  const m = /^random(?::(\d+))?$/.exec(s);
  if (m) return done(randomGenome(r.space, new Rng(Number(m[1] ?? 0))), `random:${m[1] ?? 0}`);
  const ev = evaluationBySpec(r.db, r.run.id, s);
  if (ev) return done(resolveGenome(r.space, ev.genome), /^\d+$/.test(s) ? `evaluation ${s}` : `subnet ${s}`, ev);
  let json: unknown;
  if (s.startsWith('{')) {
    try {
      json = JSON.parse(s);
    } catch (e) {
      throw new RunSubnetError(`the subnet genome is not valid JSON: ${(e as Error).message}`);
    }
  } else if (s.endsWith('.json')) {
    try {
      json = JSON.parse(readFileSync(s, 'utf8'));
    } catch (e) {
      throw new RunSubnetError(`cannot read subnet genome ${s}: ${(e as Error).message}`);
    }
  }
  try {
    return done(resolveGenome(r.space, json ?? s), json === undefined ? s : 'genome');
  } catch (e) {
    throw new RunSubnetError(`${(e as Error).message}${json === undefined ? '; or random[:seed], an evaluation id of the run, or a genome ID it has evaluated' : ''}`);
  }
}

// ---- evaluation ---------------------------------------------------------------------------------------------

/** Calibration batches and the evaluation split in memory (a search keeps them for its whole length). */
export interface EvaluationData {
  calibration: tf.Tensor4D[];
  evaluation: LabelledBatch[];
  dispose(): void;
}

export async function loadEvaluationData(r: Pick<LoadedRun, 'home' | 'dataset'>, s: EvaluationSettings): Promise<EvaluationData> {
  const count = r.dataset.splits[s.split].count;
  if (count === 0) {
    throw new RunSubnetError(
      s.split === 'val'
        ? `dataset '${r.dataset.name}' has no search-validation images; give it a val split (\`alphanet datasets split ${r.dataset.name} --val 0.1\`)`
        : `dataset '${r.dataset.name}' has no test images`,
    );
  }
  const calibration = calibrationBatches(r.home, r.dataset, { batches: s.calibrationBatches, batchSize: s.calibrationBatchSize, seed: s.calibrationSeed });
  const evaluation: (LabelledBatch & { labels: tf.Tensor1D })[] = [];
  const dispose = () => tf.dispose([...calibration, ...evaluation.flatMap((b) => [b.x, b.labels])]);
  // In order and unaugmented: the split as it is (the seed only matters for shuffling, which is off).
  const loader = createLoader(r.home, r.dataset, s.split, { batchSize: s.batchSize, seed: 0, shuffle: false, augment: false });
  try {
    for await (const b of loader) evaluation.push({ x: b.x, labels: b.y });
  } catch (e) {
    dispose();
    throw e;
  } finally {
    loader.close();
  }
  return { calibration, evaluation, dispose };
}

/** Where an evaluation's latency comes from: this machine's lookup table, or a direct measurement. */
export type LatencySource =
  | { kind: 'lut'; table: LatencyTable; deviceId: string }
  | { kind: 'measure'; batch: number; device: DeviceFingerprint; deviceId: string; warmup?: number; repeats?: number };

/** A LUT source for a loaded table (records its device). */
export function lutSource(db: Db, table: LatencyTable): LatencySource {
  return { kind: 'lut', table, deviceId: upsertDevice(db, deviceIdOf(table.device), table.device) };
}

/** Direct measurement at `batch` on the active backend (median of `repeats`, default 10, after 3 warm-ups). */
export function measureSource(db: Db, ops: SupernetOps, batch = 1): LatencySource {
  const device = deviceFingerprint(ops);
  return { kind: 'measure', batch, device, deviceId: upsertDevice(db, deviceIdOf(device), device) };
}

/** The latency of a static subnet (median ms) as the source gives it. */
function latencyOf(src: LatencySource, space: SearchSpace, g: Genome, staticSubnet: () => StaticSubnet): EvaluationLatency {
  if (src.kind === 'lut') return { ms: predictLatency(src.table, space, g), method: 'lut', batch: src.table.batch, deviceId: src.deviceId };
  const s = staticSubnet();
  const t = measureLatency(s, { batchSizes: [src.batch], warmup: src.warmup, repeats: src.repeats })[0];
  return { ms: t.medianMs, method: 'measured', batch: src.batch, deviceId: src.deviceId };
}

/**
 * The stated hypervolume reference point of a run's fronts: the cost of the space's max subnet (the worst cost
 * any subnet can have; with a latency table, its predicted latency) and accuracy 0. The same for every search of a
 * run, so hypervolumes compare across searches (and across runs of one space and dataset).
 */
export function referencePoint(space: SearchSpace, numClasses: number, objective: SearchObjective, table?: LatencyTable): ReferencePoint {
  const max = maxGenome(space);
  if (objective === 'latency') {
    if (!table) throw new RunSubnetError('a latency front needs this machine\'s latency table (`alphanet latency <run> --build-table`)');
    return { costRef: predictLatency(table, space, max), accRef: 0 };
  }
  return { costRef: subnetCost(space, max, numClasses).mflops, accRef: 0 };
}

export interface EvaluatedSubnet {
  row: EvaluationRow;
  /** True when the answer came from the cache (no calibration or forward ran). */
  cached: boolean;
}

export interface RunEvaluator {
  readonly settings: EvaluationSettings;
  /** How many subnets to hand one `evaluateMany` (its compute's `batch`, else its concurrency). */
  readonly batch: number;
  /** Evaluates (or recalls) one subnet; with a latency source, the row's latency is filled in if it lacks one. */
  evaluate(genome: Genome): Promise<EvaluatedSubnet>;
  /**
   * Evaluates (or recalls) several subnets, the cache misses computed together (concurrently, with a pool), and
   * returns and stores them in the order given: the rows are the ones `evaluate` one after another would store.
   */
  evaluateMany(genomes: readonly Genome[]): Promise<EvaluatedSubnet[]>;
  /** The calibration and evaluation data in this process, loaded on first use. */
  data(): Promise<EvaluationData>;
  /** Releases the data and the compute (worker threads, if any). */
  dispose(): Promise<void>;
}

/**
 * The in-process TF.js compute: `evaluateSubnet` on the run's supernet, one genome after another, on the data
 * `data` loads (shared with the evaluator, which loads it once). Disposing it leaves the data to its owner.
 */
export function localSubnetCompute(r: Pick<LoadedRun, 'net'>, data: () => Promise<EvaluationData>): SubnetCompute {
  return {
    backend: tf.getBackend(),
    concurrency: 1,
    async evaluateMany(genomes) {
      const d = await data();
      return genomes.map((g) => computedOf(evaluateSubnet(r.net, g, { calibration: d.calibration, evaluation: d.evaluation })));
    },
    dispose: () => Promise.resolve(),
  };
}

/**
 * An evaluator over a loaded run: cache lookup by (run, genome ID, split, calibration settings, checkpoint sha256);
 * on a miss, BN recalibration + accuracy/loss before and after from `compute` (default: `localSubnetCompute`, which
 * the evaluator then owns and disposes; a given one is disposed with the evaluator too), MFLOPs and params, latency
 * from `latency` if given, then one transaction that stores the row and offers it to the run's fronts (MFLOPs, and
 * with a LUT, latency). Data are loaded on the first local miss only.
 */
export function createRunEvaluator(r: LoadedRun, settings: EvaluationSettings, opts: { latency?: LatencySource; compute?: SubnetCompute } = {}): RunEvaluator {
  let data: Promise<EvaluationData> | undefined;
  let loaded: EvaluationData | undefined;
  const loadData = () => (data ??= loadEvaluationData(r, settings).then((d) => (loaded = d)));
  const compute = opts.compute ?? localSubnetCompute(r, loadData);
  const refs = new Map<SearchObjective, ReferencePoint>();
  const ref = (o: SearchObjective) => {
    let x = refs.get(o);
    if (!x) refs.set(o, (x = referencePoint(r.space, r.numClasses, o, opts.latency?.kind === 'lut' ? opts.latency.table : undefined)));
    return x;
  };
  const key = (gid: string) => ({
    runId: r.run.id,
    genomeId: gid,
    split: settings.split,
    calibrationBatches: settings.calibrationBatches,
    calibrationBatchSize: settings.calibrationBatchSize,
    calibrationSeed: settings.calibrationSeed,
    checkpointSha256: r.checkpoint.sha256,
  });
  const frontScope = (objective: SearchObjective, deviceId: string | null) => ({ runId: r.run.id, objective, split: settings.split, checkpointSha256: r.checkpoint.sha256, deviceId });
  // Latency depends on the weights' shapes only, so reset statistics measure as well as calibrated ones.
  const withLatency = (g: Genome): EvaluationLatency | null => {
    if (!opts.latency) return null;
    let s: StaticSubnet | undefined;
    try {
      return latencyOf(opts.latency, r.space, g, () => (s = extractStatic(r.net, g, resetStats(r.net, g))));
    } finally {
      s?.dispose();
    }
  };

  const recall = (genome: Genome, hit: EvaluationRow): EvaluatedSubnet => {
    const want = opts.latency;
    if (!want || (hit.latency && hit.latency.deviceId === want.deviceId && hit.latency.method === (want.kind === 'lut' ? 'lut' : 'measured'))) return { row: hit, cached: true };
    const lat = withLatency(genome)!;
    const row = r.db.transaction(() => {
      const updated = setEvaluationLatency(r.db, hit.id, lat);
      if (lat.method === 'lut') offerToRunFront(r.db, frontScope('latency', lat.deviceId), { evaluationId: hit.id, genomeId: hit.genomeId, accuracy: hit.accuracy, cost: lat.ms }, ref('latency'));
      return updated;
    }).immediate();
    return { row, cached: true };
  };

  const store = (res: ComputedEvaluation): EvaluatedSubnet => {
    const gid = genomeId(r.space.id, res.genome);
    const cost = subnetCost(r.space, res.genome, r.numClasses);
    const latency = withLatency(res.genome);
    return r.db.transaction(() => {
      const { row, inserted } = insertEvaluation(r.db, {
        ...key(gid),
        genome: res.genome,
        checkpointStep: r.checkpoint.step,
        accuracy: res.accuracy,
        loss: res.loss,
        before: res.before,
        images: res.images,
        calibrationImages: res.calibrationImages,
        mflops: cost.mflops,
        mparams: cost.mparams,
        latency,
        backend: compute.backend,
        evalMs: res.ms,
      });
      if (inserted) {
        offerToRunFront(r.db, frontScope('mflops', null), { evaluationId: row.id, genomeId: row.genomeId, accuracy: row.accuracy, cost: row.mflops }, ref('mflops'));
        if (latency?.method === 'lut') offerToRunFront(r.db, frontScope('latency', latency.deviceId), { evaluationId: row.id, genomeId: row.genomeId, accuracy: row.accuracy, cost: latency.ms }, ref('latency'));
      }
      return { row, cached: !inserted };
    }).immediate();
  };

  const evaluateMany = async (genomes: readonly Genome[]): Promise<EvaluatedSubnet[]> => {
    const gids = genomes.map((g) => genomeId(r.space.id, g));
    const hits = gids.map((gid) => findEvaluation(r.db, key(gid)));
    // Each missing genome computed once, even when asked for twice in one call.
    const missing = new Map<string, Genome>();
    genomes.forEach((g, i) => {
      if (!hits[i] && !missing.has(gids[i])) missing.set(gids[i], g);
    });
    const computed = missing.size ? await compute.evaluateMany([...missing.values()]) : [];
    if (computed.length !== missing.size) throw new Error(`the ${compute.backend} compute returned ${computed.length} evaluations for ${missing.size} subnets`);
    const byId = new Map([...missing.keys()].map((gid, i) => [gid, computed[i]]));
    return genomes.map((g, i) => {
      const hit = hits[i] ?? findEvaluation(r.db, key(gids[i]));
      return hit ? recall(g, hit) : store(byId.get(gids[i])!);
    });
  };

  return {
    settings,
    batch: compute.batch ?? compute.concurrency,
    data: loadData,
    evaluateMany,
    evaluate: async (genome) => (await evaluateMany([genome]))[0],
    async dispose() {
      const pending = data;
      data = undefined;
      if (loaded) loaded.dispose();
      else void pending?.then((d) => d.dispose(), () => undefined);
      loaded = undefined;
      await compute.dispose();
    },
  };
}

// ---- export -------------------------------------------------------------------------------------------------

export interface RunExportOptions {
  outDir: string;
  format: ExportFormat;
  settings: EvaluationSettings;
  /** Latency recorded in provenance.json: the LUT if given, else measured at batch 1 on the static subnet. */
  latency?: LatencySource;
  /** Anything else for provenance.json (search id, how the subnet was named, …). */
  extra?: Record<string, unknown>;
}

export interface RunExportResult extends ExportResult {
  evaluation: EvaluationRow;
  /** Whether the accuracy came from the cache. */
  cached: boolean;
}

/**
 * Exports a subnet of a loaded run: evaluates it through the cache (accuracy and the split it was measured on),
 * recalibrates BN on the same calibration batches (deterministic, so the exported statistics are the evaluated
 * ones), extracts the static subnet and writes the chosen formats with provenance.json (run, checkpoint path and
 * sha256, dataset, split, calibration settings, seed, latency with its device, app version).
 */
export async function exportRunSubnet(r: LoadedRun, genome: Genome, o: RunExportOptions): Promise<RunExportResult> {
  const ev = createRunEvaluator(r, o.settings, { latency: o.latency });
  let s: StaticSubnet | undefined;
  try {
    let { row, cached } = await ev.evaluate(genome);
    const d = await ev.data();
    const cal = calibrateBn(r.net, row.genome as Genome, d.calibration);
    s = extractStatic(r.net, row.genome as Genome, cal.stats);
    if (!row.latency) {
      const src = measureSource(r.db, r.ops, 1);
      const st = s;
      row = setEvaluationLatency(r.db, row.id, latencyOf(src, r.space, row.genome as Genome, () => st));
    }
    const lat = row.latency!;
    const device = (lat.deviceId === o.latency?.deviceId && o.latency.kind === 'lut' ? o.latency.table.device : undefined) ?? deviceOfRow(r.db, lat.deviceId, r.ops);
    const res = await exportSubnet(s, {
      outDir: o.outDir,
      format: o.format,
      space: r.space,
      provenance: {
        runId: String(r.run.id),
        checkpointHash: r.checkpoint.sha256,
        checkpointPath: r.checkpoint.path,
        dataset: { id: r.dataset.id, name: r.dataset.name, contentHash: r.dataset.contentHash },
        accuracy: { value: row.accuracy, split: row.split, images: row.images, loss: row.loss, ...(row.before ? { beforeCalibration: row.before.accuracy } : {}) },
        calibration: { batches: row.calibrationBatches, images: row.calibrationImages, batchSize: row.calibrationBatchSize, seed: row.calibrationSeed, split: 'train' },
        latency: { ms: lat.ms, batch: lat.batch, method: lat.method, device },
        seed: row.calibrationSeed,
        appVersion,
        extra: { evaluationId: row.id, runName: r.run.name, runSeed: r.run.seed, checkpointStep: r.checkpoint.step, backend: row.backend, ...o.extra },
      },
    });
    return { ...res, evaluation: getEvaluation(r.db, row.id), cached };
  } finally {
    s?.dispose();
    ev.dispose();
  }
}

function deviceOfRow(db: Db, id: string, ops: SupernetOps): DeviceFingerprint {
  return (findDevice(db, id) as DeviceFingerprint | undefined) ?? deviceFingerprint(ops);
}
