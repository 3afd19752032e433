/**
 * A test sshd on 127.0.0.1 (the SSH path to a cluster's login node), with a host key and a client key made
 * for the test in a temp directory, public-key login only, for the current user. It writes an ssh client config
 * (`Host <alias>` → 127.0.0.1:<port>, that key, a known_hosts of its own), so the code under test runs the user's
 * ordinary `ssh -F <config> <alias>` exactly as it would against a real login node, and nothing in ~/.ssh is read
 * or changed.
 *
 * `env` entries are set for every session with sshd's `SetEnv` (e.g. SLURM_CONF of a test cluster, which a real
 * login node has in /etc/slurm). The test that starts it stops it; leftovers of a dead test process are ended like
 * the Slurm harness's (`cleanLeftoverSshd`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, onPath, slurmMissing, startSlurmCluster, waitFor, type SlurmCluster } from './slurm-harness';

const PREFIX = 'alphanet-sshd-';
const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  dir: string;
  port: number;
  /** The Host alias in `configFile`. */
  host: string;
  /** An ssh client config: `ssh -F configFile host` logs in. */
  configFile: string;
  stop(): Promise<void>;
}

export function sshdMissing(): string | null {
  if (process.platform !== 'linux') return 'the test sshd needs Linux';
  if (!existsSync(SSHD)) return 'not installed: sshd (apt-get install openssh-server)';
  const absent = ['ssh', 'ssh-keygen'].filter((b) => !onPath(b));
  return absent.length ? `not installed: ${absent.join(', ')} (apt-get install openssh-client)` : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function endPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  await waitFor(() => !alive(pid), 5000, 'sshd did not stop').catch(() => process.kill(pid, 'SIGKILL'));
}

export async function cleanLeftoverSshd(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(existsSync(join(dir, 'owner.pid')) ? readFileSync(join(dir, 'owner.pid'), 'utf8') : 0);
    if (owner > 0 && alive(owner)) continue;
    const pid = Number(existsSync(join(dir, 'sshd.pid')) ? readFileSync(join(dir, 'sshd.pid'), 'utf8') : 0);
    if (pid > 0) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        /* gone */
      }
      if (cmd.includes(dir)) await endPid(pid);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startTestSshd(opts: { env?: Record<string, string>; host?: string } = {}): Promise<TestSshd> {
  const missing = sshdMissing();
  if (missing) throw new Error(missing);
  await cleanLeftoverSshd();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`);
  const keygen = (file: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  };
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
  // Privilege separation directory that Debian's sshd insists on (created by its service unit otherwise).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = userInfo().username;
  const setEnv = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      // The key files live in a temp directory, not in a home directory sshd would check the modes of.
      'StrictModes no',
      'UsePAM no',
      ...(setEnv.length ? [`SetEnv ${setEnv.join(' ')}`] : []),
      '',
    ].join('\n'),
  );
  const host = opts.host ?? 'alphanet-test-login';
  const configFile = join(dir, 'ssh_config');
  writeFileSync(
    configFile,
    [
      `Host ${host}`,
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${dir}/client_key`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${dir}/known_hosts`,
      '  StrictHostKeyChecking accept-new',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
  const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  child.unref();
  (child.stderr as unknown as { unref?: () => void })?.unref?.();
  writeFileSync(join(dir, 'sshd.pid'), `${child.pid}\n`);
  const stop = async () => {
    if (child.pid) await endPid(child.pid);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () => spawnSync('ssh', ['-F', configFile, host, 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
      15_000,
      'ssh to the test sshd did not succeed',
      300,
    );
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  return { dir, port, host, configFile, stop };
}

/**
 * A slow cluster suite's daemons: fails (never skips: CI installs all of it) unless Slurm, sshd and `python` with
 * torch are here, then starts the test cluster and this machine's sshd as its login node.
 */
export async function startClusterAndSshd(python: string): Promise<{ cluster: SlurmCluster; sshd: TestSshd }> {
  const missing = slurmMissing() ?? sshdMissing() ?? (existsSync(python) ? null : `no ${python} (apt-get install python3-torch)`);
  if (missing) throw new Error(`ALPHANET_SLOW_TESTS=1 needs a Slurm test cluster, sshd and python3-torch: ${missing}`);
  const cluster = await startSlurmCluster();
  try {
    return { cluster, sshd: await startTestSshd({ env: { SLURM_CONF: cluster.conf } }) };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}
