/**
 * `npm run study -- fidelity`: the fidelity study of docs/FIDELITY.md. Trains the grid datasets × schedules × losses ×
 * seeds × engines with the real CLI (`alphanet train`, one process per run, exactly what a user runs), reads each
 * finished run's last validation (BN-recalibrated top-1 of min, max and the fixed random subnets) and its step metrics
 * (α₋ share, divergence of the distilled members) from the study's data directory, and prints the summary tables.
 *
 * Every finished run is appended to the results file (temp name + rename) before the next starts, and cells already
 * there are skipped, so a study that is stopped resumes where it was; a run that fails is reported and the study
 * goes on. A cell whose run already finished in the data directory under the cell's name (the study was stopped
 * between the run's end and the write, or the results file was reset) is read from that run, not trained again; a
 * cell whose run started but did not finish (Ctrl-C paused it, the machine went down, it failed) is continued from
 * its newest good checkpoint with `alphanet runs resume`, the product's own resume, instead of trained from scratch;
 * one whose run is still `queued` (its `train` was killed while it waited for cores) is cancelled and trained afresh.
 * Fashion-MNIST is imported from Debian's `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`).
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DistillationSchema } from '../engine/core';
import { openHomeDatabase } from '../store/db';
import { findDataset } from '../store/datasets';
import { listEpochMetrics, listRuns, listStepMetrics, type RunRow, type StepMetric } from '../store/runs';
import { runCli } from './cli-process';
import type { StudyRecord } from './fidelity-summary';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The study's losses by label, as the run config's `distillation` (every other field at its default). */
export const STUDY_DISTILLATION: Record<string, { kind: string; alpha?: number }> = {
  'adaptive-alpha': { kind: 'adaptive-alpha' },
  kl: { kind: 'kl' },
  'alpha-1': { kind: 'alpha', alpha: -1 },
  'alpha+1': { kind: 'alpha', alpha: 1 },
  none: { kind: 'none' },
};

/** The same losses as `alphanet train` flags, which is how a plain cell is trained. */
export const STUDY_LOSSES: Record<string, string[]> = Object.fromEntries(
  Object.entries(STUDY_DISTILLATION).map(([label, d]) => [label, ['--distillation', d.kind, ...(d.alpha === undefined ? [] : ['--alpha', String(d.alpha)])]]),
);

