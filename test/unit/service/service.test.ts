/**
 * The workbench service against a real temporary data directory: datasets through the worker thread (progress, done,
 * error events), sample grids, deletion; run configs checked field by field with the engine's MFLOPs; a tiny run
 * started → status events → finished, its detail and metrics; pause on close; saving configs; presets. Needs the
 * build (out/main/data-worker.js, runner.js, cli.js): `npx electron-vite build`.
 */
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pngFile, tempDir, writeIdxSet, writeTree } from '../../../src-main/data/synthetic';
import { subnetCost, maxGenome, minGenome, getSpace, BACKENDS, TrainConfigSchema } from '../../../src-main/engine';
import type { DatasetJobEvent, RunEvent, RunSummary } from '../../../src-main/ipc/api-types';
import { createWorkbenchService, type WorkbenchService } from '../../../src-main/service';
import { probeBackend } from '../../../src-main/service/backend-probe';
import { EngineWorker } from '../../../src-main/service/engine-worker';
import { ApiError } from '../../../src-main/service/errors';
import { TINY } from '../engine/tiny-space';
import { requireRunner, spawnWasmRunner, tinyDemoConfig } from '../train/runner-helpers';

const DATA_WORKER = join(__dirname, '..', '..', '..', 'out', 'main', 'data-worker.js');

let home: string;
let svc: WorkbenchService;
const opened: string[] = [];

/** Resolves with the first event of `topic` matching `pred`; collects every event of that topic meanwhile. */
function waitEvent<T extends 'datasets.job' | 'runs.event'>(
  s: WorkbenchService,
  topic: T,
  pred: (e: T extends 'datasets.job' ? DatasetJobEvent : RunEvent) => boolean,
  seen: unknown[] = [],
): Promise<T extends 'datasets.job' ? DatasetJobEvent : RunEvent> {
  // The generic topic defeats node:events' typed overloads: listen through the untyped interface.
  const emitter = s.events as unknown as EventEmitter;
  return new Promise((resolve) => {
    type E = T extends 'datasets.job' ? DatasetJobEvent : RunEvent;
    const f = (e: E) => {
      seen.push(e);
      if (pred(e)) {
        emitter.off(topic, f);
        resolve(e);
      }
    };
    emitter.on(topic, f);
  });
}

beforeAll(() => {
  if (!existsSync(DATA_WORKER)) throw new Error(`${DATA_WORKER} is missing: run \`npx electron-vite build\` first`);
  requireRunner();
  home = tempDir('alphanet-service-');
  svc = createWorkbenchService({
    home,
    mode: 'served',
    spawnRunner: spawnWasmRunner,
    probeBackend: async () => ({ name: 'wasm', detail: 'injected by the test' }),
    openExternal: (url) => void opened.push(url),
    allowedFolders: [home, tmpdir()],
  });
});
afterAll(async () => {
  await svc?.close();
});

describe('app', () => {
  it('reports itself in the served mode', async () => {
    const info = await svc.handlers['app.info']();
    expect(info).toMatchObject({ name: 'AlphaNet Workbench', mode: 'served', dataDir: home, backend: { name: 'wasm' }, versions: { electron: '', node: process.versions.node } });
    // Every core for jobs unless settings.json or ALPHANET_JOB_CORES say otherwise.
    const cores = availableParallelism();
    expect(info.cores).toEqual({ machine: cores, jobs: process.env.ALPHANET_JOB_CORES ? Number(process.env.ALPHANET_JOB_CORES) : cores });
  });

  it('opens only allow-listed URLs, and nothing without an opener; no dialogs in the served mode', async () => {
    expect(await svc.handlers['app.openExternal']('https://evil.example/')).toBe(false);
    expect(await svc.handlers['app.openExternal']('https://arxiv.org/abs/2102.07954')).toBe(true);
    expect(opened).toEqual(['https://arxiv.org/abs/2102.07954']);
    expect(await svc.handlers['app.pickPath']({ title: 'x', directory: true })).toBeNull();
    expect(await svc.handlers['app.revealPath'](home)).toBe(false);
  });

  it('probes the backend in the engine worker (doctor)', async () => {
    const engine = new EngineWorker({ home: tempDir('alphanet-probe-') });
    try {
      const b = await probeBackend(engine);
      expect(BACKENDS as readonly string[]).toContain(b.name);
      expect(b.detail).toMatch(/ladder:/);
      expect(engine.client.pid).toBeGreaterThan(0);
      expect(engine.client.pid).not.toBe(process.pid);
    } finally {
      engine.close();
    }
  });
});

