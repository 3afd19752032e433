/**
 * The fidelity study continues a cell whose run was interrupted (here: Ctrl-C paused it) with the product's own
 * `alphanet runs resume`, from its checkpoint, instead of training the cell again from scratch. Through the built CLI
 * (out/main/cli.js, as the study runs it), on the demo set with the smallest schedule that can be interrupted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellRunName, cellTrainArgs, queuedRunsNamed, runFidelityStudy, studyVariant, unfinishedRunNamed, type FidelityOptions, type StudyCell } from '../../../src-main/bench/fidelity';
import { openHomeDatabase } from '../../../src-main/store/db';
import { createRun, getRun, listCheckpoints, listRunEvents, listRuns, listStepMetrics } from '../../../src-main/store/runs';
import { requireRunner } from '../train/runner-helpers';

const CLI = join(__dirname, '..', '..', '..', 'out', 'main', 'cli.js');

/** The smallest study that trains: the demo set, 1 epoch of a few steps, one loss and seed, validation on 100 images. */
function tinyStudy(steps: number, lines: string[]): { o: FidelityOptions; cell: StudyCell } {
  const home = mkdtempSync(join(tmpdir(), 'fidelity-resume-'));
  const o: FidelityOptions = {
    cli: CLI, home, out: join(home, 'results.json'), datasets: ['demo'], epochs: [1], seeds: [0], losses: ['kl'], engines: ['local'],
    stepsPerEpoch: steps, batchSize: 8,
    set: ['backend=wasm', 'progressEverySteps=1', 'validation={"calibrationBatches":1,"calibrationBatchSize":8,"randomSubnets":0,"batchSize":100,"maxImages":100}'],
    log: (l) => lines.push(l),
  };
  const cell: StudyCell = { engine: 'local', dataset: 'demo', epochs: 1, base: 'kl', loss: `kl${studyVariant(o.set).label}`, seed: 0 };
  expect(spawnSync(process.execPath, [CLI, '--home', home, 'datasets', 'demo']).status).toBe(0);
  return { o, cell };
}

/** Runs `f` with the job queue's core budget at `n` (the CLI processes the study starts inherit it), so that two cells'
 * runs may hold a core each on any machine; restored after. */
async function withJobCores<T>(n: number, f: () => Promise<T>): Promise<T> {
  const before = process.env.ALPHANET_JOB_CORES;
  process.env.ALPHANET_JOB_CORES = String(n);
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env.ALPHANET_JOB_CORES;
    else process.env.ALPHANET_JOB_CORES = before;
  }
}

/** Runs the study and stops it with `reason` (as its CLI does on that signal) once two of its runs have taken a step. */
async function studyStoppedOnceTwoStepped(o: FidelityOptions, reason: 'SIGINT' | 'SIGTERM') {
  const stop = new AbortController();
  const watcher = setInterval(() => {
    const db = openHomeDatabase(o.home);
    const stepped = listRuns(db).filter((r) => r.step >= 2).length;
    db.close();
    if (stepped >= 2 && !stop.signal.aborted) stop.abort(reason);
  }, 200);
  return runFidelityStudy({ ...o, signal: stop.signal }).finally(() => clearInterval(watcher));
}

