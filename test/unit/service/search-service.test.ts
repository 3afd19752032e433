/**
 * The service's subnet, search, export and comparison methods on two briefly trained tiny runs in one home
 * (adaptive α and KL, the comparison the Compare page exists for): evaluation in the engine worker answering from the cache
 * the second time, pins, a search started → `searches.event` status/evaluated/front → finished with its front, field
 * errors before anything starts, an export in both formats with provenance, the comparison against one shared
 * reference, and deleting a run with searches (refused while one runs, cascading after). Needs the build
 * (out/main/{engine-worker,runner,search-runner,data-worker}.js): `npx electron-vite build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tempDir } from '../../../src-main/data/synthetic';
import { subnetCost, maxGenome, minGenome } from '../../../src-main/engine/core';
import type { ApiArgs, ApiResult } from '../../../src-main/ipc/api-schemas';
import type { SearchEvent, SearchSummary, SubnetEvaluation } from '../../../src-main/ipc/api-types';
import type { ApiMethod } from '../../../src-main/ipc/protocol';
import { hypervolume } from '../../../src-main/search/pareto';
import { forkSearchRunner } from '../../../src-main/jobs/search-manager';
import { createWorkbenchService, type WorkbenchService } from '../../../src-main/service';
import { listEvaluations } from '../../../src-main/store/evaluations';
import { listSearches } from '../../../src-main/store/searches';
import { listMachineHolds } from '../../../src-main/store/holds';
import { RunManager } from '../../../src-main/jobs/run-manager';
import { TINY } from '../engine/tiny-space';
import { trainTinyRun } from '../search/run-fixture';
import { spawnWasmRunner, tinyDemoConfig } from '../train/runner-helpers';

const SEARCH_RUNNER = join(__dirname, '..', '..', '..', 'out', 'main', 'search-runner.js');
const CLASSES = 10; // the demo set
const LO = subnetCost(TINY, minGenome(TINY), CLASSES).mflops;
const HI = subnetCost(TINY, maxGenome(TINY), CLASSES).mflops;
const STAGES = ['first', 'mb1', 'mb2', 'mb3', 'last'];

let home: string;
let runA: number; // adaptive α
let runB: number; // KL
let svc: WorkbenchService;

/** Calls a method as both transports do (errors as the reply envelope with a status). */
async function call<M extends ApiMethod>(method: M, ...args: ApiArgs<M>): Promise<{ status: number; result?: ApiResult<M>; error?: { message: string; field?: string } }> {
  const { status, reply } = await svc.run(method, args);
  return reply.ok ? { status, result: reply.result } : { status, error: reply.error };
}

/**
 * Every `searches.event` from now on until search `searchId()` reaches one of `until`. The manager announces a search
 * that starts at once inside `searches.start`, before the caller knows its id: so everything is kept, and filtered
 * by id once known.
 */
function searchEvents(searchId: () => number | undefined, until: SearchSummary['status'][]): Promise<SearchEvent[]> {
  const seen: SearchEvent[] = [];
  const idOf = (e: SearchEvent) => (e.type === 'status' ? e.search.id : e.searchId);
  return new Promise((resolve) => {
    const f = (e: SearchEvent) => {
      seen.push(e);
      if (e.type === 'status' && e.search.id === searchId() && until.includes(e.search.status)) {
        svc.events.off('searches.event', f);
        resolve(seen.filter((x) => idOf(x) === searchId()));
      }
    };
    svc.events.on('searches.event', f);
  });
}

beforeAll(async () => {
  ({ home, runId: runA } = await trainTinyRun('search-service-'));
  const m = new RunManager({ home, spawn: spawnWasmRunner });
  try {
    const b = await m.enqueue(tinyDemoConfig({ stepsPerEpoch: 12, seed: 1, distillation: { kind: 'kl' } }));
    const done = await m.waitFor(b.id);
    if (done.status !== 'finished') throw new Error(`run B ended ${done.status}: ${done.error}`);
    runB = b.id;
  } finally {
    m.close();
  }
  if (!existsSync(SEARCH_RUNNER)) throw new Error(`${SEARCH_RUNNER} is missing: run \`npx electron-vite build\` first`);
  svc = createWorkbenchService({
    home,
    mode: 'served',
    spawnRunner: spawnWasmRunner,
    spawnSearchRunner: () => forkSearchRunner(SEARCH_RUNNER, { env: { ...process.env, ALPHANET_BACKEND: 'wasm' } }),
    childEnv: { ALPHANET_BACKEND: 'wasm' },
    probeBackend: async () => ({ name: 'wasm', detail: 'injected by the test' }),
    allowedFolders: [home, tmpdir()],
  });
}, 120_000);
afterAll(async () => {
  await svc?.close();
});

