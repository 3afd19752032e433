/**
 * Cluster profiles and the Slurm calls against a real single-node cluster (slurm-harness.ts) and a real sshd on
 * 127.0.0.1 (sshd-harness.ts): `clusters test` passes on a good profile, local and over ssh, and names what Slurm
 * refuses on a bad one; submit, state (pending with its reason, running, completed, cancelled) and cancel, with the
 * parsers reading the real squeue / scontrol output. Slow suite: ALPHANET_SLOW_TESTS=1, where missing slurm-wlm,
 * munge or openssh-server fail instead of skipping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterProfile } from '../../../src-main/store/cluster-profile';
import { checkCluster } from '../../../src-main/jobs/slurm/check';
import { clusterShell, mustExec, readFrom, shq, uploadDir, type ClusterShell } from '../../../src-main/jobs/slurm/shell';
import { cancelJob, describeEnd, isActive, queryJob, submitBatch } from '../../../src-main/jobs/slurm/scheduler';
import { writeFileSync } from 'node:fs';
import { slurmMissing, startSlurmCluster, waitFor, type SlurmCluster } from './slurm-harness';
import { sshdMissing, startTestSshd, type TestSshd } from './sshd-harness';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';
/** Debian's python3 with torch (the first python3 on a developer's PATH may be another). */
const PYTHON = '/usr/bin/python3';

