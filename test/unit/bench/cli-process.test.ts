/**
 * The studies' and benches' one way of running the CLI in its own process: output collected whole, stderr handed on
 * line by line even when a line arrives in pieces, the exit code, the environment added, the child handed over.
 * A stand-in script takes the CLI's place (it sees the same arguments), so the test needs no build.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/bench/cli-process';

function script(body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cli-process-')), 'cli.js');
  writeFileSync(file, body);
  return file;
}

describe('runCli', () => {
  it('passes --home and the arguments, collects stdout and stderr, and splits stderr lines that arrive in pieces', async () => {
    // The second line is written in two parts 50 ms apart, and with a CR line end, as progress bars do.
    const cli = script(`
      process.stdout.write(JSON.stringify(process.argv.slice(2)));
      process.stderr.write('ep 1 step 3\\nep 1 st');
      setTimeout(() => { process.stderr.write('ep 2\\r\\n\\n  \\nlast'); process.exitCode = 3; }, 50);
    `);
    const lines: string[] = [];
    const r = await runCli({ cli, home: '/some/home', args: ['train', '--epochs', '2'], onStderrLine: (l) => lines.push(l) });
    expect(JSON.parse(r.stdout)).toEqual(['--home', '/some/home', 'train', '--epochs', '2']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('ep 1 step 3\nep 1 step 2\r\n\n  \nlast');
    // Blank lines are dropped; an unterminated last line is in stderr but not handed on as a line.
    expect(lines).toEqual(['ep 1 step 3', 'ep 1 step 2']);
    expect(r.wallSec).toBeGreaterThan(0.04);
  });

  it('adds the environment it is given, hands over the child, and reports a process killed by a signal with code null', async () => {
    const cli = script(`process.stdout.write(process.env.ALPHANET_JOB_CORES ?? 'unset'); setTimeout(() => undefined, 60000);`);
    const r = await runCli({ cli, home: 'h', args: [], env: { ALPHANET_JOB_CORES: '16' }, onSpawn: (c) => setTimeout(() => c.kill('SIGTERM'), 300) });
    expect(r.stdout).toBe('16');
    expect(r.code).toBeNull();
    expect(r.wallSec).toBeLessThan(30);
  });

  it('reports a CLI that is not there as a failed run, with the message of Node', async () => {
    const r = await runCli({ cli: join(tmpdir(), 'no-such-dir-cli', 'cli.js'), home: 'h', args: [] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Cannot find module/);
  });
});
