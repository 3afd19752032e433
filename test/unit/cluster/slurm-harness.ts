/**
 * A real single-node Slurm cluster for tests (cluster submission), in a temp directory: its own munged (own key and socket),
 * slurmctld and slurmd (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none: no cgroups needed, so it runs in a
 * container as root), one node with this machine's cores, a `debug` partition, on free ports. Nothing under /etc is
 * touched and nothing is shared with another cluster, so two test files may each start one.
 *
 * The test that starts a cluster stops it (`stop()`: running jobs cancelled, daemons ended by the PIDs this helper
 * spawned, directory removed). A test process that died before stopping leaves its directory behind with an
 * `owner.pid` naming the dead process: the next `startSlurmCluster` ends that cluster's daemons (by the PIDs in its
 * pid files, only if their command line names that directory) and removes it. A live owner's cluster is left alone.
 *
 * Needs root, Debian's `slurm-wlm` and `munge`. `slurmMissing()` says what is absent; with ALPHANET_SLOW_TESTS=1 the
 * suites fail on it instead of skipping (CI installs both in `.ci/run`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const PREFIX = 'alphanet-slurm-';
const BINARIES = ['munged', 'munge', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo', 'srun'];

export interface SlurmCluster {
  /** The temp directory holding config, state, spool, logs and the munge socket. */
  dir: string;
  /** Path of slurm.conf; clients find the cluster through SLURM_CONF. */
  conf: string;
  /** `process.env` plus SLURM_CONF: pass it to anything that runs sbatch/squeue/... */
  env: NodeJS.ProcessEnv;
  partition: string;
  node: string;
  cpus: number;
  /** The daemons' log files, for a failing test's message. */
  logs(): string;
  /** Cancels every job, ends the daemons, removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Why a cluster cannot be started here, or null when it can. */
export function slurmMissing(): string | null {
  if (process.platform !== 'linux') return 'the Slurm test cluster needs Linux';
  if (process.getuid?.() !== 0) return 'the Slurm test cluster needs root (slurmd runs jobs as their owner)';
  const absent = BINARIES.filter((b) => !onPath(b));
  return absent.length ? `not installed: ${absent.join(', ')} (apt-get install slurm-wlm munge)` : null;
}

export function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** A TCP port nobody listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

