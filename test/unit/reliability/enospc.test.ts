/**
 * A full disk, injected: `node:fs` is wrapped so that writes to files whose path matches `fault.match`
 * fail with ENOSPC, as the kernel would report them. A checkpoint, an export and an import that hit it must leave the
 * previous state intact (earlier checkpoints and their rows; the export folder's files; the datasets already
 * imported) with no temporary file left, and say so in one line.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  calibrateBn,
  createOps,
  extractStatic,
  initBackend,
  minGenome,
  Supernet,
  readCheckpointFile,
} from '../../../src-main/engine';
import { exportSubnet } from '../../../src-main/export';
import { importDataset } from '../../../src-main/data/import';
import { listDatasets } from '../../../src-main/store/datasets';
import { tempDir, writeIdxSet } from '../../../src-main/data/synthetic';
import { DatasetError } from '../../../src-main/data/types';
import { listCheckpoints, listRunEvents } from '../../../src-main/store/runs';
import { Trainer } from '../../../src-main/train/trainer';
import { TINY } from '../engine/tiny-space';
import { newRun, scratch, syntheticData, tinyConfig } from '../train/fixtures';

const fault = vi.hoisted(() => ({ match: null as RegExp | null, hits: 0, fds: new Map<number, string>() }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const enospc = (path: string) => {
    fault.hits++;
    return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', errno: -28, syscall: 'write', path });
  };
  const hit = (path: unknown) => fault.match !== null && typeof path === 'string' && fault.match.test(path);
  const wrapped = {
    ...fs,
    openSync: ((path: string, ...rest: never[]) => {
      const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
      fault.fds.set(fd, String(path));
      return fd;
    }) as typeof fs.openSync,
    writeSync: ((fd: number, ...rest: never[]) => {
      const path = fault.fds.get(fd);
      if (hit(path)) throw enospc(path!);
      return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync,
    writeFileSync: ((path: unknown, ...rest: never[]) => {
      if (hit(path)) throw enospc(path as string);
      return (fs.writeFileSync as (...a: unknown[]) => void)(path, ...rest);
    }) as typeof fs.writeFileSync,
  };
  return { ...wrapped, default: wrapped };
});

const tmpLeft = (dir: string) => readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.tmp-|\.export-/.test(f));

beforeAll(async () => {
  await initBackend({ force: 'wasm' });
});

describe('a full disk (ENOSPC)', () => {
  it('while writing a checkpoint: the previous checkpoint and the store are intact, one line says so, resume finishes', async () => {
    const config = tinyConfig({ epochs: 1, stepsPerEpoch: 4, checkpoint: { everySteps: 2, keepLast: 2 } });
    const s = scratch('enospc-ckpt-');
    const runId = newRun(s.db, config);
    const make = (resume: boolean) =>
      new Trainer({ runDir: join(s.dir, 'run'), config, data: syntheticData({ batchSize: config.batchSize, batchesPerEpoch: 4, seed: config.seed }), ops: createOps('portable'), resume, db: s.db, runId });
    fault.match = /step-00000002-e0\.ckpt\.tmp-/;
    fault.hits = 0;
    const t = make(false);
    let err: Error | undefined;
    try {
      await t.run();
    } catch (e) {
      err = e as Error;
    } finally {
      t.dispose();
      fault.match = null;
    }
    expect(fault.hits).toBe(1);
    expect(err?.message).toBe('checkpoint at step 2 not written: no space left on the device (ENOSPC, write); the previous checkpoint (step 0) is intact — free some space and resume the run');
    const cks = listCheckpoints(s.db, runId);
    expect(cks.map((c) => c.step)).toEqual([0]);
    expect(readCheckpointFile(cks[0].path, cks[0].sha256).header.state.step).toBe(0);
    expect(tmpLeft(join(s.dir, 'run'))).toEqual([]);
    // Space again: the run resumes from step 0 and finishes.
    const again = make(true);
    expect((await again.run()).status).toBe('finished');
    again.dispose();
    expect(listRunEvents(s.db, runId).some((e) => e.kind === 'resume')).toBe(true);
  }, 120_000);

  it('while exporting: the folder keeps its previous files, no temporary folder stays, one line says so', async () => {
    await tf.setBackend('cpu');
    const net = new Supernet({ space: TINY, ops: createOps('portable'), seed: 5 });
    try {
      const g = minGenome(TINY);
      const cal = [tf.randomNormal([4, g.resolution, g.resolution, 3], 0, 1, 'float32', 3) as tf.Tensor4D];
      const { stats } = calibrateBn(net, g, cal);
      tf.dispose(cal);
      const sub = extractStatic(net, g, stats);
      const parent = tempDir('enospc-export-');
      const out = join(parent, 'model');
      mkdirSync(out);
      writeFileSync(join(out, 'arch.json'), 'previous export');
      fault.match = /model\.onnx\.tmp-/;
      fault.hits = 0;
      await expect(exportSubnet(sub, { outDir: out, format: 'both' })).rejects.toThrow(new RegExp(`^export not written: no space left on the device \\(ENOSPC, write\\); ${out} is as it was$`));
      fault.match = null;
      expect(fault.hits).toBe(1);
      expect(readdirSync(out)).toEqual(['arch.json']);
      expect(readFileSync(join(out, 'arch.json'), 'utf8')).toBe('previous export');
      expect(readdirSync(parent)).toEqual(['model']);
      // With space, the same call writes the whole export.
      const ok = await exportSubnet(sub, { outDir: out, format: 'both' });
      expect(ok.files.sort()).toEqual(expect.arrayContaining(['arch.json', 'model.onnx', 'provenance.json']));
      expect(readdirSync(parent)).toEqual(['model']);
    } finally {
      fault.match = null;
      net.dispose();
      await initBackend({ force: 'wasm' });
    }
  }, 120_000);

  it('while importing: the datasets already there are intact, nothing of the new one stays, one line says so', async () => {
    const s = scratch('enospc-import-');
    const first = writeIdxSet(join(tempDir(), 'first'), { nTrain: 40, nTest: 10, h: 6, w: 6 });
    const second = writeIdxSet(join(tempDir(), 'second'), { nTrain: 50, nTest: 10, h: 6, w: 6, seed: 3 });
    const a = await importDataset(s.dir, s.db, first.dir);
    const before = readdirSync(join(s.dir, 'datasets')).sort();
    fault.match = /datasets\/.*test\.images/;
    fault.hits = 0;
    let err: unknown;
    try {
      await importDataset(s.dir, s.db, second.dir);
    } catch (e) {
      err = e;
    } finally {
      fault.match = null;
    }
    expect(fault.hits).toBe(1);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toMatch(/ENOSPC.*nothing was kept/);
    expect(listDatasets(s.db).map((d) => d.id)).toEqual([a.info.id]);
    expect(readdirSync(join(s.dir, 'datasets')).sort()).toEqual(before);
    expect(existsSync(join(s.dir, 'datasets', a.info.id))).toBe(true);
  }, 60_000);
});
