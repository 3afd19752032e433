/** Full-size imports (60k IDX, 50k CIFAR-10): correctness at scale, not timing (`npm run bench` times them). */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openHomeDatabase } from '../../../src-main/store/db';
import { importDataset, loadSplit } from '../../../src-main/data';
import { tempDir, writeCifar10, writeIdxSet } from '../../../src-main/data/synthetic';

describe.skipIf(process.env.ALPHANET_SLOW_TESTS !== '1')('full-size imports (ALPHANET_SLOW_TESTS=1)', () => {
  it('imports a 60,000 + 10,000 image gzipped IDX set and a 50,000 + 10,000 CIFAR-10 folder', async () => {
    const home = tempDir('alphanet-home-');
    const db = openHomeDatabase(home);
    try {
      const idx = writeIdxSet(join(tempDir(), 'mnist'), { nTrain: 60_000, nTest: 10_000, gz: true });
      const a = await importDataset(home, db, idx.dir);
      expect(a.info.splits.train.count + a.info.splits.val.count).toBe(60_000);
      expect(a.info.splits.val.count).toBe(6_000);
      const te = loadSplit(home, a.info, 'test');
      expect(Buffer.from(te.images).equals(Buffer.from(idx.test.pixels))).toBe(true);
      const dir = join(tempDir(), 'cifar-10-batches-bin');
      const c = writeCifar10(dir, { perBatch: 10_000, nTest: 10_000 });
      const b = await importDataset(home, db, dir);
      expect(b.info.splits.test.count).toBe(10_000);
      expect(Buffer.from(loadSplit(home, b.info, 'test').images).equals(Buffer.from(c.test.pixels))).toBe(true);
    } finally {
      db.close();
    }
  });
});
