/**
 * The object the preload exposes as `window.api`, built from the one list of methods and topics (protocol.ts), so
 * nothing is forgotten and nothing else is reachable: each method invokes its own channel and unwraps the reply
 * envelope (reply.ts); each `on*` listens on its topic's channel and returns an unsubscribe. Electron-free (the
 * preload passes `ipcRenderer` in through {@link BridgeTransport}) so it is unit-tested under Node.
 */
import type { WorkbenchApi } from './api-types';
import { INVOKE_CHANNELS, EVENT_CHANNELS } from './channels';
import { API_METHODS, EVENT_TOPICS, type EventTopic } from './protocol';
import { unwrapReply } from './reply';

/** The two things the bridge needs from `ipcRenderer`. */
export interface BridgeTransport {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  /** Calls `cb` with each message's payload on `channel` until the returned function is called. */
  subscribe(channel: string, cb: (payload: unknown) => void): () => void;
}

export function buildBridge(t: BridgeTransport): WorkbenchApi {
  const api: Record<string, Record<string, unknown>> = {};
  const slot = (path: string): [Record<string, unknown>, string] => {
    const [ns, fn] = path.split('.');
    api[ns] ??= {};
    return [api[ns], fn];
  };
  for (const m of API_METHODS) {
    const [ns, fn] = slot(m);
    const channel = INVOKE_CHANNELS[m];
    ns[fn] = async (...args: unknown[]) => unwrapReply(await t.invoke(channel, ...args));
  }
  for (const topic of Object.keys(EVENT_TOPICS) as EventTopic[]) {
    const [ns, fn] = slot(EVENT_TOPICS[topic]);
    const channel = EVENT_CHANNELS[topic];
    ns[fn] = (cb: (payload: unknown) => void) => {
      if (typeof cb !== 'function') throw new TypeError(`${EVENT_TOPICS[topic]} needs a callback`);
      return t.subscribe(channel, cb);
    };
  }
  return api as unknown as WorkbenchApi;
}
