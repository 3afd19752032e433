/**
 * A shell on a cluster (docs/CLUSTER.md): every Slurm command, file upload and file read of the workbench goes
 * through one `ClusterShell`, so the local and the SSH path run the same commands and differ only in the argv
 * prefix — `bash -c <script>` here, or `ssh -o BatchMode=yes [-F config] <host> bash -lc <script>` (a login shell, so
 * the login node's own profile puts sbatch and modules on PATH). Files travel as tar streams through the same
 * channel (no scp/sftp, no second connection setup): `uploadDir` pipes a local directory into
 * `tar -x` on the cluster, `downloadFiles` pipes `tar -c` from the cluster into a local directory.
 *
 * BatchMode=yes: ssh never asks for a password or passphrase, it fails with its own message, which the caller shows.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { ClusterProfile } from '../../store/cluster-profile';

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Bytes written to the command's stdin (then closed). */
  input?: Buffer | string;
  /** Killed after this long (its result then says so). */
  timeoutMs?: number;
  /** Where the command's stdout goes instead of being collected (download). */
  stdoutTo?: NodeJS.WritableStream;
}

export class ClusterShellError extends Error {
  override name = 'ClusterShellError';
}

/** Single-quotes `s` for a POSIX shell. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A path on the cluster for the shell: `~/x` stays expandable (`"$HOME"/'x'`), anything else is quoted. */
export function shPath(p: string): string {
  if (p === '~') return '"$HOME"';
  return p.startsWith('~/') ? `"$HOME"/${shq(p.slice(2))}` : shq(p);
}

export interface ClusterShell {
  /** "this machine" or "ssh <host>": for messages. */
  readonly where: string;
  exec(script: string, opts?: ExecOptions): Promise<ShellResult>;
}

/** The argv that runs `script` on the profile's cluster. */
export function shellArgv(p: Pick<ClusterProfile, 'transport' | 'sshHost' | 'sshConfig'>, script: string): string[] {
  if (p.transport === 'local') return ['bash', '-c', script];
  if (!p.sshHost) throw new ClusterShellError('an ssh cluster profile needs a host');
  return [
    'ssh',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=15',
    '-o', 'ServerAliveInterval=15',
    ...(p.sshConfig ? ['-F', p.sshConfig] : []),
    '--',
    p.sshHost,
    `bash -lc ${shq(script)}`,
  ];
}

export function clusterShell(p: Pick<ClusterProfile, 'transport' | 'sshHost' | 'sshConfig'>, env: NodeJS.ProcessEnv = process.env): ClusterShell {
  return {
    where: p.transport === 'local' ? 'this machine' : `ssh ${p.sshHost}`,
    exec: (script, opts = {}) => runArgv(shellArgv(p, script), env, opts),
  };
}

function runArgv(argv: string[], env: NodeJS.ProcessEnv, opts: ExecOptions): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : null;
    if (opts.stdoutTo) child.stdout.pipe(opts.stdoutTo, { end: false });
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new ClusterShellError(`cannot run ${argv[0]}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) stderr += `\ntimed out after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`;
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: stderr.trim() });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** The last non-empty line of a command's stderr (ssh and Slurm put the reason there), or a fallback. */
export function lastLine(text: string, fallback = 'no message'): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : fallback;
}

/** Runs `script`, throwing a one-line error naming `what` when it fails. */
export async function mustExec(shell: ClusterShell, script: string, what: string, opts: ExecOptions = {}): Promise<string> {
  const r = await shell.exec(script, { timeoutMs: 120_000, ...opts });
  if (r.code !== 0) throw new ClusterShellError(`${what} failed on ${shell.where}: ${lastLine(r.stderr, `exit code ${r.code}`)}`);
  return r.stdout;
}

/** Copies the files of local directory `localDir` into `remoteDir` on the cluster (created), as one tar stream. */
export async function uploadDir(shell: ClusterShell, localDir: string, remoteDir: string): Promise<void> {
  const tar = spawn('tar', ['-C', localDir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  tar.stdout.on('data', (d: Buffer) => chunks.push(d));
  let tarErr = '';
  tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
  const code = await new Promise<number>((resolve) => tar.on('close', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new ClusterShellError(`cannot pack ${localDir}: ${lastLine(tarErr)}`);
  await mustExec(shell, `mkdir -p ${shPath(remoteDir)} && tar -C ${shPath(remoteDir)} -xf -`, `copying the run bundle to ${remoteDir}`, {
    input: Buffer.concat(chunks),
    timeoutMs: 30 * 60_000,
  });
}

/** Copies `files` (relative to `remoteDir`) from the cluster into local directory `localDir` (created);
 * `ignoreMissing`: a file that is gone by then (pruned by the job) is skipped. */
export async function downloadFiles(shell: ClusterShell, remoteDir: string, files: string[], localDir: string, opts: { ignoreMissing?: boolean } = {}): Promise<void> {
  mkdirSync(localDir, { recursive: true });
  const untar = spawn('tar', ['-C', localDir, '-xf', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let untarErr = '';
  untar.stderr.on('data', (d: Buffer) => (untarErr += d.toString()));
  const untarDone = new Promise<number>((resolve) => untar.on('close', (c) => resolve(c ?? 1)));
  // A job prunes old checkpoints while they are copied: GNU tar then reads the unlinked file to its end (a checkpoint
  // is written under a temporary name and renamed, so its bytes never change) but exits 1, "file changed as we read
  // it". With ignoreMissing that is expected, not a failure; without it every file must be read cleanly.
  const r = await shell.exec(`tar -C ${shPath(remoteDir)}${opts.ignoreMissing ? ' --ignore-failed-read --warning=no-file-changed' : ''} -cf - ${files.map(shq).join(' ')}`, { stdoutTo: untar.stdin, timeoutMs: 30 * 60_000 });
  untar.stdin.end();
  const code = await untarDone;
  if (r.code !== 0 && !(opts.ignoreMissing && r.code === 1)) throw new ClusterShellError(`copying ${files.join(', ')} from ${remoteDir} failed on ${shell.where}: ${lastLine(r.stderr, `exit code ${r.code}`)}`);
  if (code !== 0) throw new ClusterShellError(`cannot unpack the files from ${remoteDir}: ${lastLine(untarErr)}`);
}

/** Bytes of `remotePath` from `offset` on (empty when the file does not exist yet). */
export async function readFrom(shell: ClusterShell, remotePath: string, offset: number): Promise<string> {
  const r = await shell.exec(`f=${shPath(remotePath)}; [ -f "$f" ] || exit 0; tail -c +${offset + 1} "$f"`, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new ClusterShellError(`reading ${remotePath} failed on ${shell.where}: ${lastLine(r.stderr, `exit code ${r.code}`)}`);
  return r.stdout;
}
