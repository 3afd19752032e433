/**
 * Cluster profiles (fast): validation, the `clusters` table, `alphanet clusters add|list|test|remove`, and the checks
 * of `test` where they need no cluster (a PATH without the Slurm commands; an ssh host that does not resolve). The
 * checks against a real Slurm cluster and a real sshd are in clusters-slurm.test.ts (slow).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src-main/cli/program';
import { openDatabase } from '../../../src-main/store/db';
import { ClusterProfileError, addCluster, getCluster, listClusters, removeCluster } from '../../../src-main/store/clusters';
import { parseClusterProfile } from '../../../src-main/store/cluster-profile';
import { checkCluster } from '../../../src-main/jobs/slurm/check';
import { shellArgv } from '../../../src-main/jobs/slurm/shell';
import { databaseAtVersion } from '../store/old-db';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: { ...process.env, ...env } });
  return { code, out, err };
}

/** A PATH holding only bash: every external command, Slurm's included, is missing. */
function bashOnlyPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'alphanet-bin-'));
  symlinkSync('/bin/bash', join(dir, 'bash'));
  return dir;
}

describe('cluster profile validation', () => {
  it('fills defaults and drops ssh fields of a local profile', () => {
    const r = parseClusterProfile({ name: 'here', transport: 'local', runDir: '/scratch/me/', sshHost: 'ignored' });
    expect(r).toEqual({
      ok: true,
      profile: { name: 'here', transport: 'local', sshHost: null, sshConfig: null, partition: null, account: null, gpusPerNode: 0, runDir: '/scratch/me', pythonSetup: '', python: 'python3', timeLimit: null },
    });
  });
  it.each([
    [{ name: 'a b', transport: 'local', runDir: '/x' }, 'name'],
    [{ name: 'a', transport: 'ssh', runDir: '/x' }, 'sshHost'],
    [{ name: 'a', transport: 'ssh', sshHost: '-oProxyCommand=sh', runDir: '/x' }, 'sshHost'],
    [{ name: 'a', transport: 'local', runDir: 'rel/dir' }, 'runDir'],
    [{ name: 'a', transport: 'local', runDir: "/x'; rm -rf ~" }, 'runDir'],
    [{ name: 'a', transport: 'local', runDir: '/x', partition: 'gpu debug' }, 'partition'],
    [{ name: 'a', transport: 'local', runDir: '/x', gpusPerNode: -1 }, 'gpusPerNode'],
    [{ name: 'a', transport: 'local', runDir: '/x', timeLimit: 'one day' }, 'timeLimit'],
    [{ name: 'a', transport: 'local', runDir: '/x', python: 'python3; rm' }, 'python'],
  ])('refuses %j naming %s', (input, field) => {
    const r = parseClusterProfile(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message.startsWith(`${field}: `)).toBe(true);
    }
  });
  it('runs ssh in batch mode (no password prompt) with the profile\'s config, the script as one argument', () => {
    expect(shellArgv({ transport: 'ssh', sshHost: 'login', sshConfig: '/home/me/.ssh/hpc' }, "echo 'hi'")).toEqual([
      'ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-o', 'ServerAliveInterval=15', '-F', '/home/me/.ssh/hpc', '--', 'login', `bash -lc 'echo '\\''hi'\\'''`,
    ]);
    expect(shellArgv({ transport: 'local', sshHost: null, sshConfig: null }, 'true')).toEqual(['bash', '-c', 'true']);
  });
});

