/** The preload's `window.api`, built from the method/topic list: every method on its channel, replies unwrapped. */
import { describe, expect, it } from 'vitest';
import { buildBridge, type BridgeTransport } from '../../../src-main/ipc/bridge';
import { EVENT_CHANNELS, INVOKE_CHANNELS } from '../../../src-main/ipc/channels';
import { API_METHODS, EVENT_TOPICS, ipcChannelOf } from '../../../src-main/ipc/protocol';
import { ApiCallError } from '../../../src-main/ipc/reply';

function fakeTransport(reply: (channel: string, args: unknown[]) => unknown) {
  const calls: [string, unknown[]][] = [];
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const t: BridgeTransport = {
    invoke: async (channel, ...args) => {
      calls.push([channel, args]);
      return reply(channel, args);
    },
    subscribe: (channel, cb) => {
      const set = listeners.get(channel) ?? new Set();
      set.add(cb);
      listeners.set(channel, set);
      return () => set.delete(cb);
    },
  };
  const push = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((cb) => cb(payload));
  return { t, calls, push, listeners };
}

describe('buildBridge', () => {
  it('has a function for every method and topic, calling exactly its channel with the arguments', async () => {
    const f = fakeTransport((channel, args) => ({ ok: true, result: { channel, args } }));
    const api = buildBridge(f.t) as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>;
    for (const m of API_METHODS) {
      const [ns, fn] = m.split('.');
      expect(typeof api[ns][fn], m).toBe('function');
      await expect(api[ns][fn]('a', 2)).resolves.toEqual({ channel: ipcChannelOf(m), args: ['a', 2] });
    }
    expect(f.calls.map(([c]) => c)).toEqual(API_METHODS.map((m) => INVOKE_CHANNELS[m]));
    const ownKeys = Object.entries(api).flatMap(([ns, o]) => Object.keys(o).map((k) => `${ns}.${k}`));
    expect(ownKeys.sort()).toEqual([...API_METHODS, ...Object.values(EVENT_TOPICS)].sort());
  });

  it("rejects with the reply's message and field, and refuses a malformed reply", async () => {
    const f = fakeTransport((channel) =>
      channel === ipcChannelOf('runs.start') ? { ok: false, error: { message: 'epochs: Too small', field: 'epochs' } } : { nonsense: true },
    );
    const api = buildBridge(f.t);
    const err = await api.runs.start({ epochs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiCallError);
    expect(err).toMatchObject({ message: 'epochs: Too small', field: 'epochs' });
    await expect(api.runs.list()).rejects.toThrow(/malformed reply/);
  });

  it('subscribes on the topic channel and unsubscribes', () => {
    const f = fakeTransport(() => ({ ok: true, result: null }));
    const api = buildBridge(f.t);
    const got: unknown[] = [];
    const off = api.runs.onEvent((e) => got.push(e));
    f.push(EVENT_CHANNELS['runs.event'], { type: 'deleted', runId: 1 });
    f.push(EVENT_CHANNELS['datasets.job'], { jobId: 'x' });
    off();
    f.push(EVENT_CHANNELS['runs.event'], { type: 'deleted', runId: 2 });
    expect(got).toEqual([{ type: 'deleted', runId: 1 }]);
    expect(EVENT_CHANNELS['runs.event']).toBe('api:runs.event');
    expect(() => api.datasets.onJob('nope' as never)).toThrow(/needs a callback/);
  });
});
