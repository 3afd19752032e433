import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DatasetJobEvent, RunEvent } from '../../../src-main/ipc/api-types';
import { ApiError, createHttpApi, requestCancel, takeToken, TOKEN_STORAGE_KEY, type WebSocketLike } from '../../../src-renderer/lib/api';

/** A fetch that answers each call with the next of `replies` and records what it was asked. */
function fakeFetch(...replies: { status: number; body: unknown }[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const r = replies.shift();
    if (!r) throw new TypeError('Failed to fetch');
    return new Response(typeof r.body === 'string' ? r.body : JSON.stringify(r.body), { status: r.status });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

/** WebSockets that the test opens, feeds and closes by hand. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.onopen?.(new Event('open'));
  }
  send(msg: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: typeof msg === 'string' ? msg : JSON.stringify(msg) }));
  }
  drop(): void {
    this.onclose?.(new CloseEvent('close'));
  }
}

afterEach(() => {
  FakeSocket.all = [];
  vi.useRealTimers();
  sessionStorage.clear();
});

describe('takeToken', () => {
  it('takes the token from the query once, stores it and removes it from the address bar', () => {
    const replaceState = vi.fn();
    const storage = new Map<string, string>();
    const store = { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v) };
    const token = takeToken({ href: 'http://127.0.0.1:4000/?token=abc123&x=1#/runs' }, store, { replaceState, state: null });
    expect(token).toBe('abc123');
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe('abc123');
    expect(replaceState).toHaveBeenCalledWith(null, '', '/?x=1#/runs');
    // A reload: the address has no token any more, sessionStorage still has it.
    expect(takeToken({ href: 'http://127.0.0.1:4000/?x=1#/runs' }, store, { replaceState, state: null })).toBe('abc123');
    expect(replaceState).toHaveBeenCalledOnce();
  });

  it('works on the real location, storage and history of the page', () => {
    history.replaceState(null, '', '/?token=t0k#/datasets');
    expect(takeToken()).toBe('t0k');
    expect(location.search).toBe('');
    expect(location.hash).toBe('#/datasets');
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('t0k');
  });
});

describe('createHttpApi', () => {
  it('posts each call to /api/<method> with the bearer token and its arguments', async () => {
    const { fetch, calls } = fakeFetch({ status: 200, body: { ok: true, result: { jobId: 'j1', kind: 'import', source: '/d' } } });
    const api = createHttpApi({ baseUrl: 'http://127.0.0.1:4000', token: 'tk', fetch });
    await expect(api.datasets.import({ path: '/d', valFraction: 0.2 })).resolves.toEqual({ jobId: 'j1', kind: 'import', source: '/d' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe('http://127.0.0.1:4000/api/datasets.import');
    expect(calls[0]?.init.method).toBe('POST');
    expect(calls[0]?.init.headers).toMatchObject({ Authorization: 'Bearer tk' });
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ args: [{ path: '/d', valFraction: 0.2 }] });
  });

  it('rebuilds refusals as errors with the message, the field and the status', async () => {
    const { fetch } = fakeFetch(
      { status: 400, body: { ok: false, error: { message: 'epochs: Too small', field: 'epochs' } } },
      { status: 404, body: { ok: false, error: { message: 'no run 9' } } },
      { status: 401, body: 'unauthorized' },
      { status: 502, body: '<html>bad gateway</html>' },
    );
    const api = createHttpApi({ baseUrl: 'http://127.0.0.1:4000', token: 'tk', fetch });
    const e1 = await api.runs.start({ epochs: 0 }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ApiError);
    expect(e1).toMatchObject({ message: 'epochs: Too small', field: 'epochs', status: 400 });
    await expect(api.runs.get(9)).rejects.toMatchObject({ message: 'no run 9', field: undefined, status: 404 });
    await expect(api.runs.list()).rejects.toThrow(/refused the session token \(runs\.list\)/);
    await expect(api.runs.list()).rejects.toThrow('runs.list: unexpected answer from the server (HTTP 502)');
    // Nothing left to answer: the network fails.
    await expect(api.app.info()).rejects.toMatchObject({ status: 0, message: expect.stringMatching(/^cannot reach the workbench server \(app\.info\)/) });
  });

  it('without a token, says where to get one and sends nothing', async () => {
    const { fetch, calls } = fakeFetch();
    const api = createHttpApi({ baseUrl: 'http://127.0.0.1:4000', token: null, fetch, WebSocket: FakeSocket });
    await expect(api.app.info()).rejects.toThrow(/no session token: open the full address/);
    api.runs.onEvent(() => undefined);
    expect(calls).toHaveLength(0);
    expect(FakeSocket.all).toHaveLength(0);
  });

  it('shares one WebSocket, fans events out by topic, and isolates a failing subscriber', async () => {
    const api = createHttpApi({ baseUrl: 'http://127.0.0.1:4000', token: 'tk', WebSocket: FakeSocket });
    const runsA: RunEvent[] = [];
    const runsB: RunEvent[] = [];
    const jobs: DatasetJobEvent[] = [];
    const offA = api.runs.onEvent((e) => runsA.push(e));
    api.runs.onEvent(() => {
      throw new Error('subscriber bug');
    });
    api.runs.onEvent((e) => runsB.push(e));
    api.datasets.onJob((e) => jobs.push(e));
    expect(FakeSocket.all).toHaveLength(1);
    const ws = FakeSocket.all[0] as FakeSocket;
    expect(ws.url).toBe('ws://127.0.0.1:4000/events?token=tk');
    ws.open();
    const deleted: RunEvent = { type: 'deleted', runId: 4 };
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    ws.send({ topic: 'runs.event', payload: deleted });
    expect(err).toHaveBeenCalledOnce();
    ws.send({ topic: 'datasets.job', payload: { jobId: 'j', type: 'error', error: { message: 'bad file' } } });
    ws.send({ topic: 'unknown.topic', payload: 1 });
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    ws.send('not json');
    expect(runsA).toEqual([deleted]);
    expect(runsB).toEqual([deleted]);
    expect(jobs).toEqual([{ jobId: 'j', type: 'error', error: { message: 'bad file' } }]);
    offA();
    ws.send({ topic: 'runs.event', payload: deleted });
    expect(runsA).toHaveLength(1);
    expect(runsB).toHaveLength(2);
  });

  it('reconnects with doubling delays while someone listens, and closes when the last one leaves', async () => {
    vi.useFakeTimers();
    const states: boolean[] = [];
    const api = createHttpApi({
      baseUrl: 'http://127.0.0.1:4000',
      token: 'tk',
      WebSocket: FakeSocket,
      backoffMs: 100,
      maxBackoffMs: 300,
      onConnection: (c) => states.push(c),
    });
    const got: RunEvent[] = [];
    const off = api.runs.onEvent((e) => got.push(e));
    FakeSocket.all[0]?.open();
    FakeSocket.all[0]?.drop();
    expect(states).toEqual([true, false]);
    vi.advanceTimersByTime(99);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    // Fails again before opening: 200 ms, then capped at 300 ms.
    FakeSocket.all[1]?.drop();
    vi.advanceTimersByTime(199);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    FakeSocket.all[2]?.drop();
    vi.advanceTimersByTime(300);
    expect(FakeSocket.all).toHaveLength(4);
    const ws = FakeSocket.all[3] as FakeSocket;
    ws.open();
    ws.send({ topic: 'runs.event', payload: { type: 'deleted', runId: 1 } });
    expect(got).toEqual([{ type: 'deleted', runId: 1 }]);
    // An open connection resets the delay.
    ws.drop();
    vi.advanceTimersByTime(100);
    expect(FakeSocket.all).toHaveLength(5);
    off();
    // It lingers a second (a page switch resubscribes within it), then, still connecting, is closed once it opens:
    // closing mid-handshake is what makes Chromium warn.
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all[4]?.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all[4]?.closed).toBe(false);
    FakeSocket.all[4]?.open();
    expect(FakeSocket.all[4]?.closed).toBe(true);
    FakeSocket.all[4]?.drop();
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(5);
  });

  it('keeps the one connection across a page switch, and closes an open one a second after the last listener leaves', () => {
    vi.useFakeTimers();
    const api = createHttpApi({ baseUrl: 'http://127.0.0.1:4000', token: 'tk', WebSocket: FakeSocket, lingerMs: 1000 });
    const off1 = api.runs.onEvent(() => {});
    FakeSocket.all[0]?.open();
    off1();
    vi.advanceTimersByTime(500);
    const got: RunEvent[] = [];
    const off2 = api.runs.onEvent((e) => got.push(e));
    vi.advanceTimersByTime(5000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(FakeSocket.all[0]?.closed).toBe(false);
    FakeSocket.all[0]?.send({ topic: 'runs.event', payload: { type: 'deleted', runId: 2 } });
    expect(got).toEqual([{ type: 'deleted', runId: 2 }]);
    off2();
    off2();
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all[0]?.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all[0]?.closed).toBe(true);
  });
});

describe('requestCancel (the Cancel buttons of long operations)', () => {
  it('is cancelling while the service cancels something, not when nothing was pending, and words a refusal', async () => {
    expect(await requestCancel(async () => true, 'the build')).toEqual({ cancelling: true, error: null });
    expect(await requestCancel(async () => false, 'the build')).toEqual({ cancelling: false, error: null });
    const refused = () => Promise.reject(new ApiError({ message: 'dir: must be an absolute path', field: 'dir' }, 400));
    expect(await requestCancel(refused, 'the export')).toEqual({ cancelling: false, error: 'Cancelling the export: dir: must be an absolute path' });
  });
});