describe('subnets', () => {
  let first: SubnetEvaluation;

  it('evaluates a subnet in a child process, and answers the same question again from the cache', async () => {
    const r = await call('subnets.evaluate', { runId: runA, subnet: 'min' });
    expect(r.error).toBeUndefined();
    first = r.result!;
    expect(first).toMatchObject({ runId: runA, split: 'val', stageNames: STAGES, pinned: false, genome: minGenome(TINY), latencyMethod: 'measured', calibration: { batches: 1, batchSize: 8, seed: 1 } });
    expect(first.mflops).toBeCloseTo(LO, 9);
    expect(first.accuracy).toBeGreaterThanOrEqual(0);
    expect(first.accuracy).toBeLessThanOrEqual(1);
    expect(first.latencyMs).toBeGreaterThan(0);
    // The same subnet named differently (its genome as JSON) is the same question: the stored row comes back.
    const again = await call('subnets.evaluate', { runId: runA, subnet: JSON.stringify(minGenome(TINY)) });
    expect(again.result).toEqual(first);
    expect(listEvaluations(svc.db, runA)).toHaveLength(1);
  }, 60_000);

  it('refuses a subnet the run cannot name (field subnet), even one that looks like an option; an unknown run is a 404', async () => {
    const bad = await call('subnets.evaluate', { runId: runA, subnet: '--help' });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatchObject({ field: 'subnet', message: expect.stringMatching(/^subnet: .*--help.*random\[:seed\]/s) });
    const gone = await call('subnets.evaluate', { runId: 999, subnet: 'min' });
    expect(gone.status).toBe(404);
    expect(listEvaluations(svc.db, runA)).toHaveLength(1);
  });

  it('pins and unpins; pinned subnets come first; an unknown evaluation is a 404', async () => {
    const list0 = (await call('subnets.list', runA)).result!;
    expect(list0.map((e) => e.id)).toEqual([first.id]);
    const pinned = await call('subnets.pin', first.id, true);
    expect(pinned.result).toEqual({ ...first, pinned: true });
    expect((await call('subnets.list', runA)).result![0]).toMatchObject({ id: first.id, pinned: true });
    expect((await call('subnets.pin', first.id, false)).result!.pinned).toBe(false);
    expect((await call('subnets.pin', 424242, true)).status).toBe(404);
  });
});

describe('latency table', () => {
  it('has none at first (asked of a child process); an unknown run is a 404', async () => {
    expect(await call('latency.table', runA)).toMatchObject({ result: null });
    expect((await call('latency.table', 999)).status).toBe(404);
    expect((await call('latency.build', 999)).status).toBe(404);
  });
});

