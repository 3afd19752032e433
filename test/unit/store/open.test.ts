/**
 * Opening the store: several processes opening a brand-new data directory at once all succeed (the schema
 * migration takes the write lock before it reads the version), and a data directory that cannot be created or
 * written is one line of error, not a stack trace.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/program';
import { tempDir } from '../../../src-main/data/synthetic';
import { findBuilt } from '../../../src-main/service/built-paths';
import { openDatabase, schemaVersion } from '../../../src-main/store/db';
import { MIGRATIONS } from '../../../src-main/store/migrations';

/** Runs `node out/main/cli.js <args>`, starting the CLI itself only at `startAt` (ms since the epoch), so that
 * several processes open the database within the same millisecond or so. */
function cliAt(startAt: number, args: string[]): Promise<{ code: number | null; err: string }> {
  const cli = findBuilt('cli.js', { what: 'the built CLI' });
  const script = `const t=${startAt};while(Date.now()<t);process.argv=[process.argv[0],${JSON.stringify(cli)},...${JSON.stringify(args)}];require(${JSON.stringify(cli)});`;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ALPHANET_BACKEND: 'cpu' } });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('close', (code) => resolve({ code, err }));
  });
}

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: { ALPHANET_BACKEND: 'cpu' } });
  return { code, out, err };
}

describe('opening the store', () => {
  it('lets several processes create the same new data directory at once', async () => {
    const failures: string[] = [];
    for (let trial = 0; trial < 4; trial++) {
      const home = join(tempDir('alphanet-race-'), 'home');
      // Far enough ahead that every process has loaded the CLI bundle by then.
      const startAt = Date.now() + 1500;
      const rs = await Promise.all(Array.from({ length: 4 }, () => cliAt(startAt, ['--home', home, 'datasets', 'list', '--json'])));
      for (const r of rs) if (r.code !== 0) failures.push(r.err.split('\n')[0]);
      const db = openDatabase(join(home, 'alphanet.db'));
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      db.close();
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('says in one line that a data directory is a file or under one', async () => {
    const file = join(tempDir('alphanet-home-'), 'not-a-folder');
    writeFileSync(file, 'x');
    for (const home of [file, join(file, 'sub')]) {
      const r = await cli(['--home', home, 'datasets', 'list']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^alphanet: cannot use the data directory .*not-a-folder.*: .+\n$/);
      expect(r.err.split('\n')).toHaveLength(2);
    }
  });
});
