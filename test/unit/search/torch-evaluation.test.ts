/**
 * Evaluation of a run's subnets on the PyTorch engine (jobs/torch-evaluator.ts → `python -m alphanet_torch.evaluate`)
 * gives the workbench engine's numbers: the same six genomes of a briefly trained tiny run, evaluated by TF.js
 * (`evaluateSubnet` on `loadEvaluationData`, what the local compute runs) and by torch from the setup the workbench
 * writes, have the same accuracy and the same loss within 1e-4 relative, before and after BN calibration. The
 * calibration inputs themselves are equal bit for bit. Bad setups fail with one line.
 *
 * Accuracy may differ by one image only where that image's two best logits tie within the engines' logit tolerance
 * (1e-4, test_parity_engine.py): last-bit differences between the WASM and MKL kernels can then flip its argmax.
 * The test checks that explanation on the TF.js logits whenever the counts differ.
 *
 * Needs a Python with torch (CI installs python3-torch); without one only the error tests run.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { calibrateBn, initBackend, maxGenome, minGenome, randomGenome, resetStats, Rng, type Genome } from '../../../src-main/engine';
import { openHomeDatabase, type Db } from '../../../src-main/store/db';
import { calibrationBatches } from '../../../src-main/data';
import { evaluationSettings, loadEvaluationData, loadRun, localSubnetCompute, type EvaluationData, type LoadedRun } from '../../../src-main/search/run-subnets';
import type { EvaluationSettings } from '../../../src-main/search/run-info';
import { torchReport } from '../../../src-main/jobs/python';
import { TorchEvaluator, TorchEvaluatorError, torchSubnetCompute, writeTorchEvalSetup } from '../../../src-main/jobs/torch-evaluator';
import { runCli } from '../../../src-main/cli/program';
import { listEvaluations } from '../../../src-main/store/evaluations';
import { listSearches } from '../../../src-main/store/searches';
import { trainTinyRun } from './run-fixture';

const report = torchReport();

let cliHome = '';
async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(['--home', cliHome, ...args], { out: (s) => (out += s), err: (s) => (err += s), env: { ALPHANET_BACKEND: 'wasm' } });
  return { code, out, err };
}

describe.skipIf(!report.python)(`torch evaluation equals the workbench's (${report.python ? `torch ${report.torch}` : `skipped: ${report.problem}`})`, () => {
  let home: string;
  let db: Db;
  let run: LoadedRun;
  let settings: EvaluationSettings;
  let data: EvaluationData;
  let setup: string;
  let ev: TorchEvaluator | undefined;

  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
    let runId: number;
    ({ home, runId } = await trainTinyRun('torch-eval-'));
    cliHome = home;
    db = openHomeDatabase(home);
    run = await loadRun(home, db, runId);
    settings = evaluationSettings(run, { calibrationBatches: 2, calibrationBatchSize: 16 });
    data = await loadEvaluationData(run, settings);
    setup = writeTorchEvalSetup({ home, runId, space: run.space, numClasses: run.numClasses, dataset: run.dataset, checkpoint: run.checkpoint, settings });
  }, 300_000);

  afterAll(async () => {
    await ev?.close();
    data?.dispose();
    run?.dispose();
    db?.close();
  });

  it('calibrates on the same pixels: the setup reproduces calibrationBatches bit for bit', () => {
    const py = [
      'import json, sys, numpy as np',
      'from alphanet_torch.evaluate import Evaluator',
      'e = Evaluator(json.load(open(sys.argv[1])), "cpu")',
      'sys.stdout.buffer.write(np.concatenate([c.permute(0, 2, 3, 1).contiguous().numpy().ravel() for c in e.calibration]).astype("<f4").tobytes())',
    ].join('\n');
    const r = spawnSync(report.python!, ['-c', py, setup], { env: { ...process.env, PYTHONPATH: report.engineDir! }, maxBuffer: 1 << 26 });
    expect(r.status, r.stderr?.toString()).toBe(0);
    const got = new Float32Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength / 4);
    const want = calibrationBatches(home, run.dataset, { batches: 2, batchSize: 16, seed: settings.calibrationSeed });
    const flat = Float32Array.from(want.flatMap((t) => Array.from(t.dataSync())));
    tf.dispose(want);
    expect(got.length).toBe(2 * 16 * 32 * 32 * 3);
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(flat.buffer))).toBe(true);
  }, 120_000);

  it('six genomes: the same accuracy and losses within 1e-4, before and after calibration', async () => {
    const genomes: Genome[] = [minGenome(run.space), maxGenome(run.space), ...[1, 2, 3, 4].map((s) => randomGenome(run.space, new Rng(s)))];
    // Both sides of the seam the search uses: the in-process TF.js compute and the torch one.
    const local = await localSubnetCompute(run, async () => data).evaluateMany(genomes);
    const compute = await torchSubnetCompute({ home, runId: run.run.id, space: run.space, numClasses: run.numClasses, dataset: run.dataset, checkpoint: run.checkpoint, settings, device: 'cpu', threads: 1 });
    expect(compute.backend).toBe('torch-cpu');
    const torch = await compute.evaluateMany(genomes);
    await compute.dispose();
    for (let i = 0; i < genomes.length; i++) {
      const a = local[i];
      const b = torch[i];
      expect(b.genome).toEqual(a.genome);
      expect(b.images).toBe(a.images);
      expect(b.calibrationImages).toBe(32);
      expect(a.calibrationImages).toBe(32);
      expect(Math.abs(b.loss - a.loss) / a.loss, `loss of genome ${i}`).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(b.before!.loss - a.before!.loss) / a.before!.loss, `loss before calibration of genome ${i}`).toBeLessThanOrEqual(1e-4);
      expect(b.before!.method).toBe('reset');
      for (const [x, y, before] of [[a.accuracy, b.accuracy, false], [a.before!.accuracy, b.before!.accuracy, true]] as const) {
        const diff = Math.round(Math.abs(x - y) * a.images);
        expect(diff, `accuracy${before ? ' before calibration' : ''} of genome ${i}`).toBeLessThanOrEqual(1);
        if (diff === 1) expect(smallestTopTwoGap(run, genomes[i], data, before)).toBeLessThan(1e-4);
      }
    }
    // The numbers carry information: calibration changes them, and the subnets differ.
    expect(new Set(torch.map((t) => t.loss)).size).toBe(genomes.length);
    expect(torch.every((t) => t.loss !== t.before!.loss)).toBe(true);
  }, 300_000);

  it('a bad genome rejects its request with one line; the evaluator serves on; a killed one says it died', async () => {
    ev = await TorchEvaluator.start(setup, { device: 'cpu', threads: 1 });
    expect(ev.engine).toMatch(/^torch .* \(cpu\)$/);
    const bad = { ...minGenome(run.space), resolution: 99 };
    await expect(ev.evaluate([bad])).rejects.toThrow(/^torch evaluator: genome is not in space 'tiny-test': resolution: 99 is not one of \[7, 9\]$/);
    expect((await ev.evaluate([minGenome(run.space)]))[0].images).toBe(1000);
    const pending = ev.evaluate([maxGenome(run.space), minGenome(run.space)]);
    process.kill((ev as unknown as { child: { pid: number } }).child.pid, 'SIGKILL');
    await expect(pending).rejects.toThrow(/^torch evaluator died \(killed by SIGKILL\)/);
    await expect(ev.evaluate([minGenome(run.space)])).rejects.toThrow(TorchEvaluatorError);
    await ev.close();
    ev = undefined;
  }, 120_000);

  it('alphanet search --engine torch: finishes, alphanet front reads its rows back, and a local evaluation reuses them', async () => {
    const r = await cli(['--json', 'search', String(run.run.id), '--engine', 'torch', '--population', '3', '--mutate', '1', '--crossover', '1', '--generations', '1', '--seed', '5']);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out) as { search: { id: number; status: string; evaluations: number; engine: string; backend: string } };
    expect(res.search).toMatchObject({ status: 'finished', evaluations: 5, engine: 'torch' });
    expect(res.search.backend).toMatch(/^torch-cpu \(latency: wasm\)$/);
    const f = await cli(['--json', 'front', `search:${res.search.id}`]);
    expect(f.code, f.err).toBe(0);
    const ids = (JSON.parse(f.out) as { front: { points: { data: { evaluationId: number } }[] } }).front.points.map((p) => p.data.evaluationId);
    expect(ids.length).toBeGreaterThan(0);
    const rows = listEvaluations(db, run.run.id).filter((e) => ids.includes(e.id));
    expect(rows.map((e) => e.backend)).toEqual(ids.map(() => 'torch-cpu'));
    // The same cache key: the workbench's own evaluation of a torch-computed subnet is a cache hit.
    const e = await cli(['evaluate', String(run.run.id), String(ids[0]), '--latency', 'none']);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(new RegExp(`evaluation ${ids[0]}, reused from the cache`));
  }, 300_000);

  it('alphanet evaluate --engine torch: a miss computed by torch with the workbench\'s numbers; a hit for either engine needs no torch', async () => {
    const t = await cli(['--json', 'evaluate', String(run.run.id), 'random:4242', '--engine', 'torch', '--latency', 'none']);
    expect(t.code, t.err).toBe(0);
    const tr = JSON.parse(t.out) as { cached: boolean; evaluation: { id: number; backend: string; accuracy: number; loss: number; images: number; genome: Genome } };
    expect(tr).toMatchObject({ cached: false, evaluation: { backend: 'torch-cpu' } });
    // The TF.js engine on the same subnet, settings (the run's defaults, as the CLI's) and calibration images.
    const defaults = evaluationSettings(run, {});
    const d = await loadEvaluationData(run, defaults);
    const [local] = await localSubnetCompute(run, async () => d).evaluateMany([tr.evaluation.genome]);
    d.dispose();
    expect(local.images).toBe(tr.evaluation.images);
    expect(Math.abs(tr.evaluation.loss - local.loss) / local.loss).toBeLessThanOrEqual(1e-4);
    expect(Math.round(Math.abs(tr.evaluation.accuracy - local.accuracy) * local.images)).toBeLessThanOrEqual(1);
    // A hit is a hit whichever engine asks: the workbench's own evaluate reuses it, and a torch one needs no Python.
    const again = await cli(['--json', 'evaluate', String(run.run.id), 'random:4242', '--latency', 'none']);
    expect(JSON.parse(again.out)).toMatchObject({ cached: true, evaluation: { id: tr.evaluation.id, backend: 'torch-cpu' } });
    const l = await cli(['--json', 'evaluate', String(run.run.id), 'random:4343', '--latency', 'none']);
    expect(l.code, l.err).toBe(0);
    process.env.ALPHANET_PYTHON = '/nonexistent/python3';
    try {
      const hit = await cli(['--json', 'evaluate', String(run.run.id), 'random:4343', '--engine', 'torch', '--latency', 'none']);
      expect(hit.code, hit.err).toBe(0);
      expect(JSON.parse(hit.out)).toMatchObject({ cached: true, evaluation: { id: JSON.parse(l.out).evaluation.id, backend: 'wasm' } });
      // A miss without torch: one line, nothing stored.
      const before = listEvaluations(db, run.run.id).length;
      const miss = await cli(['evaluate', String(run.run.id), 'random:4444', '--engine', 'torch', '--latency', 'none']);
      expect(miss.code).toBe(1);
      expect(miss.err.trim()).toBe('alphanet: torch engine unavailable: ALPHANET_PYTHON=/nonexistent/python3 cannot run the torch engine (/nonexistent/python3: not found or not runnable)');
      expect(listEvaluations(db, run.run.id).length).toBe(before);
    } finally {
      delete process.env.ALPHANET_PYTHON;
    }
  }, 300_000);

  it('no torch: the search fails with one line, keeps its row, and a resume with torch back finishes it', async () => {
    process.env.ALPHANET_PYTHON = '/nonexistent/python3';
    let r;
    try {
      r = await cli(['search', String(run.run.id), '--engine', 'torch', '--population', '2', '--generations', '0', '--seed', '9']);
    } finally {
      delete process.env.ALPHANET_PYTHON;
    }
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^alphanet: .*torch engine unavailable: ALPHANET_PYTHON=\/nonexistent\/python3 cannot run the torch engine \(\/nonexistent\/python3: not found or not runnable\)$/m);
    const failed = listSearches(db, { runId: run.run.id }).at(-1)!;
    expect(failed).toMatchObject({ status: 'failed', engine: 'torch', evaluations: 0 });
    const again = await cli(['--json', 'search', 'resume', String(failed.id)]);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out).search).toMatchObject({ id: failed.id, status: 'finished', evaluations: 2 });
  }, 300_000);

  it('a checkpoint that changed since the setup was written: one line', async () => {
    const text = JSON.parse(readFileSync(setup, 'utf8')) as { checkpoint: { sha256: string } };
    const bad = writeTorchEvalSetup({ home, runId: run.run.id, space: run.space, numClasses: run.numClasses, dataset: run.dataset, checkpoint: { path: run.checkpoint.path, sha256: 'f'.repeat(64) }, settings });
    expect(text.checkpoint.sha256).toBe(run.checkpoint.sha256);
    await expect(TorchEvaluator.start(bad, { device: 'cpu' })).rejects.toThrow(
      new RegExp(`^torch evaluator could not start \\(exit code 2\\): alphanet_torch.evaluate: checkpoint ${run.checkpoint.path} changed: sha256 ${run.checkpoint.sha256.slice(0, 12)}…, the search pinned ffffffffffff…$`),
    );
  }, 120_000);
});

describe('torch evaluator setup errors', () => {
  it('no Python with torch: one line before anything starts', async () => {
    await expect(TorchEvaluator.start('/nonexistent/setup.json', { env: { ...process.env, ALPHANET_PYTHON: '/nonexistent/python3' } })).rejects.toThrow(
      /^torch engine unavailable: ALPHANET_PYTHON=\/nonexistent\/python3 cannot run the torch engine \(\/nonexistent\/python3: not found or not runnable\)$/,
    );
  });
});

/** The smallest gap between the two largest TF.js logits of any evaluation image (calibrated or reset statistics). */
function smallestTopTwoGap(run: LoadedRun, g: Genome, data: EvaluationData, before: boolean): number {
  const stats = before ? resetStats(run.net, g) : calibrateBn(run.net, g, data.calibration).stats;
  let gap = Infinity;
  for (const b of data.evaluation) {
    const logits = tf.tidy(() => tf.topk(run.net.forward(b.x, g, { bn: { kind: 'running', stats } }), 2).values.arraySync() as number[][]);
    for (const [a, c] of logits) gap = Math.min(gap, a - c);
  }
  return gap;
}
