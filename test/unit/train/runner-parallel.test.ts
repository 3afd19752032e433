/**
 * The real runner process (out/main/runner.js) training with 2 data-parallel worker threads (out/main/train-worker.js):
 * a run end to end, and a worker thread that dies mid-step — the run fails cleanly (no hang, `failed` with a reason
 * naming the worker), the store and the checkpoints stay intact, and it resumes with one worker to the end.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRun, listCheckpoints, listRunEvents, listStepMetrics } from '../../../src-main/store/runs';
import { RunManager } from '../../../src-main/jobs/run-manager';
import type { RunnerToParent } from '../../../src-main/jobs/run-messages';
import { requireRunner, spawnWasmRunner, tinyDemoConfig } from './runner-helpers';

describe('runner process with data-parallel workers', () => {
  it('trains with 2 workers; a worker that dies mid-step fails the run cleanly; it resumes with 1 worker', async () => {
    requireRunner();
    const m = new RunManager({ home: mkdtempSync(join(tmpdir(), 'runner-dp-')), spawn: spawnWasmRunner });
    const msgs: RunnerToParent[] = [];
    m.on('message', (_id, msg) => msgs.push(msg));
    const run = await m.enqueue(tinyDemoConfig({ workers: 2, stepsPerEpoch: 6, debug: { workerExitAtSteps: [5] } }));
    const failed = await m.waitFor(run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^training worker 1 exited \(code 70\)$/);
    expect(failed.pid).toBeNull();
    expect(m.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(listRunEvents(m.db, run.id).find((e) => e.kind === 'start')!.message).toMatch(/on 2 workers$/);
    const progress = msgs.filter((x): x is Extract<RunnerToParent, { type: 'progress' }> => x.type === 'progress');
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(progress.every((p) => p.workers === 2)).toBe(true);
    expect(listCheckpoints(m.db, run.id)[0].step).toBe(4);
    // Resume with one worker (and without the fault): the step-4 checkpoint passes its hash check and the run ends.
    const row = getRun(m.db, run.id);
    m.db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify({ ...(row.config as object), workers: 1, debug: undefined }), run.id);
    m.resume(run.id);
    const done = await m.waitFor(run.id);
    expect(done).toMatchObject({ status: 'finished', step: 6, error: null });
    expect(listStepMetrics(m.db, run.id).map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(listRunEvents(m.db, run.id).map((e) => e.kind)).not.toContain('checkpoint-corrupt');
    m.close();
  });
});
