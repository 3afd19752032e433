/**
 * The parent's handle on a runner process (a training or search runner), and the Node child-process way to start
 * one. The desktop app starts runners as Electron utilityProcesses instead (`utility-runner.ts`), behind the same
 * `RunnerHandle`.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** The parent's handle on one runner process, whatever started it (`Out`: the messages it accepts). */
export interface RunnerHandle<Out extends object> {
  readonly pid: number | undefined;
  send(msg: Out): void;
  onMessage(cb: (msg: unknown) => void): void;
  /** Called once when the process has exited; `detail` carries the end of its stderr. */
  onExit(cb: (code: number | null, signal: string | null, detail: string) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

/** Keeps the end of a runner's stderr (the reason a crashed runner gives is at the end): `add` each chunk. */
export function stderrTail(maxChars = 4000): { add(d: Buffer): void; lastLines(n?: number): string } {
  let text = '';
  return {
    add: (d) => {
      text = (text + d.toString('utf8')).slice(-maxChars);
    },
    lastLines: (n = 5) => text.trim().split('\n').slice(-n).join('\n'),
  };
}

/**
 * Forwards a runner's stdout to `stdoutTo` and its stderr to ours, keeping the end of its stderr (the reason a
 * crashed runner gives) for the exit report; returns that tail. For any child with piped output (a forked Node
 * process, an Electron utilityProcess).
 */
export function pipeRunnerOutput(child: { stdout?: NodeJS.ReadableStream | null; stderr?: NodeJS.ReadableStream | null }, stdoutTo: NodeJS.WritableStream): ReturnType<typeof stderrTail> {
  const tail = stderrTail();
  child.stdout?.on('data', (d: Buffer) => stdoutTo.write(d));
  child.stderr?.on('data', (d: Buffer) => {
    tail.add(d);
    process.stderr.write(d);
  });
  return tail;
}

/** A Node child process running the runner at `runnerPath` (the CLI's and `serve`'s way). */
export function forkRunner<Out extends object>(runnerPath: string, opts: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {}): RunnerHandle<Out> {
  const child: ChildProcess = fork(runnerPath, [], {
    env: opts.env ?? process.env,
    execArgv: opts.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  // The runner's stdout goes to our stderr: our stdout may be a `--json` document.
  const stderr = pipeRunnerOutput(child, process.stderr);
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (cb) => child.on('message', cb),
    onExit: (cb) => child.on('exit', (code, signal) => cb(code, signal, stderr.lastLines())),
    kill: (signal) => child.kill(signal),
  };
}

// Whether a process is alive (zombies count as gone): a leaf module, since data/ and export/ need it too.
export { isZombie, pidAlive } from '../process-alive';
