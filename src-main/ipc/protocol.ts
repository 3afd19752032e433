/**
 * The wire protocol of the browser-served mode, shared by the server (src-main/server) and the renderer's client
 * (src-renderer/lib/api.ts). Node-free. The Electron transport uses the same method names as IPC channels
 * (`api:<method>`), so both transports expose exactly {@link WorkbenchApi}.
 *
 * - The page is served at `http://127.0.0.1:<port>/?token=<token>`; the client takes the token from the query once,
 *   keeps it in sessionStorage and removes it from the address bar.
 * - Calls: `POST /api/<method>` (method as in {@link API_METHODS}, e.g. `/api/datasets.list`), header
 *   `Authorization: Bearer <token>`, body `{"args": [...]}` (the method's arguments, JSON). Reply `200 {"ok": true,
 *   "result": ...}`; or `400` (arguments refused) / `404` (unknown method or missing object) / `500` with
 *   `{"ok": false, "error": {"message": "...", "field"?: "..."}}`. A missing or wrong token: `401`.
 * - Events: WebSocket at `/events?token=<token>`, server → client only, each message `{"topic": ..., "payload": ...}`
 *   with topics from {@link EVENT_TOPICS}.
 */
import type { WorkbenchApi } from './api-types';

export const API_PATH_PREFIX = '/api/';
export const EVENTS_PATH = '/events';
export const TOKEN_QUERY = 'token';

/** Every request/response method of {@link WorkbenchApi}, as `namespace.method`. */
export const API_METHODS = [
  'app.info',
  'app.openExternal',
  'app.revealPath',
  'app.pickPath',
  'datasets.list',
  'datasets.get',
  'datasets.samples',
  'datasets.import',
  'datasets.createDemo',
  'datasets.delete',
  'spaces.list',
  'runs.list',
  'runs.get',
  'runs.metrics',
  'runs.presets',
  'runs.check',
  'runs.start',
  'runs.pause',
  'runs.resume',
  'runs.cancel',
  'runs.delete',
  'runs.saveConfig',
  'subnets.list',
  'subnets.evaluate',
  'subnets.pin',
  'subnets.front',
  'predictor.get',
  'predictor.importance',
  'predictor.build',
  'predictor.cancelBuild',
  'predictor.genes',
  'latency.table',
  'latency.build',
  'latency.cancelBuild',
  'searches.list',
  'searches.get',
  'searches.start',
  'searches.pause',
  'searches.resume',
  'searches.cancel',
  'exports.start',
  'exports.cancel',
  'compare.runs',
  'clusters.list',
  'clusters.add',
  'clusters.remove',
  'clusters.test',
  'clusters.jobLog',
] as const satisfies readonly MethodPath[];
export type ApiMethod = (typeof API_METHODS)[number];

/** Pushed events: topic → the `on*` subscription that receives them. */
export const EVENT_TOPICS = {
  'datasets.job': 'datasets.onJob',
  'runs.event': 'runs.onEvent',
  'searches.event': 'searches.onEvent',
  'predictor.event': 'predictor.onEvent',
} as const;
export type EventTopic = keyof typeof EVENT_TOPICS;

/** IPC channel of a method or event topic in the Electron transport. */
export const ipcChannelOf = (name: ApiMethod | EventTopic): string => `api:${name}`;

// `namespace.method` for every non-subscription member of WorkbenchApi; keeps API_METHODS in step with the types.
type MethodPath = {
  [N in keyof WorkbenchApi]: {
    [M in keyof WorkbenchApi[N] & string]: M extends `on${string}` ? never : `${N & string}.${M}`;
  }[keyof WorkbenchApi[N] & string];
}[keyof WorkbenchApi];
