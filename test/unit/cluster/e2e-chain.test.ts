/**
 * The whole Slurm chain through the workbench's command line, on a real single-node Slurm (slurm-harness.ts) and a
 * real sshd (sshd-harness.ts), nothing stubbed (docs/CLUSTER.md): import a tiny IDX dataset → add a local cluster
 * profile → `alphanet train --engine slurm` (the PyTorch engine, 2 gloo CPU ranks) followed to its steps → `scancel`
 * mid-run → the run fails with the scheduler's reason → `alphanet runs resume` → finished, each step once → its
 * checkpoints are local files in the workbench's format → `alphanet search` on the run → `alphanet export` of the best
 * subnet found, loaded by TF.js in a fresh process. Then the SSH path: a run through an ssh profile (login over the
 * test sshd) followed to the end, its job log read back over ssh through the API. Slow suite (ALPHANET_SLOW_TESTS=1).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHomeDatabase, type Db } from '../../../src-main/store/db';
import { listCheckpoints, listStepMetrics } from '../../../src-main/store/runs';
import { listRunClusterJobs } from '../../../src-main/store/cluster-jobs';
import { clusterShell } from '../../../src-main/jobs/slurm/shell';
import { cancelJob } from '../../../src-main/jobs/slurm/scheduler';
import { createClusterHandlers } from '../../../src-main/service/clusters-service';
import { readCheckpointFile } from '../../../src-main/engine/core';
import { writeIdxSet } from '../../../src-main/data/synthetic';
import { cliAt } from '../cli/run-cli';
import { requireRunner } from '../train/runner-helpers';
import { TINY } from '../engine/tiny-space';
import { tearDownSuite, useClusterEnv, waitFor, type SlurmCluster } from './slurm-harness';
import { startClusterAndSshd, type TestSshd } from './sshd-harness';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';
const PYTHON = '/usr/bin/python3';
const ROOT = join(__dirname, '..', '..', '..');

describe.runIf(SLOW)('the Slurm chain through the command line (slow)', () => {
  let cluster: SlurmCluster;
  let sshd: TestSshd;
  let home: string;
  let runDir: string;
  let db: Db;
  let restoreEnv: (() => void) | undefined;
  // The runners the CLI forks inherit this process's environment, which useClusterEnv points at the test cluster.
  const { cli, ok } = cliAt(() => home, () => ({ ...process.env, ALPHANET_BACKEND: 'wasm' }));
  /** A short run of the tiny space on the grayscale IDX set, written as the config file `train` reads. */
  const configFile = (name: string, over: Record<string, unknown>) => {
    const file = join(home, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        name,
        space: { ...TINY, id: 'tiny-gray', inputChannels: 1 },
        dataset: 'tiny-gray',
        batchSize: 8,
        validation: { calibrationBatches: 1, calibrationBatchSize: 8, randomSubnets: 0, batchSize: 100, maxImages: 100 },
        progressEverySteps: 1,
        metrics: { flushEverySteps: 1, flushEverySeconds: 1 },
        ...over,
      }),
    );
    return file;
  };

  beforeAll(async () => {
    requireRunner();
    ({ cluster, sshd } = await startClusterAndSshd(PYTHON));
    home = mkdtempSync(join(tmpdir(), 'alphanet-chain-home-'));
    runDir = mkdtempSync(join(tmpdir(), 'alphanet-chain-runs-'));
    // The runners `train` forks inherit this process's environment: the test cluster, and a brisk follower.
    restoreEnv = useClusterEnv(cluster);
    db = openHomeDatabase(home);
  }, 120_000);
  afterAll(() => tearDownSuite({ restoreEnv, db, daemons: [sshd, cluster], dirs: [home, runDir] }), 60_000);

  it('import → train on Slurm → scancel → failed with the reason → resume → finished → search → export, loaded', async () => {
    const idx = writeIdxSet(join(home, 'idx-src'), { nTrain: 240, nTest: 40, h: 8, w: 8, seed: 3 });
    await ok(['datasets', 'import', idx.dir, '--name', 'tiny-gray']);
    await ok(['clusters', 'add', 'lab', '--local', '--run-dir', runDir, '--partition', 'debug', '--python', PYTHON, '--time', '10']);

    // Long enough that the job is still running when the cancel lands: progress reaches SQLite a poll (≈ 1 s) behind
    // the job, and on a quiet machine 20 steps of this tiny net were over before the test saw step 3.
    const training = cli(['--json', 'train', configFile('chain', { epochs: 8, stepsPerEpoch: 30, checkpoint: { everySteps: 2, keepLast: 2 } }), '--engine', 'slurm', '--cluster', 'lab', '--ranks', '2']);
    await waitFor(() => db.prepare('SELECT 1 FROM runs').get() !== undefined, 60_000, 'train queued no run');
    const runId = (db.prepare('SELECT id FROM runs').get() as { id: number }).id;
    // 8 epochs of the training split (the import holds out a validation split) at batch 8.
    const total = (db.prepare('SELECT total_steps AS t FROM runs WHERE id = ?').get(runId) as { t: number }).t;
    expect(total).toBeGreaterThanOrEqual(200);
    await waitFor(() => listStepMetrics(db, runId).length >= 3 && listCheckpoints(db, runId).some((k) => k.step >= 2), 300_000, 'the Slurm run did not get going', 500);
    const first = listRunClusterJobs(db, runId)[0];
    expect(first).toMatchObject({ cluster: 'lab', nodes: 1, ranksPerNode: 2, remoteDir: `${runDir}/run-${runId}` });
    await cancelJob(clusterShell({ transport: 'local', sshHost: null, sshConfig: null }, cluster.env), first.jobId);
    const failed = await training;
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(new RegExp(`run ${runId} failed: Slurm job ${first.jobId} on lab failed at step \\d+: Slurm CANCELLED: the job was cancelled`));

    const resumed = await ok(['--json', 'runs', 'resume', String(runId)]);
    expect(JSON.parse(resumed.out).run).toMatchObject({ id: runId, status: 'finished', step: total, error: null });
    const steps = listStepMetrics(db, runId).map((s) => s.step);
    expect(steps).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(listRunClusterJobs(db, runId).map((j) => j.outcome)).toEqual(['failed', 'finished']);
    const ckpt = listCheckpoints(db, runId)[0];
    expect(ckpt.step).toBe(total);
    expect(ckpt.path.startsWith(join(home, 'runs', String(runId), 'checkpoints'))).toBe(true);
    expect(readCheckpointFile(ckpt.path, ckpt.sha256).header.state.step).toBe(total);

    const search = await ok(['--json', 'search', String(runId), '--population', '3', '--mutate', '2', '--crossover', '1', '--generations', '1', '--seed', '2']);
    const found = JSON.parse(search.out);
    expect(found.search).toMatchObject({ status: 'finished', evaluations: 6 });
    // The front's most accurate point (its data names the evaluation).
    const best = found.front.points.at(-1) as { id: string; accuracy: number; data: { evaluationId: number; genomeId: string } };
    expect(best.accuracy).toBeGreaterThanOrEqual(0);

    const out = mkdtempSync(join(tmpdir(), 'alphanet-chain-export-'));
    try {
      const exp = JSON.parse((await ok(['--json', 'export', String(runId), String(best.data.evaluationId), '--format', 'tfjs', '--out', out])).out);
      expect(exp.files).toContain('tfjs/model.json');
      const arch = JSON.parse(readFileSync(join(out, 'arch.json'), 'utf8')) as { genome: { resolution: number }; inputShape: { tfjs: unknown[] } };
      const res = arch.genome.resolution;
      expect(arch.inputShape.tfjs).toEqual([null, res, res, 1]);
      const x = { shape: [2, res, res, 1], data: Array.from({ length: 2 * res * res }, (_, i) => Math.sin(i)) };
      writeFileSync(join(out, 'jobs.json'), JSON.stringify([{ dir: join(out, 'tfjs'), input: x, out: join(out, 'y.json') }]));
      execFileSync(process.execPath, [join(ROOT, 'test', 'unit', 'export', 'fresh', 'run-tfjs.mjs'), join(out, 'jobs.json')], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
      const y = JSON.parse(readFileSync(join(out, 'y.json'), 'utf8'));
      expect(y.shape).toEqual([2, 10]);
      expect(y.data.every(Number.isFinite)).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 900_000);

  it('the SSH path: a run through an ssh profile to the login node, followed to the end, its log read back over ssh', async () => {
    await ok(['clusters', 'add', 'far', '--ssh', sshd.host, '--ssh-config', sshd.configFile, '--run-dir', runDir, '--partition', 'debug', '--python', PYTHON, '--time', '10']);
    const r = JSON.parse((await ok(['--json', 'train', configFile('over-ssh', { epochs: 1, stepsPerEpoch: 4, checkpoint: { everySteps: 2, keepLast: 2 } }), '--engine', 'slurm', '--cluster', 'far', '--ranks', '2'])).out).run;
    expect(r).toMatchObject({ status: 'finished', step: 4, error: null });
    expect(r.backend).toMatch(/^slurm far job \d+ \(1 node × 2 CPU ranks\)$/);
    expect(listStepMetrics(db, r.id).map((s) => s.step)).toEqual([1, 2, 3, 4]);
    const [job] = listRunClusterJobs(db, r.id);
    expect(job).toMatchObject({ cluster: 'far', outcome: 'finished', nodeList: cluster.node });
    expect(existsSync(listCheckpoints(db, r.id)[0].path)).toBe(true);
    const log = await createClusterHandlers({ db })['clusters.jobLog'](r.id, job.jobId);
    expect(log).toMatchObject({ exists: true, truncated: false, path: `${runDir}/run-${r.id}/slurm-${job.jobId}.out` });
    expect(log.text).toMatch(new RegExp(`alphanet: job ${job.jobId} on 1 node\\(s\\) \\(${cluster.node}\\)`));
  }, 600_000);
});
