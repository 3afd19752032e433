/**
 * Runs on the PyTorch engine (config `engine: 'torch'`, docs/TORCH.md) through the real runner process and the
 * RunManager, exactly as local runs: a 2-rank CPU run end to end (step and epoch metrics, checkpoint rows and events
 * in SQLite, progress messages), its checkpoint loaded by the workbench's own engine, pause through the store and
 * resume to the end (every step recorded once), and bad setups failing with one line.
 *
 * Needs a Python with torch (ALPHANET_PYTHON, python3 or /usr/bin/python3; CI installs python3-torch). Without one
 * the end-to-end tests are skipped with that reason; the config and setup checks run anyway.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getRun,
  listCheckpoints,
  listEpochMetrics,
  listRunEvents,
  listStepMetrics,
} from '../../../src-main/store/runs';
import { RunManager, forkRunner, type SpawnRunner } from '../../../src-main/jobs/run-manager';
import { parseTrainConfig, readCheckpointFile, Supernet, createOps } from '../../../src-main/engine';
import { torchReport, torchRunProblem } from '../../../src-main/jobs/python';
import type { RunnerToParent } from '../../../src-main/jobs/run-messages';
import { requireRunner, tinyDemoConfig } from './runner-helpers';
import { TINY } from '../engine/tiny-space';

const report = torchReport();
const spawnWith = (env: Record<string, string> = {}): SpawnRunner => () => forkRunner(requireRunner(), { env: { ...process.env, ...env } });
const torchConfig = (over: Record<string, unknown> = {}) => tinyDemoConfig({ engine: 'torch', ranks: 2, backend: 'auto', validation: { calibrationBatches: 1, calibrationBatchSize: 8, randomSubnets: 0, batchSize: 100, maxImages: 100 }, ...over });

describe('torch engine config and setup checks', () => {
  it('engine, gpus and ranks are validated with the rest of the config', () => {
    expect(parseTrainConfig({ engine: 'torch', gpus: 2, batchSize: 64 })).toMatchObject({ engine: 'torch', gpus: 2 });
    expect(parseTrainConfig({}).engine).toBe('local');
    expect(() => parseTrainConfig({ engine: 'torch', ranks: 3, batchSize: 64 })).toThrow(/ranks: batchSize \(64\) must divide over 3 torch ranks/);
    expect(() => parseTrainConfig({ gpus: 1 })).toThrow(/gpus: gpus and ranks are settings of engine 'torch'/);
  });

  it('names the problem of a bad setup in one line', () => {
    const none = torchReport({ ALPHANET_PYTHON: '/nonexistent/python3' });
    expect(none.python).toBeNull();
    expect(torchRunProblem(none, 0)).toMatch(/^ALPHANET_PYTHON=\/nonexistent\/python3 cannot run the torch engine/);
    const cpu = { ...none, python: 'python3', torch: '2.5.0', problem: undefined, cuda: [], gloo: true, nccl: false, engineDir: '/x' };
    expect(torchRunProblem(cpu, 2)).toMatch(/2 GPU\(s\) asked for, but torch 2.5.0 \(python3\) sees no CUDA device/);
    expect(torchRunProblem(cpu, 0)).toBeUndefined();
    expect(torchRunProblem({ ...cpu, cuda: ['H100'], nccl: true }, 2)).toMatch(/2 GPUs asked for, but torch sees only 1/);
  });
});

describe.skipIf(!report.python)(`torch engine runs through the runner (${report.python ? `torch ${report.torch}` : `skipped: ${report.problem}`})`, () => {
  const home = mkdtempSync(join(tmpdir(), 'torch-runner-'));

  it('a 2-rank CPU run lands in the store like a local run, and the workbench engine loads its checkpoint', async () => {
    const m = new RunManager({ home, spawn: spawnWith() });
    const msgs: RunnerToParent[] = [];
    m.on('message', (_id, msg) => msgs.push(msg));
    const run = await m.enqueue(torchConfig());
    const done = await m.waitFor(run.id);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'finished', step: 4, totalSteps: 4, pid: null });
    expect(done.backend).toMatch(/^torch .*2 CPU ranks/);
    expect(listStepMetrics(m.db, run.id).map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(listStepMetrics(m.db, run.id)[0].losses.map((l) => l.role)).toEqual(['max', 'random', 'random', 'min']);
    expect(listEpochMetrics(m.db, run.id).map((e) => e.subnet).sort()).toEqual(['max', 'min']);
    const ckpts = listCheckpoints(m.db, run.id);
    expect(ckpts[0].step).toBe(4);
    const progress = msgs.filter((x) => x.type === 'progress');
    expect(progress).toHaveLength(4);
    expect(progress[0]).toMatchObject({ workers: 2, totalSteps: 4 });
    expect(msgs.at(-1)).toMatchObject({ type: 'done', status: 'finished', step: 4 });
    expect(listRunEvents(m.db, run.id).map((e) => e.kind)).toEqual(expect.arrayContaining(['start', 'checkpoint', 'validation', 'finish']));
    // The torch engine's checkpoint is a workbench checkpoint: same names, shapes and layouts.
    const c = readCheckpointFile(ckpts[0].path, ckpts[0].sha256);
    expect(c.header.state.step).toBe(4);
    const net = new Supernet({ space: TINY, ops: createOps('portable'), numClasses: 10 });
    net.importWeights(c.weights);
    net.dispose();
    m.close();
  });

  it.skipIf(process.env.ALPHANET_SLOW_TESTS !== '1')('pause through the store stops with a checkpoint; resume trains to the end, each step recorded once (slow)', async () => {
    const m = new RunManager({ home, spawn: spawnWith() });
    // Enough steps that the engine (which reads its control file between steps) sees the pause before the end, even
    // when its steps are fast and the parent reads progress late.
    const steps = 120;
    const run = await m.enqueue(torchConfig({ stepsPerEpoch: steps, ranks: 1 }));
    let paused = false;
    m.on('message', (id, msg) => {
      if (id === run.id && msg.type === 'progress' && msg.step >= 2 && !paused) {
        paused = true;
        m.pause(run.id);
      }
    });
    const p = await m.waitFor(run.id);
    expect(p.status).toBe('paused');
    const at = p.step;
    expect(at).toBeGreaterThanOrEqual(2);
    expect(at).toBeLessThan(steps);
    expect(listCheckpoints(m.db, run.id)[0].step).toBe(at);
    m.resume(run.id);
    const f = await m.waitFor(run.id);
    expect(f.status).toBe('finished');
    expect(listStepMetrics(m.db, run.id).map((s) => s.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    expect(listRunEvents(m.db, run.id).map((e) => e.kind)).toEqual(expect.arrayContaining(['pause', 'resume', 'finish']));
    m.close();
  });

  it('a setup the engine cannot run fails the run with one line', async () => {
    const m = new RunManager({ home, spawn: spawnWith({ ALPHANET_PYTHON: '/nonexistent/python3' }) });
    const run = await m.enqueue(torchConfig());
    const done = await m.waitFor(run.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/^ALPHANET_PYTHON=\/nonexistent\/python3 cannot run the torch engine/);
    expect(getRun(m.db, run.id).error!.split('\n')).toHaveLength(1);
    m.close();
  });
});

describe('alphanet train --engine torch refuses a bad setup before queueing, in one line', () => {
  const cli = async (args: string[], env: Record<string, string>) => {
    const { runCli } = await import('../../../src-main/cli/program');
    let out = '';
    let err = '';
    const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: { ...env, ALPHANET_BACKEND: 'wasm' } });
    return { code, out, err };
  };

  it('no python with torch', async () => {
    const home = mkdtempSync(join(tmpdir(), 'torch-cli-'));
    const r = await cli(['--home', home, 'train', '--engine', 'torch', '--epochs', '1'], { ALPHANET_PYTHON: '/nonexistent/python3' });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^alphanet: torch engine: ALPHANET_PYTHON=\/nonexistent\/python3 cannot run the torch engine/);
  });

  it.skipIf(!report.python || report.cuda.length > 0)('GPUs asked for where torch sees none (and --gpus implies the torch engine)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'torch-cli-'));
    const r = await cli(['--home', home, 'train', '--gpus', '2', '--epochs', '1'], {});
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^alphanet: torch engine: 2 GPU\(s\) asked for, but torch .* sees no CUDA device/);
  });
});
