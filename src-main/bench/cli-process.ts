/**
 * One `alphanet` invocation in its own process, as the studies and benches run the product: the built CLI on a data
 * directory, stdout and stderr collected, the promise settled when the process has closed. Not blocking, so a
 * caller can run several side by side.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CliRun {
  /** The built CLI (`out/main/cli.js`). */
  cli: string;
  /** The data directory (`--home`). */
  home: string;
  args: string[];
  /** Added to this process's environment. Default: nothing. */
  env?: NodeJS.ProcessEnv;
  /** Each non-empty stderr line (the CLI's progress), trimmed, as it arrives. Default: none. */
  onStderrLine?: (line: string) => void;
  /** The child once spawned, so a caller can signal it (the fidelity study pauses its runs on SIGTERM). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface CliResult {
  /** Exit code; null when the process was killed by a signal or could not be started. */
  code: number | null;
  stdout: string;
  /** All of stderr; when the process could not be started, why. */
  stderr: string;
  wallSec: number;
}

export function runCli(r: CliRun): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [r.cli, '--home', r.home, ...r.args], { env: { ...process.env, ...r.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    r.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!r.onStderrLine) return;
      const lines = (partial + d).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) r.onStderrLine(l.trim());
    });
    const wallSec = (): number => (performance.now() - t0) / 1000;
    // 'error' comes when the spawn fails (then 'close' may or may not follow) or a signal cannot be sent; whichever
    // event settles the promise first wins, the later one is a no-op.
    child.on('error', (e) => resolve({ code: null, stdout, stderr: e.message, wallSec: wallSec() }));
    child.on('close', (code) => resolve({ code, stdout, stderr, wallSec: wallSec() }));
  });
}
