/**
 * The worker protocol (jobs/worker-*.ts): the host in-process over a fake channel (results, progress, input errors
 * naming the field, busy refusal, unknown ops), then the client against the real engine worker process
 * (out/main/engine-worker.js, from `npx electron-vite build`): ready, request/response, errors with their field,
 * requests queued one at a time on one process, a worker killed mid-request answering with a clear error (and the
 * next request getting a fresh worker), a timeout, and close; and cancelling, queued or running (in-process workers).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { tempDir } from '../../../src-main/data/synthetic';
import { WorkerClient, type SpawnWorker } from '../../../src-main/jobs/worker-client';
import type { RunnerHandle } from '../../../src-main/jobs/runner-process';
import { callOp, serveWorker, type OpHandlers } from '../../../src-main/jobs/worker-host';
import { WorkerError, type ParentToWorker, type WorkerToParent } from '../../../src-main/jobs/worker-protocol';
import { ENGINE_OPS } from '../../../src-main/service/engine-protocol';
import { forkEngineWorker } from '../../../src-main/service/engine-worker';

class RefusedError extends Error {}

const OPS = {
  add: { input: z.object({ a: z.number(), b: z.number() }), result: z.object({ sum: z.number() }) },
  wait: { input: z.object({ ms: z.number().int() }), result: z.object({ waited: z.number() }) },
  refuse: { input: z.object({}), result: z.object({}) },
  crash: { input: z.object({}), result: z.object({}) },
  named: { input: z.object({ name: z.string() }), result: z.object({}) },
  wrong: { input: z.object({}), result: z.object({ n: z.number() }) },
};
const HANDLERS: OpHandlers<typeof OPS> = {
  add: ({ a, b }, ctx) => {
    ctx.progress({ message: 'adding', done: 1, total: 2 });
    return { sum: a + b };
  },
  wait: async ({ ms }) => {
    await new Promise((r) => setTimeout(r, ms));
    return { waited: ms };
  },
  refuse: () => {
    throw new RefusedError('not today');
  },
  crash: () => {
    throw new TypeError('x is undefined');
  },
  named: ({ name }) => {
    throw new WorkerError({ kind: 'input', message: `no subnet '${name}'`, field: 'name' });
  },
  wrong: () => ({ n: 'one' }) as unknown as { n: number },
};

/** A host on a fake channel: `send` delivers to it, `sent` is what it answered. */
function fakeHost() {
  let deliver!: (m: unknown) => void;
  const sent: WorkerToParent[] = [];
  serveWorker({ send: (m) => sent.push(m), onMessage: (cb) => (deliver = cb) }, { ops: OPS, handlers: HANDLERS, isInputError: (e) => e instanceof RefusedError, exit: () => sent.push({ type: 'ready', pid: -1, ops: [] }) });
  const settled = async (id: number) => {
    for (let i = 0; i < 100 && !sent.some((m) => (m.type === 'result' || m.type === 'error') && m.id === id); i++) await new Promise((r) => setTimeout(r, 5));
    return sent.find((m) => (m.type === 'result' || m.type === 'error') && m.id === id);
  };
  return { send: (m: unknown) => deliver(m), sent, settled };
}

