/**
 * The real runner process (out/main/runner.js) under the RunManager: a run end to end, pause/resume and cancel by
 * message and through the store, the queue, a crash, stale-run recovery, and kill -9 at random points then resume.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHomeDatabase } from '../../../src-main/store/db';
import { createRun, getRun, listCheckpoints, listRuns, listEpochMetrics, listRunEvents, listStepMetrics, transitionRun } from '../../../src-main/store/runs';
import { RunManager } from '../../../src-main/jobs/run-manager';
import type { RunnerToParent } from '../../../src-main/jobs/run-messages';
import { requireRunner, spawnWasmRunner, tinyDemoConfig } from '../train/runner-helpers';

const home = () => mkdtempSync(join(tmpdir(), 'runner-'));
/** One data directory for the tests that can share it: the demo dataset is generated once. */
const SHARED = home();

describe('runner process', () => {
  it('trains a queued run to the end, writing metrics, epochs, checkpoints and events', async () => {
    requireRunner();
    const m = new RunManager({ home: SHARED, spawn: spawnWasmRunner });
    const msgs: RunnerToParent[] = [];
    m.on('message', (_id, msg) => msgs.push(msg));
    const run = await m.enqueue(tinyDemoConfig());
    expect(run.status).toBe('queued');
    const done = await m.waitFor(run.id);
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: 'finished', step: 4, totalSteps: 4, backend: 'wasm', pid: null, datasetName: 'demo' });
    expect(listStepMetrics(m.db, run.id).map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(listEpochMetrics(m.db, run.id).map((e) => e.subnet)).toEqual(['max', 'min']);
    expect(listCheckpoints(m.db, run.id)[0].step).toBe(4);
    expect(msgs.filter((x) => x.type === 'progress')).toHaveLength(4);
    expect(msgs.at(-1)).toMatchObject({ type: 'done', status: 'finished', step: 4 });
    expect(listRunEvents(m.db, run.id).map((e) => e.kind)).toEqual(expect.arrayContaining(['start', 'checkpoint', 'finish']));
    m.close();
  });
});

/** A spawn that remembers the handles, to kill them. */
function recordingSpawn() {
  const handles: ReturnType<typeof spawnWasmRunner>[] = [];
  return {
    handles,
    spawn: () => {
      const h = spawnWasmRunner();
      handles.push(h);
      return h;
    },
  };
}

const progressSteps = (m: RunManager, runId: number, cb: (step: number) => void) =>
  m.on('message', (id, msg) => {
    if (id === runId && msg.type === 'progress') cb(msg.step);
  });

