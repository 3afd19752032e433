/**
 * Accuracy-predictor benchmark (docs/BENCHMARKS.md "Accuracy predictor", docs/SEARCH.md): on a trained 32×32 run,
 * through the real CLI (`alphanet train | predictor | search`, each in its own process, what a user runs):
 *   1. the run: `--home` / `--run` reuse a trained one; otherwise `alphanet train` of alphanet-cifar32 on the demo
 *      set with KL distillation, which on a short schedule pulls the subnets apart faster than adaptive α
 *      (docs/TRAINING.md), so that their accuracies differ by more than the measurement noise;
 *   2. `alphanet predictor <run> --build --samples N --held-out H`: Kendall τ, Spearman ρ and RMSE on the H held-out
 *      evaluated subnets, and the training-size table;
 *   3. per seed, plain evolution and predictor-guided evolution (`--predictor --screen F`) with the same settings: the
 *      hypervolume of the front of a search's first k real evaluations (its members in evaluation order) at each k,
 *      all against the run's one reference point, the evaluations guided needs to reach plain's final
 *      hypervolume, and wall times.
 * Every search runs in its own copy of the data directory (the database copied, everything else linked), so no two
 * searches and the predictor's build feed each other's evaluation cache: the plain searches' copies are taken before
 * the build, so a plain search pays for every evaluation it makes and the predictor is fitted on uniform random
 * subnets only; the guided searches' copies are taken after the build, so their refits use the build's samples and
 * their own evaluations (that is the method; the build's evaluations are reported beside theirs) but never another
 * seed's. (A shared directory let the second seed's search find the first's evaluations cached and refit on them.)
 */
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHomeDatabase } from '../store/db';
import { getRunPredictor } from '../store/predictors';
import { getRun, listRuns } from '../store/runs';
import { getSearch, listSearchMembers, listSearches } from '../store/searches';
import { hypervolume, type ReferencePoint } from '../search/pareto';
import { runInfo } from '../search/run-info';
import { referencePoint } from '../search/run-subnets';
import { runCli, type CliResult } from './cli-process';

export interface PredictorBenchOptions {
  /** The built CLI (out/main/cli.js). */
  cli: string;
  /** Data directory holding the run (default: a new temporary one, where a run is trained). */
  home?: string;
  /** A finished run of `home` to reuse (default: train one). */
  run?: number;
  /** Training when no run is given: epochs × steps per epoch at batch 64 (defaults 2 × 90), seed 0. */
  trainEpochs?: number;
  trainStepsPerEpoch?: number;
  /** Evaluated subnets the predictor is built on, held-out ones included (default 500), and held out (default 100). */
  samples?: number;
  heldOut?: number;
  /** Seed of the predictor's random subnets, split and fit (default 100: apart from the search seeds). */
  predictorSeed?: number;
  /**
   * Processes that evaluate the predictor's random subnets (default 1: the build itself). With K > 1, K random
   * searches (uniform subnets, no budget, seeds predictorSeed + 1 … + K) fill the run's evaluation cache side by side
   * first, and the build finds them there: the same kind of samples, K evaluations at a time.
   */
  samplers?: number;
  /** Search seeds (default 1, 2); plain and guided run with each. */
  seeds?: number[];
  population?: number;
  mutate?: number;
  crossover?: number;
  generations?: number;
  /** Candidates the predictor scores per real evaluation (default 8, the CLI's). */
  screen?: number;
  /**
   * Evaluation workers of each search and sampler (default 1; the results do not depend on it, only the wall times).
   * Explicit because the searches run with ALPHANET_JOB_CORES 16 (so that the queue starts them side by side): with
   * `auto` each would start 16 wasm workers, which got one OOM-killed at 11 GB on the 24 GiB bench machine.
   */
  searchWorkers?: number;
  /** Evaluation counts the hypervolume is reported at (the final count is always added). */
  at?: number[];
  /**
   * Run the plain searches alongside the predictor build, and the guided searches alongside each other (default
   * false: one process at a time, so wall times are each process's alone).
   */
  parallel?: boolean;
  /**
   * Minutes after the start at which plain and guided searches still running are paused and reported as far as they
   * got (default: none). For a machine too slow or too shared to finish: the curves are then shorter, and marked so.
   */
  deadlineMin?: number;
  log?: (line: string) => void;
}