describe('worker host (in-process)', () => {
  it('says ready with its ops, answers with progress then the result, and validates input naming the field', async () => {
    const h = fakeHost();
    expect(h.sent[0]).toEqual({ type: 'ready', pid: process.pid, ops: ['add', 'wait', 'refuse', 'crash', 'named', 'wrong'] });
    h.send({ type: 'request', id: 1, op: 'add', input: { a: 2, b: 3 } });
    expect(await h.settled(1)).toEqual({ type: 'result', id: 1, result: { sum: 5 } });
    expect(h.sent).toContainEqual({ type: 'progress', id: 1, message: 'adding', done: 1, total: 2 });
    h.send({ type: 'request', id: 2, op: 'add', input: { a: 2, b: 'three' } });
    expect(await h.settled(2)).toMatchObject({ type: 'error', id: 2, error: { kind: 'input', field: 'b' } });
  });

  it('classifies errors: the caller\'s (input, with a field when the handler names one) or a failure', async () => {
    const h = fakeHost();
    h.send({ type: 'request', id: 1, op: 'refuse', input: {} });
    expect(await h.settled(1)).toEqual({ type: 'error', id: 1, error: { kind: 'input', message: 'not today' } });
    h.send({ type: 'request', id: 2, op: 'crash', input: {} });
    expect(await h.settled(2)).toEqual({ type: 'error', id: 2, error: { kind: 'failed', message: 'x is undefined' } });
    h.send({ type: 'request', id: 3, op: 'named', input: { name: 'a9' } });
    expect(await h.settled(3)).toEqual({ type: 'error', id: 3, error: { kind: 'input', message: "no subnet 'a9'", field: 'name' } });
    h.send({ type: 'request', id: 4, op: 'nope', input: {} });
    expect(await h.settled(4)).toMatchObject({ type: 'error', id: 4, error: { kind: 'unknown-op' } });
  });

  it('refuses a second request while one runs (busy), then takes the next one', async () => {
    const h = fakeHost();
    h.send({ type: 'request', id: 1, op: 'wait', input: { ms: 50 } });
    h.send({ type: 'request', id: 2, op: 'add', input: { a: 1, b: 1 } });
    expect(await h.settled(2)).toMatchObject({ type: 'error', id: 2, error: { kind: 'busy' } });
    expect(await h.settled(1)).toEqual({ type: 'result', id: 1, result: { waited: 50 } });
    h.send({ type: 'request', id: 3, op: 'add', input: { a: 1, b: 1 } });
    expect(await h.settled(3)).toEqual({ type: 'result', id: 3, result: { sum: 2 } });
  });

  it('callOp runs an op in-process with the same checks on input and result', async () => {
    const progress: string[] = [];
    expect(await callOp(OPS, HANDLERS, 'add', { a: 1, b: 2 }, { progress: (p) => progress.push(p.message) })).toEqual({ sum: 3 });
    expect(progress).toEqual(['adding']);
    const bad = await callOp(OPS, HANDLERS, 'add', { a: 1, b: null as unknown as number }, { progress: () => {} }).catch((e) => e);
    expect(bad).toBeInstanceOf(WorkerError);
    expect(bad).toMatchObject({ kind: 'input', field: 'b' });
    await expect(callOp(OPS, HANDLERS, 'wrong', {}, { progress: () => {} })).rejects.toMatchObject({ kind: 'failed', message: expect.stringMatching(/unexpected result of 'wrong': n:/) });
  });
});

/** Workers served in this process on the test table (a fake process each): what they were asked, how many started and were killed. */
function inProcessWorkers() {
  const w = { spawned: 0, killed: 0, exited: 0, requests: [] as string[] };
  const spawn: SpawnWorker = () => {
    w.spawned++;
    let dead = false;
    let toHost!: (m: unknown) => void;
    let toParent!: (m: unknown) => void;
    let onExit!: (code: number | null, signal: string | null, detail: string) => void;
    const handle: RunnerHandle<ParentToWorker> = {
      pid: 1000 + w.spawned,
      send: (m) => {
        if (m.type === 'request') w.requests.push(m.op);
        if (!dead) setTimeout(() => toHost(m), 0);
      },
      onMessage: (cb) => (toParent = cb),
      onExit: (cb) => (onExit = cb),
      kill: () => {
        if (dead) return;
        dead = true;
        w.killed++;
        // A process takes a moment to die after the signal.
        setTimeout(() => {
          w.exited++;
          onExit(null, 'SIGTERM', '');
        }, 20);
      },
    };
    // Ready is sent once the client listens; a dead worker's late answers are lost, as a killed process's would be.
    setTimeout(() => serveWorker({ send: (m) => !dead && toParent(m), onMessage: (cb) => (toHost = cb) }, { ops: OPS, handlers: HANDLERS, exit: () => handle.kill() }), 0);
    return handle;
  };
  return { w, spawn };
}