describe('run lifecycle through the manager', () => {
  it('with one core for jobs: queues a second run until the first is done, then starts it by itself', async () => {
    const m = new RunManager({ home: SHARED, spawn: spawnWasmRunner, cores: 1 });
    const a = await m.enqueue(tinyDemoConfig({ stepsPerEpoch: 2, validation: { calibrationBatches: 1, calibrationBatchSize: 8, randomSubnets: 0, maxImages: 16 } }));
    const b = await m.enqueue(tinyDemoConfig({ stepsPerEpoch: 2, seed: 1, validation: { calibrationBatches: 1, calibrationBatchSize: 8, randomSubnets: 0, maxImages: 16 } }));
    expect(getRun(m.db, a.id).status).toBe('running');
    expect(getRun(m.db, b.id).status).toBe('queued');
    const [ra, rb] = await Promise.all([m.waitFor(a.id), m.waitFor(b.id)]);
    expect([ra.status, rb.status]).toEqual(['finished', 'finished']);
    expect(rb.startedAt! >= ra.finishedAt!).toBe(true);
    m.close();
  });

  it('pause through the store (as from another process), resume, and cancel', async () => {
    const h = SHARED;
    // One core for jobs: the second run of the cancel part must still be queued when it is cancelled.
    const m = new RunManager({ home: h, spawn: spawnWasmRunner, cores: 1 });
    const other = openHomeDatabase(h); // another process's connection
    // Long enough that the runner (which polls the store about once a second) sees the request before the end.
    const run = await m.enqueue(tinyDemoConfig({ stepsPerEpoch: 60, checkpoint: { everySteps: 100, keepLast: 2 } }));
    progressSteps(m, run.id, (s) => {
      if (s === 2) other.prepare("UPDATE runs SET control = 'pause' WHERE id = ?").run(run.id);
    });
    const paused = await m.waitFor(run.id);
    expect(paused.status).toBe('paused');
    expect(paused.step).toBeGreaterThanOrEqual(2);
    expect(paused.control).toBeNull();
    // The pause wrote a checkpoint at the paused step, so resume loses nothing.
    expect(listCheckpoints(m.db, run.id)[0].step).toBe(paused.step);
    m.removeAllListeners('message');
    m.resume(run.id);
    let first = 0;
    progressSteps(m, run.id, (s) => (first ||= s));
    const done = await m.waitFor(run.id);
    expect(done.status).toBe('finished');
    expect(first).toBe(paused.step + 1);
    expect(paused.step).toBeLessThan(60);
    expect(listStepMetrics(m.db, run.id).map((s) => s.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(listRunEvents(m.db, run.id).map((e) => e.kind)).toEqual(expect.arrayContaining(['pause', 'resume', 'finish']));
    expect(() => m.resume(run.id)).toThrow(/finished; only a paused or failed run/);

    // Cancel: a running run stops after its step; a queued one is cancelled at once.
    const c = await m.enqueue(tinyDemoConfig({ stepsPerEpoch: 50 }));
    const q = await m.enqueue(tinyDemoConfig({ stepsPerEpoch: 50 }));
    progressSteps(m, c.id, (s) => {
      if (s === 1) m.cancel(c.id);
    });
    expect(m.cancel(q.id).status).toBe('cancelled');
    const rc = await m.waitFor(c.id);
    expect(rc.status).toBe('cancelled');
    expect(rc.step).toBeLessThan(50);
    other.close();
    m.close();
  });

  it('a stale running row whose process is gone becomes failed when a manager starts', () => {
    const h = home();
    const db = openHomeDatabase(h);
    const r = createRun(db, { name: 'stale', config: tinyDemoConfig(), spaceId: 'tiny-test', datasetId: null, datasetName: 'demo', seed: 0, appVersion: 't' });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a pid that has exited
    transitionRun(db, r.id, 'running', { pid: dead });
    const m = new RunManager({ home: h, db, spawn: spawnWasmRunner });
    const row = getRun(db, r.id);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/runner process \(pid \d+\) is gone/);
    expect(listRunEvents(db, r.id).map((e) => e.kind)).toEqual(['stale']);
    m.close();
    db.close();
  });

  it('kill -9 of the runner at random moments: failed (never stuck running), store intact, resume loses at most the steps since the last checkpoint', async () => {
    const h = SHARED;
    const rec = recordingSpawn();
    // One core, one runner process and no worker threads: the kills below aim at that process's steps.
    const m = new RunManager({ home: h, spawn: rec.spawn, cores: 1 });
    const every = 5;
    const total = 60;
    const run = await m.enqueue(tinyDemoConfig({ stepsPerEpoch: total, checkpoint: { everySteps: every, keepLast: 2 } }));
    let seen = 0;
    progressSteps(m, run.id, (s) => (seen = Math.max(seen, s)));
    const seed = Math.floor(Math.random() * 1e9);
    let x = seed;
    const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let kills = 0;
    for (let kill = 0; kill < 4; kill++) {
      // The first kill at a random time from spawn (it may land in start-up: loading TF.js and the dataset); the
      // others a random 0–150 ms after a random step, so they land anywhere in a step, a checkpoint write or a
      // metrics flush, however fast the machine is.
      const target = kill === 0 ? 0 : seen + 1 + Math.floor(rand() * every * 2);
      const delay = kill === 0 ? rand() * 2000 : rand() * 150;
      await new Promise<void>((resolve) => {
        let reachedAt = 0;
        const tick = () => {
          if (getRun(m.db, run.id).status !== 'running') return resolve();
          if (!reachedAt && seen >= target) reachedAt = Date.now();
          if (reachedAt && Date.now() - reachedAt >= delay) {
            rec.handles.at(-1)!.kill('SIGKILL');
            kills++;
            return resolve();
          }
          setTimeout(tick, 5);
        };
        tick();
      });
      const after = await m.waitFor(run.id);
      if (after.status === 'finished') break; // the run outran the killer
      expect(after.status, `seed ${seed}`).toBe('failed');
      expect(after.error).toMatch(/SIGKILL/);
      expect(m.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const ck = listCheckpoints(m.db, run.id)[0]?.step ?? 0;
      expect(seen - ck, `seed ${seed}: lost more than the steps since the checkpoint`).toBeLessThanOrEqual(every);
      let first = 0;
      m.removeAllListeners('message');
      progressSteps(m, run.id, (s) => {
        first ||= s;
        seen = Math.max(seen, s);
      });
      seen = ck; // training continues from the checkpoint
      m.resume(run.id);
      await new Promise<void>((resolve) => {
        const wait = () => (first || getRun(m.db, run.id).status !== 'running' ? resolve() : setTimeout(wait, 5));
        wait();
      });
      if (first) expect(first, `seed ${seed}: resumed elsewhere than after the last checkpoint`).toBe(ck + 1);
    }
    expect(kills, `seed ${seed}`).toBeGreaterThanOrEqual(3);
    const final = await m.waitFor(run.id);
    if (final.status !== 'finished') {
      m.resume(run.id);
      expect((await m.waitFor(run.id)).status).toBe('finished');
    }
    expect(listStepMetrics(m.db, run.id).map((s) => s.step)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(listRuns(m.db, { status: ['running'] })).toHaveLength(0);
    expect(m.db.pragma('integrity_check', { simple: true })).toBe('ok');
    m.close();
  });
});
