/** The CLI run in process with its output captured: what the command-line tests share. */
import { expect } from 'vitest';
import { runCli } from '../../../src-main/cli/program';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `alphanet <args>` in this process (the wasm backend unless `env` says otherwise), capturing stdout and stderr. */
export async function captureCli(args: string[], env: NodeJS.ProcessEnv = { ALPHANET_BACKEND: 'wasm' }): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), env });
  return { code, out, err };
}

/**
 * The CLI bound to one data directory (`--home`); `ok` expects exit code 0 and answers what it printed; `fails` checks
 * a user error: exit code 1, nothing on stdout, one line on stderr matching `re`. `env` (default: only
 * ALPHANET_BACKEND=wasm) is read at each call, so a suite can point it at what its beforeAll started.
 */
export function cliAt(
  home: () => string,
  env: () => NodeJS.ProcessEnv = () => ({ ALPHANET_BACKEND: 'wasm' }),
): { cli: (args: string[]) => Promise<CliResult>; ok: (args: string[]) => Promise<CliResult>; fails: (args: string[], re: RegExp) => Promise<void> } {
  const cli = (args: string[]) => captureCli(['--home', home(), ...args], env());
  const ok = async (args: string[]) => {
    const r = await cli(args);
    expect(r.code, `alphanet ${args.join(' ')}: ${r.err}`).toBe(0);
    return r;
  };
  const fails = async (args: string[], re: RegExp) => {
    const r = await cli(args);
    expect(r.code, `${args.join(' ')}: ${r.out}`).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
    expect(r.err).toMatch(re);
  };
  return { cli, ok, fails };
}
