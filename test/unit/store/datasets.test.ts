/**
 * The `datasets` repository on its own: a row written and read back field for field, lookups by id, name and hash,
 * the caller's file step inside the same transaction (its failure keeps no row and no change), constraint
 * conflicts reported rather than thrown, and a dataset used by a run refused for deletion.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src-main/store/db';
import { createRun, deleteRun } from '../../../src-main/store/runs';
import {
  datasetIdByName,
  datasetsOfFormat,
  deleteDataset,
  findDataset,
  findDatasetByHash,
  insertDataset,
  listDatasets,
  updateValSplit,
  type DatasetInfo,
} from '../../../src-main/store/datasets';

const dbs: Db[] = [];
function db(): Db {
  const d = openDatabase(':memory:');
  dbs.push(d);
  return d;
}
afterEach(() => {
  while (dbs.length) dbs.pop()!.close();
});

function info(n: number, over: Partial<DatasetInfo> = {}): DatasetInfo {
  return {
    id: `ds-00000000000${n}`,
    name: `set-${n}`,
    format: 'idx',
    source: `/data/set-${n}`,
    contentHash: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    height: 28,
    width: 28,
    channels: 1,
    classNames: ['zero', 'one'],
    splits: { train: { count: 9, classCounts: [4, 5] }, val: { count: 1, classCounts: [1, 0] }, test: { count: 4, classCounts: [2, 2] } },
    mean: [0.13],
    std: [0.31],
    valFraction: 0.1,
    valSeed: 0,
    augment: { flip: false, padding: 4 },
    sizeBytes: 14 * 784 + 28 + 4,
    createdAt: `2026-01-0${n}T00:00:00.000Z`,
    ...over,
  };
}

describe('the datasets repository', () => {
  it('writes a row and reads it back field for field, by id, name and hash, oldest first', () => {
    const d = db();
    const b = info(2, { format: 'demo', channels: 3, mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6], augment: { flip: true, padding: 4 } });
    const a = info(1);
    expect(insertDataset(d, b)).toBe('inserted');
    expect(insertDataset(d, a)).toBe('inserted');
    expect(listDatasets(d)).toEqual([a, b]);
    expect(findDataset(d, a.id)).toEqual(a);
    expect(findDataset(d, 'set-2')).toEqual(b);
    expect(findDataset(d, 'nope')).toBeUndefined();
    expect(findDatasetByHash(d, b.contentHash)).toEqual(b);
    expect(findDatasetByHash(d, 'sha256:0')).toBeUndefined();
    expect(datasetIdByName(d, 'set-1')).toBe(a.id);
    expect(datasetIdByName(d, a.id)).toBeUndefined(); // names only
    expect(datasetsOfFormat(d, 'demo')).toEqual([{ id: b.id, source: b.source }]);
  });

  it('runs the file step inside the insert: if it fails there is no row', () => {
    const d = db();
    expect(() =>
      insertDataset(d, info(1), () => {
        throw new Error('rename failed');
      }),
    ).toThrow('rename failed');
    expect(listDatasets(d)).toEqual([]);
    let renamed = 0;
    expect(insertDataset(d, info(1), () => renamed++)).toBe('inserted');
    expect(renamed).toBe(1);
  });

  it('reports a taken name or the same content as a conflict, keeping the first row and skipping the file step', () => {
    const d = db();
    insertDataset(d, info(1));
    let renamed = 0;
    expect(insertDataset(d, info(2, { name: 'set-1' }), () => renamed++)).toBe('conflict');
    expect(insertDataset(d, info(3, { contentHash: info(1).contentHash }), () => renamed++)).toBe('conflict');
    expect(renamed).toBe(0);
    expect(listDatasets(d)).toEqual([info(1)]);
  });

  it('changes the validation split together with the file step, or not at all', () => {
    const d = db();
    insertDataset(d, info(1));
    const splits = { ...info(1).splits, train: { count: 7, classCounts: [3, 4] }, val: { count: 3, classCounts: [2, 1] } };
    expect(() =>
      updateValSplit(d, info(1).id, { fraction: 0.3, seed: 7, splits }, () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(findDataset(d, info(1).id)).toEqual(info(1));
    updateValSplit(d, info(1).id, { fraction: 0.3, seed: 7, splits });
    expect(findDataset(d, info(1).id)).toEqual({ ...info(1), valFraction: 0.3, valSeed: 7, splits });
  });

  it('refuses to delete a dataset a run uses, and deletes it once the run is gone', () => {
    const d = db();
    insertDataset(d, info(1));
    const run = createRun(d, { name: 'r', config: {}, spaceId: 's', datasetId: info(1).id, datasetName: 'set-1', seed: 0, appVersion: 't' });
    expect(deleteDataset(d, info(1).id)).toBe('in-use');
    expect(listDatasets(d)).toHaveLength(1);
    deleteRun(d, run.id);
    expect(deleteDataset(d, info(1).id)).toBe('deleted');
    expect(listDatasets(d)).toEqual([]);
  });
});
