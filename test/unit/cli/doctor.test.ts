/**
 * `alphanet doctor` on using every core: the machine's cores, the jobs' share (settings.json `jobCores`, then
 * ALPHANET_JOB_CORES over it), the workers a default run gets, and the newest recorded training speed per worker;
 * it creates no database in a fresh home.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src-main/cli/program';
import { openHomeDatabase } from '../../../src-main/store/db';
import { transitionJob } from '../../../src-main/store/jobs';
import { createRun, insertStepMetrics } from '../../../src-main/store/runs';

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: { ALPHANET_BACKEND: 'cpu', ...env } });
  return { code, out, err };
}

const step = (n: number, imagesPerSec: number, time: string) => ({
  step: n, epoch: 0, time, lr: 0.1, loss: 1, losses: [], alphaMinShare: null, clippedShare: 0, nonfinite: 0, stepMs: 1000, imagesPerSec,
});

describe('alphanet doctor: cores, workers, speed per worker', () => {
  it('a fresh home: the machine\'s cores, no speed yet, and no database created', async () => {
    const home = mkdtempSync(join(tmpdir(), 'doctor-'));
    const r = await run(['--home', home, '--json', 'doctor']);
    expect(r.code).toBe(0);
    const cores = availableParallelism();
    expect(JSON.parse(r.out).parallel).toEqual({ cores, jobCores: cores, defaultWorkers: 2 ** Math.floor(Math.log2(Math.min(cores, 8))), latest: null }); // divisors of 64, shards ≥ 8
    expect(existsSync(join(home, 'alphanet.db'))).toBe(false);
    const t = await run(['--home', home, 'doctor']);
    expect(t.out).toMatch(new RegExp(`^cores: +${cores} on this machine; jobs may use ${cores} `, 'm'));
    expect(t.out).toMatch(/^speed: +no training step recorded in this home yet$/m);
  });

  it('the jobs\' share from settings.json and the environment; the newest step\'s speed per worker', async () => {
    const home = mkdtempSync(join(tmpdir(), 'doctor-'));
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ jobCores: 2 }));
    const db = openHomeDatabase(home);
    const mk = (name: string) => createRun(db, { name, config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
    const [a, b] = [mk('one'), mk('two')];
    transitionJob(db, 'runs', b, 'running', { cores: 2 });
    insertStepMetrics(db, a, [step(7, 10, '2026-01-01T00:00:00.000Z')]);
    insertStepMetrics(db, b, [step(1, 20, '2026-01-01T00:00:01.000Z'), step(2, 30, '2026-01-01T00:00:02.000Z')]);
    db.close();
    const j = JSON.parse((await run(['--home', home, '--json', 'doctor'])).out).parallel;
    expect(j.jobCores).toBe(2);
    expect(j.defaultWorkers).toBe(2); // batch 64 in two shards of 32
    expect(j.latest).toEqual({ runId: b, name: 'two', step: 2, workers: 2, imagesPerSec: 30, imagesPerSecPerWorker: 15 });
    const t = await run(['--home', home, 'doctor']);
    expect(t.out).toMatch(/^speed: +run 2 'two' step 2: 30\.0 images\/s on 2 workers \(15\.0 per worker\)$/m);
    expect(JSON.parse((await run(['--home', home, '--json', 'doctor'], { ALPHANET_JOB_CORES: '1' })).out).parallel).toMatchObject({ jobCores: 1, defaultWorkers: 1 });
    const bad = await run(['--home', home, 'doctor'], { ALPHANET_JOB_CORES: 'lots' });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/ALPHANET_JOB_CORES must be a positive integer or auto, got 'lots'/);
  });
});
