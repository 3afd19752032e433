/**
 * Where AlphaNet Workbench keeps its per-user data. Electron-free on purpose: the CLI (plain Node) and the Electron
 * main process must agree on one directory, so that runs started in one show up in the other.
 */
import { homedir } from 'node:os';
import path from 'node:path';

/** The product name Electron derives `userData` from (package.json `productName`). */
export const PRODUCT_NAME = 'AlphaNet Workbench';

/** The environment variable that overrides the data directory (below `--home`, above the default). */
export const HOME_ENV_VAR = 'ALPHANET_HOME';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The directory Electron's `app.getPath('userData')` returns for {@link PRODUCT_NAME}, computed without Electron:
 * - Linux and other Unixes: `$XDG_CONFIG_HOME/AlphaNet Workbench`, or `~/.config/AlphaNet Workbench` when
 *   `XDG_CONFIG_HOME` is unset or empty (Chromium's `GetXDGDirectory` rule);
 * - macOS: `~/Library/Application Support/AlphaNet Workbench`;
 * - Windows: `%APPDATA%\AlphaNet Workbench`, or `~\AppData\Roaming\AlphaNet Workbench` when `APPDATA` is unset.
 * Paths are joined with the target platform's separator, so the result is right even when computed elsewhere.
 */
export function defaultHomeDir(platform: NodeJS.Platform, env: Env, home: string): string {
  if (platform === 'win32') {
    const appData = nonEmpty(env['APPDATA']) ?? path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(appData, PRODUCT_NAME);
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', PRODUCT_NAME);
  const config = nonEmpty(env['XDG_CONFIG_HOME']) ?? path.posix.join(home, '.config');
  return path.posix.join(config, PRODUCT_NAME);
}

export interface HomeDirOptions {
  /** An explicit data directory (the CLI's `--home`); wins over everything. Relative paths resolve against the cwd. */
  home?: string;
}

/**
 * The data directory to use, by precedence: `opts.home`, then `$ALPHANET_HOME`, then `fallback()`.
 * @param env defaults to `process.env`.
 * @param fallback defaults to {@link defaultHomeDir} for this machine; the Electron main process passes
 *   `() => app.getPath('userData')` so that Electron stays the authority there.
 */
export function resolveHomeDir(
  opts: HomeDirOptions = {},
  env: Env = process.env,
  fallback: () => string = () => defaultHomeDir(process.platform, env, homedir()),
): string {
  const explicit = nonEmpty(opts.home) ?? nonEmpty(env[HOME_ENV_VAR]);
  return explicit !== undefined ? path.resolve(explicit) : fallback();
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
