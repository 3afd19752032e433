/**
 * The test harnesses themselves: a real single-node Slurm cluster runs a trivial two-task job to
 * completion, the test sshd lets `ssh -F <config> <alias>` reach that cluster's commands, and a dead test's leftover
 * cluster directory is cleaned up. Slow suite (starts daemons): ALPHANET_SLOW_TESTS=1, where a machine without
 * slurm-wlm, munge or openssh-server fails instead of skipping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanLeftoverClusters, slurmMissing, startSlurmCluster, waitFor, type SlurmCluster } from './slurm-harness';
import { sshdMissing, startTestSshd, type TestSshd } from './sshd-harness';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';

describe.runIf(SLOW)('Slurm and sshd test harnesses (slow)', () => {
  let cluster: SlurmCluster | undefined;
  let sshd: TestSshd | undefined;

  beforeAll(async () => {
    const missing = slurmMissing() ?? sshdMissing();
    if (missing) throw new Error(`ALPHANET_SLOW_TESTS=1 needs a Slurm test cluster and sshd: ${missing}`);
    cluster = await startSlurmCluster();
    sshd = await startTestSshd({ env: { SLURM_CONF: cluster.conf } });
  }, 90_000);

  afterAll(async () => {
    await sshd?.stop();
    await cluster?.stop();
    if (cluster) expect(existsSync(cluster.dir)).toBe(false);
  }, 60_000);

  it('runs a trivial two-task job to COMPLETED', async () => {
    const c = cluster!;
    const work = mkdtempSync(join(tmpdir(), 'alphanet-job-'));
    const script = join(work, 'job.sh');
    writeFileSync(script, '#!/bin/bash\n#SBATCH --ntasks=2 --time=1\nsrun bash -c \'echo "task $SLURM_PROCID of $SLURM_NTASKS"\'\n');
    const sub = spawnSync('sbatch', ['--parsable', `--output=${work}/out-%j.txt`, script], { env: c.env, encoding: 'utf8' });
    expect(sub.stderr).toBe('');
    const id = sub.stdout.trim();
    expect(id).toMatch(/^\d+$/);
    const state = () => spawnSync('scontrol', ['show', 'job', '-o', id], { env: c.env, encoding: 'utf8' }).stdout.match(/JobState=(\S+)/)?.[1];
    await waitFor(() => state() === 'COMPLETED', 30_000, `job ${id} did not complete (state ${state()})\n${c.logs()}`);
    const out = readFileSync(join(work, `out-${id}.txt`), 'utf8').split('\n').filter(Boolean).sort();
    rmSync(work, { recursive: true, force: true });
    expect(out).toEqual(['task 0 of 2', 'task 1 of 2']);
  });

  it('reaches the cluster through the test sshd with the key made for the test', () => {
    const s = sshd!;
    const r = spawnSync('ssh', ['-F', s.configFile, s.host, 'sinfo -h -o "%P %T"'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).not.toMatch(/denied|refused/i);
    expect(r.stdout.trim()).toBe('debug* idle');
    // No other key gets in: the same login without the test's identity is refused.
    const bare = spawnSync('ssh', ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${s.dir}/kh2`, '-p', String(s.port), '-i', '/dev/null', '-o', 'IdentitiesOnly=yes', '127.0.0.1', 'true'], { encoding: 'utf8', timeout: 20_000 });
    expect(bare.status).not.toBe(0);
  });

  it('removes the directory of a cluster whose test process died', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alphanet-slurm-'));
    mkdirSync(join(dir, 'run'));
    // A PID far above pid_max: never a live process.
    writeFileSync(join(dir, 'owner.pid'), '2147483646\n');
    writeFileSync(join(dir, 'run', 'slurmd.pid'), `${process.pid}\n`);
    const cleaned = await cleanLeftoverClusters();
    expect(cleaned).toContain(dir);
    expect(existsSync(dir)).toBe(false);
    // The live cluster (owner: this process) is untouched, and a PID whose command line does not name the
    // directory (this test process) was not signalled.
    expect(existsSync(cluster!.dir)).toBe(true);
  });
});