export interface SearchCurve {
  kind: 'plain' | 'guided';
  seed: number;
  searchId: number;
  /** False when the deadline paused it before its last evaluation. */
  complete: boolean;
  evaluations: number;
  /** Of those, found in the run's evaluation cache (no BN calibration paid). */
  cached: number;
  wallSec: number;
  finalHypervolume: number;
  /** Hypervolume of the front of the first k evaluations. */
  curve: { evaluations: number; hypervolume: number }[];
  /** The whole curve, one value per evaluation (index k − 1). */
  hypervolumes: number[];
}

export interface PredictorBenchResult {
  home: string;
  runId: number;
  trainSec: number | null;
  checkpointStep: number;
  reference: ReferencePoint;
  predictor: {
    /** Wall time of the build, its sampling included. */
    buildSec: number;
    /** Subnets the build evaluated itself (the samplers' evaluations were already cached). */
    sampled: number;
    samplers: number;
    trainSize: number;
    heldOut: number;
    kendallTau: number | null;
    spearmanRho: number | null;
    rmsePoints: number | null;
    sizeTable: { trainSize: number; kendallTau: number | null; spearmanRho: number | null; rmsePoints: number | null }[];
    fitSec: number;
  };
  searches: SearchCurve[];
  /** Per seed: plain's final hypervolume, the evaluations each needs to reach it (null: never), and the ratio. */
  reach: { seed: number; plainFinal: number; plainEvaluations: number; plainReachesAt: number; guidedReachesAt: number | null; ratio: number | null }[];
  load: { before: number; after: number };
  parallel: boolean;
}

/** One `alphanet` invocation in its own process; stderr lines (progress) go to `log`. */
function cli(o: PredictorBenchOptions, home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const log = o.log ?? (() => undefined);
  return runCli({ cli: o.cli, home, args, env, onStderrLine: (l) => log(`[${args.slice(0, 2).join(' ')}] ${l}`) });
}

function check(r: CliResult, what: string): CliResult {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r;
}

/**
 * A second data directory over the same files: the database copied (SQLite's online backup, consistent while
 * nothing writes), every other entry of `home` linked. Searches in it evaluate into their own cache.
 */
export async function homeCopy(home: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'alphanet-predictor-bench-plain-'));
  const db = openHomeDatabase(home);
  try {
    await db.backup(join(dir, 'alphanet.db'));
  } finally {
    db.close();
  }
  for (const name of readdirSync(home)) {
    if (!name.startsWith('alphanet.db')) symlinkSync(join(home, name), join(dir, name));
  }
  return dir;
}

/** Hypervolume of the front of the first k members, for every k. */
export function hypervolumeCurve(members: readonly { accuracy: number; cost: number }[], ref: ReferencePoint): number[] {
  // Re-computing from scratch per k is O(n² log n); n is a few hundred.
  return members.map((_, i) => hypervolume(members.slice(0, i + 1), ref));
}

/** The first k (1-based) at which `curve` reaches `target` (a relative tolerance of 1e-9 for float noise), or null. */
export function evaluationsToReach(curve: readonly number[], target: number): number | null {
  const i = curve.findIndex((hv) => hv >= target * (1 - 1e-9));
  return i < 0 ? null : i + 1;
}

/** The searches the bench has started and not seen end, and whether the deadline has paused them. */
interface Running {
  searches: Map<string, string>;
  deadlinePassed: boolean;
}

