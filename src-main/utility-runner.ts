/**
 * The desktop app's way to start a training runner: an Electron `utilityProcess` (a Node child that Electron
 * manages, the recommended replacement for `child_process.fork` in the main process), behind the RunManager's
 * `RunnerHandle`. Imported only by index.ts: it needs `electron`.
 */
import { utilityProcess } from 'electron';
import type { RunnerHandle, SpawnRunner } from './train/manager';
import { defaultRunnerPath, stderrTail } from './train/manager';

export const spawnUtilityRunner: SpawnRunner = (): RunnerHandle => {
  const child = utilityProcess.fork(defaultRunnerPath(), [], { stdio: 'pipe', serviceName: 'AlphaNet training runner', env: process.env });
  const stderr = stderrTail();
  child.stdout?.on('data', (d: Buffer) => process.stdout.write(d));
  child.stderr?.on('data', (d: Buffer) => {
    stderr.add(d);
    process.stderr.write(d);
  });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => child.postMessage(m),
    onMessage: (cb) => child.on('message', cb),
    // utilityProcess reports an exit code only; a signal shows as a non-zero code.
    onExit: (cb) => child.once('exit', (code) => cb(code, null, stderr.lastLines())),
    kill: () => {
      child.kill();
    },
  };
};