describe.runIf(SLOW)('clusters against a real Slurm and sshd (slow)', () => {
  let cluster: SlurmCluster;
  let sshd: TestSshd;
  let runDir: string;
  const profile = (over: Partial<ClusterProfile> = {}): ClusterProfile => ({
    name: 'test', transport: 'local', sshHost: null, sshConfig: null, partition: 'debug', account: null, gpusPerNode: 0,
    runDir, pythonSetup: '', python: PYTHON, timeLimit: '10', createdAt: '', ...over,
  });

  beforeAll(async () => {
    const missing = slurmMissing() ?? sshdMissing();
    if (missing) throw new Error(`ALPHANET_SLOW_TESTS=1 needs a Slurm test cluster and sshd: ${missing}`);
    cluster = await startSlurmCluster();
    sshd = await startTestSshd({ env: { SLURM_CONF: cluster.conf } });
    runDir = mkdtempSync(join(tmpdir(), 'alphanet-cluster-runs-'));
  }, 90_000);
  afterAll(async () => {
    await sshd?.stop();
    await cluster?.stop();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  }, 60_000);

  it('clusters test: every check passes for a good local profile and a good ssh profile', async () => {
    const local = await checkCluster(profile(), cluster.env);
    expect(local.map((c) => [c.name, c.ok])).toEqual([
      ['shell on this machine', true],
      ['Slurm commands', true],
      ['Slurm controller', true],
      ['job options (partition debug, time 10)', true],
      [`run directory ${runDir}`, true],
      ['Python environment', true],
    ]);
    expect(local[2].detail).toBe('partitions: debug*');
    expect(local[5].detail).toMatch(/^python 3\.\d+\.\d+, torch \d+\.\d+\S* \(cpu on the login node\), numpy \d/);
    const ssh = await checkCluster(profile({ transport: 'ssh', sshHost: sshd.host, sshConfig: sshd.configFile }));
    expect(ssh.filter((c) => !c.ok)).toEqual([]);
    expect(ssh[0]).toMatchObject({ name: `ssh login to ${sshd.host}`, detail: expect.stringMatching(/^logged in as root@/) });
  });

  it('clusters test: names what Slurm refuses, a missing torch and a failing Python setup', async () => {
    const bad = await checkCluster(profile({ partition: 'nope', pythonSetup: 'module load pytorch', python: 'python3' }), cluster.env);
    const byName = Object.fromEntries(bad.map((c) => [c.name, c]));
    expect(byName['job options (partition nope, time 10)']).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused by Slurm: .*Invalid partition name specified$/) });
    expect(byName['Python environment']).toMatchObject({ ok: false, detail: expect.stringMatching(/^the Python setup failed: .*module: command not found/) });
    const gpus = await checkCluster(profile({ gpusPerNode: 2 }), cluster.env);
    expect(gpus.find((c) => c.name.startsWith('job options'))).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused by Slurm: .*(gres|Requested node configuration is not available)/i) });
    const noTorch = await checkCluster(profile({ python: 'env', pythonSetup: 'true' }), cluster.env);
    expect(noTorch.find((c) => c.name === 'Python environment')?.ok).toBe(false);
    const ro = await checkCluster(profile({ runDir: '/proc/alphanet' }), cluster.env);
    expect(ro.find((c) => c.name === 'run directory /proc/alphanet')).toMatchObject({ ok: false, detail: expect.stringMatching(/^cannot create or write it: /) });
  });

  /** Uploads a one-file bundle holding `script` through `shell` and submits it. */
  async function submit(shell: ClusterShell, name: string, script: string, opts: string[] = []): Promise<{ id: string; dir: string }> {
    const local = mkdtempSync(join(tmpdir(), 'alphanet-bundle-'));
    writeFileSync(join(local, 'job.sh'), script);
    const dir = join(runDir, name);
    await uploadDir(shell, local, dir);
    rmSync(local, { recursive: true, force: true });
    const id = await submitBatch(shell, join(dir, 'job.sh'), [`--chdir=${dir}`, `--output=${dir}/slurm-%j.out`, ...opts]);
    return { id, dir };
  }

  it('submits over ssh, sees PENDING with its reason, RUNNING, then COMPLETED; streams a file the job writes', async () => {
    const shell = clusterShell(profile({ transport: 'ssh', sshHost: sshd.host, sshConfig: sshd.configFile }));
    const { id, dir } = await submit(
      shell,
      'ok',
      '#!/bin/bash\n#SBATCH --ntasks=2 --time=2\nsrun bash -c \'echo "{\\"rank\\": $SLURM_PROCID}" >> progress-$SLURM_PROCID.jsonl\'\nfor i in 1 2 3; do echo "{\\"step\\": $i}" >> progress.jsonl; sleep 1; done\n',
      ['--begin=now+60'],
    );
    const pending = await queryJob(shell, id);
    expect(pending).toMatchObject({ jobId: id, state: 'PENDING', reason: 'BeginTime', source: 'squeue', nodeList: null });
    // Release it now: the same job, made eligible.
    await mustExec(shell, `scontrol update JobId=${shq(id)} StartTime=now`, 'release');
    await waitFor(async () => (await queryJob(shell, id)).state === 'RUNNING', 30_000, `job ${id} did not start`);
    const running = await queryJob(shell, id);
    expect(running).toMatchObject({ state: 'RUNNING', reason: null, numNodes: 1, nodeList: cluster.node });
    await waitFor(async () => !isActive((await queryJob(shell, id)).state), 30_000, `job ${id} did not end`);
    const done = await queryJob(shell, id);
    expect(done).toMatchObject({ state: 'COMPLETED', exitCode: '0:0', source: 'scontrol', nodeList: cluster.node });
    const lines = (await readFrom(shell, join(dir, 'progress.jsonl'), 0)).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([{ step: 1 }, { step: 2 }, { step: 3 }]);
    expect(await readFrom(shell, join(dir, 'progress.jsonl'), Buffer.byteLength('{"step": 1}\n'))).toBe('{"step": 2}\n{"step": 3}\n');
    expect(await readFrom(shell, join(dir, 'progress-1.jsonl'), 0)).toBe('{"rank": 1}\n');
    expect(await readFrom(shell, join(dir, 'not-yet.jsonl'), 0)).toBe('');
  });

  it('a cancelled job ends CANCELLED and reads as the scheduler\'s reason; an unknown job is UNKNOWN; sbatch refusals are one line', async () => {
    const shell = clusterShell(profile(), cluster.env);
    const { id } = await submit(shell, 'cancel', '#!/bin/bash\n#SBATCH --time=2\nsleep 120\n');
    await waitFor(async () => (await queryJob(shell, id)).state === 'RUNNING', 30_000, `job ${id} did not start`);
    await cancelJob(shell, id);
    await waitFor(async () => !isActive((await queryJob(shell, id)).state), 30_000, `job ${id} did not end`);
    const end = await queryJob(shell, id);
    expect(end.state).toBe('CANCELLED');
    expect(describeEnd(end)).toMatch(/^Slurm CANCELLED: the job was cancelled \(scancel or an administrator\)/);
    await cancelJob(shell, id); // again: already over, not an error
    expect(await queryJob(shell, '999999')).toMatchObject({ state: 'UNKNOWN', source: 'none' });
    const refused = await submitBatch(shell, join(runDir, 'cancel', 'job.sh'), ['--partition=nope']).catch((e: Error) => e.message);
    expect(refused).toMatch(/^sbatch refused the job on this machine: [^\n]*Invalid partition name specified$/);
  });
});