describe('fidelity study: an interrupted cell', () => {
  it('resumes the run from its checkpoint, then records it; no second run of the cell', { timeout: 300_000 }, async () => {
    requireRunner();
    const lines: string[] = [];
    const { o, cell } = tinyStudy(12, lines);
    const home = o.home;
    const variantFile = join(home, 'variant.json');
    writeFileSync(variantFile, JSON.stringify(studyVariant(o.set).config));

    // The cell's run as the study starts it, stopped by Ctrl-C after its second step (without --json, to see the steps).
    const args = cellTrainArgs(o, cell, variantFile).filter((a) => a !== '--json');
    await new Promise<void>((resolve) => {
      const p = spawn(process.execPath, [CLI, '--home', home, ...args]);
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
        if (/step 2\/12/.test(out) && !p.killed) p.kill('SIGINT');
      });
      p.on('close', () => resolve());
    });
    const paused = unfinishedRunNamed(home, cellRunName(o, cell))!;
    expect(paused).toMatchObject({ id: 1, status: 'paused' });
    expect(paused.step).toBeLessThan(12);

    const records = await runFidelityStudy(o);
    expect(lines).toContain(`${cellRunName(o, cell)}: resuming run 1 (paused at step ${paused.step}/12) from its newest good checkpoint…`);
    expect(lines.some((l) => /: training…$/.test(l))).toBe(false);
    // Its time is this study's share, and says so: the attempt before the Ctrl-C is not in it.
    expect(lines.filter((l) => /: min [\d.]+ %, max [\d.]+ % in \d+ s since resuming it$/.test(l))).toHaveLength(1);
    expect(records.map((r) => [r.subnet, r.loss]).sort()).toEqual([['max', cell.loss], ['min', cell.loss]]);

    const db = openHomeDatabase(home);
    expect(listRuns(db).map((r) => [r.id, r.status])).toEqual([[1, 'finished']]);
    expect(listRunEvents(db, 1).find((e) => e.kind === 'resume')?.message).toMatch(new RegExp(`resumed at step ${paused.step}\\b`));
    expect(listStepMetrics(db, 1).map((s) => s.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(listCheckpoints(db, 1).length).toBeGreaterThan(0);
    expect(getRun(db, 1).step).toBe(12);
    db.close();

    // Run again: the recorded cell is skipped; nothing trains or resumes.
    lines.length = 0;
    expect(await runFidelityStudy(o)).toEqual(records);
    expect(lines).toEqual([]);
  });

  it('trains a cell with a distillation field set (--set distillation.clip=1000): the run has the loss and that β', { timeout: 300_000 }, async () => {
    requireRunner();
    const lines: string[] = [];
    const { o } = tinyStudy(2, lines);
    const study = { ...o, losses: ['adaptive-alpha'], set: [...o.set!, 'distillation.clip=1000'] };
    const records = await runFidelityStudy(study);
    expect(records.map((r) => r.loss)).toEqual([expect.stringMatching(/^adaptive-alpha \[.*distillation\.clip=1000\]$/), expect.anything()]);
    // This loss label is too long for a run name (at most 200 characters): the name is cut and tagged with its hash.
    const name = cellRunName(study, { engine: 'local', dataset: 'demo', epochs: 1, base: 'adaptive-alpha', loss: records[0].loss, seed: 0 });
    expect(name).toHaveLength(200);
    expect(name).toMatch(/^fidelity local demo 1ep adaptive-alpha \[backend="wasm", .* … #[0-9a-f]{10}\] seed 0 2 steps\/ep$/);
    const db = openHomeDatabase(o.home);
    expect(listRuns(db).map((r) => r.name)).toEqual([name]);
    expect(listRuns(db).map((r) => [r.status, (r.config as { distillation: unknown }).distillation])).toEqual([['finished', { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 1000, klWarmupEpochs: 0 }]]);
    db.close();
  });

  it('cancels a run of the cell left queued (its train was killed before it started) and trains the cell afresh', { timeout: 300_000 }, async () => {
    requireRunner();
    const lines: string[] = [];
    const { o, cell } = tinyStudy(4, lines);
    const name = cellRunName(o, cell);
    // What a `train` killed while it waited for cores leaves: the cell's run, queued, no step, no checkpoint.
    const db = openHomeDatabase(o.home);
    createRun(db, { name, config: {}, spaceId: 'alphanet-cifar32', datasetId: null, datasetName: 'demo', seed: 0, appVersion: 'test' });
    db.close();
    expect(queuedRunsNamed(o.home, name).map((r) => r.id)).toEqual([1]);

    const records = await runFidelityStudy(o);
    expect(lines.slice(0, 2)).toEqual([`${name}: cancelling run 1, queued but never started`, `${name}: training…`]);
    expect(records.map((r) => r.subnet).sort()).toEqual(['max', 'min']);
    const after = openHomeDatabase(o.home);
    expect(listRuns(after).map((r) => [r.id, r.status])).toEqual([[1, 'cancelled'], [2, 'finished']]);
    after.close();
    expect(queuedRunsNamed(o.home, name)).toEqual([]);
  });

  it('--parallel 2 trains two cells side by side, with the records of the same cells trained one by one', { timeout: 300_000 }, async () => {
    requireRunner();
    await withJobCores(2, async () => {
      const lines: string[] = [];
      const side = { ...tinyStudy(6, lines).o, seeds: [0, 1], parallel: 2 };
      const one = { ...tinyStudy(6, []).o, seeds: [0, 1] };
      const [together, alone] = [await runFidelityStudy(side), await runFidelityStudy(one)];
      const key = (r: { seed: number; subnet: string }) => `${r.seed} ${r.subnet}`;
      const bySeed = (rs: typeof together) => Object.fromEntries(rs.map((r) => [key(r), r.top1]));
      expect(Object.keys(bySeed(together)).sort()).toEqual(['0 max', '0 min', '1 max', '1 min']);
      expect(bySeed(together)).toEqual(bySeed(alone));
      // Both cells started before either finished: they trained at the same time.
      expect(lines.slice(0, 2).every((l) => /: training…$/.test(l))).toBe(true);
      const db = openHomeDatabase(side.home);
      const runs = listRuns(db);
      db.close();
      expect(runs.map((r) => r.status)).toEqual(['finished', 'finished']);
      const [a, b] = runs.map((r) => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)]);
      expect(a[0]).toBeLessThan(b[1]);
      expect(b[0]).toBeLessThan(a[1]);
    });
  });

  it('stopped by a SIGINT sent to the study alone, it starts no other cell and lets the running ones finish and be recorded', { timeout: 300_000 }, async () => {
    requireRunner();
    await withJobCores(2, async () => {
      const lines: string[] = [];
      // Long enough that neither cell ends before the other has stepped (that would start the third), short enough to finish.
      const o = { ...tinyStudy(30, lines).o, seeds: [0, 1, 2], parallel: 2 };
      // Stop once both running cells have taken a step (the third waits for a lane).
      const records = await studyStoppedOnceTwoStepped(o, 'SIGINT');
      expect(lines).toContain('study: stopped (SIGINT): no further cell starts; the 2 running pause if the Ctrl-C reached them, else finish and are recorded. The same command resumes where it stopped.');
      expect(records.map((r) => `${r.seed} ${r.subnet}`).sort()).toEqual(['0 max', '0 min', '1 max', '1 min']);
      const db = openHomeDatabase(o.home);
      expect(listRuns(db).map((r) => r.status)).toEqual(['finished', 'finished']);
      db.close();
    });
  });

  it('stopped (SIGTERM), it pauses the cells running, starts no other, and the same study resumes them', { timeout: 300_000 }, async () => {
    requireRunner();
    await withJobCores(2, async () => {
      const lines: string[] = [];
      const o = { ...tinyStudy(60, lines).o, seeds: [0, 1, 2], parallel: 2 };
      // Stop once both running cells have taken a step (the third waits for a lane).
      const records = await studyStoppedOnceTwoStepped(o, 'SIGTERM');
      expect(records).toEqual([]);
      expect(lines).toContain('study: stopped (SIGTERM): no further cell starts; pausing the 2 running with a checkpoint. The same command resumes where it stopped.');
      const db = openHomeDatabase(o.home);
      const runs = listRuns(db);
      db.close();
      expect(runs.map((r) => r.status)).toEqual(['paused', 'paused']);
      for (const r of runs) expect(r.step).toBeLessThan(60);

      lines.length = 0;
      const again = await runFidelityStudy(o);
      expect(lines.filter((l) => /: resuming run \d+ \(paused at step/.test(l))).toHaveLength(2);
      expect(again.map((r) => `${r.seed} ${r.subnet}`).sort()).toEqual(['0 max', '0 min', '1 max', '1 min', '2 max', '2 min']);
      const after = openHomeDatabase(o.home);
      expect(listRuns(after).map((r) => r.status)).toEqual(['finished', 'finished', 'finished']);
      after.close();
    });
  });
});