describe('datasets', () => {
  it('imports off the main thread with progress then done, then lists, gets, samples and deletes', async () => {
    const src = writeIdxSet(join(tempDir(), 'digits'), { nTrain: 60, nTest: 20, h: 4, w: 4, k: 3 });
    const seen: DatasetJobEvent[] = [];
    const job = await svc.handlers['datasets.import']({ path: src.dir, name: 'digits', valFraction: 0.2 });
    expect(job).toMatchObject({ kind: 'import', source: src.dir });
    const done = await waitEvent(svc, 'datasets.job', (e) => e.jobId === job.jobId && e.type !== 'progress', seen as unknown[]);
    expect(done.type).toBe('done');
    if (done.type !== 'done') return;
    expect(done.reused).toBe(false);
    expect(done.dataset).toMatchObject({ name: 'digits', format: 'idx', height: 4, width: 4, channels: 1, classNames: ['0', '1', '2'] });
    expect(done.dataset.splits.val.count + done.dataset.splits.train.count).toBe(60);
    const phases = seen.filter((e) => e.type === 'progress').map((e) => (e.type === 'progress' ? e.progress.phase : ''));
    expect(phases).toEqual(expect.arrayContaining(['read', 'check', 'write']));

    const id = done.dataset.id;
    expect((await svc.handlers['datasets.list']()).map((d) => d.name)).toContain('digits');
    expect(await svc.handlers['datasets.get'](id)).toEqual(done.dataset);
    const samples = await svc.handlers['datasets.samples'](id, { split: 'test', perClass: 2 });
    expect(samples.classNames).toEqual(['0', '1', '2']);
    expect(samples.images.map((c) => c.length)).toEqual([2, 2, 2]);
    expect(samples.images[0][0]).toMatch(/^data:image\/png;base64,/);

    await svc.handlers['datasets.delete'](id);
    await expect(svc.handlers['datasets.get'](id)).rejects.toMatchObject({ status: 404 });
    await expect(svc.run('datasets.get', [id])).resolves.toMatchObject({ status: 404, reply: { ok: false, error: { message: `no dataset '${id}'` } } });
  });

  it('imports an image folder at the asked size and channels (the worker gets them)', async () => {
    const dir = writeTree(join(tempDir(), 'pets'), {
      'train/cat/a.png': pngFile(20, 20, 1),
      'train/cat/b.png': pngFile(24, 16, 2),
      'train/dog/a.png': pngFile(16, 16, 3),
      'train/dog/b.png': pngFile(30, 30, 4),
      'test/cat/t.png': pngFile(16, 16, 5),
      'test/dog/t.png': pngFile(16, 16, 6),
    });
    const job = await svc.handlers['datasets.import']({ path: dir, name: 'pets-12', size: 12, channels: 1, valFraction: 0 });
    const done = await waitEvent(svc, 'datasets.job', (e) => e.jobId === job.jobId && e.type !== 'progress');
    expect(done).toMatchObject({ type: 'done', dataset: { name: 'pets-12', format: 'folder', height: 12, width: 12, channels: 1 } });
    // Gone again: the presets below pick a greyscale dataset when there is one.
    if (done.type === 'done') await svc.handlers['datasets.delete'](done.dataset.id);
  });

  it('reports a failing import as an error event, and keeps nothing', async () => {
    const dir = join(tempDir(), 'junk');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'not a dataset');
    const before = (await svc.handlers['datasets.list']()).length;
    const job = await svc.handlers['datasets.import']({ path: dir });
    const e = await waitEvent(svc, 'datasets.job', (x) => x.jobId === job.jobId && x.type !== 'progress');
    expect(e).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/cannot tell the format of/) } });
    expect(await svc.handlers['datasets.list']()).toHaveLength(before);
  });

  it('refuses a relative or missing path at the field, before any job', async () => {
    await expect(svc.handlers['datasets.import']({ path: 'data/mnist' })).rejects.toMatchObject({ status: 400, field: 'path', message: expect.stringMatching(/absolute path/) });
    await expect(svc.handlers['datasets.import']({ path: join(home, 'nope') })).rejects.toMatchObject({ status: 400, field: 'path' });
  });
});

