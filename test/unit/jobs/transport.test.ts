/** The runner's channel: Electron's parentPort when present (utilityProcess), and the message schemas. */
import { afterEach, describe, expect, it } from 'vitest';
import { childTransport } from '../../../src-main/jobs/transport';
import { ParentToRunnerSchema, RunnerToParentSchema } from '../../../src-main/jobs/run-messages';

const proc = process as unknown as { parentPort?: unknown };

afterEach(() => {
  delete proc.parentPort;
});

describe('childTransport', () => {
  it('uses parentPort under utilityProcess: postMessage out, { data } events in', async () => {
    const posted: unknown[] = [];
    const listeners: ((e: { data: unknown }) => void)[] = [];
    proc.parentPort = { postMessage: (m: unknown) => posted.push(m), on: (_: string, cb: (e: { data: unknown }) => void) => listeners.push(cb) };
    const t = childTransport();
    const got: unknown[] = [];
    t.onMessage((m) => got.push(m));
    t.send({ type: 'ready', pid: 1 });
    listeners[0]({ data: { type: 'pause' } });
    await t.drain();
    expect(posted).toEqual([{ type: 'ready', pid: 1 }]);
    expect(got).toEqual([{ type: 'pause' }]);
  });
});

describe('runner messages', () => {
  it('accept the documented shapes and refuse others', () => {
    expect(ParentToRunnerSchema.safeParse({ type: 'start', home: '/h', runId: 3, resume: false }).success).toBe(true);
    expect(ParentToRunnerSchema.safeParse({ type: 'start', home: '/h', runId: -1, resume: false }).success).toBe(false);
    expect(ParentToRunnerSchema.safeParse({ type: 'stop' }).success).toBe(false);
    expect(RunnerToParentSchema.safeParse({ type: 'done', runId: 1, status: 'paused', step: 4 }).success).toBe(true);
    expect(RunnerToParentSchema.safeParse({ type: 'done', runId: 1, status: 'running', step: 4 }).success).toBe(false);
  });
});