describe('searches', () => {
  let search: SearchSummary;

  it('refuses an impossible budget naming the bound, and a bad combination, storing nothing', async () => {
    const low = await call('searches.start', { runId: runA, budget: { mflopsMax: LO / 2 } });
    expect(low.status).toBe(400);
    expect(low.error).toMatchObject({ field: 'budget.mflopsMax', message: expect.stringMatching(/^budget\.mflopsMax: impossible budget: MFLOPs max .* below the min subnet/) });
    const high = await call('searches.start', { runId: runA, budget: { mflopsMin: HI * 2 } });
    expect(high.error?.field).toBe('budget.mflopsMin');
    const crossed = await call('searches.start', { runId: runA, budget: { mflopsMin: HI, mflopsMax: LO } });
    expect(crossed.error?.field).toBe('budget.mflopsMin');
    const evals = await call('searches.start', { runId: runA, evaluations: 5 });
    expect(evals.error?.field).toBe('evaluations');
    // Engine slurm: a cluster is needed, and it must be a profile.
    const noCluster = await call('searches.start', { runId: runA, engine: 'slurm' });
    expect(noCluster).toMatchObject({ status: 400, error: { field: 'cluster', message: expect.stringMatching(/engine 'slurm' needs a cluster/) } });
    const unknown = await call('searches.start', { runId: runA, engine: 'slurm', cluster: 'nowhere', ranksPerNode: 2 });
    expect(unknown).toMatchObject({ status: 404, error: { message: "no cluster named 'nowhere' (add one with `alphanet clusters add`)" } });
    expect(listSearches(svc.db)).toHaveLength(0);
  });

  it('runs a search: status, evaluated (with progress) and front events, then finished with its front', async () => {
    let id: number | undefined;
    const events = searchEvents(() => id, ['finished', 'failed', 'cancelled']);
    const budget = { mflopsMax: (LO + HI) / 2 };
    // 3 + 1 · (1 + 1) = 5 evaluations.
    const r = await call('searches.start', { runId: runA, name: 'mid budget', budget, config: { populationSize: 3, mutateSize: 1, crossoverSize: 1, generations: 1, seed: 3 }, workers: 1 });
    expect(r.error).toBeUndefined();
    id = r.result!.id;
    expect(r.result).toMatchObject({ runId: runA, name: 'mid budget', kind: 'evolution', objective: 'mflops', budget, total: 5, config: { populationSize: 3, mutateSize: 1, crossoverSize: 1, generations: 1, seed: 3, mutateProb: 0.2, crossoverProb: 0.5 } });
    const seen = await events;
    const last = seen.at(-1) as Extract<SearchEvent, { type: 'status' }>;
    search = last.search;
    expect(search.status, search.error ?? '').toBe('finished');
    // One evaluation worker, as asked (`auto` would take the job queue's cores).
    expect(search).toMatchObject({ evaluations: 5, progress: 1, etaSec: null, workers: 1, reference: { costRef: HI, accRef: 0 } });
    expect(search.frontSize).toBeGreaterThan(0);

    const evaluated = seen.filter((e): e is Extract<SearchEvent, { type: 'evaluated' }> => e.type === 'evaluated');
    expect(evaluated).toHaveLength(5);
    expect(evaluated.map((e) => e.progress)).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    for (const e of evaluated) {
      expect(e.evaluation).toMatchObject({ runId: runA, stageNames: STAGES, split: 'val' });
      expect(e.evaluation.mflops).toBeLessThanOrEqual(budget.mflopsMax);
    }
    expect(evaluated.at(-1)!.etaSec).toBe(0);
    // The evolution starts from the min subnet, evaluated above: answered from the cache, the same row.
    expect(evaluated[0].evaluation.id).toBe(listEvaluations(svc.db, runA)[0].id);
    const fronts = seen.filter((e): e is Extract<SearchEvent, { type: 'front' }> => e.type === 'front');
    expect(fronts).toHaveLength(5);
    const statuses = seen.filter((e) => e.type === 'status').map((e) => (e as Extract<SearchEvent, { type: 'status' }>).search.status);
    expect(statuses[0]).toBe('running');
    expect(statuses.at(-1)).toBe('finished');

    const detail = (await call('searches.get', id)).result!;
    expect(detail.summary).toEqual(search);
    expect(detail.evaluations.map((e) => e.id)).toEqual(evaluated.map((e) => e.evaluation.id));
    expect(detail.front).toEqual(fronts.at(-1)!.front);
    const front = detail.front!;
    expect(front.evaluationIds).toEqual(front.points.map((p) => p.evaluationId));
    expect(front.hypervolume).toBeCloseTo(hypervolume(front.points, { costRef: HI, accRef: 0 }), 12);
    expect(search.hypervolume).toBe(front.hypervolume);
    expect((await call('searches.list', runA)).result!.map((s) => s.id)).toEqual([id]);
    expect((await call('searches.list', null)).result!.map((s) => s.id)).toEqual([id]);
    expect((await call('searches.get', 999)).status).toBe(404);
    expect((await call('searches.pause', id)).error?.message).toMatch(/only a running search can be paused/);
  }, 90_000);

  it("gives the run's front over all its val evaluations against the max subnet's MFLOPs", async () => {
    const f = (await call('subnets.front', runA, 'mflops')).result!;
    const all = listEvaluations(svc.db, runA, { split: 'val' });
    expect(f.reference).toEqual({ costRef: HI, accRef: 0 });
    const costs = f.points.map((p) => p.cost);
    expect(costs).toEqual([...costs].sort((a, b) => a - b));
    // Every evaluation is on the front or dominated by a front point.
    for (const e of all) expect(f.points.some((p) => p.cost <= e.mflops && p.accuracy >= e.accuracy)).toBe(true);
    expect(f.hypervolume).toBeCloseTo(hypervolume(all.map((e) => ({ accuracy: e.accuracy, cost: e.mflops })), f.reference), 12);
    // Latency: only the min subnet was timed (the search did not measure latency).
    const lat = (await call('subnets.front', runA, 'latency')).result!;
    expect(lat.points.map((p) => p.evaluationId)).toEqual([listEvaluations(svc.db, runA)[0].id]);
  });
});

