/**
 * A run's accuracy predictor end to end on a briefly trained tiny run (in-process `runCli`, wasm): `predictor
 * --build` samples and evaluates random subnets into the cache, trains, stores and reports held-out τ/ρ/RMSE and the
 * training-size table; `--info` reads it back; a newer checkpoint makes it stale; `front --importance` ranks genes
 * with it; the predicted-vs-measured view (no TF.js) agrees with the stored held-out predictions; bad input gives one
 * line and exit code 1.
 */
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictorEvent } from '../../../src-main/ipc/api-types';
import { createWorkbenchService, type WorkbenchService } from '../../../src-main/service';
import { parsePredictorProgress } from '../../../src-main/service/predictor-service';
import { spawnWasmRunner } from '../train/runner-helpers';
import { cliAt } from '../cli/run-cli';
import { openHomeDatabase } from '../../../src-main/store/db';
import { insertCheckpoint, listCheckpoints } from '../../../src-main/store/runs';
import { listEvaluations } from '../../../src-main/store/evaluations';
import { findRunPredictor, listPredictors } from '../../../src-main/store/predictors';
import { runPredictorView } from '../../../src-main/search/predictor-views';
import { trainTinyRun } from './run-fixture';

let home: string;

const { cli, fails } = cliAt(() => home);

beforeAll(async () => {
  ({ home } = await trainTinyRun('predictor-cli-'));
});