describe('spaces and presets', () => {
  it('lists the built-in spaces with their largest resolution', async () => {
    const spaces = await svc.handlers['spaces.list']();
    expect(spaces.find((s) => s.id === 'alphanet-imagenet')).toMatchObject({ resolution: 288 });
    expect(spaces.find((s) => s.id === 'alphanet-cifar32')?.space).toMatchObject({ id: 'alphanet-cifar32', inputChannels: 3 });
  });

  it('offers the five presets, each a complete valid config; the demo one checks clean', async () => {
    const presets = await svc.handlers['runs.presets']();
    expect(presets.map((p) => p.id)).toEqual(['demo', 'small-28', 'small-32', 'slimmable', 'imagenet']);
    for (const p of presets) expect(TrainConfigSchema.safeParse(p.config).success, p.id).toBe(true);
    expect(presets.map((p) => p.config.space)).toEqual(['alphanet-cifar32', 'alphanet-mnist28', 'alphanet-cifar32', 'slimmable-cifar32', 'alphanet-imagenet']);
    expect(presets[0].config).toMatchObject({ dataset: 'demo', epochs: 1, stepsPerEpoch: 20 });
    expect((await svc.handlers['runs.check'](presets[0].config)).ok).toBe(true);
    // No 28×28 grayscale set is imported here: the form is told at the dataset field.
    expect((await svc.handlers['runs.check'](presets[1].config)).errors).toEqual([{ field: 'dataset', message: expect.stringMatching(/no dataset 'mnist'/) }]);
  });
});

describe('runs.check', () => {
  it('answers errors at dotted fields, never rejecting, with the MFLOPs of the min and max subnets', async () => {
    const c = await svc.handlers['runs.check']({ epochs: 0, optimizer: { lr: -1 }, distillation: { kind: 'magic' }, surprise: 1 });
    expect(c.ok).toBe(false);
    expect(c.normalized).toBeNull();
    const fields = c.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['epochs', 'optimizer.lr', 'distillation.kind']));
    expect(c.errors.find((e) => e.field === 'epochs')?.message).toMatch(/Too small/);
    expect(c.errors.some((e) => /surprise/.test(e.message))).toBe(true);
    // The default space is fine, so its cost is there: the engine's own counter, 10 demo classes.
    const s = getSpace('alphanet-cifar32');
    const lo = subnetCost(s, minGenome(s), 10);
    const hi = subnetCost(s, maxGenome(s), 10);
    expect(c.flops).toEqual({ minMFlops: lo.mflops, maxMFlops: hi.mflops, minParams: lo.params, maxParams: hi.params });
    expect(c.flops!.maxMFlops).toBeCloseTo(25.29, 2); // docs/TRAINING.md's max subnet
  });

  it('points into an inline space (space.stages.N.field) and has no MFLOPs for a broken space', async () => {
    const space = { ...TINY, stages: TINY.stages.map((st, i) => (i === 1 ? { ...st, width: [16, 8] } : st)) };
    const c = await svc.handlers['runs.check']({ space });
    expect(c.errors).toEqual([{ field: 'space.stages.1.width', message: 'choices must be strictly increasing' }]);
    expect(c.flops).toBeNull();
    const bad = await svc.handlers['runs.check']({ space: 'no-such-space' });
    expect(bad.errors[0]).toMatchObject({ field: 'space', message: expect.stringMatching(/unknown search space 'no-such-space'/) });
  });

  it('checks the dataset: unknown names, channel mismatch, fewer images than a batch', async () => {
    expect((await svc.handlers['runs.check']({ dataset: 'nope' })).errors).toEqual([{ field: 'dataset', message: expect.stringMatching(/no dataset 'nope'/) }]);
    const gray = await svc.handlers['runs.check']({ space: 'alphanet-mnist28', dataset: 'demo' });
    expect(gray.errors).toEqual([{ field: 'dataset', message: expect.stringMatching(/3-channel images but space 'alphanet-mnist28' takes 1-channel/) }]);
    const src = writeIdxSet(join(tempDir(), 'few'), { nTrain: 40, nTest: 10, h: 4, w: 4, k: 2 });
    const job = await svc.handlers['datasets.import']({ path: src.dir, name: 'few' });
    await waitEvent(svc, 'datasets.job', (e) => e.jobId === job.jobId && e.type === 'done');
    const few = await svc.handlers['runs.check']({ space: 'alphanet-mnist28', dataset: 'few', batchSize: 64 });
    expect(few.errors).toEqual([{ field: 'batchSize', message: "dataset 'few' has 36 training images, fewer than one batch of 64" }]);
    // The classifier is sized for the dataset's 2 classes.
    const s = getSpace('alphanet-mnist28');
    expect(few.flops?.maxParams).toBe(subnetCost(s, maxGenome(s), 2).params);
  });

  it('fills every default in when valid', async () => {
    const c = await svc.handlers['runs.check']({ epochs: 2 });
    expect(c).toMatchObject({ ok: true, errors: [], normalized: { epochs: 2, batchSize: 64, dataset: 'demo', space: 'alphanet-cifar32', optimizer: { momentum: 0.9 } } });
  });
});

