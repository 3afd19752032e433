/** `alphanet runs metrics`: a run's recorded metrics as CSV or JSON, on stdout or written whole to a file. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHomeDatabase } from '../../../src-main/store/db';
import { createRun, insertEpochMetrics, insertStepMetrics } from '../../../src-main/store/runs';
import { cliAt } from './run-cli';

let home = '';
let runId = 0;
const { ok, fails } = cliAt(() => home);

const step = (n: number, loss: number | null) => ({
  step: n, epoch: 0, time: `2026-12-03T10:00:0${n}.000Z`, lr: 0.1, loss,
  // The runner's plain `random` role is numbered by the API's views: the export shows `random-1`.
  losses: [{ role: 'max', loss: 2 }, { role: 'random', loss: -0.25, divergence: 0.5 }, { role: 'min', loss: loss ?? Number.NaN, divergence: 0.75 }],
  alphaMinShare: 0.5, clippedShare: 0, nonfinite: loss === null ? 1 : 0, stepMs: 100, imagesPerSec: 640,
});
const epoch = (subnet: string, valTop1: number) => ({
  epoch: 0, step: 2, subnet, genome: {}, mflops: subnet === 'max' ? 9 : 1.5, valTop1, valLoss: 1, valTop1Before: null, valLossBefore: null, valImages: 64, time: '2026-12-03T10:00:03.000Z',
});

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'runs-metrics-'));
  const db = openHomeDatabase(home);
  runId = createRun(db, { name: 'a, "quoted" run', config: { epochs: 1, distillation: { kind: 'adaptive-alpha' } }, spaceId: 'alphanet-cifar32', datasetId: null, datasetName: 'demo', seed: 3, appVersion: 't', totalSteps: 2 }).id;
  insertStepMetrics(db, runId, [step(1, 1.5), step(2, null)]);
  insertEpochMetrics(db, runId, [epoch('min', 0.25), epoch('max', 0.5)]);
  db.close();
});

describe('alphanet runs metrics', () => {
  it('prints the steps CSV by default: one row per step, a column per member, an empty cell for a non-finite stored loss', async () => {
    const r = await ok(['runs', 'metrics', String(runId)]);
    expect(r.out).toBe(
      [
        'step,epoch,lr,max_loss,random-1_loss,random-1_divergence,min_loss,min_divergence,alpha_min_share,clipped_share,nonfinite,images_per_sec',
        '1,0,0.1,2,-0.25,0.5,1.5,0.75,0.5,0,0,640',
        '2,0,0.1,2,-0.25,0.5,,0.75,0.5,0,1,640',
        '',
      ].join('\n'),
    );
    expect(r.err).toBe('');
  });

  it('prints the epochs CSV with --epochs and the JSON document with --format json', async () => {
    expect((await ok(['runs', 'metrics', String(runId), '--epochs'])).out).toBe('epoch,step,max_top1,max_loss,max_mflops,min_top1,min_loss,min_mflops\n0,2,0.5,1,9,0.25,1,1.5\n');
    const doc = JSON.parse((await ok(['runs', 'metrics', String(runId), '--format', 'json'])).out);
    expect(doc).toMatchObject({ schema: 'alphanet-workbench/run-metrics', version: 1, run: { id: runId, name: 'a, "quoted" run', seed: 3, distillation: 'adaptive-alpha', config: { epochs: 1 } } });
    expect(doc.steps.map((s: { losses: { role: string }[] }) => s.losses.map((l) => l.role))).toEqual([['max', 'random-1', 'min'], ['max', 'random-1', 'min']]);
    expect(doc.epochs.map((e: { subnet: string }) => e.subnet).sort()).toEqual(['max', 'min']);
  });

  it('writes -o whole, with no temporary file left, and says so on stderr only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runs-metrics-out-'));
    const file = join(dir, 'steps.csv');
    writeFileSync(file, 'old content');
    const r = await ok(['runs', 'metrics', String(runId), '-o', file]);
    expect(r.out).toBe('');
    expect(r.err).toBe(`run ${runId}: 2 steps, 1 validated epochs written to ${file}\n`);
    expect(readFileSync(file, 'utf8')).toMatch(/^step,epoch,lr,max_loss,/);
    expect(readdirSync(dir)).toEqual(['steps.csv']);
  });

  it('refuses an unknown run, a bad format, --epochs with JSON and an unwritable file in one line each, writing nothing', async () => {
    await fails(['runs', 'metrics', '999'], /^alphanet: no run with id 999$/m);
    await fails(['runs', 'metrics', String(runId), '--format', 'xml'], /^alphanet: --format must be csv or json, got 'xml'$/m);
    await fails(['runs', 'metrics', String(runId), '--format', 'json', '--epochs'], /--epochs goes with --format csv/);
    const dir = mkdtempSync(join(tmpdir(), 'runs-metrics-out-'));
    await fails(['runs', 'metrics', String(runId), '-o', dir], /^alphanet: cannot write .*: a folder is where a file should be/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