describe('exports', () => {
  it('writes both formats with provenance into a new folder and lists the files with their sizes', async () => {
    const front = (await call('subnets.front', runA, 'mflops')).result!;
    const evaluationId = front.evaluationIds.at(-1)!;
    const dir = join(tempDir('search-service-export-'), 'best');
    const r = await call('exports.start', { runId: runA, evaluationId, formats: ['tfjs', 'onnx'], dir });
    expect(r.error).toBeUndefined();
    const info = r.result!;
    expect(info.dir).toBe(dir);
    const paths = info.files.map((f) => f.path);
    for (const p of ['tfjs/model.json', 'model.onnx', 'arch.json', 'provenance.json']) expect(paths).toContain(p);
    for (const f of info.files) expect(f.bytes).toBe(statSync(join(dir, f.path)).size);
    expect(JSON.parse(readFileSync(join(dir, 'tfjs', 'model.json'), 'utf8'))).toHaveProperty('modelTopology');
    expect(JSON.parse(readFileSync(join(dir, 'provenance.json'), 'utf8'))).toEqual(info.provenance);
    expect(info.provenance).toMatchObject({ runId: String(runA), extra: { evaluationId, runName: expect.stringContaining('adaptive-alpha') }, accuracy: { split: 'val' } });
    // Nothing but the export is left next to it (the temporary folder it was written into was moved into place).
    expect(readdirSync(dirname(dir))).toEqual(['best']);
  }, 60_000);

  it('refuses a non-empty folder, a relative path, no format and a foreign evaluation, naming the field', async () => {
    const ev = listEvaluations(svc.db, runA)[0].id;
    const full = tempDir('search-service-export-full-');
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const cases: [Parameters<WorkbenchService['handlers']['exports.start']>[0], string][] = [
      [{ runId: runA, evaluationId: ev, formats: ['onnx'], dir: full }, 'dir'],
      [{ runId: runA, evaluationId: ev, formats: ['onnx'], dir: 'relative/out' }, 'dir'],
      [{ runId: runA, evaluationId: ev, formats: [], dir: join(full, 'x') }, 'formats'],
      [{ runId: runB, evaluationId: ev, formats: ['onnx'], dir: join(full, 'y') }, 'evaluationId'],
      [{ runId: runA, evaluationId: 999_999, formats: ['onnx'], dir: join(full, 'z') }, 'evaluationId'],
      // An export creates its folder, never the folders above it.
      [{ runId: runA, evaluationId: ev, formats: ['onnx'], dir: join(full, 'no', 'such', 'out') }, 'dir'],
    ];
    for (const [req, field] of cases) {
      const r = await call('exports.start', req);
      expect(r.status, JSON.stringify(req)).toBe(400);
      expect(r.error?.field).toBe(field);
    }
    expect(readFileSync(join(full, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(full, 'x'))).toBe(false);
    expect(existsSync(join(full, 'no'))).toBe(false);
    // Outside the served mode's allowed folders: 403, and the path is not repeated back.
    const outside = await call('exports.start', { runId: runA, evaluationId: ev, formats: ['onnx'], dir: '/proc/alphanet-export' });
    expect(outside.status).toBe(403);
    expect(outside.error?.field).toBe('dir');
    expect(outside.error?.message).not.toContain('/proc');
  });
});

describe('compare', () => {
  it('compares two runs: only differing config keys, curves, fronts against one reference, budgets', async () => {
    const b = await call('subnets.evaluate', { runId: runB, subnet: 'min', latency: false });
    expect(b.result).toMatchObject({ runId: runB, latencyMs: null, latencyMethod: null });
    const c = (await call('compare.runs', [runA, runB])).result!;
    expect(c.runs.map((r) => [r.id, r.distillation])).toEqual([
      [runA, 'adaptive-alpha'],
      [runB, 'kl'],
    ]);
    const diff = Object.fromEntries(c.configDiff.map((d) => [d.key, d.values]));
    expect(diff['distillation.kind']).toEqual(['adaptive-alpha', 'kl']);
    expect(diff['distillation.alphaMin']).toEqual([-1, undefined]);
    expect(Object.keys(diff)).not.toContain('batchSize');
    expect(Object.keys(diff)).not.toContain('space.stages.0.width');
    for (const d of c.configDiff) expect(JSON.stringify(d.values[0])).not.toBe(JSON.stringify(d.values[1]));
    expect(c.metrics.map((m) => m.steps.length)).toEqual([12, 12]);
    expect(c.reference).toEqual({ costRef: HI, accRef: 0 });
    for (const f of c.fronts) {
      expect(f!.reference).toEqual(c.reference);
      expect(f!.hypervolume).toBeCloseTo(hypervolume(f!.points, c.reference), 12);
    }
    expect(c.fronts[1]!.evaluationIds).toEqual([b.result!.id]);
    expect(c.budgets.map((x) => x.mflopsMax)).toEqual([LO, LO + (HI - LO) / 4, LO + (HI - LO) / 2, LO + (3 * (HI - LO)) / 4, HI]);
    // Under the loosest budget, each run's best is its best val evaluation; under the tightest only min subnets fit.
    const bestA = listEvaluations(svc.db, runA, { split: 'val' }).reduce((x, y) => (y.accuracy > x.accuracy ? y : x));
    expect(c.budgets.at(-1)!.best[0]!.accuracy).toBe(bestA.accuracy);
    expect(c.budgets[0].best[1]).toEqual({ accuracy: b.result!.accuracy, evaluationId: b.result!.id });

    expect((await call('compare.runs', [runA, runA])).error?.field).toBe('ids');
    expect((await call('compare.runs', [runA, 999])).status).toBe(404);
  }, 60_000);
});

describe('deleting a run with searches', () => {
  it('is refused while a search of it runs, and cascades to its searches and evaluations after', async () => {
    const r = await call('searches.start', { runId: runB, config: { populationSize: 4, mutateSize: 2, crossoverSize: 2, generations: 3, seed: 1 } });
    const id = r.result!.id;
    // A free slot: the runner was started inside the call.
    expect(r.result!.status).toBe('running');
    const refused = await call('runs.delete', runB);
    expect(refused.status).toBe(400);
    expect(refused.error?.message).toMatch(new RegExp(`run ${runB} is being searched \\(search ${id}\\)`));
    const stopped = searchEvents(() => id, ['cancelled', 'finished', 'failed']);
    await call('searches.cancel', id);
    await stopped;
    expect((await call('runs.delete', runB)).status).toBe(200);
    expect(listSearches(svc.db, { runId: runB })).toHaveLength(0);
    expect(listEvaluations(svc.db, runB)).toHaveLength(0);
    expect((await call('searches.get', id)).status).toBe(404);
    // The other run keeps everything.
    expect(listSearches(svc.db, { runId: runA })).toHaveLength(1);
  }, 60_000);
});

describe('cancelling the engine worker\'s long operations', () => {
  it('cancels a queued export and a running table build: nothing written, no hold left, and the next request works', async () => {
    // An evaluation to export (the cache answers when the tests above made it).
    const evaluationId = (await call('subnets.evaluate', { runId: runA, subnet: 'min' })).result!.id;
    const dir = join(tempDir('alphanet-cancel-'), 'export');
    const siblings = () => readdirSync(dirname(dir));
    const table = call('latency.build', runA);
    // Queued behind the build: one request at a time.
    const exported = call('exports.start', { runId: runA, evaluationId, formats: ['onnx'], dir });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await call('exports.cancel', dir)).result).toBe(true);
    expect(await exported).toMatchObject({ status: 400, error: { message: `exporting evaluation ${evaluationId} was cancelled` } });
    expect(existsSync(dir)).toBe(false);
    expect(siblings()).toEqual([]);
    // The build is running (it holds the machine while it times); the cancel kills its worker.
    for (let i = 0; i < 100 && !listMachineHolds(svc.db).length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(listMachineHolds(svc.db)).toHaveLength(1);
    expect((await call('latency.cancelBuild', runA)).result).toBe(true);
    expect(await table).toMatchObject({ status: 400, error: { message: `building the latency table of run ${runA} was cancelled` } });
    expect(listMachineHolds(svc.db)).toEqual([]);
    expect((await call('latency.table', runA)).result).toBeNull();
    const latencyDir = join(home, 'latency');
    expect(existsSync(latencyDir) ? readdirSync(latencyDir) : []).toEqual([]);
    // Nothing pending: false. The next request gets a fresh worker.
    expect((await call('latency.cancelBuild', runA)).result).toBe(false);
    expect((await call('exports.cancel', dir)).result).toBe(false);
    const again = await call('exports.start', { runId: runA, evaluationId, formats: ['onnx'], dir });
    expect(again.error).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(['arch.json', 'model.onnx', 'provenance.json']);
  }, 120_000);

  it('cancels a predictor build mid-sampling: no predictor stored, its evaluations kept, and the next request works', async () => {
    const before = listEvaluations(svc.db, runA).length;
    const sampling = new Promise<void>((resolve) => {
      const f = (e: { runId: number; progress: { phase: string } }) => {
        if (e.runId === runA && e.progress.phase === 'sample') {
          svc.events.off('predictor.event', f);
          resolve();
        }
      };
      svc.events.on('predictor.event', f);
    });
    // Run A (run B was deleted above).
    const build = call('predictor.build', runA, { samples: 400 });
    // A build that ends before sampling (refused) fails here rather than waiting for an event that never comes.
    const first = await Promise.race([sampling.then(() => 'sampling'), build.then((r) => JSON.stringify(r))]);
    expect(first).toBe('sampling');
    expect((await call('predictor.cancelBuild', runA)).result).toBe(true);
    expect(await build).toMatchObject({ status: 400, error: { message: `building the accuracy predictor of run ${runA} was cancelled` } });
    expect((await call('predictor.get', runA)).result).toBeNull();
    // Stopped long before its 400 subnets; what it evaluated stays cached.
    expect(listEvaluations(svc.db, runA).length - before).toBeLessThan(100);
    expect((await call('predictor.cancelBuild', runA)).result).toBe(false);
    // The next request gets a fresh worker (a whole build is the CLI tests' business: its fits take minutes here).
    const next = await call('subnets.evaluate', { runId: runA, subnet: 'max' });
    expect(next.error).toBeUndefined();
    expect(next.result).toMatchObject({ runId: runA, genome: maxGenome(TINY) });
  }, 120_000);
});

describe('latency table, built', () => {
  // Building times every layer of the tiny space in context (≈ 15 s here): slow suite only. Last in the file: from
  // then on evaluations of the space carry the table's latency, which the tests above do not expect.
  it.skipIf(process.env.ALPHANET_SLOW_TESTS !== '1')('builds one in a child process, then gives its summary with the held-out error', async () => {
    const built = await call('latency.build', runA);
    expect(built.error).toBeUndefined();
    expect(built.result).toMatchObject({ device: expect.stringMatching(/wasm \(portable\), tfjs /), heldOut: { subnets: 20 } });
    expect(built.result!.entries).toBeGreaterThan(0);
    expect(existsSync(built.result!.path)).toBe(true);
    expect((await call('latency.table', runA)).result).toEqual(built.result);
  }, 120_000);
});
