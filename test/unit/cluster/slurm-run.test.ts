/**
 * A training run with `engine: 'slurm'` end to end (docs/CLUSTER.md): queued through the RunManager like any run, its
 * runner submits the real PyTorch engine as a 2-rank gloo job to a real single-node Slurm cluster (slurm-harness.ts),
 * follows it into SQLite (steps, validation, checkpoint rows, events) and brings its checkpoints back, which the
 * workbench's own engine loads; a `scancel` mid-run fails the run with Slurm's reason, and resume submits again
 * from the last checkpoint and finishes, every step recorded once; the workbench service closes while the job runs
 * (the job is left running) and a new service on the same home adopts the run and catches up from the job's files,
 * also for a job that ended while no workbench was open. Slow suite (ALPHANET_SLOW_TESTS=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRun, listCheckpoints, listEpochMetrics, listRunEvents, listStepMetrics } from '../../../src-main/store/runs';
import { createWorkbenchService, type WorkbenchService } from '../../../src-main/service';
import { isActive, queryJob } from '../../../src-main/jobs/slurm/scheduler';
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
  }, 600_000); // two submissions of a 40-step job: past the 120 s default under a load of 12 on 2 cores

  it('the runner dies while the job runs, then the job is cancelled: resume submits again instead of following the ended job', async () => {
    const shell = clusterShell({ transport: 'local', sshHost: null, sshConfig: null }, cluster.env);
    // 120 steps: enough that the job cannot finish on its own between the runner's death and the cancel, even on a
    // loaded machine (with 40 it once did, and the resume then rightly found a finished job).
    const run = await m.enqueue(slurmConfig({ stepsPerEpoch: 60, epochs: 2, checkpoint: { everySteps: 4 } }));
    await waitFor(() => listStepMetrics(m.db, run.id).length >= 3 && listCheckpoints(m.db, run.id).some((k) => k.step >= 4), 240_000, 'the run did not get going', 500);
    // A failure of the runner, not of the job (as an unreachable login node would be): the job runs on, still followed.
    process.kill(getRun(m.db, run.id).pid!, 'SIGKILL');
    const failed = await m.waitFor(run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/exited on signal SIGKILL/);
    const [job] = listRunClusterJobs(m.db, run.id);
    expect(job.outcome).toBeNull();
    // Then the job ends too, before anyone resumes.
    expect(isActive((await queryJob(shell, job.jobId)).state), 'the job ended on its own before the test could cancel it').toBe(true);
    await cancelJob(shell, job.jobId);
    await waitFor(async () => !isActive((await queryJob(shell, job.jobId)).state), 120_000, 'the cancelled job did not end');
    m.resume(run.id);
    const done = await m.waitFor(run.id);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'finished', step: 120 });
    const steps = listStepMetrics(m.db, run.id).map((s) => s.step);
    expect(steps.at(-1)).toBe(120);
    expect(new Set(steps).size).toBe(steps.length);
    const jobs = listRunClusterJobs(m.db, run.id);
    expect(jobs.map((j) => j.outcome)).toEqual(['failed', 'finished']);
    expect(jobs[0].error).toMatch(/^Slurm CANCELLED: the job was cancelled/);
    expect(listRunEvents(m.db, run.id).map((e) => e.message)).toContainEqual(expect.stringMatching(new RegExp(`^Slurm job ${job.jobId} had ended meanwhile \\(failed: Slurm CANCELLED.*\\); resuming in a new submission$`)));
  }, 600_000);

  it('the workbench closes while the job runs and catches up when it starts again: adopted, each step once, finished', async () => {
    const shell = clusterShell({ transport: 'local', sshHost: null, sshConfig: null }, cluster.env);
    const service = () => createWorkbenchService({ home, mode: 'served', spawnRunner: spawn, probeBackend: async () => ({ name: 'none', detail: 'not needed' }) });
    const spawn: SpawnRunner = () => forkRunner(requireRunner(), { env: { ...cluster.env, ALPHANET_SLURM_POLL_MS: '1000' } });
    let svc: WorkbenchService = service();
    const run = await svc.handlers['runs.start'](slurmConfig({ stepsPerEpoch: 20, epochs: 2, checkpoint: { everySteps: 4 } }));
    await waitFor(() => listStepMetrics(m.db, run.id).length >= 2, 240_000, 'the run did not get going', 500);
    await svc.close(); // the app quits: a Slurm run is left running
    const left = getRun(m.db, run.id);
    expect(left).toMatchObject({ status: 'running', pid: null, error: null });
    const job = listRunClusterJobs(m.db, run.id)[0];
    expect(job.outcome).toBeNull();
    expect(isActive((await queryJob(shell, job.jobId)).state)).toBe(true);
    // The job goes on while no workbench follows it: its progress file grows past what the store has.
    const progress = join(job.remoteDir, 'progress.jsonl');
    // Whole lines only: the last one may be half written.
    const lastStep = () => Math.max(0, ...readFileSync(progress, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l) as { type: string; step?: number }).filter((l) => l.type === 'progress').map((l) => l.step!));
    await waitFor(() => lastStep() >= left.step + 4, 240_000, 'the job did not go on without the workbench', 500);
    expect(listStepMetrics(m.db, run.id).at(-1)!.step).toBe(left.step);

    svc = service(); // the app starts again: it adopts the run and follows the same job
    expect(getRun(m.db, run.id).pid).not.toBeNull();
    const done = await svc.manager.waitFor(run.id);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'finished', step: 40 });
    expect(listStepMetrics(m.db, run.id).map((s) => s.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(listRunClusterJobs(m.db, run.id).map((j) => [j.jobId, j.outcome])).toEqual([[job.jobId, 'finished']]);
    expect(listCheckpoints(m.db, run.id)[0]).toMatchObject({ step: 40 });
    const messages = listRunEvents(m.db, run.id).map((e) => e.message);
    expect(messages).toContainEqual(expect.stringMatching(/^the workbench closed: the slurm job runs on at step \d+/));
    expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^following Slurm job ${job.jobId} on test again \\(last seen RUNNING\\): catching up from its files after step ${left.step}$`)));

    // A job that ends while the workbench is closed: the next start finishes the run from its files at once.
    const short = await svc.handlers['runs.start'](slurmConfig());
    await waitFor(() => listRunClusterJobs(m.db, short.id)[0]?.state === 'RUNNING', 240_000, 'the short job did not start', 500);
    await svc.close();
    const shortJob = listRunClusterJobs(m.db, short.id)[0];
    await waitFor(async () => !isActive((await queryJob(shell, shortJob.jobId)).state), 240_000, 'the short job did not end');
    expect(getRun(m.db, short.id).status).toBe('running');
    svc = service();
    const caught = await svc.manager.waitFor(short.id);
    expect(caught).toMatchObject({ status: 'finished', step: 4, error: null });
    expect(listStepMetrics(m.db, short.id).map((s) => s.step)).toEqual([1, 2, 3, 4]);
    await svc.close();
  }, 600_000);
});
