/**
 * Two processes writing one workbench database (two runs of a study, a run and the app): a write transaction that
 * reads first must hold the write lock from its start (BEGIN IMMEDIATE). Begun deferred, it reads a snapshot, another
 * connection commits, and its first write then fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT; the busy
 * timeout cannot help). That failed a 3-epoch Fashion-MNIST run of the fidelity study at its checkpoint of step 950,
 * while a second run checkpointed beside it (2026-12-04).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src-main/store/db';
import { createRun, insertCheckpoint, listCheckpoints } from '../../../src-main/store/runs';

const checkpoint = (runId: number, step: number) => ({ runId, step, epoch: 0, path: `/x/step-${step}.ckpt`, sha256: 'a'.repeat(64), bytes: 1, metric: step / 1000 });

describe('concurrent writers of one database', () => {
  const setup = () => {
    const file = join(mkdtempSync(join(tmpdir(), 'alphanet-conc-')), 'alphanet.db');
    const a = openDatabase(file);
    const b = openDatabase(file);
    b.pragma('busy_timeout = 0'); // the other process, answered at once rather than after 5 s
    const runA = createRun(a, { name: 'a', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
    const runB = createRun(a, { name: 'b', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' }).id;
    return { a, b, runA, runB };
  };

  it('a checkpoint row is written even when another connection writes between its read and its write', () => {
    const { a, b, runA, runB } = setup();
    // Another process tries to commit a checkpoint of its own run right after insertCheckpoint's first read.
    const prepare = a.prepare.bind(a);
    let other: unknown = 'not tried';
    a.prepare = ((sql: string) => {
      const stmt = prepare(sql);
      if (!/SELECT metric FROM checkpoints/.test(sql) || other !== 'not tried') return stmt;
      return new Proxy(stmt, {
        get: (t, k) =>
          k === 'get'
            ? (...args: unknown[]) => {
                const r = (t.get as (...x: unknown[]) => unknown)(...args);
                try {
                  insertCheckpoint(b, checkpoint(runB, 7));
                  other = 'committed';
                } catch (e) {
                  other = (e as Error).message;
                }
                return r;
              }
            : (Reflect.get(t, k) as unknown),
      });
    }) as typeof a.prepare;
    expect(() => insertCheckpoint(a, checkpoint(runA, 50))).not.toThrow();
    // The other writer found the lock held and was refused (it would have waited its busy timeout), not this one.
    expect(other).toMatch(/database is locked/);
    expect(listCheckpoints(a, runA).map((c) => c.step)).toEqual([50]);
    a.prepare = prepare;
    insertCheckpoint(b, checkpoint(runB, 7)); // once the lock is free, the other commits
    expect(listCheckpoints(b, runB).map((c) => c.step)).toEqual([7]);
  });
});
