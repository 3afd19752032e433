/**
 * What every command needs, built once by `buildProgram` and passed to each `register*` function: the I/O, the
 * program's global options (`--home`, `--json`, `--backend`), printing (text, or JSON with `--json`), the data
 * directory and its database, the TF.js backend, and the engine's operations (service/engine-protocol.ts: evaluate,
 * export, latency, doctor — run here, in the CLI's process, by the same handlers and schemas as the app's engine
 * worker, so `--json` prints the very result objects the app receives). Command files import this, never program.ts.
 */
import type { Command } from 'commander';
import { initBackend, parseBackendChoice, type BackendChoice, type BackendReport } from '../engine';
import { resolveHomeDir } from '../app-paths';
import { readSettings } from '../settings';
import { openHomeDatabase, type Db } from '../store/db';
import { callOp, type OpHandlers } from '../jobs/worker-host';
import type { OpInput, OpResult } from '../jobs/worker-protocol';
import { engineHandlers } from '../service/engine-ops';
import { ENGINE_OPS, type EngineOp, type EngineOps } from '../service/engine-protocol';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  home?: string;
  json?: boolean;
  backend?: string;
}

export interface CliContext {
  readonly io: CliIo;
  /** The program's global options, as parsed (read them inside an action, after parsing). */
  globals(): GlobalOptions;
  /** The data directory: `--home`, else ALPHANET_HOME, else the desktop app's per-user directory. */
  home(): string;
  /** Whether `--json` was given. */
  json(): boolean;
  /** Prints `value` as JSON with `--json`, else `text()`; one trailing newline. */
  print(value: unknown, text: () => string): void;
  /** The forced backend, if any: `--backend`, else ALPHANET_BACKEND, else `backend` in the home's settings.json. */
  backendRequest(home: string): BackendChoice | undefined;
  /** Loads TF.js on the requested backend (or the best that loads). */
  backend(home: string): Promise<BackendReport>;
  /** Runs `fn` with the home's database open, and closes it after. */
  withDb<T>(fn: (db: Db, home: string) => T | Promise<T>): Promise<T>;
  /** Runs an engine operation for the home and backend, in this process; its progress lines go to stderr. */
  engine<K extends EngineOp>(op: K, input: Omit<OpInput<EngineOps, K>, 'home' | 'backend'>): Promise<OpResult<EngineOps, K>>;
}

export function createCliContext(program: Command, io: CliIo): CliContext {
  const globals = () => program.opts<GlobalOptions>();
  const home = () => resolveHomeDir({ home: globals().home }, io.env);
  const json = () => Boolean(globals().json);
  const backendRequest = (h: string) => parseBackendChoice(globals().backend || io.env.ALPHANET_BACKEND || readSettings(h).backend);
  let handlers: OpHandlers<EngineOps> | undefined;
  return {
    io,
    globals,
    home,
    json,
    print: (value, text) => io.out(json() ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`),
    backendRequest,
    backend: (h) => initBackend({ force: backendRequest(h), env: io.env }),
    withDb: async (fn) => {
      const h = home();
      const db = openHomeDatabase(h);
      try {
        return await fn(db, h);
      } finally {
        db.close();
      }
    },
    engine: (op, input) => {
      const h = home();
      const full = { ...input, home: h, backend: backendRequest(h) ?? 'auto' } as OpInput<EngineOps, typeof op>;
      return callOp(ENGINE_OPS, (handlers ??= engineHandlers({ env: io.env })), op, full, { progress: (p) => io.err(`${p.message}\n`) });
    },
  };
}