describe('clusters table', () => {
  it('adds, lists, refuses a duplicate name, replaces, removes', () => {
    const db = openDatabase(':memory:');
    const a = addCluster(db, { name: 'b-hpc', transport: 'ssh', sshHost: 'me@login.hpc', runDir: '~/alphanet', gpusPerNode: 4, partition: 'gpu', account: 'proj1', timeLimit: '1-00:00:00' });
    addCluster(db, { name: 'a-local', transport: 'local', runDir: '/scratch' });
    expect(listClusters(db).map((c) => c.name)).toEqual(['a-local', 'b-hpc']);
    expect(getCluster(db, 'b-hpc')).toEqual(a);
    expect(a).toMatchObject({ sshHost: 'me@login.hpc', gpusPerNode: 4, partition: 'gpu', account: 'proj1', timeLimit: '1-00:00:00', runDir: '~/alphanet' });
    expect(() => addCluster(db, { name: 'b-hpc', transport: 'local', runDir: '/x' })).toThrow(/a cluster named 'b-hpc' exists already/);
    const r = addCluster(db, { name: 'b-hpc', transport: 'local', runDir: '/x' }, { replace: true });
    expect(r).toMatchObject({ transport: 'local', sshHost: null, createdAt: a.createdAt });
    expect(() => addCluster(db, { name: 'c', transport: 'local', runDir: 'x' })).toThrow(ClusterProfileError);
    removeCluster(db, 'b-hpc');
    expect(() => getCluster(db, 'b-hpc')).toThrow(/no cluster named 'b-hpc' \(known: a-local\)/);
    expect(() => removeCluster(db, 'b-hpc')).toThrow(/no cluster named/);
    db.close();
  });
  it('the migration adds the table to a database of the previous schema', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'alphanet-store-')), 'alphanet.db');
    databaseAtVersion(path, 6).close();
    const db = openDatabase(path);
    expect(listClusters(db)).toEqual([]);
    db.close();
  });
});

describe('alphanet clusters', () => {
  it('add, list --json, test (no Slurm on PATH: says which commands), remove', async () => {
    const home = mkdtempSync(join(tmpdir(), 'alphanet-home-'));
    const add = await cli(['--home', home, 'clusters', 'add', 'here', '--local', '--run-dir', join(home, 'cluster-runs'), '--partition', 'debug', '--gpus-per-node', '0']);
    expect(add.err).toBe('');
    expect(add.out).toMatch(/^here: Slurm commands on this machine\n {2}partition debug/);
    expect((await cli(['--home', home, 'clusters', 'add', 'x', '--local', '--ssh', 'h', '--run-dir', '/x'])).err).toMatch(/give exactly one of --local or --ssh <host>/);
    expect((await cli(['--home', home, 'clusters', 'add', 'x', '--local', '--run-dir', 'rel'])).err).toBe('alphanet: runDir: an absolute path (or ~/…) on the cluster\n');
    const list = await cli(['--home', home, '--json', 'clusters', 'list']);
    expect(JSON.parse(list.out).map((c: { name: string }) => c.name)).toEqual(['here']);
    const bin = bashOnlyPath();
    const t = await cli(['--home', home, 'clusters', 'test', 'here'], { PATH: bin });
    rmSync(bin, { recursive: true, force: true });
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/^ok {4}shell on this machine: logged in as /m);
    expect(t.out).toMatch(/^FAIL {2}Slurm commands: not on PATH here: sbatch, squeue, scontrol, scancel \(install slurm-client, or use an ssh profile for a login node\)$/m);
    expect(t.err).toBe('alphanet: cluster here is not ready: Slurm commands failed\n');
    expect((await cli(['--home', home, 'clusters', 'remove', 'here'])).out).toBe('removed cluster here\n');
    expect((await cli(['--home', home, 'clusters', 'remove', 'here'])).err).toMatch(/no cluster named 'here'/);
    rmSync(home, { recursive: true, force: true });
  });

  it('an ssh host that does not resolve fails the login check with ssh\'s reason, and nothing after it runs', async () => {
    const checks = await checkCluster({
      name: 'far', transport: 'ssh', sshHost: 'no-such-host.invalid', sshConfig: '/dev/null', partition: null, account: null, gpusPerNode: 0,
      runDir: '/x', pythonSetup: '', python: 'python3', timeLimit: null, createdAt: '',
    });
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ name: 'ssh login to no-such-host.invalid', ok: false });
    expect(checks[0].detail).toMatch(/ssh cannot resolve no-such-host\.invalid: add a Host entry to \/dev\/null/);
  });
});