describe('alphanet predictor', () => {
  it('refuses what it cannot do in one line', async () => {
    await fails(['predictor', '1'], /run 1 has no accuracy predictor on val yet; build one with `alphanet predictor 1 --build`/);
    await fails(['front', '1', '--importance'], /run 1 has no accuracy predictor on val yet/);
    await fails(['predictor', '7', '--build'], /no run with id 7/);
    await fails(['predictor', '1', '--build', '--info'], /give --build or --info, not both/);
    await fails(['predictor', '1', '--build', '--samples', '0'], /--samples must be a positive integer, got '0'/);
  });

  it('builds from sampled subnets, reports held-out metrics and the size table, and stores it', async () => {
    const b = await cli(['predictor', '1', '--build', '--samples', '60', '--held-out', '12', '--epochs', '30', '--seed', '2']);
    expect(b.code, b.err).toBe(0);
    // Progress: every sampled evaluation and the fits, on stderr.
    expect(b.err).toMatch(/^sample 60\/60: [0-9a-f]{12} top-1 [\d.]+%$/m);
    expect(b.err).toMatch(/^fit 2\/2 on 48 subnets: epoch 30\/30$/m);
    expect(b.out).toMatch(/^run 1: accuracy predictor 1 on val, checkpoint step 12 \(sha256 [0-9a-f]{12}…\), space tiny-test/);
    expect(b.out).toMatch(/trained on 48 evaluated subnets \(60 random ones evaluated for it\), 12 held out/);
    expect(b.out).toMatch(/held out: Kendall τ -?[\d.]+, Spearman ρ -?[\d.]+, RMSE [\d.]+ points of top-1/);
    expect(b.out).toMatch(/^\s+25\s+τ .*\n\s+48\s+τ /m);
    expect(b.out).not.toMatch(/STALE/);

    const db = openHomeDatabase(home);
    try {
      const evals = listEvaluations(db, 1, { split: 'val' });
      expect(evals).toHaveLength(60);
      const p = findRunPredictor(db, 1)!;
      expect(p).toMatchObject({ trainSize: 48, sampled: 60, spaceId: 'tiny-test', stale: false, split: 'val', calibrationBatches: 1, calibrationBatchSize: 8 });
      expect(p.heldOut).toHaveLength(12);
      // The held-out subnets are evaluations of the run, with their measured accuracy.
      const byId = new Map(evals.map((e) => [e.id, e]));
      for (const h of p.heldOut) expect(h.measured).toBe(byId.get(h.evaluationId)!.accuracy);
      // The plain-JS view predicts what the TF.js build predicted for them.
      const view = runPredictorView(db, 1);
      expect(view.points).toHaveLength(60);
      expect(view.points.filter((x) => x.heldOut)).toHaveLength(12);
      for (const h of p.heldOut) expect(view.points.find((x) => x.evaluationId === h.evaluationId)!.predicted).toBeCloseTo(h.predicted, 5);
    } finally {
      db.close();
    }

    const info = await cli(['--json', 'predictor', '1', '--info']);
    expect(info.code, info.err).toBe(0);
    const j = JSON.parse(info.out).predictor;
    expect(j).toMatchObject({ id: 1, runId: 1, trainSize: 48, metrics: { n: 12 }, stale: false, fit: { epochs: 30, seed: 2, learningRate: 1e-3, weightDecay: 1e-4 } });
    expect(j.weights).toBeUndefined();
    expect(j.sizeTable.map((r: { trainSize: number }) => r.trainSize)).toEqual([25, 48]);

    // A rebuild on the same checkpoint replaces it and evaluates nothing new.
    const again = await cli(['--json', 'predictor', '1', '--build', '--samples', '60', '--held-out', '12', '--epochs', '5']);
    expect(again.code, again.err).toBe(0);
    expect(again.err).not.toMatch(/^sample/m);
    expect(JSON.parse(again.out).predictor).toMatchObject({ sampled: 0, trainSize: 48, fit: { epochs: 5 } });
    const db2 = openHomeDatabase(home);
    try {
      expect(listPredictors(db2, 1)).toHaveLength(1);
    } finally {
      db2.close();
    }
  });

  it('ranks the genes with the predictor', async () => {
    const r = await cli(['--json', 'front', '1', '--importance']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    // tiny-test: resolution, 5 widths, 3 depths, 3 kernels, 2 expands (mb1's single ratio is not a gene).
    expect(j.importance.genes).toHaveLength(14);
    expect(j.importance.mainEffects).toBeGreaterThan(0);
    for (const g of j.importance.genes) expect(g.importance).toBeGreaterThanOrEqual(0);
    const t = await cli(['front', '1', '--importance']);
    expect(t.out).toMatch(/^run 1: which genes drive accuracy \(predictor 1, held-out Kendall τ/);
    expect(t.out).toMatch(/^\s+res\s+[\d.]+%\s+█*\s+7: [\d.]+\s+9: [\d.]+$/m);
    await fails(['front', 'search:1', '--importance'], /--importance needs a run/);
  });

  it('guides a search: real evaluations only, predictions shown apart, refitted every generation', async () => {
    await fails(['search', '1', '--predictor', '--split', 'test'], /a predictor-guided search needs run 1's accuracy predictor of the checkpoint it searches \(step 12, test\); build it with `alphanet predictor 1 --build`/);
    await fails(['search', '1', '--screen', '4'], /--screen goes with --predictor/);
    await fails(['search', '1', '--predictor', '--kind', 'random'], /--predictor guides the evolutionary search/);
    const r = await cli(['--json', 'search', '1', '--predictor', '--screen', '4', '--population', '4', '--mutate', '2', '--crossover', '2', '--generations', '2', '--seed', '5']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^\s+#2 [0-9a-f]{12} \(random, gen 0\) top-1 [\d.]+% \(predicted [\d.]+%\)/m);
    expect(r.err.match(/predictor: predictor refitted on \d+ evaluated subnets/g)).toHaveLength(2);
    const out = JSON.parse(r.out);
    expect(out.search).toMatchObject({ status: 'finished', evaluations: 12, total: 12, config: { screen: 4 } });
    const db = openHomeDatabase(home);
    try {
      const state = JSON.parse((db.prepare('SELECT state FROM searches WHERE id = ?').get(out.search.id) as { state: string }).state);
      const byId = new Map(listEvaluations(db, 1).map((e) => [e.id, e]));
      expect(state.archive).toHaveLength(12);
      for (const e of state.archive) {
        // The archive's accuracy is the evaluation's measured one; the prediction is kept apart.
        expect(e.accuracy).toBe(byId.get(e.result.evaluationId)!.accuracy);
        if (e.origin !== 'min') expect(typeof e.predicted).toBe('number');
      }
      const front = JSON.parse((db.prepare('SELECT points FROM pareto_fronts WHERE search_id = ?').get(out.search.id) as { points: string }).points);
      for (const p of front.points) expect(p.accuracy).toBe(byId.get(p.data.evaluationId)!.accuracy);
    } finally {
      db.close();
    }
  });

  it('is stale once the run has a newer checkpoint', async () => {
    const db = openHomeDatabase(home);
    try {
      const ck = listCheckpoints(db, 1)[0];
      insertCheckpoint(db, { runId: 1, step: ck.step + 1, epoch: ck.epoch, path: `${ck.path}.next`, sha256: 'f'.repeat(64), bytes: ck.bytes });
    } finally {
      db.close();
    }
    const info = await cli(['predictor', '1']);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/STALE: the run has a newer checkpoint \(sha256 ffffffffffff…\); rebuild with `alphanet predictor 1 --build`/);
    const imp = await cli(['front', '1', '--importance']);
    expect(imp.out).toMatch(/note: the predictor is stale/);
  });
});

describe('the service’s predictor methods (no TF.js in the service; the build in the engine worker)', () => {
  let svc: WorkbenchService;
  beforeAll(() => {
    svc = createWorkbenchService({
      home,
      mode: 'served',
      spawnRunner: spawnWasmRunner,
      childEnv: { ALPHANET_BACKEND: 'wasm' },
      probeBackend: async () => ({ name: 'wasm', detail: 'injected by the test' }),
      allowedFolders: [home, tmpdir()],
      adoptQueued: false,
    });
  });
  afterAll(async () => {
    await svc?.close();
  });
  const ok = async <T,>(p: Promise<{ status: number; reply: { ok: boolean; result?: T; error?: unknown } }>): Promise<T> => {
    const { reply } = await p;
    expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
    return reply.result as T;
  };

  it('reads the stored predictor, its importance and the subnets’ genes; builds with progress events', async () => {
    const view = await ok(svc.run('predictor.get', [1]));
    expect(view!.predictor).toMatchObject({ runId: 1, trainSize: 48, metrics: { n: 12 } });
    // The 60 sampled for it and the guided search's 12.
    const n = view!.points.length;
    expect(n).toBe(72);
    const imp = await ok(svc.run('predictor.importance', [1]));
    expect(imp!.genes).toHaveLength(14);
    const genes = await ok(svc.run('predictor.genes', [1]));
    expect(genes.axes.map((a) => a.key)[0]).toBe('resolution');
    expect(genes.axes).toHaveLength(14);
    expect(genes.points).toHaveLength(n);
    for (const p of genes.points) p.values.forEach((v, i) => expect(genes.axes[i].values).toContain(v));

    const events: PredictorEvent[] = [];
    svc.events.on('predictor.event', (e) => events.push(e));
    const built = await ok(svc.run('predictor.build', [1, { samples: n + 2 }]));
    // n + 2 = 74 subnets: 2 sampled, ⌊74 / 5⌋ = 14 held out. Still stale: the newest checkpoint row (the test
    // above) has no file, so the build used the last usable one.
    expect(built.predictor).toMatchObject({ runId: 1, sampled: 2, trainSize: 60, stale: true, metrics: { n: 14 } });
    expect(events.filter((e) => e.progress.phase === 'sample')).toHaveLength(2);
    expect(events.some((e) => e.progress.phase === 'fit' && e.progress.epoch === e.progress.epochs)).toBe(true);
    for (const e of events) expect(e.runId).toBe(1);
    const refused = await svc.run('predictor.build', [9, {}]);
    expect(refused.status).toBe(404);
    expect(await ok(svc.run('predictor.get', [1]))).not.toBeNull();
  });

  it('reads the progress lines', () => {
    expect(parsePredictorProgress('sample 3/40: 0123456789ab top-1 41.2% [cached]')).toEqual({ phase: 'sample', done: 3, total: 40 });
    expect(parsePredictorProgress('fit 2/3 on 50 subnets: epoch 20/200')).toEqual({ phase: 'fit', fit: 2, fits: 3, trainSize: 50, epoch: 20, epochs: 200 });
    expect(parsePredictorProgress('note: something else')).toBeNull();
  });
});

