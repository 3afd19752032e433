/**
 * The desktop app's way to start runner processes — training runners, search runners and the engine worker — as Electron
 * `utilityProcess`es (Node children that Electron manages, the recommended replacement for `child_process.fork` in
 * the main process), behind the managers' `RunnerHandle`. Imported only by index.ts: it needs `electron`.
 */
import { utilityProcess } from 'electron';
import { pipeRunnerOutput } from './jobs/runner-process';
import type { SpawnSearchRunner } from './jobs/search-manager';
import { defaultSearchRunnerPath } from './jobs/search-manager';
import type { SpawnWorker } from './jobs/worker-client';
import { defaultEngineWorkerPath } from './service/engine-worker';
import type { RunnerHandle, SpawnRunner } from './jobs/run-manager';
import { defaultRunnerPath } from './jobs/run-manager';

/** Starts the built entry at `path` as a utilityProcess named `serviceName` (shown in the OS task manager). */
function spawnUtility<Out extends object>(path: string, serviceName: string): RunnerHandle<Out> {
  const child = utilityProcess.fork(path, [], { stdio: 'pipe', serviceName, env: process.env });
  const stderr = pipeRunnerOutput(child, process.stdout);
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
}

export const spawnUtilityRunner: SpawnRunner = () => spawnUtility(defaultRunnerPath(), 'AlphaNet training runner');

export const spawnUtilitySearchRunner: SpawnSearchRunner = () => spawnUtility(defaultSearchRunnerPath(), 'AlphaNet search runner');

export const spawnUtilityEngineWorker: SpawnWorker = () => spawnUtility(defaultEngineWorkerPath(), 'AlphaNet engine worker');
