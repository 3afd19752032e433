/**
 * The run-level commands on a briefly trained tiny run (in-process `runCli`; `search` starts the built search runner,
 * out/main/search-runner.js): evaluate (and its cache), search with progress on stderr, search list/show/pause/
 * resume/cancel, front, export (loaded in a fresh process), latency; and the one-line errors with exit code 1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliAt } from './run-cli';
import { parseFrontTarget } from '../../../src-main/cli/front';
import { trainTinyRun } from '../search/run-fixture';

const ROOT = join(__dirname, '..', '..', '..');
let home: string;

const { cli, fails } = cliAt(() => home);

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'out', 'main', 'search-runner.js'))) throw new Error('out/main/search-runner.js is missing: run `npx electron-vite build` first');
  ({ home } = await trainTinyRun('search-cli-'));
});

describe('alphanet evaluate', () => {
  it('evaluates a subnet, then reuses the cached answer and says so', async () => {
    const a = await cli(['--json', 'evaluate', '1', 'min', '--latency', 'none']);
    expect(a.code, a.err).toBe(0);
    const first = JSON.parse(a.out);
    expect(first).toMatchObject({ runId: 1, cached: false, subnet: { label: 'min' }, evaluation: { split: 'val', images: 1000, calibrationBatches: 1, calibrationBatchSize: 8, calibrationSeed: 1, checkpointStep: 12, latency: null } });
    expect(first.evaluation.accuracy).toBeGreaterThanOrEqual(0);
    const b = await cli(['evaluate', '1', 'min', '--latency', 'none']);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toMatch(new RegExp(`evaluation ${first.evaluation.id}, reused from the cache`));
    expect(b.out).toMatch(/top-1 [\d.]+% \(before BN calibration [\d.]+%\) on val \(1000 images\)/);
    expect(b.out).toMatch(/BN calibration: 1 × 8 augmented train images \(seed 1\); checkpoint step 12/);

    const t = await cli(['--json', 'evaluate', '1', 'random:4', '--split', 'test', '--calibration-batches', '2', '--seed', '3']);
    expect(t.code, t.err).toBe(0);
    expect(JSON.parse(t.out)).toMatchObject({ cached: false, evaluation: { split: 'test', images: 2000, calibrationBatches: 2, calibrationSeed: 3, latency: { method: 'measured', batch: 1 } } });
  });

  it('gives one clear line and exit code 1 for unknown runs and subnets', async () => {
    await fails(['evaluate', '9', 'min'], /^alphanet: no run with id 9$/m);
    await fails(['evaluate', '1', 'alphanet-a0'], /subnet 'alphanet-a0' belongs to space 'alphanet-imagenet', not 'tiny-test'/);
    await fails(['evaluate', '1', 'largest'], /unknown subnet 'largest'/);
    await fails(['evaluate', '1', '777'], /run 1 has no evaluation 777/);
    await fails(['evaluate', '1', 'min', '--calibration-batches', '0'], /--calibration-batches must be a positive integer/);
  });
});

describe('alphanet search, front, export', () => {
  it('searches with progress and ETA on stderr, stores the search, and shows its front', async () => {
    const r = await cli(['--json', 'search', '1', '--population', '3', '--mutate', '2', '--crossover', '1', '--generations', '1', '--seed', '2', '--mflops-max', '0.3']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/search 1 'evolution search of run 1' queued: 6 evaluations on run 1/);
    expect(r.err).toMatch(/search 1: 6\/6 evaluated, generation 1, front \d+, best [\d.]+% at [\d.]+, ETA 0s/);
    expect(r.err).toMatch(/#1 [0-9a-f]{12} \(min, gen 0\) top-1/);
    const res = JSON.parse(r.out);
    expect(res.search).toMatchObject({ id: 1, status: 'finished', evaluations: 6, total: 6, budget: { mflopsMax: 0.3 }, config: { populationSize: 3, mutateSize: 2, crossoverSize: 1, generations: 1, seed: 2, mutateProb: 0.2 } });
    expect(res.front.points.length).toBeGreaterThan(0);
    expect(res.front.reference.accRef).toBe(0);

    const list = await cli(['--json', 'search', 'list', '--run', '1']);
    expect(JSON.parse(list.out).map((s: { id: number; status: string }) => [s.id, s.status])).toEqual([[1, 'finished']]);
    const show = await cli(['search', 'show', '1']);
    expect(show.out).toMatch(/search 1 'evolution search of run 1' \(run 1, evolution\): finished, 6\/6 evaluated/);
    expect(show.out).toMatch(/last evaluations \(of 6\):/);
    expect(show.out).toMatch(/\[cached\]/); // the min subnet was evaluated by `evaluate` above

    const f = await cli(['front', 'search:1']);
    expect(f.code, f.err).toBe(0);
    expect(f.out).toMatch(/search 1: front of accuracy vs mflops on val/);
    expect(f.out).toMatch(/hypervolume [\d.e-]+ \(MFLOPs × accuracy\) against the reference point \(MFLOPs [\d.]+, top-1 0\.0%\)/);
    const fr = await cli(['--json', 'front', '1']);
    const runFront = JSON.parse(fr.out).front;
    expect(runFront).toMatchObject({ runId: 1, searchId: null, objective: 'mflops', split: 'val' });
    // The run's front covers the search's evaluations and the earlier `evaluate` of min (the same row).
    expect(runFront.offered).toBeGreaterThanOrEqual(6);

    await fails(['search', 'pause', '1'], /search 1 is finished; only a running search can be paused/);
    await fails(['search', 'resume', '1'], /only a paused or failed search can be resumed/);
    await fails(['search', 'cancel', '1'], /search 1 is finished; nothing to cancel/);
    await fails(['search', 'show', '5'], /no search with id 5/);
    await fails(['front', 'search:5'], /no search with id 5/);
    await fails(['front', '1', '--objective', 'latency'], /run 1 has no latency front on val yet/);
    expect(JSON.parse((await cli(['--json', 'front', '1', '--split', 'test'])).out).front.split).toBe('test'); // from `evaluate --split test`
  });

  it('refuses impossible budgets, unknown runs and a latency objective without a table, in one line', async () => {
    const searches = async () => JSON.parse((await cli(['--json', 'search', 'list'])).out).length as number;
    const before = await searches();
    await fails(['search', '1', '--mflops-max', '0.001'], /impossible budget: MFLOPs max 0\.001000 is below the min subnet's 0\.04926 MFLOPs \(space 'tiny-test' spans/);
    await fails(['search', '1', '--mflops-min', '5'], /impossible budget: MFLOPs min 5\.000 is above the max subnet's/);
    await fails(['search', '1', '--params-max', '0.0001'], /params max 0\.0001000 M is below the min subnet's/);
    await fails(['search', '8'], /no run with id 8/);
    await fails(['search', '1', '--objective', 'latency'], /no latency table for space 'tiny-test' on this machine and backend yet; build it with `alphanet latency 1 --build-table`/);
    await fails(['search', '1', '--evaluations', '5'], /--evaluations goes with --kind random/);
    expect(() => parseFrontTarget('x1')).toThrow(/names no run or search/);
    expect(parseFrontTarget('s3')).toEqual({ kind: 'search', id: 3 });
    expect(parseFrontTarget('run:2')).toEqual({ kind: 'run', id: 2 });
    expect(await searches()).toBe(before); // nothing was queued by the failures
  });

  it('exports an evaluated subnet by evaluation id; the TF.js model loads in a fresh process', async () => {
    const ev = JSON.parse((await cli(['--json', 'evaluate', '1', 'random:6'])).out).evaluation;
    const out = mkdtempSync(join(tmpdir(), 'cli-export-'));
    const r = await cli(['--json', 'export', '1', String(ev.id), '--format', 'both', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.cached).toBe(true);
    expect(res.files.sort()).toEqual(['arch.json', 'model.onnx', 'provenance.json', 'tfjs/group1-shard1of1.bin', 'tfjs/model.json']);
    const prov = JSON.parse(readFileSync(join(out, 'provenance.json'), 'utf8'));
    expect(prov).toMatchObject({ runId: '1', genomeId: ev.genomeId, accuracy: { value: ev.accuracy, split: 'val' }, extra: { evaluationId: ev.id, subnet: `evaluation ${ev.id}` } });
    expect(prov.latency).toMatchObject({ ms: ev.latency.ms, method: 'measured' });

    const x = { shape: [2, ev.genome.resolution, ev.genome.resolution, 3], data: Array.from({ length: 2 * ev.genome.resolution ** 2 * 3 }, (_, i) => Math.sin(i)) };
    writeFileSync(join(out, 'jobs.json'), JSON.stringify([{ dir: join(out, 'tfjs'), input: x, out: join(out, 'y.json') }]));
    execFileSync(process.execPath, [join(ROOT, 'test', 'unit', 'export', 'fresh', 'run-tfjs.mjs'), join(out, 'jobs.json')], { cwd: ROOT, stdio: 'pipe', timeout: 60_000 });
    const y = JSON.parse(readFileSync(join(out, 'y.json'), 'utf8'));
    expect(y.shape).toEqual([2, 10]);
    expect(y.data.every(Number.isFinite)).toBe(true);

    await fails(['export', '1', '999', '--format', 'onnx', '--out', out], /run 1 has no evaluation 999/);
    await fails(['export', '4', 'min', '--format', 'onnx', '--out', out], /no run with id 4/);
  });
});

const slow = process.env.ALPHANET_SLOW_TESTS === '1';

describe('alphanet latency', () => {
  it('measures a subnet of a run or a space at batch 1 and N; without a table says how to build one', async () => {
    const m = await cli(['--json', 'latency', '1', '--subnet', 'max', '--batch', '4', '--warmup', '1', '--repeats', '3']);
    expect(m.code, m.err).toBe(0);
    const meas = JSON.parse(m.out);
    expect(meas.measurements.map((x: { batch: number }) => x.batch)).toEqual([1, 4]);
    expect(meas.measurements.every((x: { medianMs: number }) => x.medianMs > 0)).toBe(true);
    expect(meas.predictedMs).toBeNull();
    await fails(['latency', '1'], /no latency table for space 'tiny-test' on this machine and backend \(wasm \(portable ops\)\) yet/);
    // --info measures nothing and is not an error without a table (the app asks it, through the engine worker's
    // `latency.info`, whose result object this is).
    expect(JSON.parse((await cli(['--json', 'latency', '1', '--info'])).out)).toEqual({ info: null, space: 'tiny-test', device: 'wasm (portable ops)', heldOut: null });
    expect((await cli(['latency', '1', '--info'])).out).toMatch(/^no latency table for space 'tiny-test' on this machine and backend/);
    await fails(['latency', 'no-such-space'], /unknown search space 'no-such-space'/);
    const space = await cli(['latency', 'alphanet-cifar32', '--subnet', 'min', '--warmup', '1', '--repeats', '2']);
    expect(space.out).toMatch(/subnet [0-9a-f]{12} of alphanet-cifar32 on wasm \(portable ops\):\n  batch   1: median/);
  });

  // Building the table times every layer of the space (≈ 15–30 s here): slow suite only.
  it.skipIf(!slow)('builds the machine\'s table with its error report, then evaluates and searches by latency', async () => {
    const b = await cli(['--json', 'latency', '1', '--build-table', '--warmup', '1', '--repeats', '3', '--report-subnets', '4']);
    expect(b.code, b.err).toBe(0);
    const built = JSON.parse(b.out);
    expect(built).toMatchObject({ built: true, device: { backend: 'wasm', opsMode: 'portable' } });
    expect(built.path).toMatch(/latency\/tiny-test-[0-9a-f]{8}-c10-b1-[0-9a-f]{16}\.json$/);
    expect(existsSync(built.path)).toBe(true);
    expect(built.report.rows).toHaveLength(4);
    expect(built.report.medianRelError).toBeGreaterThanOrEqual(0);
    // The held-out error recorded at the build: the same 4 subnets the report re-measured.
    expect(built.heldOut.rows.map((r: { id: string }) => r.id)).toEqual(built.report.rows.map((r: { id: string }) => r.id));
    expect(built.heldOut.medianRelError).toBeGreaterThanOrEqual(0);
    const info = JSON.parse((await cli(['--json', 'latency', '1', '--info'])).out).info;
    expect(info).toEqual(built.info);
    expect(info).toMatchObject({ path: built.path, heldOut: { subnets: 4, medianRelError: built.heldOut.medianRelError } });
    const again = await cli(['latency', '1', '--warmup', '1', '--repeats', '2', '--report-subnets', '2']);
    expect(again.out).toMatch(/held-out error \(4 random subnets measured whole during the build, used for neither entries nor fit\): median [\d.]+ %/);
    expect(again.out).toMatch(/re-measured now, the same way, on 2 random subnets: median [\d.]+ %/);

    const e = JSON.parse((await cli(['--json', 'evaluate', '1', 'random:11'])).out);
    expect(e.evaluation.latency).toMatchObject({ method: 'lut', batch: 1 });
    const s = await cli(['--json', 'search', '1', '--kind', 'random', '--evaluations', '3', '--objective', 'latency', '--latency-max', '1000', '--seed', '5']);
    expect(s.code, s.err).toBe(0);
    const res = JSON.parse(s.out);
    expect(res.search).toMatchObject({ kind: 'random', objective: 'latency', status: 'finished', evaluations: 3 });
    expect(res.front.objective).toBe('latency');
    expect(res.front.deviceId).toMatch(/^[0-9a-f]{16}$/);
    await fails(['search', '1', '--latency-max', '0.0001'], /impossible budget: latency max 0\.0001000 ms is below the min subnet's predicted/);
  });
});