async function endPid(pid: number, timeoutMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < until) await sleep(100);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Ends the daemons of clusters whose owning test process is gone, and removes their directories. */
export async function cleanLeftoverClusters(prefix = PREFIX): Promise<string[]> {
  const cleaned: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(tmpdir(), name);
    const owner = readPid(join(dir, 'owner.pid'));
    if (owner !== null && alive(owner)) continue;
    for (const f of ['run/slurmd.pid', 'run/slurmctld.pid', 'munge/munged.pid', 'run/daemon.pids']) {
      const file = join(dir, f);
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const pid = Number(line.trim());
        // Only a process whose command line names this directory is one of its daemons (PIDs get reused).
        if (Number.isInteger(pid) && pid > 0 && cmdline(pid).includes(dir)) await endPid(pid, 3000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    cleaned.push(dir);
  }
  return cleaned;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 15_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

export interface StartOptions {
  /** CPUs of the one node (default: this machine's cores). */
  cpus?: number;
  /** Extra slurm.conf lines (e.g. a shorter KillWait). */
  extraConf?: string[];
}

/** Starts munged, slurmctld and slurmd in a new temp directory and waits until the node is idle. */
export async function startSlurmCluster(opts: StartOptions = {}): Promise<SlurmCluster> {
  const missing = slurmMissing();
  if (missing) throw new Error(missing);
  await cleanLeftoverClusters();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`);
  for (const d of ['state', 'spool', 'run', 'log', 'munge']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'munge'), 0o700);
  const key = join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const socket = join(dir, 'munge', 'munge.socket');
  const node = hostname().split('.')[0];
  const ncpu = opts.cpus ?? cpus().length;
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      `ClusterName=alphanet${ctldPort}`,
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/run/slurmctld.pid`,
      `SlurmdPidFile=${dir}/run/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'ReturnToService=2',
      'SchedulerType=sched/backfill',
      // Finished jobs stay in `scontrol show job` for MinJobAge seconds; accounting (sacct) is off, as on many
      // small clusters, so the job-completion log keeps the record after that.
      'JobCompType=jobcomp/filetxt',
      `JobCompLoc=${dir}/log/jobcomp.txt`,
      'KillWait=5',
      ...(opts.extraConf ?? []),
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${ncpu} State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const spawnDaemon = (cmd: string, args: string[]) => {
    // Foreground (-D/-F), detached into its own process group, output in the daemon's own log file.
    const child = spawn(cmd, args, { env, stdio: 'ignore', detached: true });
    child.unref();
    children.push(child);
    writeFileSync(join(dir, 'run', 'daemon.pids'), `${children.map((c) => c.pid).join('\n')}\n`);
    return child;
  };
  const logs = () =>
    ['munge/munged.log', 'log/slurmctld.log', 'log/slurmd.log']
      .map((f) => {
        const p = join(dir, f);
        return existsSync(p) ? `--- ${f}\n${readFileSync(p, 'utf8').split('\n').slice(-30).join('\n')}` : `--- ${f}: none`;
      })
      .join('\n');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (children.length > 1) {
      // Jobs first, while slurmd can still end their steps; then the daemons, newest first.
      run('scancel', ['--partition=debug'], env);
      await waitFor(() => run('squeue', ['-h', '-o', '%i'], env).out === '', 15_000, 'jobs did not end').catch(() => undefined);
    }
    for (const c of [...children].reverse()) if (c.pid) await endPid(c.pid);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    spawnDaemon('munged', [
      '-F',
      '--force',
      `--socket=${socket}`,
      `--key-file=${key}`,
      `--pid-file=${dir}/munge/munged.pid`,
      `--log-file=${dir}/munge/munged.log`,
      `--seed-file=${dir}/munge/munged.seed`,
    ]);
    await waitFor(() => run('munge', ['-S', socket, '-n'], env).ok, 10_000, 'munged did not answer on its socket');
    spawnDaemon('slurmctld', ['-D', '-f', conf]);
    spawnDaemon('slurmd', ['-D', '-f', conf, '-N', node]);
    await waitFor(
      () => {
        const r = run('sinfo', ['-h', '-n', node, '-o', '%T'], env);
        return r.ok && r.out.startsWith('idle');
      },
      30_000,
      'the node did not become idle',
    );
  } catch (e) {
    const message = `${(e as Error).message}\n${logs()}`;
    await stop();
    throw new Error(message);
  }
  return { dir, conf, env, partition: 'debug', node, cpus: ncpu, logs, stop };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 200): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`${what} within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(everyMs);
  }
}

/**
 * Points this process's environment (and so every runner the CLI forks) at the test cluster, with a brisk follower
 * (the job's progress is polled every second); returns the function that puts the environment back.
 */
export function useClusterEnv(cluster: SlurmCluster): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries({ SLURM_CONF: cluster.conf, ALPHANET_SLURM_POLL_MS: '1000' })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
}

/**
 * Undoes a slow suite's setup in reverse order: the environment, the database, the daemons (sshd before the cluster
 * it submits to), the temp folders. Whatever the beforeAll did not get to start is skipped.
 */
export async function tearDownSuite(p: { restoreEnv?: () => void; db?: { close(): void }; daemons: ({ stop(): Promise<void> } | undefined)[]; dirs: (string | undefined)[] }): Promise<void> {
  p.restoreEnv?.();
  p.db?.close();
  for (const d of p.daemons) await d?.stop();
  for (const d of p.dirs) if (d) rmSync(d, { recursive: true, force: true });
}
