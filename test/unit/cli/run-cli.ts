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

/** The CLI bound to one data directory (`--home`), and the check of a user error: exit code 1, nothing on stdout, one line on stderr matching `re`. */
export function cliAt(home: () => string): { cli: (args: string[]) => Promise<CliResult>; fails: (args: string[], re: RegExp) => Promise<void> } {
  const cli = (args: string[]) => captureCli(['--home', home(), ...args]);
  const fails = async (args: string[], re: RegExp) => {
    const r = await cli(args);
    expect(r.code, `${args.join(' ')}: ${r.out}`).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
    expect(r.err).toMatch(re);
  };
  return { cli, fails };
}
