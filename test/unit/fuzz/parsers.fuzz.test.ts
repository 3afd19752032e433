/**
 * Fuzzed files, with fast-check: run-config files given to `alphanet train`, and IDX, CIFAR and image
 * datasets given to the importer — mutated headers, flipped bytes, truncations, appended junk, huge declared sizes.
 * Each must end in one clear line of error (or, when the mutation happens to be harmless, a normal result), never a
 * stack or an unclassified exception, and an error must leave nothing registered: no run, no dataset, no files.
 * Counts are printed. ALPHANET_SLOW_TESTS=1 tries ten times as many cases.
 */
import fc from 'fast-check';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/program';
import { importDataset } from '../../../src-main/data/import';
import { listDatasets } from '../../../src-main/store/datasets';
import { removeDataset } from '../../../src-main/data/files';
import { jpegFile, pngFile, tempDir, writeCifar10, writeIdxSet, writeTree } from '../../../src-main/data/synthetic';
import { DatasetError } from '../../../src-main/data/types';
import { openHomeDatabase } from '../../../src-main/store/db';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';
const RUNS = SLOW ? 400 : 40;

type Mutation = { kind: 'flip'; at: number; byte: number } | { kind: 'truncate'; at: number } | { kind: 'append'; bytes: Uint8Array } | { kind: 'u32'; at: number; value: number };

/** A mutation of a file's bytes; positions are fractions of its length, so one arbitrary fits every file. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  // Header fields: a big-endian uint32 in the first 32 bytes set to a boundary value (huge or zero sizes, magics).
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat({ max: 28 }), value: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x803, 0x801, 60000, 2 ** 24) }),
);

function apply(b: Buffer, m: Mutation): Buffer {
  const out = Buffer.from(b);
  switch (m.kind) {
    case 'flip':
      if (out.length) out[m.at % out.length] = m.byte;
      return out;
    case 'truncate':
      return out.subarray(0, out.length ? m.at % out.length : 0);
    case 'append':
      return Buffer.concat([out, m.bytes]);
    case 'u32':
      if (out.length >= m.at + 4) out.writeUInt32BE(m.value >>> 0, m.at);
      return out;
  }
}

describe('fuzzed run-config files', () => {
  it('end in one line of error from `alphanet train`, and register no run', async () => {
    const home = tempDir('alphanet-fuzz-cfg-');
    const file = join(tempDir(), 'run.json');
    const base = Buffer.from(JSON.stringify({ name: 'fuzz', space: 'alphanet-mnist28', dataset: 'fuzz-none', epochs: 2, batchSize: 16, optimizer: { lr: 0.1 }, distillation: { kind: 'kl' } }, null, 2));
    const counts = { tried: 0, failures: 0 };
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        counts.tried++;
        writeFileSync(file, ms.reduce(apply, base));
        let err = '';
        let code: number;
        try {
          // The dataset does not exist: a config the mutations left valid still stops before anything is queued.
          code = await runCli(['--home', home, 'train', file, '--dataset', 'fuzz-none'], { out: () => undefined, err: (s) => (err += s), env: { ALPHANET_BACKEND: 'cpu' } });
        } catch (e) {
          code = -1;
          err = `threw ${(e as Error).stack}`;
        }
        const ok = code === 1 && /^alphanet: \S/.test(err) && !/\n\s+at /.test(err) && err.endsWith('\n');
        if (!ok) {
          counts.failures++;
          if (failures.length < 5) failures.push(`${JSON.stringify(ms)} → ${code}: ${err.slice(0, 300)}`);
        }
      }),
      { numRuns: RUNS, seed: 16 },
    );
    console.log(`run-config fuzz: ${counts.tried} cases, ${counts.failures} failures`);
    expect(failures).toEqual([]);
    const db = openHomeDatabase(home);
    expect(db.prepare('SELECT COUNT(*) AS n FROM runs').get()).toEqual({ n: 0 });
    db.close();
  }, 300_000);
});

describe('fuzzed dataset files', () => {
  const sources = (() => {
    const root = tempDir('alphanet-fuzz-src-');
    const idx = writeIdxSet(join(root, 'idx'), { nTrain: 30, nTest: 10, h: 6, w: 6, k: 3 }).dir;
    const idxGz = writeIdxSet(join(root, 'idxgz'), { nTrain: 30, nTest: 10, h: 6, w: 6, k: 3, gz: true }).dir;
    const cifar = join(root, 'cifar');
    writeCifar10(cifar, { perBatch: 6, batches: 2, nTest: 4 });
    const folder = writeTree(join(root, 'folder'), {
      'train/a/1.png': pngFile(9, 7, 1),
      'train/a/2.jpg': jpegFile(8, 8, 2),
      'train/b/3.png': pngFile(5, 5, 3, true),
      'train/b/4.jpg': jpegFile(6, 9, 4),
      'test/a/5.png': pngFile(8, 8, 5),
      'test/b/6.jpg': jpegFile(8, 8, 6),
    });
    return [
      { name: 'idx', dir: idx },
      { name: 'idx.gz', dir: idxGz },
      { name: 'cifar10', dir: cifar },
      { name: 'folder', dir: folder },
    ];
  })();

  it('end in one DatasetError line (or import cleanly), and an error leaves nothing registered', async () => {
    const home = tempDir('alphanet-fuzz-ds-');
    const db = openHomeDatabase(home);
    const counts = { tried: 0, refused: 0, imported: 0, failures: 0 };
    const failures: string[] = [];
    const work = tempDir('alphanet-fuzz-work-');
    try {
      for (const src of sources) {
        const files = readdirSync(src.dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(src.dir.length + 1));
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...files), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (rel, ms) => {
            counts.tried++;
            const dir = join(work, 'case');
            rmSync(dir, { recursive: true, force: true });
            cpSync(src.dir, dir, { recursive: true });
            writeFileSync(join(dir, rel), ms.reduce(apply, readFileSync(join(src.dir, rel))));
            const before = listDatasets(db).length;
            try {
              const r = await importDataset(home, db, dir, { name: `fuzz-${counts.tried}` });
              counts.imported++;
              removeDataset(home, db, r.info.id);
            } catch (e) {
              counts.refused++;
              const bad = (why: string) => {
                counts.failures++;
                if (failures.length < 5) failures.push(`${src.name}/${rel} ${JSON.stringify(ms).slice(0, 200)}: ${why}: ${(e as Error)?.stack?.slice(0, 400)}`);
              };
              if (!(e instanceof DatasetError)) return bad('not a DatasetError');
              if (e.message.includes('\n') || e.message.length > 600) return bad('not one line');
              if (listDatasets(db).length !== before) return bad('something registered');
              const left = existsSync(join(home, 'datasets')) ? readdirSync(join(home, 'datasets')) : [];
              if (left.length) return bad(`files left: ${left.join(', ')}`);
            }
          }),
          { numRuns: RUNS, seed: 16 },
        );
      }
    } finally {
      db.close();
    }
    console.log(`dataset fuzz: ${counts.tried} cases (idx, idx.gz, cifar10, image folder); ${counts.refused} refused, ${counts.imported} imported anyway; ${counts.failures} failures`);
    expect(failures).toEqual([]);
  }, 300_000);
});
