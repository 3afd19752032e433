/** `alphanet datasets …`, driven in-process through runCli. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../../../src-main/cli/program';
import { tempDir, writeIdxSet } from '../../../src-main/data/synthetic';

async function run(args: string[], home: string) {
  let out = '';
  let err = '';
  const code = await runCli(['--home', home, ...args], { out: (s) => (out += s), err: (s) => (err += s), env: { ALPHANET_BACKEND: 'cpu' } });
  return { code, out, err };
}

describe('alphanet datasets', () => {
  it('imports, lists, shows, re-splits and removes, as text and JSON', async () => {
    const home = tempDir('alphanet-home-');
    const src = writeIdxSet(join(tempDir(), 'fashion'), { nTrain: 300, nTest: 60, h: 8, w: 8 });
    const imp = await run(['datasets', 'import', src.dir], home);
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/^imported 'fashion' \(ds-[0-9a-f]{12}\) in [\d.]+ s: idx, 8×8×1, 10 classes; train 270 · val 30 · test 60\n$/);
    expect(imp.err).toMatch(/write: 100 %/);
    const again = JSON.parse((await run(['--json', 'datasets', 'import', src.dir, '--name', 'dup'], home)).out);
    expect(again.existing).toBe(true);
    expect(again.dataset.name).toBe('fashion');
    const list = await run(['datasets', 'list'], home);
    expect(list.out).toMatch(/^id\s+name\s+format\s+shape\s+classes\s+train\s+val\s+test\s+size\nds-\w+\s+fashion\s+idx\s+8×8×1\s+10\s+270\s+30\s+60\s+0\.0 MB\n$/);
    const show = await run(['datasets', 'show', 'fashion'], home);
    expect(show.out).toMatch(/format:\s+idx/);
    expect(show.out).toMatch(/augment:\s+random crop \(pad 4\), no flip/);
    expect(show.out).toMatch(/\n  0 +27 +3 +6  █{20}\n/);
    const js = JSON.parse((await run(['--json', 'datasets', 'show', 'fashion', '--samples', '2'], home)).out);
    expect(js.samples.classes[3].thumbnails).toHaveLength(2);
    expect(js.splits.val.count).toBe(30);
    const sp = await run(['datasets', 'split', 'fashion', '--val', '0.2'], home);
    expect(sp.out).toBe("'fashion': train 240 · val 60 · test 60\n");
    const rm = await run(['datasets', 'remove', 'fashion'], home);
    expect(rm.out).toMatch(/^removed 'fashion' \(ds-\w+\), freed/);
    expect((await run(['datasets', 'list'], home)).out).toMatch(/^no datasets yet/);
  });

  it('explains bad input and exits 1', async () => {
    const home = tempDir('alphanet-home-');
    const r = await run(['datasets', 'import', join(home, 'missing')], home);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^alphanet: .*missing: no such file or folder\n$/);
    const s = await run(['datasets', 'show', 'nope'], home);
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/unknown dataset 'nope'/);
    const f = await run(['datasets', 'import', home, '--format', 'png'], home);
    expect(f.code).not.toBe(0);
    expect(f.err).toMatch(/--format.*png.*Allowed choices are idx, cifar10, cifar100, folder/s);
    const v = await run(['datasets', 'import', home, '--val', '2'], home);
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/--val must be a number from 0 to 0.9, got '2'/);
  });
});
