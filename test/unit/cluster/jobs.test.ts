/**
 * Cluster jobs end to end on a real single-node Slurm (slurm-harness.ts) and a real sshd (sshd-harness.ts): the
 * generated sbatch script runs `srun` → the engine's torchrun shim → a c10d rendezvous → a 2-rank gloo process group
 * (test/fixtures/cluster/ddp_probe.py, the run-directory conventions of the engine in seconds), submitted through
 * the workbench's submit and followed by its tracker into SQLite: finished over ssh; a `scancel` mid-run → failed
 * with Slurm's reason → resubmitted with --resume → finished from where it stopped; pause through the control file;
 * and catch-up of a job that ended while nobody polled. Slow suite (ALPHANET_SLOW_TESTS=1; missing slurm-wlm,
 * munge, openssh-server or Debian's python3-torch fail it instead of skipping).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase, type Db } from '../../../src-main/store/db';
import { listOpenClusterJobs, listRunClusterJobs } from '../../../src-main/store/cluster-jobs';
import type { ClusterProfile } from '../../../src-main/store/cluster-profile';
import { clusterShell, type ClusterShell } from '../../../src-main/jobs/slurm/shell';
import { cancelJob, isActive, queryJob } from '../../../src-main/jobs/slurm/scheduler';
import { submitClusterJob, type SubmitOptions } from '../../../src-main/jobs/slurm/submit';
import { jobLog, pauseClusterJob, pollClusterJob, type ProgressLine } from '../../../src-main/jobs/slurm/tracker';
import { jobScript } from '../../../src-main/jobs/slurm/script';
import { parseAnswers } from '../../../src-main/jobs/slurm/slurm-search';
import { slurmMissing, startSlurmCluster, waitFor, type SlurmCluster } from './slurm-harness';
import { sshdMissing, startTestSshd, type TestSshd } from './sshd-harness';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';
const PYTHON = '/usr/bin/python3';
const ENGINE = resolve(__dirname, '../../../engines/torch');
const PROBE = resolve(__dirname, '../../fixtures/cluster');

describe('the generated sbatch script', () => {
  const p: ClusterProfile = { name: 'hpc', transport: 'ssh', sshHost: 'login', sshConfig: null, partition: 'gpu', account: 'proj', gpusPerNode: 4, runDir: '~/an', pythonSetup: 'module load pytorch', python: 'python3', timeLimit: '24:00:00', createdAt: '' };
  it('asks for N nodes × one launcher task, the GPUs, and runs torchrun with a c10d rendezvous on the first node', () => {
    const s = jobScript(p, { name: 'alphanet run 12', dir: '/scratch/me/an/run-12', nodes: 8, module: 'alphanet_torch.train', args: ['--resume'] });
    expect(s.split('\n').filter((l) => l.startsWith('#SBATCH'))).toEqual([
      '#SBATCH --job-name=alphanet-run-12',
      '#SBATCH --nodes=8',
      '#SBATCH --ntasks-per-node=1',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --partition=gpu',
      '#SBATCH --account=proj',
      '#SBATCH --time=24:00:00',
      '#SBATCH --gres=gpu:4',
    ]);
    expect(s).toContain("{ module load pytorch\n} || exit 97\nexport PYTHONPATH='/scratch/me/an/run-12'/engine${PYTHONPATH:+:$PYTHONPATH}");
    expect(s).toContain(
      `srun --kill-on-bad-exit=1 python3 -m alphanet_torch.torchrun --nnodes="$SLURM_JOB_NUM_NODES" --nproc_per_node=4 --rdzv_backend=c10d --rdzv_endpoint="$head:$port" --rdzv_id="$SLURM_JOB_ID" -m alphanet_torch.train '/scratch/me/an/run-12' '--resume'`,
    );
    expect(() => jobScript(p, { name: 'x', dir: '/x', nodes: 0, module: 'm' })).toThrow(/nodes must be a positive integer/);
  });
  it('CPU ranks per node without GPUs; a ~ directory stays expandable', () => {
    const s = jobScript({ ...p, gpusPerNode: 0, partition: null, account: null, timeLimit: null, pythonSetup: '' }, { name: 'x', dir: '~/an/run-1', nodes: 2, ranksPerNode: 3, module: 'm' });
    expect(s).toContain('#SBATCH --cpus-per-task=3');
    expect(s).not.toContain('--gres');
    expect(s).toContain('cd "$HOME"/\'an/run-1\' || exit 96');
    expect(s).toContain('--nproc_per_node=3');
  });
  it('dirArg false: the module gets only its arguments (files relative to the run directory, the ranks\' cwd)', () => {
    const s = jobScript(p, { name: 'x', dir: '/r/search-3', nodes: 1, module: 'alphanet_torch.evaluate', dirArg: false, args: ['setup.json', '--rank-split'] });
    expect(s).toContain("cd '/r/search-3' || exit 96");
    expect(s).toMatch(/ -m alphanet_torch\.evaluate 'setup\.json' '--rank-split'$/m);
  });
});

describe('the answers of a search-evaluation job', () => {
  it('reads every rank\'s lines; a torn line, a foreign line and a second answer of an id are skipped', () => {
    const r = { accuracy: 0.5, loss: 1.2, images: 10, before: { accuracy: 0.1, loss: 2.3, method: 'reset' }, calibration: { batches: 1, images: 8 }, ms: 3 };
    const text = [JSON.stringify({ id: 1, result: r }), JSON.stringify({ id: 0, error: 'bad genome' }), JSON.stringify({ id: 1, result: { ...r, accuracy: 0.9 } }), 'not json', JSON.stringify({ id: 'x', result: r }), JSON.stringify({ id: 2 }), '{"id": 3, "res'].join('\n');
    const a = parseAnswers(text);
    expect([...a.keys()].sort()).toEqual([0, 1]);
    expect(a.get(1)?.result?.accuracy).toBe(0.5);
    expect(a.get(0)).toEqual({ id: 0, error: 'bad genome' });
  });
});

describe.runIf(SLOW)('cluster jobs on a real Slurm (slow)', () => {
  let cluster: SlurmCluster;
  let sshd: TestSshd;
  let runDir: string;
  let db: Db;
  const profile = (over: Partial<ClusterProfile> = {}): ClusterProfile => ({
    name: 'test', transport: 'local', sshHost: null, sshConfig: null, partition: 'debug', account: null, gpusPerNode: 0,
    runDir, pythonSetup: '', python: PYTHON, timeLimit: '10', createdAt: '', ...over,
  });
  const probe = (subdir: string, steps: number, seconds: number, over: Partial<SubmitOptions> = {}): SubmitOptions => ({
    kind: 'train', name: subdir, subdir, bundleDir: PROBE, engineDir: ENGINE, module: 'ddp_probe', args: [String(steps), String(seconds)], nodes: 1, ranksPerNode: 2, ...over,
  });
  /** Polls job `id` until it has an outcome, collecting its lines. */
  async function follow(shell: ClusterShell, id: number, lines: ProgressLine[] = [], until?: (l: ProgressLine[]) => boolean) {
    let job = (await pollClusterJob(db, shell, id, (ls) => lines.push(...ls))).job;
    const deadline = Date.now() + 150_000;
    while (!job.outcome && !(until?.(lines)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      job = (await pollClusterJob(db, shell, id, (ls) => lines.push(...ls))).job;
    }
    return { job, lines };
  }

  beforeAll(async () => {
    const missing = slurmMissing() ?? sshdMissing() ?? (existsSync(PYTHON) ? null : `no ${PYTHON} (apt-get install python3-torch)`);
    if (missing) throw new Error(`ALPHANET_SLOW_TESTS=1 needs a Slurm test cluster, sshd and python3-torch: ${missing}`);
    cluster = await startSlurmCluster();
    sshd = await startTestSshd({ env: { SLURM_CONF: cluster.conf } });
    runDir = mkdtempSync(join(tmpdir(), 'alphanet-cluster-runs-'));
    db = openDatabase(':memory:');
  }, 90_000);
  afterAll(async () => {
    db?.close();
    await sshd?.stop();
    await cluster?.stop();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  }, 60_000);

  it('a 2-rank gloo job over ssh: submitted, followed into SQLite to finished, with its Slurm log', async () => {
    const shell = clusterShell(profile({ transport: 'ssh', sshHost: sshd.host, sshConfig: sshd.configFile }));
    const row = await submitClusterJob(db, shell, profile(), probe('ssh-run', 3, 0.2, { runId: null }));
    expect(row).toMatchObject({ cluster: 'test', state: 'SUBMITTED', nodes: 1, ranksPerNode: 2, progressOffset: 0, outcome: null, remoteDir: `${runDir}/ssh-run` });
    expect(listOpenClusterJobs(db).map((j) => j.id)).toContain(row.id);
    const { job, lines } = await follow(shell, row.id);
    expect(job).toMatchObject({ outcome: 'finished', error: null, nodeList: cluster.node });
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress.map((l) => l.step)).toEqual([1, 2, 3]);
    // Both ranks met: the all-reduce of (rank + 1) over 2 ranks.
    expect(progress.every((l) => l.sum === 3 && l.workers === 2)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ type: 'done', status: 'finished' });
    // The done line can arrive while the batch script still runs its last lines.
    await waitFor(async () => !isActive((await queryJob(shell, job.jobId)).state), 30_000, 'the job did not end');
    const log = await jobLog(shell, job);
    expect(log).toMatch(new RegExp(`alphanet: job ${job.jobId} on 1 node\\(s\\) \\(${cluster.node}\\), rendezvous ${cluster.node}:\\d+`));
    expect(log).toContain('alphanet: launcher exited with 0');
    expect(listOpenClusterJobs(db).map((j) => j.id)).not.toContain(row.id);
  });

  it('scancel mid-run → failed with the scheduler\'s reason → resubmitted with --resume → finished from where it stopped', async () => {
    const shell = clusterShell(profile(), cluster.env);
    const first = await submitClusterJob(db, shell, profile(), probe('killed', 12, 1, { runId: null }));
    const seen: ProgressLine[] = [];
    await follow(shell, first.id, seen, (l) => l.some((x) => x.type === 'progress' && (x.step as number) >= 2));
    await cancelJob(shell, first.jobId);
    const { job: failed } = await follow(shell, first.id, seen);
    expect(failed.outcome).toBe('failed');
    expect(failed.error).toMatch(/^Slurm CANCELLED: the job was cancelled \(scancel or an administrator\)/);
    const stoppedAt = Math.max(...seen.filter((l) => l.type === 'progress').map((l) => l.step as number));
    expect(stoppedAt).toBeLessThan(12);
    // Resume: a new submission of the same folder (bundle and engine already there), from its saved state.
    const second = await submitClusterJob(db, shell, profile(), probe('killed', 12, 0.1, { bundleDir: null, engineDir: null, args: ['12', '0.1', '--resume'] }));
    expect(second.progressOffset).toBeGreaterThan(0);
    const { job: done, lines } = await follow(shell, second.id);
    expect(done.outcome).toBe('finished');
    expect(lines[0]).toMatchObject({ type: 'event', kind: 'resume' });
    const steps = lines.filter((l) => l.type === 'progress').map((l) => l.step as number);
    expect(steps[0]).toBeGreaterThanOrEqual(stoppedAt);
    expect(steps.at(-1)).toBe(12);
  });

  it('pause = the engine stops at a step boundary, then the allocation is released; a job nobody polled is caught up', async () => {
    const shell = clusterShell(profile(), cluster.env);
    const row = await submitClusterJob(db, shell, profile(), probe('paused', 100, 0.5, { runId: null }));
    await follow(shell, row.id, [], (l) => l.some((x) => x.type === 'progress'));
    const paused = await pauseClusterJob(db, shell, row.id, { everyMs: 500 });
    expect(paused.outcome).toBe('paused');
    await waitFor(async () => !isActive((await queryJob(shell, paused.jobId)).state), 30_000, 'the paused job did not end');

    // Catch-up: submitted, then not polled until it has ended (the workbench was closed).
    const unwatched = await submitClusterJob(db, shell, profile(), probe('unwatched', 2, 0.1, { runId: null }));
    await waitFor(async () => !isActive((await queryJob(shell, unwatched.jobId)).state), 90_000, 'the unwatched job did not end');
    const once: ProgressLine[] = [];
    const r = await pollClusterJob(db, shell, unwatched.id, (ls) => once.push(...ls));
    expect(r.job.outcome).toBe('finished');
    expect(once.map((l) => l.type)).toEqual(['event', 'progress', 'progress', 'done']);
    // Another poll reads nothing twice.
    expect((await pollClusterJob(db, shell, unwatched.id)).lines).toEqual([]);
    expect(listRunClusterJobs(db, 1)).toEqual([]);
  });
});
