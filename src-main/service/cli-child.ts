/**
 * The built `alphanet` CLI (out/main/cli.js) in a child process: how the service does the work that loads TF.js —
 * the backend probe, subnet evaluation and export — without loading a backend into the process that answers the UI
 * (Electron's main process, or the served mode's HTTP process), where seconds of synchronous compute would freeze it
 * and a native tfjs-node build would have to match Electron's ABI. Under Electron the child is Electron itself in
 * Node mode (`ELECTRON_RUN_AS_NODE`); under Node the variable is ignored.
 *
 * {@link CliJobs} runs JSON commands (`--json`) one at a time, so two evaluations never compete for the CPU cores
 * and the evaluation cache sees them in order.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { findBuilt } from './built-paths';
import { ApiError } from './errors';

/** The built CLI (out/main/cli.js); `$ALPHANET_CLI` overrides. */
export const defaultCliPath = (): string => findBuilt('cli.js', { env: 'ALPHANET_CLI', what: 'the alphanet CLI' });

export interface CliRun {
  child: ChildProcess;
  /** Settles when the child exits: its exit code (null on a signal or a timeout), output, and the spawn error if any. */
  done: Promise<{ code: number | null; stdout: string; stderr: string; error: Error | null }>;
}

/**
 * Starts `alphanet --home <home> <args…>`. Never rejects: failures are in the result.
 * @param o.env extra environment variables (on top of this process's)
 * @param o.timeoutMs the child is killed after this many ms
 * @param o.maxBuffer bytes of stdout/stderr kept (default 16 MiB)
 */
export function execCli(cli: string, home: string, args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs: number; maxBuffer?: number }): CliRun {
  let child!: ChildProcess;
  const done = new Promise<Awaited<CliRun['done']>>((resolve) => {
    child = execFile(
      process.execPath,
      [cli, '--home', home, ...args],
      { env: { ...process.env, ...o.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: o.timeoutMs, maxBuffer: o.maxBuffer ?? 16 << 20, windowsHide: true },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), error: err && code === null ? err : null });
      },
    );
  });
  return { child, done };
}

/** The JSON document a `--json` command printed: from the first line that is exactly `{` (TF.js may log before it). */
export function parseJsonOutput(stdout: string): unknown {
  const i = stdout.search(/^\{\s*$/m);
  if (i < 0) throw new Error(`printed no JSON document: ${stdout.trim().slice(-500) || '(nothing)'}`);
  return JSON.parse(stdout.slice(i));
}

export interface CliJobsOptions {
  home: string;
  /** Extra environment for the children (e.g. `ALPHANET_BACKEND`); default none. */
  env?: NodeJS.ProcessEnv;
  /** Default {@link defaultCliPath}. */
  cliPath?: () => string;
}

/** How long one evaluation or export may take before its child is killed, in ms (30 min: a large split on `cpu`). */
export const CLI_JOB_TIMEOUT_MS = 30 * 60_000;

export class CliJobs {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly running = new Set<ChildProcess>();
  private closed = false;

  constructor(private readonly o: CliJobsOptions) {}

  /**
   * Queues `alphanet --home <home> --json <args…>` behind the jobs before it and resolves with its JSON output.
   * A user-facing failure (the CLI's `alphanet: <message>`, exit code 1) rejects with a 400 {@link ApiError} carrying
   * that message (prefixed `<field>: `) and `field`; anything else (a crash, a timeout, unreadable output) with a 500 naming `what`.
   */
  run(args: string[], what: string, field?: string, opts: { onStderrLine?: (line: string) => void } = {}): Promise<unknown> {
    const cli = (this.o.cliPath ?? defaultCliPath)();
    const job = this.chain.then(() => this.exec(cli, args, what, field, opts.onStderrLine));
    this.chain = job.catch(() => undefined);
    return job;
  }

  private async exec(cli: string, args: string[], what: string, field?: string, onStderrLine?: (line: string) => void): Promise<unknown> {
    if (this.closed) throw new ApiError(500, 'the service is shutting down');
    const r = execCli(cli, this.o.home, ['--json', ...args], { env: this.o.env, timeoutMs: CLI_JOB_TIMEOUT_MS });
    if (onStderrLine) {
      // Progress as it comes (execFile still buffers the whole stderr for the result).
      let partial = '';
      r.child.stderr?.on('data', (chunk: Buffer | string) => {
        const lines = (partial + String(chunk)).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) onStderrLine(l);
      });
    }
    this.running.add(r.child);
    const { code, stdout, stderr, error } = await r.done;
    this.running.delete(r.child);
    if (code === 0) {
      try {
        return parseJsonOutput(stdout);
      } catch (e) {
        throw new ApiError(500, `${what}: the CLI ${(e as Error).message}`);
      }
    }
    // The CLI's own refusal is its last words on stderr (TF.js may have logged before): `alphanet: <message>`,
    // possibly several lines (a genome's bad genes).
    const at = stderr.search(/^alphanet: /m);
    const said = at < 0 ? '' : stderr.slice(at + 'alphanet: '.length).trim();
    if (code === 1 && said) throw new ApiError(400, field ? `${field}: ${said}` : said, field);
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    if (this.closed) throw new ApiError(500, `${what}: stopped because the service shut down`);
    throw new ApiError(500, `${what} failed (${error ? error.message : `exit code ${code}`})${tail ? `: ${tail}` : ''}`);
  }

  /** Kills running children and refuses new jobs. */
  close(): void {
    this.closed = true;
    for (const c of this.running) c.kill();
  }
}
