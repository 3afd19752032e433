/**
 * Where the built pieces the service starts are: the dataset worker, the CLI (for the backend probe) and the
 * renderer. Found the way the training runner is (jobs/run-manager.ts `defaultRunnerPath`): an environment override,
 * then next to the running bundle or its chunk folder, then the repository's out/main/ (under the unit tests).
 */
import { defaultRunnerPath } from '../jobs/run-manager';

/** `rel` is relative to out/main/ (e.g. `data-worker.js`, `../renderer/index.html`); `env` names an override. */
export function findBuilt(rel: string, opts: { env?: string; what: string }): string {
  return defaultRunnerPath(process.env, { file: rel, envVar: opts.env ?? '', what: opts.what });
}