async function searchCurve(o: PredictorBenchOptions, home: string, runId: number, kind: 'plain' | 'guided', seed: number, ref: ReferencePoint, at: number[], running: Running): Promise<SearchCurve> {
  const name = `predictor-bench ${kind} seed ${seed} ${Date.now()}`;
  const args = [
    'search', String(runId), '--name', name, '--seed', String(seed),
    '--population', String(o.population ?? 16), '--mutate', String(o.mutate ?? 8), '--crossover', String(o.crossover ?? 8),
    '--generations', String(o.generations ?? 10), '--workers', String(o.searchWorkers ?? 1),
    ...(kind === 'guided' ? ['--predictor', '--screen', String(o.screen ?? 8)] : []),
  ];
  // A core each: the job queue of the directory would otherwise hold a second search until the first ends.
  if (running.deadlinePassed) throw new Error(`${kind} search seed ${seed}: not started, the deadline had passed`);
  running.searches.set(name, home);
  const r = await cli(o, home, args, { ALPHANET_JOB_CORES: '16' });
  running.searches.delete(name);
  const db = openHomeDatabase(home);
  try {
    const s = listSearches(db, { runId }).find((x) => x.name === name);
    if (!s) throw new Error(`${kind} search seed ${seed}: not found after the CLI ended (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const row = getSearch(db, s.id);
    const stopped = row.status === 'paused' && running.deadlinePassed;
    if (row.status !== 'finished' && !stopped) throw new Error(`${kind} search ${s.id}: ${row.status}${row.error ? `: ${row.error}` : ''}`);
    const members = listSearchMembers(db, s.id);
    const hvs = hypervolumeCurve(members.map((m) => ({ accuracy: m.evaluation.accuracy, cost: m.cost })), ref);
    const n = members.length;
    return {
      kind,
      seed,
      searchId: s.id,
      complete: !stopped,
      evaluations: n,
      cached: members.filter((m) => m.cached).length,
      wallSec: r.wallSec,
      finalHypervolume: hvs[n - 1] ?? 0,
      curve: [...new Set([...at.filter((k) => k < n), n])].map((k) => ({ evaluations: k, hypervolume: hvs[k - 1] })),
      hypervolumes: hvs,
    };
  } finally {
    db.close();
  }
}

/** Runs the benchmark; see the module comment. */
export async function runPredictorBench(o: PredictorBenchOptions): Promise<PredictorBenchResult> {
  const log = o.log ?? (() => undefined);
  const loadBefore = loadavg()[0];
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'alphanet-predictor-bench-'));
  const seeds = o.seeds ?? [1, 2];
  const at = o.at ?? [16, 25, 32, 48, 50, 64, 75, 100, 125, 150, 176];
  const parallel = o.parallel ?? false;
  let runId = o.run;
  let trainSec: number | null = null;
  if (runId === undefined) {
    const epochs = o.trainEpochs ?? 2;
    const steps = o.trainStepsPerEpoch ?? 90;
    log(`training alphanet-cifar32 on the demo set: ${epochs} epochs × ${steps} steps, KL distillation, seed 0 (home ${home})`);
    const r = check(
      await cli(o, home, ['train', '--space', 'alphanet-cifar32', '--dataset', 'demo', '--epochs', String(epochs), '--steps-per-epoch', String(steps), '--distillation', 'kl', '--seed', '0', '--name', 'predictor-bench']),
      'training',
    );
    trainSec = r.wallSec;
    const db = openHomeDatabase(home);
    try {
      runId = listRuns(db, { status: ['finished'] }).find((x) => x.name === 'predictor-bench')?.id;
    } finally {
      db.close();
    }
    if (runId === undefined) throw new Error(`training ended but no finished run 'predictor-bench' is in ${home}`);
  }
  const db = openHomeDatabase(home);
  let ref: ReferencePoint;
  try {
    const run = getRun(db, runId);
    if (run.status !== 'finished') throw new Error(`run ${runId} is ${run.status}: the bench needs a finished run`);
    const info = await runInfo(home, db, runId);
    ref = referencePoint(info.space, info.numClasses, 'mflops');
    log(`run ${runId} '${run.name}': ${info.space.id} on ${info.dataset.name}, step ${run.step}; reference ${ref.costRef.toFixed(3)} MFLOPs, top-1 0`);
  } finally {
    db.close();
  }

  // Copies are made (and removed) here; the directories they link to are not touched.
  const copies: string[] = [];
  const copy = async (): Promise<string> => {
    const dir = await homeCopy(home);
    copies.push(dir);
    return dir;
  };
  const plainHomes = new Map<number, string>();
  for (const s of seeds) plainHomes.set(s, await copy());
  const running: Running = { searches: new Map(), deadlinePassed: false };
  const pauseAll = async (): Promise<void> => {
    running.deadlinePassed = true;
    log(`deadline: pausing ${running.searches.size} running search(es)`);
    for (const [name, h] of running.searches) {
      const db = openHomeDatabase(h);
      const id = (() => {
        try {
          return listSearches(db, { runId }).find((x) => x.name === name)?.id;
        } finally {
          db.close();
        }
      })();
      if (id !== undefined) await cli(o, h, ['search', 'pause', String(id)]);
    }
  };
  const timer = o.deadlineMin === undefined ? undefined : setTimeout(() => void pauseAll(), o.deadlineMin * 60_000);
  try {
    const samplers = o.samplers ?? 1;
    const presample = async (): Promise<void> => {
      if (samplers <= 1) return;
      const each = Math.ceil((o.samples ?? 500) / samplers);
      await Promise.all(
        Array.from({ length: samplers }, (_, i) =>
          cli(o, home, ['search', String(runId), '--kind', 'random', '--evaluations', String(each), '--seed', String((o.predictorSeed ?? 100) + 1 + i), '--workers', String(o.searchWorkers ?? 1), '--name', `predictor-bench samples ${i + 1}`], { ALPHANET_JOB_CORES: '16' }).then((r) =>
            check(r, `random sampler ${i + 1}`),
          ),
        ),
      );
    };
    // Wall time of the whole build, the sampling processes included.
    const build = async (): Promise<CliResult> => {
      const t0 = performance.now();
      await presample();
      const r = check(
        await cli(o, home, ['--json', 'predictor', String(runId), '--build', '--samples', String(o.samples ?? 500), '--held-out', String(o.heldOut ?? 100), '--seed', String(o.predictorSeed ?? 100)]),
        'predictor build',
      );
      return { ...r, wallSec: (performance.now() - t0) / 1000 };
    };
    const plain = () => seeds.map((s) => () => searchCurve(o, plainHomes.get(s)!, runId, 'plain', s, ref, at, running));
    // Called after the build: each guided search's copy holds the build's samples and nothing of another search.
    const guided = () => seeds.map((s) => async () => searchCurve(o, await copy(), runId, 'guided', s, ref, at, running));
    let built: CliResult;
    let plains: SearchCurve[] = [];
    const guideds: SearchCurve[] = [];
    if (parallel) {
      // The guided searches start as soon as the predictor exists, beside the plain ones still running.
      const plainsDone = Promise.all(plain().map((f) => f()));
      built = await build();
      [plains] = await Promise.all([plainsDone, Promise.all(guided().map((f) => f())).then((g) => guideds.push(...g))]);
    } else {
      built = await build();
      for (const f of plain()) plains.push(await f());
      for (const f of guided()) guideds.push(await f());
    }

    const pdb = openHomeDatabase(home);
    let p;
    let checkpointStep: number;
    try {
      p = getRunPredictor(pdb, runId, 'val');
      checkpointStep = p.checkpointStep;
    } finally {
      pdb.close();
    }
    const reach = seeds.map((seed) => {
      const pl = plains.find((c) => c.seed === seed)!;
      const gu = guideds.find((c) => c.seed === seed)!;
      const g = evaluationsToReach(gu.hypervolumes, pl.finalHypervolume);
      const pAt = evaluationsToReach(pl.hypervolumes, pl.finalHypervolume) ?? pl.evaluations;
      return { seed, plainFinal: pl.finalHypervolume, plainEvaluations: pl.evaluations, plainReachesAt: pAt, guidedReachesAt: g, ratio: g === null ? null : pAt / g };
    });
    return {
      home,
      runId,
      trainSec,
      checkpointStep,
      reference: ref,
      predictor: {
        buildSec: built.wallSec,
        sampled: p.sampled,
        samplers,
        trainSize: p.trainSize,
        heldOut: p.metrics.n,
        kendallTau: p.metrics.kendallTau,
        spearmanRho: p.metrics.spearmanRho,
        rmsePoints: p.metrics.rmsePoints,
        sizeTable: p.sizeTable.map((r) => ({ trainSize: r.trainSize, kendallTau: r.kendallTau, spearmanRho: r.spearmanRho, rmsePoints: r.rmsePoints })),
        fitSec: p.fitMs / 1000,
      },
      searches: [...plains, ...guideds],
      reach,
      load: { before: loadBefore, after: loadavg()[0] },
      parallel,
    };
  } finally {
    clearTimeout(timer);
    // Only links and the copied database: rmSync does not follow the links.
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  }
}

const f3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));

/** The result as the tables docs/BENCHMARKS.md quotes. */
export function formatPredictorBench(r: PredictorBenchResult): string {
  const p = r.predictor;
  const lines = [
    `run ${r.runId} (checkpoint step ${r.checkpointStep})${r.trainSec === null ? '' : `, trained in ${(r.trainSec / 60).toFixed(1)} min`}; home ${r.home}`,
    `predictor: ${p.trainSize} training + ${p.heldOut} held-out subnets (sampled by ${p.samplers} process${p.samplers > 1 ? 'es' : ''}), build ${(p.buildSec / 60).toFixed(1)} min, fit ${p.fitSec.toFixed(0)} s`,
    `held out: Kendall τ ${f3(p.kendallTau)}, Spearman ρ ${f3(p.spearmanRho)}, RMSE ${p.rmsePoints === null ? '—' : p.rmsePoints.toFixed(2)} points`,
    '',
    '| training subnets | Kendall τ | Spearman ρ | RMSE (points) |',
    '|---|---|---|---|',
    ...p.sizeTable.map((s) => `| ${s.trainSize} | ${f3(s.kendallTau)} | ${f3(s.spearmanRho)} | ${s.rmsePoints === null ? '—' : s.rmsePoints.toFixed(2)} |`),
    '',
    `hypervolume (MFLOPs × top-1, reference ${r.reference.costRef.toFixed(3)} MFLOPs / 0) after k real evaluations${r.parallel ? ' (processes run side by side)' : ''}:`,
  ];
  const ks = [...new Set(r.searches.flatMap((s) => s.curve.map((c) => c.evaluations)))].sort((a, b) => a - b);
  lines.push(`| search | ${ks.join(' | ')} | evaluations (cached) | wall |`, `|---|${ks.map(() => '---|').join('')}---|---|`);
  for (const s of r.searches) {
    const cells = ks.map((k) => (k <= s.evaluations ? s.hypervolumes[k - 1].toFixed(3) : ''));
    lines.push(`| ${s.kind} seed ${s.seed} (search ${s.searchId}${s.complete ? '' : ', paused at the deadline'}) | ${cells.join(' | ')} | ${s.evaluations} (${s.cached}) | ${(s.wallSec / 60).toFixed(1)} min |`);
  }
  lines.push('');
  for (const x of r.reach) {
    lines.push(
      `seed ${x.seed}: plain's final hypervolume ${x.plainFinal.toFixed(3)} (${x.plainEvaluations} evaluations; first reached at ${x.plainReachesAt}); ` +
        (x.guidedReachesAt === null ? 'guided never reaches it' : `guided reaches it at ${x.guidedReachesAt}: ${x.ratio!.toFixed(2)}× fewer`),
    );
  }
  lines.push(`load average ${r.load.before.toFixed(1)} → ${r.load.after.toFixed(1)}`);
  return lines.join('\n');
}
