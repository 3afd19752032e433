/**
 * What a torch run's runner does before torchrun starts, made cheap (docs/TORCH.md, "Tracking overhead" in
 * docs/BENCHMARKS.md): the torch probe answered from the home's cache while nothing it depends on changed, and the
 * run directory's dataset hard-linked from a bundle gathered once per dataset and val split.
 *
 * The probe tests need only a Python (with or without torch: both answers are cached); the bundle tests none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openHomeDatabase, type Db } from '../../../src-main/store/db';
import { importDataset, loadSplit, removeDataset, setValSplit } from '../../../src-main/data';
import { tempDir, writeIdxSet } from '../../../src-main/data/synthetic';
import { torchProbeCacheFile, torchReport } from '../../../src-main/jobs/python';
import { sharedDatasetBundle, writeRunDataset } from '../../../src-main/jobs/torch-run';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

describe('the torch probe cache', () => {
  /** The cache's entry for the interpreter, with its recorded Python version replaced by a marker. */
  const mark = (file: string, marker: string, over: Record<string, unknown> = {}) => {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { probe: { pythonVersion: string } } & Record<string, unknown>>;
    Object.assign(c[PYTHON], over);
    c[PYTHON].probe.pythonVersion = marker;
    writeFileSync(file, JSON.stringify(c));
  };
  const version = (r: ReturnType<typeof torchReport>) => r.pythonVersion ?? r.problem ?? '';

  it('answers from the cache while nothing changed; a change on sys.path, the environment, age or refresh probe afresh', () => {
    const home = tempDir('probe-cache-');
    const file = torchProbeCacheFile(home);
    // A directory of our own on sys.path (through PYTHONPATH), standing for site-packages: installing a package there
    // changes its mtime.
    const site = join(home, 'site');
    mkdirSync(site);
    const env = { ...process.env, ALPHANET_PYTHON: PYTHON, PYTHONPATH: site };
    const fresh = torchReport(env, { cache: file });
    expect(existsSync(file)).toBe(true);
    expect(version(fresh)).toMatch(/3\.\d+/);

    mark(file, '9.99-cached');
    const cached = torchReport(env, { cache: file });
    expect(version(cached)).toContain('9.99-cached');
    expect({ ...cached, pythonVersion: undefined, problem: undefined }).toEqual({ ...fresh, pythonVersion: undefined, problem: undefined });

    // Another CUDA_VISIBLE_DEVICES (or PATH, PYTHONPATH, …) is another question.
    expect(version(torchReport({ ...env, CUDA_VISIBLE_DEVICES: '0' }, { cache: file }))).not.toContain('9.99-cached');
    // `alphanet doctor` probes afresh, and what it stores is what the next caller gets.
    mark(file, '9.99-cached');
    expect(version(torchReport(env, { cache: file, refresh: true }))).not.toContain('9.99-cached');
    expect(version(torchReport(env, { cache: file }))).not.toContain('9.99-cached');

    // A package installed on sys.path.
    mark(file, '9.99-cached');
    expect(version(torchReport(env, { cache: file }))).toContain('9.99-cached');
    mkdirSync(join(site, 'newpkg'));
    expect(version(torchReport(env, { cache: file }))).not.toContain('9.99-cached');

    // Too old.
    mark(file, '9.99-cached', { at: Date.now() - 7 * 3600_000 });
    expect(version(torchReport(env, { cache: file }))).not.toContain('9.99-cached');

    // Without a cache file nothing is read or written.
    mark(file, '9.99-cached');
    expect(version(torchReport(env))).not.toContain('9.99-cached');
  });

  it('an unreadable cache file is probed over, not an error', () => {
    const home = tempDir('probe-cache-');
    const file = torchProbeCacheFile(home);
    mkdirSync(join(home, 'cache'));
    writeFileSync(file, '{not json');
    const env = { ...process.env, ALPHANET_PYTHON: PYTHON };
    expect(version(torchReport(env, { cache: file }))).toMatch(/3\.\d+/);
    expect(JSON.parse(readFileSync(file, 'utf8'))[PYTHON].probe.executable).toBeTruthy();
  });
});

describe('the run directory dataset: one bundle per dataset and val split, linked into each run', () => {
  const dbs: Db[] = [];
  afterEach(() => {
    while (dbs.length) dbs.pop()!.close();
  });

  it('links the same files into every run, with the stored splits; a new val split gets its own bundle', async () => {
    const home = tempDir('bundle-home-');
    const db = openHomeDatabase(home);
    dbs.push(db);
    const src = writeIdxSet(join(tempDir(), 'digits'), { nTrain: 300, nTest: 60, h: 6, w: 5 });
    const { info } = await importDataset(home, db, src.dir, { name: 'digits' });
    const a = join(home, 'runs', '1', 'dataset');
    const b = join(home, 'runs', '2', 'dataset');
    writeRunDataset(home, info, a);
    writeRunDataset(home, info, b, ['train', 'val', 'test']);
    const shared = sharedDatasetBundle(home, info);
    const ino = (p: string) => statSync(p).ino;
    for (const split of ['train', 'val'] as const) {
      const s = loadSplit(home, info, split);
      expect(new Uint8Array(readFileSync(join(a, `${split}.images.u8`)))).toEqual(s.images);
      expect(new Uint16Array(new Uint8Array(readFileSync(join(a, `${split}.labels.u16`))).buffer)).toEqual(s.labels);
      expect(ino(join(a, `${split}.images.u8`))).toBe(ino(join(shared, `${split}.images.u8`)));
      expect(ino(join(b, `${split}.images.u8`))).toBe(ino(join(shared, `${split}.images.u8`)));
    }
    expect(new Uint8Array(readFileSync(join(b, 'test.images.u8')))).toEqual(loadSplit(home, info, 'test').images);
    const index = (dir: string) => JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { valSeed: number; splits: Record<string, { count: number }> };
    expect(Object.keys(index(a).splits)).toEqual(['train', 'val']);
    expect(index(b).splits).toMatchObject({ train: { count: info.splits.train.count }, val: { count: info.splits.val.count }, test: { count: 60 } });

    // Another val split: run 1's folder is relinked to a new bundle; run 2 keeps the files it had.
    const before = new Uint8Array(readFileSync(join(b, 'val.images.u8')));
    const info2 = setValSplit(home, db, info.id, { fraction: 0.2, seed: 7 });
    writeRunDataset(home, info2, a);
    const shared2 = sharedDatasetBundle(home, info2);
    expect(shared2).not.toBe(shared);
    expect(index(a)).toMatchObject({ valSeed: 7, splits: { val: { count: info2.splits.val.count } } });
    expect(info2.splits.val.count).not.toBe(info.splits.val.count);
    expect(new Uint8Array(readFileSync(join(a, 'val.images.u8')))).toEqual(loadSplit(home, info2, 'val').images);
    expect(ino(join(a, 'val.images.u8'))).toBe(ino(join(shared2, 'val.images.u8')));
    expect(new Uint8Array(readFileSync(join(b, 'val.images.u8')))).toEqual(before);

    // The bundles go with the dataset; the runs' links stay readable.
    const val2 = loadSplit(home, info2, 'val').images;
    removeDataset(home, db, info.id);
    expect(existsSync(shared)).toBe(false);
    expect(existsSync(shared2)).toBe(false);
    expect(new Uint8Array(readFileSync(join(a, 'val.images.u8')))).toEqual(val2);
    expect(new Uint8Array(readFileSync(join(b, 'val.images.u8')))).toEqual(before);
  });
});
