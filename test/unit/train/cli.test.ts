/**
 * `alphanet train` end to end through the built CLI (bin/alphanet.js → out/main/cli.js → out/main/runner.js): a short
 * run of the alphanet-cifar32 space on the demo dataset, read back from SQLite; then `alphanet runs …` in-process.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureCli } from '../cli/run-cli';
import { openHomeDatabase } from '../../../src-main/store/db';
import { getRun, listCheckpoints, listEpochMetrics, listRuns, listStepMetrics } from '../../../src-main/store/runs';
import { requireRunner, tinyDemoConfig } from './runner-helpers';

const ROOT = join(__dirname, '..', '..', '..');

function bin(args: string[], onOut?: (out: string, p: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'alphanet.js'), ...args], { env: { ...process.env, ALPHANET_BACKEND: 'wasm' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
      onOut?.(out, p);
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const cli = (args: string[]) => captureCli(args);

describe('alphanet train (CLI)', () => {
  it('trains alphanet-cifar32 on the demo dataset for a short run and the run reads back from SQLite', async () => {
    requireRunner();
    const home = mkdtempSync(join(tmpdir(), 'cli-train-'));
    const config = join(home, 'run.json');
    writeFileSync(
      config,
      JSON.stringify({
        space: 'alphanet-cifar32',
        validation: { calibrationBatches: 1, calibrationBatchSize: 16, randomSubnets: 1, batchSize: 64, maxImages: 64 },
        progressEverySteps: 1,
        checkpoint: { everySteps: 2 },
      }),
    );
    const r = await bin(['--home', home, 'train', config, '--epochs', '1', '--steps-per-epoch', '2', '--batch-size', '16', '--seed', '3', '--distillation', 'kl', '--workers', '1', '--name', 'e2e']);
    expect(r.err).not.toMatch(/unexpected error/);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/run 1 'e2e' queued: 2 steps/);
    expect(r.out).toMatch(/step 2\/2 ep 1 \| loss max \d/);
    expect(r.out).toMatch(/epoch 1 validation \(BN-calibrated top-1\): min [\d.]+% \(2\.93 MFLOPs\), max [\d.]+% \(25\.29 MFLOPs\), random-1/);
    expect(r.out).toMatch(/run 1 'e2e': finished, step 2\/2/);

    const db = openHomeDatabase(home);
    const run = getRun(db, 1);
    expect(run).toMatchObject({ name: 'e2e', status: 'finished', spaceId: 'alphanet-cifar32', datasetName: 'demo', seed: 3, backend: 'wasm', step: 2, totalSteps: 2, error: null });
    expect(run.config).toMatchObject({ epochs: 1, batchSize: 16, stepsPerEpoch: 2, workers: 1, distillation: { kind: 'kl' }, optimizer: { momentum: 0.9, nesterov: true } });
    expect(listStepMetrics(db, 1).map((s) => s.losses.map((l) => l.role))).toEqual([['max', 'random', 'random', 'min'], ['max', 'random', 'random', 'min']]);
    expect(listEpochMetrics(db, 1).map((e) => e.subnet).sort()).toEqual(['max', 'min', 'random-1']);
    const ck = listCheckpoints(db, 1);
    expect(ck[0].step).toBe(2);
    expect(existsSync(ck[0].path)).toBe(true);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    // runs list / show / delete, in-process.
    const list = await cli(['--home', home, '--json', 'runs', 'list']);
    expect(JSON.parse(list.out).map((x: { id: number; status: string }) => [x.id, x.status])).toEqual([[1, 'finished']]);
    const show = await cli(['--home', home, 'runs', 'show', '1']);
    expect(show.out).toMatch(/run 1 'e2e': finished/);
    expect(show.out).toMatch(/epoch 1: /);
    expect((await cli(['--home', home, 'runs', 'pause', '1'])).err).toMatch(/run 1 is finished; only a running run can be paused/);
    expect((await cli(['--home', home, 'runs', 'resume', '1'])).err).toMatch(/only a paused or failed run can be resumed/);
    expect((await cli(['--home', home, 'runs', 'show', '9'])).err).toMatch(/no run with id 9/);
    expect((await cli(['--home', home, 'runs', 'delete', '1'])).code).toBe(0);
    expect(existsSync(ck[0].path)).toBe(false);
    const db2 = openHomeDatabase(home);
    expect(listRuns(db2)).toEqual([]);
    db2.close();
  });

  it('Ctrl-C pauses the run with a checkpoint; `runs resume` finishes it', async () => {
    requireRunner();
    const home = mkdtempSync(join(tmpdir(), 'cli-train-'));
    const config = join(home, 'run.json');
    writeFileSync(config, JSON.stringify({ ...tinyDemoConfig({ stepsPerEpoch: 40 }), backend: undefined }));
    let sent = false;
    const r = await bin(['--home', home, 'train', config], (out, p) => {
      if (!sent && /step 2\/40/.test(out)) {
        sent = true;
        p.kill('SIGINT'); // to the CLI only, as a terminal's Ctrl-C would reach it (the runner gets its own)
      }
    });
    expect(r.err).toMatch(/pausing/);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/run 1 '.*': paused, step \d+\/40/);
    const db = openHomeDatabase(home);
    const paused = getRun(db, 1);
    expect(paused.status).toBe('paused');
    expect(listCheckpoints(db, 1)[0].step).toBe(paused.step);
    // As after a crash: the run had reached 3 steps past its last checkpoint, which are trained again.
    db.prepare('UPDATE runs SET step = ?, status = ? WHERE id = 1').run(paused.step + 3, 'failed');
    const res = await cli(['--home', home, 'runs', 'resume', '1']);
    expect(res.code, res.err).toBe(0);
    expect(res.out.match(/at step \d+/g)).toEqual([`at step ${paused.step}`]);
    expect(res.out).toContain(`resume: resumed at step ${paused.step} (its newest good checkpoint); steps ${paused.step + 1}–${paused.step + 3} are trained again`);
    expect(getRun(db, 1).status).toBe('finished');
    expect(paused.step).toBeLessThan(40);
    expect(listStepMetrics(db, 1).map((x) => x.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    db.close();
  });

  it('refuses --workers that is neither auto nor a positive integer', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cli-train-'));
    const r = await cli(['--home', home, 'train', '--workers', '0']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--workers must be a positive integer, got '0'/);
  });

  it('refuses a bad config naming the field, and queues nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cli-train-'));
    const r = await cli(['--home', home, 'train', '--epochs', '2', '--distillation', 'magic']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/distillation\.kind/);
    const r2 = await cli(['--home', home, 'train', '--epochs', 'two']);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/--epochs must be a positive integer, got 'two'/);
    const r3 = await cli(['--home', home, 'train', '--dataset', 'nope']);
    expect(r3.code).toBe(1);
    expect(r3.err).toMatch(/unknown dataset 'nope'/);
    const db = openHomeDatabase(home);
    expect(listRuns(db)).toEqual([]);
    db.close();
  });
});