describe('worker client: cancelling a request', () => {
  it('takes a queued request off the queue (it never reaches a worker) and stops a running one by killing its worker', async () => {
    const { w, spawn } = inProcessWorkers();
    const c = new WorkerClient({ ops: OPS, spawn, name: 'the test worker' });
    const running = new AbortController();
    const queued = new AbortController();
    const first = c.request('wait', { ms: 60_000 }, { signal: running.signal }).catch((e: unknown) => e);
    const second = c.request('add', { a: 1, b: 2 }, { signal: queued.signal }).catch((e: unknown) => e);
    const third = c.request('add', { a: 2, b: 3 });
    for (let i = 0; i < 200 && !w.requests.includes('wait'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(w.requests).toEqual(['wait']);
    queued.abort();
    expect(await second).toMatchObject({ name: 'WorkerError', kind: 'cancelled', message: "the test worker: 'add' was cancelled" });
    running.abort();
    expect(await first).toMatchObject({ name: 'WorkerError', kind: 'cancelled', message: "the test worker: 'wait' was cancelled" });
    // Answered only once its process has exited (nothing it was writing can appear after the caller cleaned up).
    expect(w.exited).toBe(1);
    // The request behind them runs on a fresh worker; the cancelled one in the queue was never sent.
    expect(await third).toEqual({ sum: 5 });
    expect(w).toEqual({ spawned: 2, killed: 1, exited: 1, requests: ['wait', 'add'] });
    // Aborted before it is asked: refused at once, no worker involved.
    await expect(c.request('add', { a: 1, b: 1 }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: 'cancelled' });
    expect(w.requests).toEqual(['wait', 'add']);
    // A cancel after the answer changes nothing.
    const done = new AbortController();
    expect(await c.request('add', { a: 3, b: 4 }, { signal: done.signal })).toEqual({ sum: 7 });
    done.abort();
    expect(await c.request('add', { a: 1, b: 1 })).toEqual({ sum: 2 });
    expect(w).toMatchObject({ spawned: 2, killed: 1 });
    c.close();
  });
});

const BUILT = join(__dirname, '..', '..', '..', 'out', 'main', 'engine-worker.js');

describe('worker client × the engine worker process', () => {
  let client: WorkerClient<typeof ENGINE_OPS> | undefined;
  const home = tempDir('alphanet-worker-');
  const start = (o: { timeoutMs?: number } = {}) => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npx electron-vite build\` first`);
    client = new WorkerClient({ ops: ENGINE_OPS, spawn: () => forkEngineWorker({ ALPHANET_BACKEND: 'cpu' }, BUILT), name: 'the engine worker', ...o });
    return client;
  };
  afterEach(() => client?.close());

  it('answers requests in order on one process; refuses bad input before starting one; a refusal names the field', async () => {
    const c = start();
    const early = await c.request('evaluate', { home, runId: -1, subnet: 'min' }).catch((e) => e);
    expect(early).toMatchObject({ name: 'WorkerError', kind: 'input', field: 'runId' });
    expect(c.pid).toBeUndefined(); // no process for a refused input
    // Three at once: queued, each answered, all by the same process.
    const [doctor, info, gone] = await Promise.all([
      c.request('doctor', { home }),
      c.request('latency.info', { home, target: 'alphanet-cifar32' }),
      c.request('evaluate', { home, runId: 7, subnet: 'min' }).catch((e) => e),
    ]);
    expect(doctor).toMatchObject({ chosen: 'cpu', home, text: expect.stringMatching(/ladder:/) });
    expect(info).toEqual({ info: null, space: 'alphanet-cifar32', device: expect.stringMatching(/^cpu \(/), heldOut: null });
    expect(gone).toBeInstanceOf(WorkerError);
    expect(gone).toMatchObject({ kind: 'input', message: 'no run with id 7' });
    const pid = c.pid;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    const subnet = await c.request('latency.measure', { home, target: 'alphanet-cifar32', subnet: 'alphanet-z9' }).catch((e) => e);
    expect(subnet).toMatchObject({ kind: 'input', field: 'subnet', message: expect.stringMatching(/alphanet-z9/) });
    expect(c.pid).toBe(pid);
  });

  it('a worker killed mid-request answers that request with a clear error; the next request gets a fresh worker', async () => {
    const c = start();
    const slow = c.request('latency.measure', { home, target: 'alphanet-imagenet', subnet: 'max', repeats: 1000 });
    const outcome = slow.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    for (let i = 0; i < 200 && c.pid === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    const pid = c.pid!;
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    const e = await outcome;
    expect(e).toBeInstanceOf(WorkerError);
    expect(e).toMatchObject({ kind: 'exited', message: expect.stringMatching(/^the engine worker exited \(signal SIGKILL\)/) });
    const again = await c.request('latency.info', { home, target: 'alphanet-mnist28' });
    expect(again.space).toBe('alphanet-mnist28');
    expect(c.pid).not.toBe(pid);
  }, 60_000);

  it('stops a request that runs past its limit, and close fails what is queued', async () => {
    const c = start();
    await c.request('doctor', { home }); // started and warm
    const pid = c.pid;
    await expect(c.request('latency.measure', { home, target: 'alphanet-imagenet', subnet: 'max', repeats: 1000 }, { timeoutMs: 200 })).rejects.toMatchObject({ kind: 'timeout' });
    const queued = Promise.allSettled([c.request('doctor', { home }), c.request('doctor', { home })]);
    c.close();
    for (const q of await queued) expect(q).toMatchObject({ status: 'rejected', reason: { kind: 'closed' } });
    await expect(c.request('doctor', { home })).rejects.toMatchObject({ kind: 'closed' });
    expect(pid).toBeGreaterThan(0);
  }, 60_000);
});