export interface FidelityOptions {
  /** The built CLI (default out/main/cli.js). */
  cli: string;
  /** Data directory of the study's runs and datasets. */
  home: string;
  /** Results file (JSON array of StudyRecord). */
  out: string;
  datasets: string[];
  epochs: number[];
  seeds: number[];
  losses: string[];
  engines: string[];
  /** Optional cap on steps per epoch (shorter schedules for a quick look); recorded in the run names. */
  stepsPerEpoch?: number;
  batchSize?: number;
  /**
   * Data-parallel workers of local runs (default 1). The torch engine trains with one rank, so with one worker both
   * engines normalise each step's whole batch: a gap between engines cannot come from per-shard BN statistics.
   */
  workers?: number;
  /**
   * Diagnosis runs: `path=value` settings of the run config (e.g. `optimizer.gradClipValue=5`) applied to every cell.
   * They are named in each cell's loss label and run name, so a variant never takes the place of the plain cell.
   */
  set?: string[];
  /**
   * Cells trained at once (default 1), each its own `alphanet train`: `--parallel 2 --workers 1` keeps both cores of a
   * 2-core machine busy with one study. The records are those of the same cells trained one by one.
   */
  parallel?: number;
  /**
   * Stops the study: no further cell starts. When the reason is not 'SIGINT' the cells running are paused with a
   * checkpoint (their `alphanet train` gets a SIGINT, as from Ctrl-C): a SIGTERM to the study alone would otherwise
   * leave them training with no study to record them. On 'SIGINT' they are left alone: a terminal's Ctrl-C reaches
   * and pauses them itself, and a SIGINT sent to the study alone lets them finish and be recorded. A paused cell is
   * resumed by the next study with the same options.
   */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * Config fields the study's own axes and flags set; `--set` may not change them. `distillation` is the loss axis:
 * only its other fields may be set (`distillation.clip`, `.alphaMin`, `.alphaMax`), see `cellConfig`.
 */
const STUDY_FIELDS = new Set(['name', 'dataset', 'space', 'epochs', 'seed', 'batchSize', 'stepsPerEpoch']);
const DISTILLATION_AXIS = new Set(['kind', 'alpha']);

/**
 * The run-config overlay and label of `--set path=value` settings. A value is read as JSON when it parses (numbers,
 * booleans, objects), else kept as text. The label, ` [path=value, …]`, is appended to the loss label and run name.
 */
export function studyVariant(sets: readonly string[] = []): { config: Record<string, unknown>; label: string } {
  const config: Record<string, unknown> = {};
  const parts: string[] = [];
  for (const s of sets) {
    const m = /^([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)=(.+)$/.exec(s.trim());
    if (!m) throw new Error(`--set expects path=value (e.g. optimizer.gradClipValue=5), got '${s}'`);
    const [, path, text] = m;
    const keys = path.split('.');
    if (STUDY_FIELDS.has(keys[0])) throw new Error(`--set ${path}: the study sets '${keys[0]}' itself (use its own flag)`);
    if (keys[0] === 'distillation' && (keys.length !== 2 || DISTILLATION_AXIS.has(keys[1]))) {
      throw new Error(`--set ${path}: the study sets the distillation's kind and α itself (--losses); set one of its other fields, e.g. distillation.clip=1000`);
    }
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // Not JSON: a plain string value, e.g. a backend name.
    }
    let node = config;
    for (const k of keys.slice(0, -1)) {
      const next = node[k];
      if (next !== undefined && (typeof next !== 'object' || next === null)) throw new Error(`--set ${path}: '${k}' is already set to a value`);
      node = (node[k] ??= {}) as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (last in node) throw new Error(`--set ${path} is given twice`);
    node[last] = value;
    parts.push(`${path}=${JSON.stringify(value)}`);
  }
  return { config, label: parts.length ? ` [${parts.join(', ')}]` : '' };
}

/** Spaces the study trains on each dataset: the product's defaults for that input size. */
const SPACE_OF: Record<string, string> = { demo: 'alphanet-cifar32', 'fashion-mnist': 'alphanet-mnist28' };

export function readResults(file: string): StudyRecord[] {
  if (!existsSync(file)) return [];
  const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(data)) throw new Error(`${file}: not a study results file (expected a JSON array)`);
  return data as StudyRecord[];
}

function writeResults(file: string, records: StudyRecord[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(records, null, 1)}\n`);
  renameSync(tmp, file);
}

/**
 * Runs the built CLI on the study's data directory without blocking, so that cells can train side by side; `running`
 * holds the process while it runs (the study pauses them when it is stopped).
 */
async function cli(o: FidelityOptions, args: string[], running?: Set<ChildProcess>): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  let child: ChildProcess | undefined;
  const r = await runCli({ cli: o.cli, home: o.home, args, onSpawn: (c) => {
    child = c;
    running?.add(c);
  } });
  if (child) running?.delete(child);
  return { ok: r.code === 0, stdout: r.stdout, stderr: r.stderr.trim() };
}

/** Makes sure the study's data directory has `name`, creating or importing it. */
async function ensureDataset(o: FidelityOptions, name: string): Promise<void> {
  const db = openHomeDatabase(o.home);
  try {
    if (findDataset(db, name)) return;
  } finally {
    db.close();
  }
  const r =
    name === 'demo'
      ? await cli(o, ['datasets', 'demo'])
      : name === 'fashion-mnist'
        ? existsSync(FASHION_MNIST_DIR)
          ? await cli(o, ['datasets', 'import', FASHION_MNIST_DIR, '--name', 'fashion-mnist'])
          : { ok: false, stdout: '', stderr: `${FASHION_MNIST_DIR} is missing: apt-get install dataset-fashion-mnist` }
        : { ok: false, stdout: '', stderr: `unknown study dataset '${name}' (demo or fashion-mnist)` };
  if (!r.ok) throw new Error(`dataset ${name}: ${r.stderr}`);
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * The records of one finished run: one per validated subnet of its last validation, with the run's mean α₋ share,
 * each subnet's sandwich counterpart's mean divergence over the last epoch (min ↔ min member, random-k ↔ the random
 * members; the max subnet is the teacher and has none), and the run's course epoch by epoch (the subnet's top-1, the
 * α₋ share, the teacher's label loss and the learning rate), so the study's per-epoch tables come from the results file.
 */
export function recordsOfRun(home: string, runId: number, cell: Omit<StudyRecord, 'subnet' | 'top1' | 'alphaMinShare' | 'divergence' | 'course'>): StudyRecord[] {
  const db = openHomeDatabase(home);
  try {
    const epochs = listEpochMetrics(db, runId);
    if (!epochs.length) throw new Error(`run ${runId} has no validation`);
    const last = Math.max(...epochs.map((e) => e.epoch));
    const steps = listStepMetrics(db, runId);
    // Epochs are 0-based in the store: index i of a course is the store's epoch i, "after epoch i + 1".
    const byEpoch = Array.from({ length: last + 1 }, (_, i) => steps.filter((s) => s.epoch === i));
    const share = (ss: StepMetric[]) => mean(ss.flatMap((s) => (s.alphaMinShare === null ? [] : [s.alphaMinShare])));
    const divergence = (role: string) => mean(byEpoch[last].flatMap((s) => s.losses.filter((l) => l.role === role && typeof l.divergence === 'number').map((l) => l.divergence as number)));
    const runShare = share(steps);
    const runCourse = {
      alphaMinShare: byEpoch.map(share),
      teacherLoss: byEpoch.map((ss) => mean(ss.flatMap((s) => s.losses.filter((l) => l.role === 'max').map((l) => l.loss)))),
      lr: byEpoch.map((ss) => ss.at(-1)?.lr ?? null),
    };
    const top1Course = (subnet: string) =>
      Array.from({ length: last + 1 }, (_, i) => epochs.find((e) => e.epoch === i && e.subnet === subnet)?.valTop1 ?? null);
    return epochs
      .filter((e) => e.epoch === last)
      .map((e) => ({
        ...cell,
        subnet: e.subnet,
        top1: e.valTop1,
        alphaMinShare: runShare,
        divergence: e.subnet === 'max' ? null : divergence(e.subnet === 'min' ? 'min' : 'random'),
        course: { top1: top1Course(e.subnet), ...runCourse },
      }));
  } finally {
    db.close();
  }
}

/** The runs called `name` in the study's data directory with one of `status`, oldest first. */
function runsNamed(home: string, name: string, status: RunRow['status'][]): RunRow[] {
  const db = openHomeDatabase(home);
  try {
    return listRuns(db, { status }).filter((r) => r.name === name);
  } finally {
    db.close();
  }
}

/** The id of the latest finished run called `name` in the study's data directory, if any. */
export function finishedRunNamed(home: string, name: string): number | undefined {
  return runsNamed(home, name, ['finished']).pop()?.id;
}

/**
 * The latest run called `name` that started and did not finish: `paused` (Ctrl-C, or a pause from the app), `failed`
 * (a crash, a real failure) or `running` (its process may be gone: `runs resume`'s manager then marks it failed first;
 * a run another process still trains is refused by the resume, and the cell is reported as failed).
 */
export function unfinishedRunNamed(home: string, name: string): RunRow | undefined {
  return runsNamed(home, name, ['paused', 'failed', 'running']).pop();
}

/**
 * Runs called `name` still `queued`: created by an `alphanet train` that stopped before its run started (killed while it
 * waited for cores). Nothing trained in them, and the app would adopt one on its next start, so the study cancels them
 * and trains the cell afresh.
 */
export function queuedRunsNamed(home: string, name: string): RunRow[] {
  return runsNamed(home, name, ['queued']);
}

/** One cell of the grid; `loss` is the label with the variant's (`base` the plain loss). */
export interface StudyCell {
  engine: string;
  dataset: string;
  epochs: number;
  base: string;
  loss: string;
  seed: number;
}

/** The longest run name the run config takes. */
const RUN_NAME_MAX = 200;

/**
 * A cell's run name, by which the study finds its run in the data directory again (finished, or to resume). A loss
 * label too long for a run name (many `--set` settings) is cut, and a hash of the whole label keeps cells apart.
 */
export function cellRunName(o: Pick<FidelityOptions, 'stepsPerEpoch'>, c: StudyCell): string {
  const name = (loss: string) => `fidelity ${c.engine} ${c.dataset} ${c.epochs}ep ${loss} seed ${c.seed}${o.stepsPerEpoch ? ` ${o.stepsPerEpoch} steps/ep` : ''}`;
  const full = name(c.loss);
  if (full.length <= RUN_NAME_MAX) return full;
  const tag = ` … #${createHash('sha256').update(c.loss).digest('hex').slice(0, 10)}]`;
  return name(`${c.loss.slice(0, c.loss.length - (full.length - RUN_NAME_MAX) - tag.length)}${tag}`);
}

/**
 * The run-config overlay of a cell with loss `base`: the `--set` settings, and when they set distillation fields,
 * the whole `distillation` object (the loss's kind and α with those fields), checked against the run config's own
 * schema so that a field the loss does not have (`distillation.clip` with `kl`) is refused before anything trains.
 * `setsDistillation` when the overlay carries the distillation (the cell then passes no `--distillation` flag, which would
 * replace the object).
 */
export function cellConfig(variant: { config: Record<string, unknown> }, base: string): { config: Record<string, unknown>; setsDistillation: boolean } {
  const fields = variant.config['distillation'] as Record<string, unknown> | undefined;
  if (!fields) return { config: variant.config, setsDistillation: false };
  const distillation = { ...STUDY_DISTILLATION[base], ...fields };
  const parsed = DistillationSchema.safeParse(distillation);
  if (!parsed.success) throw new Error(`--set distillation.${Object.keys(fields).join(', distillation.')} does not apply to loss '${base}': ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return { config: { ...variant.config, distillation }, setsDistillation: true };
}

/**
 * The `alphanet` arguments that train a cell (`variantFile`: its config overlay as a file, if any; `fileSetsDistillation`:
 * that file carries the cell's distillation, so no `--distillation` flag).
 */
export function cellTrainArgs(o: Pick<FidelityOptions, 'stepsPerEpoch' | 'batchSize' | 'workers'>, c: StudyCell, variantFile: string | null, fileSetsDistillation = false): string[] {
  const args = ['--json', 'train', ...(variantFile ? [variantFile] : []), '--name', cellRunName(o, c), '--dataset', c.dataset, '--space', SPACE_OF[c.dataset] ?? 'alphanet-cifar32', '--epochs', String(c.epochs), '--seed', String(c.seed), ...(fileSetsDistillation ? [] : STUDY_LOSSES[c.base])];
  if (c.engine !== 'local') args.push('--engine', c.engine);
  // The cores the run claims from the job queue: local data-parallel workers, or the torch engine's threads. Never
  // `auto`, which would take every free core and make a second study (the other engine) wait for the whole run.
  args.push('--workers', String(o.workers ?? 1));
  if (o.stepsPerEpoch) args.push('--steps-per-epoch', String(o.stepsPerEpoch));
  if (o.batchSize) args.push('--batch-size', String(o.batchSize));
  return args;
}

/**
 * Runs every cell not yet in the results file, `o.parallel` at a time (default 1), in grid order; returns all records.
 * Each finished cell is appended to the results file at once, so the file's order is the order cells finished in.
 */
export async function runFidelityStudy(o: FidelityOptions): Promise<StudyRecord[]> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  for (const l of o.losses) if (!STUDY_LOSSES[l]) throw new Error(`unknown loss '${l}' (one of ${Object.keys(STUDY_LOSSES).join(', ')})`);
  const parallel = o.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`--parallel must be a whole number of at least 1, got ${parallel}`);
  mkdirSync(o.home, { recursive: true });
  const variant = studyVariant(o.set);
  // The overlay goes to `alphanet train` as its config file, one per loss; the CLI's flags (the study's axes) override it.
  const overlays = new Map<string, { file: string | null; setsDistillation: boolean }>(
    o.losses.map((base, i) => {
      if (!variant.label) return [base, { file: null, setsDistillation: false }];
      const { config, setsDistillation } = cellConfig(variant, base);
      const file = join(o.home, `variant-${process.pid}-${i}.json`);
      writeFileSync(file, JSON.stringify(config));
      return [base, { file, setsDistillation }];
    }),
  );
  let records = readResults(o.out);
  const done = new Set(records.map((r) => JSON.stringify([r.engine, r.dataset, r.epochs, r.loss, r.seed])));
  const cells: StudyCell[] = [];
  for (const dataset of o.datasets) {
    await ensureDataset(o, dataset);
    for (const epochs of o.epochs)
      for (const seed of o.seeds)
        for (const base of o.losses)
          for (const engine of o.engines) {
            const cell = { engine, dataset, epochs, base, loss: `${base}${variant.label}`, seed };
            if (!done.has(JSON.stringify([engine, dataset, epochs, cell.loss, seed]))) cells.push(cell);
          }
  }

  /** Trains (or resumes, or reads) one cell and appends its records; a failure is logged and the cell left for the next study. */
  const runCell = async (c: StudyCell): Promise<void> => {
    const name = cellRunName(o, c);
    const t0 = performance.now();
    const cell = { engine: c.engine, dataset: c.dataset, epochs: c.epochs, loss: c.loss, seed: c.seed };
    let rows: StudyRecord[];
    // The time printed at the end is this study's: a resumed run's earlier attempts are in its run events.
    let timeNote = '';
    try {
      const finished = finishedRunNamed(o.home, name);
      if (finished !== undefined) {
        log(`${name}: already trained (run ${finished}), reading it`);
        rows = recordsOfRun(o.home, finished, cell);
      } else {
        for (const q of queuedRunsNamed(o.home, name)) {
          log(`${name}: cancelling run ${q.id}, queued but never started`);
          const r = await cli(o, ['--json', 'runs', 'cancel', String(q.id)]);
          if (!r.ok) throw new Error(r.stderr.split('\n').pop() || `could not cancel run ${q.id}`);
        }
        const unfinished = unfinishedRunNamed(o.home, name);
        if (unfinished) {
          log(`${name}: resuming run ${unfinished.id} (${unfinished.status} at step ${unfinished.step}/${unfinished.totalSteps ?? '?'}) from its newest good checkpoint…`);
          timeNote = ' since resuming it';
        } else log(`${name}: training…`);
        const overlay = overlays.get(c.base)!;
        const r = await cli(o, unfinished ? ['--json', 'runs', 'resume', String(unfinished.id)] : cellTrainArgs(o, c, overlay.file, overlay.setsDistillation), running);
        if (!r.ok) throw new Error(r.stderr.split('\n').pop() || 'the CLI failed without a message');
        // `alphanet --json train` and `runs resume` print { run, lastValidation }. A run paused meanwhile (from
        // the app, or a Ctrl-C that reached the CLI alone) exits 0 too: its validation so far is no result.
        const { run } = JSON.parse(r.stdout) as { run: { id: number; status: string; step: number } };
        if (run.status !== 'finished') {
          log(`${name}: not recorded: run ${run.id} ${run.status} at step ${run.step}${run.status === 'paused' ? '; the next study resumes it' : ''}`);
          return;
        }
        rows = recordsOfRun(o.home, run.id, cell);
      }
    } catch (e) {
      log(`${name}: failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    // One thread appends: cells running side by side never write the file at the same time.
    records = [...records, ...rows];
    writeResults(o.out, records);
    const top = (s: string) => rows.find((x) => x.subnet === s)?.top1;
    log(`${name}: min ${((top('min') ?? NaN) * 100).toFixed(1)} %, max ${((top('max') ?? NaN) * 100).toFixed(1)} % in ${Math.round((performance.now() - t0) / 1000)} s${timeNote}`);
  };

  // `parallel` lanes take the next cell in grid order until none is left. Each cell's `alphanet train` claims its
  // cores from the data directory's job queue, so lanes beyond the free cores wait there, not here.
  const running = new Set<ChildProcess>();
  const onStop = () => {
    const reason = String(o.signal?.reason ?? 'stop');
    // A Ctrl-C reaches the runs themselves and pauses them; a SIGINT sent to the study alone does not, so they finish.
    const what = reason === 'SIGINT'
      ? `the ${running.size} running pause if the Ctrl-C reached them, else finish and are recorded`
      : `pausing the ${running.size} running with a checkpoint`;
    log(`study: stopped (${reason}): no further cell starts${running.size ? `; ${what}` : ''}. The same command resumes where it stopped.`);
    if (reason !== 'SIGINT') for (const p of running) p.kill('SIGINT');
  };
  o.signal?.addEventListener('abort', onStop, { once: true });
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < cells.length && !o.signal?.aborted) await runCell(cells[next++]);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, cells.length) }, lane));
  } finally {
    o.signal?.removeEventListener('abort', onStop);
  }
  return records;
}

/** Default options, resolved against the working directory. */
export function fidelityDefaults(): FidelityOptions {
  return {
    cli: resolve('out/main/cli.js'),
    home: resolve('study-home'),
    out: resolve('docs/fidelity/results.json'),
    datasets: ['demo', 'fashion-mnist'],
    epochs: [1, 3, 10],
    seeds: [0, 1, 2],
    losses: Object.keys(STUDY_LOSSES),
    engines: ['local'],
  };
}

