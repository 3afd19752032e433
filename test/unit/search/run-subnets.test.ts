/**
 * Subnets of a trained run: loading its checkpoint, naming subnets, evaluation through the SQLite cache (reused when
 * asked again, and equal to a direct evaluation), run fronts, and export of evaluated subnets re-run in fresh
 * processes (TF.js alone; onnxruntime-node) against the supernet path: max |Δ| ≤ 1e-4.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend,
  calibrateBn,
  Rng,
  genomeId,
  maxGenome,
  minGenome,
  randomGenome,
  evaluateSubnet,
  sha256,
} from '../../../src-main/engine';
import { openHomeDatabase, type Db } from '../../../src-main/store/db';
import { listCheckpoints } from '../../../src-main/store/runs';
import { findDevice } from '../../../src-main/store/devices';
import { findRunFront } from '../../../src-main/store/fronts';
import { listEvaluations } from '../../../src-main/store/evaluations';
import { hypervolume } from '../../../src-main/search/pareto';
import { ParetoFront } from '../../../src-main/search/pareto';
import {
  createRunEvaluator,
  evaluationSettings,
  exportRunSubnet,
  localSubnetCompute,
  loadRun,
  measureSource,
  referencePoint,
  resolveSubnet,
  type LoadedRun,
} from '../../../src-main/search/run-subnets';
import { version } from '../../../package.json';
import type { SubnetCompute } from '../../../src-main/search/subnet-compute';
import { trainTinyRun } from './run-fixture';

const here = (p: string) => new URL(p, import.meta.url).pathname;
let home: string;
let runId: number;
let db: Db;
let run: LoadedRun;

beforeAll(async () => {
  await initBackend({ force: 'wasm' });
  ({ home, runId } = await trainTinyRun());
  db = openHomeDatabase(home);
  run = await loadRun(home, db, runId);
});

afterAll(() => {
  run?.dispose();
  db?.close();
});

describe('loading a run', () => {
  it('loads the newest good checkpoint (or the best) with the run space, dataset and classes', async () => {
    const cks = listCheckpoints(db, runId);
    expect(run.checkpoint).toMatchObject({ step: 12, sha256: cks[0].sha256, path: cks[0].path });
    expect(sha256(readFileSync(run.checkpoint.path))).toBe(run.checkpoint.sha256);
    expect(run.space.id).toBe('tiny-test');
    expect(run.dataset.name).toBe('demo');
    expect(run.numClasses).toBe(10);
    expect(run.net.numClasses).toBe(10);
    const best = await loadRun(home, db, runId, { checkpoint: 'best' });
    expect(best.checkpoint.sha256).toBe(cks.find((c) => c.isBest)!.sha256);
    best.dispose();
    await expect(loadRun(home, db, 99)).rejects.toThrow(/no run with id 99/);
  });

  it('names subnets: min, max, random[:seed], JSON genomes, files, named subnets of the right space only', () => {
    expect(resolveSubnet(run, 'min').genome).toEqual(minGenome(run.space));
    expect(resolveSubnet(run, 'max').genome).toEqual(maxGenome(run.space));
    expect(resolveSubnet(run, 'random').genome).toEqual(randomGenome(run.space, new Rng(0)));
    const r5 = resolveSubnet(run, 'random:5');
    expect(r5.genome).toEqual(randomGenome(run.space, new Rng(5)));
    expect(r5.genomeId).toBe(genomeId('tiny-test', r5.genome));
    const g = { resolution: 9, width: [4, 8, 16, 16, 16], depth: [1, 2, 1], kernel_size: [3, 5, 3], expand_ratio: [1, 2, 3] };
    expect(resolveSubnet(run, JSON.stringify(g)).genome).toMatchObject({ kernelSize: [3, 5, 3], expandRatio: [1, 2, 3] });
    const file = join(home, 'g.json');
    writeFileSync(file, JSON.stringify(g));
    expect(resolveSubnet(run, file).genome.depth).toEqual([1, 2, 1]);
    expect(() => resolveSubnet(run, 'alphanet-a0')).toThrow(/belongs to space 'alphanet-imagenet', not 'tiny-test'/);
    expect(() => resolveSubnet(run, 'biggest')).toThrow(/unknown subnet 'biggest'/);
    expect(() => resolveSubnet(run, '{"resolution": 9')).toThrow(/not valid JSON/);
    expect(() => resolveSubnet(run, JSON.stringify({ ...g, resolution: 11 }))).toThrow(/resolution/);
    expect(() => resolveSubnet(run, '12345')).toThrow(/run 1 has no evaluation 12345/);
  });
});

describe('evaluation through the cache', () => {
  it('evaluates once, reuses the stored answer when asked again, and the answer equals a direct evaluation', async () => {
    const settings = evaluationSettings(run);
    expect(settings).toEqual({ split: 'val', calibrationBatches: 1, calibrationBatchSize: 8, calibrationSeed: 1, batchSize: 100 });
    const g = resolveSubnet(run, 'random:3').genome;
    const ev = createRunEvaluator(run, settings);
    const first = await ev.evaluate(g);
    expect(first.cached).toBe(false);
    expect(first.row).toMatchObject({ runId, genomeId: genomeId('tiny-test', g), split: 'val', images: 1000, calibrationImages: 8, calibrationSeed: 1, checkpointSha256: run.checkpoint.sha256, checkpointStep: 12, backend: 'wasm', latency: null });
    expect(first.row.before?.method).toBe('reset');

    // The same answer, computed directly on the same data: the cache is sound.
    const data = await ev.data();
    const direct = evaluateSubnet(run.net, g, { calibration: data.calibration, evaluation: data.evaluation });
    expect(direct.accuracy).toBe(first.row.accuracy);
    expect(direct.loss).toBeCloseTo(first.row.loss, 10);
    ev.dispose();

    // Asked again, by a new evaluator (as a new process would): the stored row, no new one.
    const ev2 = createRunEvaluator(run, evaluationSettings(run));
    const again = await ev2.evaluate(g);
    expect(again).toEqual({ row: first.row, cached: true });
    ev2.dispose();
    expect(listEvaluations(db, runId).filter((e) => e.genomeId === first.row.genomeId)).toHaveLength(1);
    expect(resolveSubnet(run, String(first.row.id))).toMatchObject({ genome: g, evaluation: first.row });
    expect(resolveSubnet(run, first.row.genomeId).evaluation?.id).toBe(first.row.id);

    // Different calibration settings or split: a different question, a new row.
    const ev3 = createRunEvaluator(run, evaluationSettings(run, { calibrationSeed: 7, split: 'test' }));
    const other = await ev3.evaluate(g);
    ev3.dispose();
    expect(other.cached).toBe(false);
    expect(other.row).toMatchObject({ split: 'test', images: 2000, calibrationSeed: 7 });
    expect(other.row.id).not.toBe(first.row.id);
  });

  it('measures latency on request, fills it into a cached row, and keeps the run front with its hypervolume', async () => {
    const src = measureSource(db, run.ops);
    const ev = createRunEvaluator(run, evaluationSettings(run), { latency: { ...src, warmup: 1, repeats: 3 } as typeof src });
    const g = resolveSubnet(run, 'random:3').genome; // cached above without latency
    const r = await ev.evaluate(g);
    expect(r.cached).toBe(true);
    expect(r.row.latency).toMatchObject({ method: 'measured', batch: 1, deviceId: src.deviceId });
    expect(r.row.latency!.ms).toBeGreaterThan(0);
    expect(findDevice(db, src.deviceId)).toMatchObject({ backend: 'wasm', opsMode: 'portable' });
    for (const spec of ['min', 'max', 'random:4']) await ev.evaluate(resolveSubnet(run, spec).genome);
    ev.dispose();

    const rows = listEvaluations(db, runId, { split: 'val', checkpointSha256: run.checkpoint.sha256 }).filter((e) => e.calibrationSeed === 1);
    const ref = referencePoint(run.space, run.numClasses, 'mflops');
    expect(ref).toEqual({ costRef: rows.find((e) => e.genomeId === genomeId('tiny-test', maxGenome(run.space)))!.mflops, accRef: 0 });
    const f = findRunFront(db, { runId, objective: 'mflops', split: 'val', checkpointSha256: run.checkpoint.sha256, deviceId: null })!;
    const expected = ParetoFront.of(rows.map((e) => ({ id: String(e.id), accuracy: e.accuracy, cost: e.mflops })));
    expect(f.points.map((p) => p.id)).toEqual(expected.points().map((p) => p.id));
    expect(f.offered).toBe(rows.length);
    expect(f.hypervolume).toBeCloseTo(hypervolume(rows.map((e) => ({ accuracy: e.accuracy, cost: e.mflops })), ref), 12);
  });
});

describe('the compute seam', () => {
  it('asks the compute only for cache misses, once per genome, and stores its answers in the order asked', async () => {
    const settings = evaluationSettings(run, { calibrationSeed: 5 });
    const asked: string[][] = [];
    const base = createRunEvaluator(run, settings);
    // A compute in another engine's place: the local one, recording what it is asked and naming itself.
    const local = localSubnetCompute(run, base.data);
    const compute: SubnetCompute = {
      backend: 'recorder',
      concurrency: 3,
      evaluateMany: (gs) => {
        asked.push(gs.map((g) => genomeId('tiny-test', g)));
        return local.evaluateMany(gs);
      },
      dispose: () => local.dispose(),
    };
    const ev = createRunEvaluator(run, settings, { compute });
    expect(ev.batch).toBe(3);
    const [a, b, c] = [1, 2, 3].map((k) => randomGenome(run.space, new Rng(100 + k)));
    const first = await ev.evaluate(a);
    const many = await ev.evaluateMany([b, a, c, b]);
    const id = (g: typeof a) => genomeId('tiny-test', g);
    expect(asked).toEqual([[id(a)], [id(b), id(c)]]);
    expect(many.map((m) => [m.row.genomeId, m.cached])).toEqual([[id(b), false], [id(a), true], [id(c), false], [id(b), true]]);
    expect(many[1].row).toEqual(first.row);
    expect(many[3].row).toEqual(many[0].row);
    expect(many[0].row.id).toBeLessThan(many[2].row.id);
    expect(many[0].row.backend).toBe('recorder');

    // The numbers are the in-process evaluation's, bit for bit.
    const d = await base.data();
    for (const [g, m] of [[b, many[0]], [c, many[2]]] as const) {
      const direct = evaluateSubnet(run.net, g, { calibration: d.calibration, evaluation: d.evaluation });
      expect([m.row.accuracy, m.row.loss, m.row.before?.accuracy, m.row.before?.loss]).toEqual([direct.accuracy, direct.loss, direct.beforeCalibration!.accuracy, direct.beforeCalibration!.loss]);
      expect([m.row.mflops, m.row.mparams, m.row.images, m.row.calibrationImages]).toEqual([direct.mflops, direct.mparams, direct.images, direct.calibration.images]);
    }
    await ev.dispose();
    await base.dispose();

    // A compute that answers for the wrong number of subnets is refused, and nothing is stored.
    const before = listEvaluations(db, runId).length;
    const short = createRunEvaluator(run, settings, { compute: { ...compute, evaluateMany: () => Promise.resolve([]) } });
    await expect(short.evaluate(randomGenome(run.space, new Rng(200)))).rejects.toThrow(/returned 0 evaluations for 1 subnets/);
    expect(listEvaluations(db, runId)).toHaveLength(before);
  });
});

describe('export of a run subnet', () => {
  it('exports min, max and a random subnet to TF.js and ONNX with provenance; fresh processes match the supernet path', async () => {
    const out = mkdtempSync(join(tmpdir(), 'run-export-'));
    const settings = evaluationSettings(run);
    const cases = [];
    for (const spec of ['min', 'max', 'random:2']) {
      const g = resolveSubnet(run, spec).genome;
      const outDir = join(out, spec.replace(':', '-'));
      const res = await exportRunSubnet(run, g, { outDir, format: 'both', settings, extra: { subnet: spec } });
      expect(res.files.sort()).toEqual(['arch.json', 'model.onnx', 'provenance.json', 'tfjs/group1-shard1of1.bin', 'tfjs/model.json']);
      const prov = JSON.parse(readFileSync(join(outDir, 'provenance.json'), 'utf8'));
      expect(prov).toMatchObject({
        appVersion: version,
        runId: String(runId),
        checkpointHash: run.checkpoint.sha256,
        checkpointPath: run.checkpoint.path,
        dataset: { name: 'demo', id: run.dataset.id, contentHash: run.dataset.contentHash },
        spaceId: 'tiny-test',
        genomeId: genomeId('tiny-test', g),
        accuracy: { value: res.evaluation.accuracy, split: 'val', images: 1000, loss: res.evaluation.loss },
        calibration: { batches: 1, batchSize: 8, images: 8, seed: 1, split: 'train' },
        latency: { method: 'measured', batch: 1, device: { backend: 'wasm' } },
        seed: 1,
        extra: { evaluationId: res.evaluation.id, subnet: spec, checkpointStep: 12 },
      });
      expect(prov.latency.ms).toBeGreaterThan(0);
      expect(res.evaluation.latency?.method).toBe('measured');

      // The supernet path on the same calibration batches.
      const ev = createRunEvaluator(run, settings);
      const data = await ev.data();
      const { stats } = calibrateBn(run.net, g, data.calibration);
      ev.dispose();
      const x = tf.randomNormal([3, g.resolution, g.resolution, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
      const expected = tf.tidy(() => Array.from(run.net.forward(x, g, { bn: { kind: 'running', stats } }).dataSync()));
      cases.push({ spec, outDir, expected, input: { shape: x.shape, data: Array.from(x.dataSync()) } });
      x.dispose();
    }
    // Asked again: the accuracy comes from the cache.
    const again = await exportRunSubnet(run, minGenome(run.space), { outDir: join(out, 'min-again'), format: 'tfjs', settings });
    expect(again.cached).toBe(true);

    const tfJobs = cases.map((c) => ({ dir: join(c.outDir, 'tfjs'), input: c.input, out: join(c.outDir, 'tfjs-out.json') }));
    const onnxJobs = cases.map((c) => ({ file: join(c.outDir, 'model.onnx'), input: c.input, out: join(c.outDir, 'onnx-out.json') }));
    writeFileSync(join(out, 'tfjs-jobs.json'), JSON.stringify(tfJobs));
    writeFileSync(join(out, 'onnx-jobs.json'), JSON.stringify(onnxJobs));
    const cwd = here('../../../');
    execFileSync(process.execPath, [here('../export/fresh/run-tfjs.mjs'), join(out, 'tfjs-jobs.json')], { cwd, stdio: 'pipe', timeout: 60_000 });
    execFileSync(process.execPath, [here('../export/fresh/run-onnx.cjs'), join(out, 'onnx-jobs.json')], { cwd, stdio: 'pipe', timeout: 60_000 });
    for (const c of cases) {
      for (const file of ['tfjs-out.json', 'onnx-out.json']) {
        expect(existsSync(join(c.outDir, file))).toBe(true);
        const o = JSON.parse(readFileSync(join(c.outDir, file), 'utf8')) as { shape: number[]; data: number[] };
        expect(o.shape).toEqual([3, 10]);
        const maxDiff = Math.max(...o.data.map((v, i) => Math.abs(v - c.expected[i])));
        expect(maxDiff, `${c.spec} ${file}: max |Δ| ${maxDiff}`).toBeLessThanOrEqual(1e-4);
      }
      expect(Math.max(...c.expected.map(Math.abs))).toBeGreaterThan(1e-3);
    }
  });

  it('skips a checkpoint that fails its hash check and loads the one before', async () => {
    const cks = listCheckpoints(db, runId);
    expect(cks.length).toBeGreaterThanOrEqual(2);
    const newest = cks[0].path;
    copyFileSync(newest, `${newest}.bak`);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(newest, bytes);
    try {
      const r = await loadRun(home, db, runId);
      expect(r.checkpoint.sha256).toBe(cks.find((c) => c.path !== newest)!.sha256);
      expect(r.skipped[0]).toMatch(/failed its hash check/);
      r.dispose();
    } finally {
      copyFileSync(`${newest}.bak`, newest);
    }
  });
});
