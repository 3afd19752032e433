/**
 * A training run with `engine: 'slurm'` end to end (docs/CLUSTER.md): queued through the RunManager like any run, its
 * runner submits the real PyTorch engine as a 2-rank gloo job to a real single-node Slurm cluster (slurm-harness.ts),
 * follows it into SQLite (steps, validation, checkpoint rows, events) and brings its checkpoints back, which the
 * workbench's own engine loads; a `scancel` mid-run fails the run with Slurm's reason, and resume submits again
 * from the last checkpoint and finishes, every step recorded once. Slow suite (ALPHANET_SLOW_TESTS=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRun, listCheckpoints, listEpochMetrics, listStepMetrics } from '../../../src-main/store/runs';
import { addCluster } from '../../../src-main/store/clusters';
import { listRunClusterJobs } from '../../../src-main/store/cluster-jobs';
import { RunManager, forkRunner, type SpawnRunner } from '../../../src-main/jobs/run-manager';
import { clusterShell } from '../../../src-main/jobs/slurm/shell';
import { cancelJob } from '../../../src-main/jobs/slurm/scheduler';
import { Supernet, createOps, readCheckpointFile } from '../../../src-main/engine';
import { requireRunner, tinyDemoConfig } from '../train/runner-helpers';
import { TINY } from '../engine/tiny-space';
import { slurmMissing, startSlurmCluster, waitFor, type SlurmCluster } from './slurm-harness';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';
const PYTHON = '/usr/bin/python3';

describe.runIf(SLOW)('engine slurm: training runs on a real Slurm cluster (slow)', () => {
  let cluster: SlurmCluster;
  let runDir: string;
  let home: string;
  let m: RunManager;
  const slurmConfig = (over: Record<string, unknown> = {}) =>
    tinyDemoConfig({ engine: 'slurm', cluster: 'test', ranks: 2, backend: 'auto', validation: { calibrationBatches: 1, calibrationBatchSize: 8, randomSubnets: 0, batchSize: 100, maxImages: 100 }, ...over });

  beforeAll(async () => {
    const missing = slurmMissing() ?? (existsSync(PYTHON) ? null : `no ${PYTHON} (apt-get install python3-torch)`);
    if (missing) throw new Error(`ALPHANET_SLOW_TESTS=1 needs a Slurm test cluster and python3-torch: ${missing}`);
    cluster = await startSlurmCluster();
    runDir = mkdtempSync(join(tmpdir(), 'alphanet-cluster-runs-'));
    home = mkdtempSync(join(tmpdir(), 'alphanet-slurm-home-'));
    const spawn: SpawnRunner = () => forkRunner(requireRunner(), { env: { ...cluster.env, ALPHANET_SLURM_POLL_MS: '1000' } });
    m = new RunManager({ home, spawn });
    addCluster(m.db, { name: 'test', transport: 'local', runDir, partition: 'debug', python: PYTHON, timeLimit: '10' });
  }, 90_000);
  afterAll(async () => {
    m?.close();
    await cluster?.stop();
    for (const d of [runDir, home]) if (d) rmSync(d, { recursive: true, force: true });
  }, 60_000);

  it('a 2-rank run is submitted, followed into the store and its checkpoint brought back', async () => {
    const run = await m.enqueue(slurmConfig());
    const done = await m.waitFor(run.id);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'finished', step: 4, totalSteps: 4 });
    expect(done.backend).toMatch(/^slurm test job \d+ \(1 node × 2 CPU ranks\)$/);
    expect(listStepMetrics(m.db, run.id).map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(listEpochMetrics(m.db, run.id).map((e) => e.subnet).sort()).toEqual(['max', 'min']);
    const jobs = listRunClusterJobs(m.db, run.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ cluster: 'test', kind: 'train', nodes: 1, ranksPerNode: 2, outcome: 'finished', nodeList: cluster.node, remoteDir: `${runDir}/run-${run.id}` });
    // Provenance and the imported checkpoint: a local file the workbench engine loads.
    const ckpts = listCheckpoints(m.db, run.id);
    expect(ckpts[0].step).toBe(4);
    expect(ckpts.every((k) => k.path.startsWith(join(home, 'runs', String(run.id), 'checkpoints')) && existsSync(k.path))).toBe(true);
    const c = readCheckpointFile(ckpts[0].path, ckpts[0].sha256);
    expect(c.header.state.step).toBe(4);
    const net = new Supernet({ space: TINY, ops: createOps('portable'), numClasses: 10 });
    net.importWeights(c.weights);
    net.dispose();
  });

  it('scancel mid-run → failed with Slurm\'s reason → resumed from the last checkpoint → finished, each step once', async () => {
    const run = await m.enqueue(slurmConfig({ stepsPerEpoch: 20, epochs: 2, checkpoint: { everySteps: 2 } }));
    await waitFor(() => listStepMetrics(m.db, run.id).length >= 3 && listCheckpoints(m.db, run.id).some((k) => k.step >= 2), 240_000, 'the run did not get going', 500);
    const job = listRunClusterJobs(m.db, run.id)[0];
    await cancelJob(clusterShell({ transport: 'local', sshHost: null, sshConfig: null }, cluster.env), job.jobId);
    const failed = await m.waitFor(run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(new RegExp(`Slurm job ${job.jobId} on test failed at step \\d+: Slurm CANCELLED: the job was cancelled`));
    m.resume(run.id);
    const done = await m.waitFor(run.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('finished');
    expect(getRun(m.db, run.id).step).toBe(40);
    const steps = listStepMetrics(m.db, run.id).map((s) => s.step);
    expect(steps.at(-1)).toBe(40);
    expect(new Set(steps).size).toBe(steps.length);
    expect(listRunClusterJobs(m.db, run.id).map((j) => j.outcome)).toEqual(['failed', 'finished']);
  });
});