describe('runs', () => {
  it('start refuses an invalid config with its first field error, and queues nothing', async () => {
    const before = (await svc.handlers['runs.list']()).length;
    const r = await svc.run('runs.start', [{ epochs: -1 }]);
    expect(r).toMatchObject({ status: 400, reply: { ok: false, error: { field: 'epochs', message: expect.stringMatching(/^epochs: Too small/) } } });
    expect(await svc.handlers['runs.list']()).toHaveLength(before);
  });

  it('start → status events → finished; detail, metrics, delete', async () => {
    const seen: RunEvent[] = [];
    const collect = (e: RunEvent) => seen.push(e);
    svc.events.on('runs.event', collect);
    const started = await svc.handlers['runs.start'](tinyDemoConfig());
    expect(started).toMatchObject({ datasetName: 'demo', spaceId: 'tiny-test', distillation: 'adaptive-alpha', totalSteps: 4 });
    const finished = await waitEvent(svc, 'runs.event', (e) => e.type === 'status' && e.run.id === started.id && ['finished', 'failed'].includes(e.run.status));
    svc.events.off('runs.event', collect);
    const run = (finished as { run: RunSummary }).run;
    expect(run.error).toBeNull();
    expect(run).toMatchObject({ status: 'finished', step: 4, progress: 1, etaSec: null, backend: 'wasm' });
    expect(run.bestAccuracy).toBeGreaterThanOrEqual(0);
    const mine = seen.filter((e) => 'runId' in e ? e.runId === started.id : e.type === 'status' && e.run.id === started.id);
    expect(mine.filter((e) => e.type === 'status').map((e) => (e.type === 'status' ? e.run.status : ''))).toEqual(expect.arrayContaining(['running', 'finished']));
    const progress = mine.filter((e) => e.type === 'progress');
    expect(progress.map((e) => (e.type === 'progress' ? e.step.step : 0))).toEqual([1, 2, 3, 4]);
    expect(progress[0]).toMatchObject({ totalSteps: 4, step: { losses: [{ role: 'max' }, { role: 'random-1' }, { role: 'random-2' }, { role: 'min' }] } });
    expect(mine.some((e) => e.type === 'epoch' && e.points.map((p) => p.subnet).sort().join() === 'max,min' && e.points.every((p) => p.epoch === 0 && p.step === 4))).toBe(true);
    expect(mine.some((e) => e.type === 'event' && e.event.kind === 'checkpoint' && e.event.id > 0)).toBe(true);

    const detail = await svc.handlers['runs.get'](started.id);
    expect(detail.summary.status).toBe('finished');
    expect(detail.config).toMatchObject({ epochs: 1, batchSize: 8 });
    expect(detail.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['start', 'checkpoint', 'validation', 'finish']));
    expect(detail.checkpoints[0]).toMatchObject({ step: 4 });
    expect(detail.calibration.map((c) => c.subnet).sort()).toEqual(['max', 'min']);
    expect(detail.calibration.every((c) => c.before !== null && c.before >= 0 && c.before <= 1 && c.after >= 0 && c.after <= 1)).toBe(true);
    const metrics = await svc.handlers['runs.metrics'](started.id);
    expect(metrics.steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(metrics.epochs.map((e) => e.subnet).sort()).toEqual(['max', 'min']);
    expect(run.bestAccuracy).toBe(metrics.epochs.find((e) => e.subnet === 'max')!.valTop1);

    await expect(svc.handlers['runs.pause'](started.id)).rejects.toThrow(/only a running run can be paused/);
    const gone = waitEvent(svc, 'runs.event', (e) => e.type === 'deleted');
    await svc.handlers['runs.delete'](started.id);
    expect(await gone).toEqual({ type: 'deleted', runId: started.id });
    expect(await svc.run('runs.get', [started.id])).toMatchObject({ status: 404 });
  });

  it('saves a valid config as JSON with every default (path given in the served mode), refuses otherwise', async () => {
    const target = join(tempDir(), 'my-run.json');
    expect(await svc.handlers['runs.saveConfig']({ epochs: 3 }, target, { overwrite: false })).toBe(target);
    expect(JSON.parse(readFileSync(target, 'utf8'))).toMatchObject({ epochs: 3, batchSize: 64, optimizer: { nesterov: true } });
    await expect(svc.handlers['runs.saveConfig']({ epochs: 3 }, null, { overwrite: false })).rejects.toMatchObject({ field: 'path' });
    await expect(svc.handlers['runs.saveConfig']({ epochs: 0 }, target, { overwrite: true })).rejects.toMatchObject({ field: 'epochs' });
    await expect(svc.handlers['runs.saveConfig']({}, join(home, 'no', 'such', 'dir.json'), { overwrite: false })).rejects.toBeInstanceOf(ApiError);
  });

  it('saves through the dialog in the desktop mode, and a cancelled dialog writes nothing', async () => {
    const dir = tempDir();
    const answers = [join(dir, 'chosen.json'), null];
    const names: string[] = [];
    const s = createWorkbenchService({ home, db: svc.db, mode: 'electron', adoptQueued: false, saveDialog: async (n) => (names.push(n), answers.shift() ?? null) });
    expect(await s.handlers['runs.saveConfig']({ name: 'my run' }, null, { overwrite: false })).toBe(join(dir, 'chosen.json'));
    expect(await s.handlers['runs.saveConfig']({}, null, { overwrite: false })).toBeNull();
    expect(names).toEqual(['my-run.json', 'run-config.json']);
    await s.close({ pauseRuns: false });
  });

  it('close() pauses the runs it trains (pauseAll), which stay resumable', async () => {
    const s = createWorkbenchService({ home, mode: 'served', spawnRunner: spawnWasmRunner, probeBackend: async () => ({ name: 'x', detail: '' }) });
    const run = await s.handlers['runs.start'](tinyDemoConfig({ stepsPerEpoch: 200, checkpoint: { everySteps: 100, keepLast: 2 } }));
    await waitEvent(s, 'runs.event', (e) => e.type === 'progress' && e.runId === run.id && e.step.step >= 1);
    const db = svc.db;
    await s.close();
    expect((await svc.handlers['runs.get'](run.id)).summary).toMatchObject({ status: 'paused' });
    expect(db.open).toBe(true);
    // Clean up: cancel the paused run so later tests' managers do not adopt it.
    await svc.handlers['runs.cancel'](run.id);
    expect((await svc.handlers['runs.get'](run.id)).summary.status).toBe('cancelled');
  });
});
