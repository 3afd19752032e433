/** Control characters in names: refused wherever a name enters, escaped wherever an old one is printed. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/program';
import { tempDir, writeIdxSet } from '../../../src-main/data/synthetic';
import { parseApiArgs } from '../../../src-main/ipc/api-schemas';
import { SearchRequestSchema } from '../../../src-main/jobs/search-messages';
import { openHomeDatabase } from '../../../src-main/store/db';
import { parseTrainConfig } from '../../../src-main/engine/core';

async function run(args: string[], home: string) {
  let out = '';
  let err = '';
  const code = await runCli(['--home', home, ...args], { out: (s) => (out += s), err: (s) => (err += s), env: { ALPHANET_BACKEND: 'cpu' } });
  return { code, out, err };
}

const EVIL = ['clear\x1b[2J', 'two\nlines', 'bell\x07', 'tab\there', 'c1\x9b31m', 'rtl\u202egnp.exe'];

describe('names with control characters', () => {
  it('are refused by the API schemas, run configs and search requests, naming the field', () => {
    for (const name of EVIL) {
      expect(() => parseApiArgs('datasets.import', [{ path: '/x', name }]), JSON.stringify(name)).toThrow(/argument 'req\.name': must not contain control characters/);
      expect(() => parseApiArgs('searches.start', [{ runId: 1, name }])).toThrow(/'req\.name'/);
      expect(() => parseTrainConfig({ name })).toThrow(/name.*must not contain control characters/s);
      expect(() => SearchRequestSchema.parse({ runId: 1, name })).toThrow(/control characters/);
    }
    expect(parseApiArgs('datasets.import', [{ path: '/x', name: 'fine name – ok ✓' }])).toEqual([{ path: '/x', name: 'fine name – ok ✓' }]);
  });

  it('are refused by the importer, replaced in a name taken from a folder, and printed escaped by the CLI', async () => {
    const home = tempDir('alphanet-names-');
    const src = writeIdxSet(join(tempDir(), 'evil\x1b[31mred'), { nTrain: 40, nTest: 10, h: 4, w: 4 });
    const bad = await run(['datasets', 'import', src.dir, '--name', 'x\x1b]0;pwned\x07'], home);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^alphanet: dataset name 'x\\u001b\]0;pwned\\u0007' must not contain control characters/);
    expect(bad.err).not.toMatch(/\x1b|\x07/);
    const ok = await run(['datasets', 'import', src.dir], home);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/imported 'evil-\[31mred'/);
    // A name stored by an older version: shown escaped.
    const db = openHomeDatabase(home);
    db.prepare('UPDATE datasets SET name = ?').run('old\x1b[2Jname');
    db.close();
    const list = await run(['datasets', 'list'], home);
    expect(list.out).toContain('old\\u001b[2Jname');
    expect(list.out).not.toContain('\x1b');
    const js = JSON.parse((await run(['--json', 'datasets', 'list'], home)).out);
    expect(js[0].name).toBe('old\x1b[2Jname');
  });
});
