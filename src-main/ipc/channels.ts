/**
 * Every IPC channel between the preload bridge and the main process, derived from the one list of API methods and
 * event topics in protocol.ts (`api:<method>` / `api:<topic>`), so a method cannot be added to one side and forgotten
 * on the other. The renderer never sees these names: the preload exposes domain functions only (see bridge.ts).
 */
import { API_METHODS, EVENT_TOPICS, ipcChannelOf, type ApiMethod, type EventTopic } from './protocol';

/** invoke channels (renderer → main, one per method), each answered with an `ApiReply` envelope (reply.ts). */
export const INVOKE_CHANNELS: Readonly<Record<ApiMethod, string>> = Object.freeze(
  Object.fromEntries(API_METHODS.map((m) => [m, ipcChannelOf(m)])) as Record<ApiMethod, string>,
);

/** Event channels (main → renderer, `webContents.send`), one per topic. */
export const EVENT_CHANNELS: Readonly<Record<EventTopic, string>> = Object.freeze(
  Object.fromEntries((Object.keys(EVENT_TOPICS) as EventTopic[]).map((t) => [t, ipcChannelOf(t)])) as Record<EventTopic, string>,
);
