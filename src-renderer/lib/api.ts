/**
 * The renderer's one door to the app. Inside Electron that is the preload bridge (`window.api`); in a browser (the
 * served mode, `alphanet serve`) it is the same {@link WorkbenchApi} over HTTP calls and one WebSocket for events,
 * as src-main/ipc/protocol.ts describes. Pages import {@link getApi} and nothing else, so both transports, and the
 * fakes of the component tests (set as `window.api`), look the same to them.
 */
import type { ApiErrorInfo, AppInfo, WorkbenchApi } from '../../src-main/ipc/api-types';
import {
  API_PATH_PREFIX,
  EVENTS_PATH,
  TOKEN_QUERY,
  type ApiMethod,
  type EventTopic,
} from '../../src-main/ipc/protocol';

declare global {
  interface Window {
    /** Set by the Electron preload; absent when the page is opened in an ordinary browser. */
    api?: WorkbenchApi;
  }
}

/** A refused or failed call: the message is for the user; `field` is the dotted path of the bad input, if any. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly field: string | undefined;
  /** HTTP status in the served mode (0: the server could not be reached); undefined from the bridge. */
  readonly status: number | undefined;

  constructor(info: ApiErrorInfo, status?: number) {
    super(info.message);
    this.field = info.field;
    this.status = status;
  }
}

/** sessionStorage key of the served mode's token: it survives reloads of the tab, not the tab itself. */
export const TOKEN_STORAGE_KEY = 'alphanet.token';

/**
 * The served mode's token. Read from the address bar once (`?token=`), kept in sessionStorage, and removed from the
 * address bar with `history.replaceState`, so it does not linger in the history, bookmarks or screenshots.
 * @returns the token, or null when the page was opened without one (and none is stored).
 */
export function takeToken(
  loc: Pick<Location, 'href'> = window.location,
  storage: Pick<Storage, 'getItem' | 'setItem'> = window.sessionStorage,
  history: Pick<History, 'replaceState' | 'state'> = window.history,
): string | null {
  const url = new URL(loc.href);
  const fromQuery = url.searchParams.get(TOKEN_QUERY);
  if (fromQuery) {
    storage.setItem(TOKEN_STORAGE_KEY, fromQuery);
    url.searchParams.delete(TOKEN_QUERY);
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
    return fromQuery;
  }
  return storage.getItem(TOKEN_STORAGE_KEY);
}

/** The WebSocket constructor's shape, so tests can pass a fake. */
export type WebSocketLike = Pick<WebSocket, 'close'> & {
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
};
export type WebSocketFactory = new (url: string) => WebSocketLike;

export interface HttpApiOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:5173`. */
  baseUrl: string;
  /** The session token; null gives every call a clear "no token" error instead of a bare 401. */
  token: string | null;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default: the global WebSocket. */
  WebSocket?: WebSocketFactory;
  /** First reconnect delay in ms (default 500); doubles per failed attempt up to `maxBackoffMs`. */
  backoffMs?: number;
  /** Longest reconnect delay in ms (default 10 000). */
  maxBackoffMs?: number;
  /** Called whenever the event connection opens or closes (for the status line). */
  onConnection?: (connected: boolean) => void;
  /**
   * How long in ms the event connection stays open after its last listener leaves (default 1 000), so a page switch,
   * whose old view unsubscribes just before the new one subscribes, keeps the one connection instead of dropping it.
   */
  lingerMs?: number;
}

/** The `WorkbenchApi` member a `namespace.method` names. */
type MethodOf<P extends ApiMethod> = P extends `${infer N}.${infer M}`
  ? N extends keyof WorkbenchApi
    ? M extends keyof WorkbenchApi[N]
      ? WorkbenchApi[N][M]
      : never
    : never
  : never;

const NO_TOKEN =
  'no session token: open the full address that `alphanet serve` printed (it ends in ?token=…)';

/** The served mode's transport: see src-main/ipc/protocol.ts for the wire format. */
export function createHttpApi(opts: HttpApiOptions): WorkbenchApi {
  const fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);

  async function call(method: ApiMethod, args: unknown[]): Promise<unknown> {
    if (!opts.token) throw new ApiError({ message: NO_TOKEN }, 401);
    let res: Response;
    try {
      res = await fetchImpl(new URL(API_PATH_PREFIX + method, opts.baseUrl).href, {
        method: 'POST',
        headers: { Authorization: `Bearer ${opts.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ args }),
      });
    } catch (e) {
      throw new ApiError({ message: `cannot reach the workbench server (${method}): ${errorMessage(e)}` }, 0);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    if (isRecord(body) && body['ok'] === true) return body['result'];
    if (isRecord(body) && body['ok'] === false && isRecord(body['error']) && typeof body['error']['message'] === 'string') {
      const err = body['error'];
      throw new ApiError(
        { message: err['message'] as string, ...(typeof err['field'] === 'string' ? { field: err['field'] } : {}) },
        res.status,
      );
    }
    if (res.status === 401) throw new ApiError({ message: `the server refused the session token (${method}): ${NO_TOKEN}` }, 401);
    throw new ApiError({ message: `${method}: unexpected answer from the server (HTTP ${res.status})` }, res.status);
  }

  const m = <P extends ApiMethod>(method: P): MethodOf<P> =>
    ((...args: unknown[]) => call(method, args)) as unknown as MethodOf<P>;

  const events = new EventChannel(opts);

  return {
    app: {
      info: m('app.info'),
      openExternal: m('app.openExternal'),
      revealPath: m('app.revealPath'),
      pickPath: m('app.pickPath'),
    },
    datasets: {
      list: m('datasets.list'),
      get: m('datasets.get'),
      samples: m('datasets.samples'),
      import: m('datasets.import'),
      createDemo: m('datasets.createDemo'),
      delete: m('datasets.delete'),
      onJob: (cb) => events.subscribe('datasets.job', cb as (p: unknown) => void),
    },
    spaces: { list: m('spaces.list') },
    runs: {
      list: m('runs.list'),
      get: m('runs.get'),
      metrics: m('runs.metrics'),
      presets: m('runs.presets'),
      check: m('runs.check'),
      start: m('runs.start'),
      pause: m('runs.pause'),
      resume: m('runs.resume'),
      cancel: m('runs.cancel'),
      delete: m('runs.delete'),
      saveConfig: m('runs.saveConfig'),
      onEvent: (cb) => events.subscribe('runs.event', cb as (p: unknown) => void),
    },
    subnets: {
      list: m('subnets.list'),
      evaluate: m('subnets.evaluate'),
      pin: m('subnets.pin'),
      front: m('subnets.front'),
    },
    predictor: { get: m('predictor.get'), importance: m('predictor.importance'), build: m('predictor.build'), cancelBuild: m('predictor.cancelBuild'), genes: m('predictor.genes'), onEvent: (cb) => events.subscribe('predictor.event', cb as (p: unknown) => void) },
    latency: { table: m('latency.table'), build: m('latency.build'), cancelBuild: m('latency.cancelBuild') },
    searches: {
      list: m('searches.list'),
      get: m('searches.get'),
      start: m('searches.start'),
      pause: m('searches.pause'),
      resume: m('searches.resume'),
      cancel: m('searches.cancel'),
      onEvent: (cb) => events.subscribe('searches.event', cb as (p: unknown) => void),
    },
    exports: { start: m('exports.start'), cancel: m('exports.cancel') },
    compare: { runs: m('compare.runs') },
    clusters: { list: m('clusters.list'), add: m('clusters.add'), remove: m('clusters.remove'), test: m('clusters.test'), jobLog: m('clusters.jobLog') },
  };
}

/**
 * One WebSocket shared by every subscriber, opened on the first subscription and kept open (reconnecting with
 * exponential backoff) while anyone listens, and for `lingerMs` after the last one leaves. Messages are fanned out by
 * topic; a throwing subscriber does not stop the others. A socket still connecting when it is no longer wanted is
 * closed once it opens: closing it mid-handshake makes Chromium log a warning ("closed before the connection is
 * established") for what is normal navigation.
 */
class EventChannel {
  private readonly subs = new Map<EventTopic, Set<(payload: unknown) => void>>();
  private socket: WebSocketLike | null = null;
  private socketOpen = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private linger: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;

  constructor(private readonly opts: HttpApiOptions) {}

  subscribe(topic: EventTopic, cb: (payload: unknown) => void): () => void {
    let set = this.subs.get(topic);
    if (!set) this.subs.set(topic, (set = new Set()));
    // Wrapped so the same callback subscribed twice gets two independent subscriptions.
    const entry = (p: unknown): void => cb(p);
    set.add(entry);
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    this.ensureOpen();
    return () => {
      if (!set.delete(entry) || this.listeners() > 0 || this.linger) return;
      this.linger = setTimeout(() => {
        this.linger = null;
        if (this.listeners() === 0) this.shutDown();
      }, this.opts.lingerMs ?? 1000);
    };
  }

  private listeners(): number {
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }

  private ensureOpen(): void {
    if (this.socket || this.timer || !this.opts.token) return;
    const Ws = this.opts.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketFactory);
    const url = new URL(EVENTS_PATH, this.opts.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set(TOKEN_QUERY, this.opts.token);
    const ws = new Ws(url.href);
    this.socket = ws;
    this.socketOpen = false;
    ws.onopen = () => {
      if (this.socket !== ws) {
        ws.close();
        return;
      }
      this.socketOpen = true;
      this.failures = 0;
      this.opts.onConnection?.(true);
    };
    ws.onmessage = (ev) => this.dispatch(ev.data);
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.opts.onConnection?.(false);
      if (this.listeners() === 0) return;
      const base = this.opts.backoffMs ?? 500;
      const delay = Math.min(this.opts.maxBackoffMs ?? 10_000, base * 2 ** this.failures);
      this.failures++;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.listeners() > 0) this.ensureOpen();
      }, delay);
    };
  }

  private shutDown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.socket;
    const open = this.socketOpen;
    this.socket = null;
    this.socketOpen = false;
    // Still connecting: onopen sees it is no longer the channel's socket and closes it then (see the class comment).
    if (ws && open) ws.close();
  }

  private dispatch(data: unknown): void {
    let msg: unknown;
    try {
      msg = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      console.warn('workbench events: ignored a message that is not JSON');
      return;
    }
    if (!isRecord(msg) || typeof msg['topic'] !== 'string') return;
    const set = this.subs.get(msg['topic'] as EventTopic);
    if (!set) return;
    for (const cb of [...set]) {
      try {
        cb(msg['payload']);
      } catch (e) {
        console.error(`workbench events: a ${msg['topic']} subscriber failed:`, e);
      }
    }
  }
}

let served: WorkbenchApi | undefined;
/** Listeners of the served mode's event connection (true = connected). */
const connectionListeners = new Set<(connected: boolean) => void>();

/**
 * The API for this page: the preload bridge when there is one, else the served mode's client (created once, with
 * the token taken from the address bar or sessionStorage).
 */
export function getApi(): WorkbenchApi {
  if (window.api) return window.api;
  served ??= createHttpApi({
    baseUrl: window.location.origin,
    token: takeToken(),
    onConnection: (c) => connectionListeners.forEach((l) => l(c)),
  });
  return served;
}

/** Follows the served mode's event connection (never called in Electron, whose events cannot drop). */
export function onConnectionChange(cb: (connected: boolean) => void): () => void {
  connectionListeners.add(cb);
  return () => connectionListeners.delete(cb);
}

export type AppStatus = { mode: 'ok'; info: AppInfo } | { mode: 'error'; message: string };

/** What the status line shows. Never rejects: a failing call becomes an `error` status. */
export async function loadStatus(api: WorkbenchApi = getApi()): Promise<AppStatus> {
  try {
    return { mode: 'ok', info: await api.app.info() };
  } catch (e) {
    return { mode: 'error', message: errorMessage(e) };
  }
}

/** One line of text for a status. */
export function describeStatus(status: AppStatus): string {
  if (status.mode === 'error') return `status unavailable: ${status.message}`;
  const { name, version, versions, dataDir, mode, backend } = status.info;
  const runtime = mode === 'electron' ? `Electron ${versions.electron}` : `served by Node ${versions.node}`;
  return `${name} ${version} · ${runtime} · backend ${backend.name} · data in ${dataDir}`;
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * How a page runs one user action (Pause, Delete…): `report(null)` first, then `report('<what>: <message>')` if the
 * action throws, so the page shows the last action's error and clears it when the next one starts.
 */
export function actionRunner(report: (error: string | null) => void): (what: string, f: () => Promise<void>) => Promise<void> {
  return async (what, f) => {
    report(null);
    try {
      await f();
    } catch (e) {
      report(`${what}: ${errorMessage(e)}`);
    }
  };
}

/**
 * The Cancel button of a long engine-worker operation (latency table, predictor build, export): asks the service.
 * `cancelling` is false when nothing was pending (the operation ended meanwhile: its result or error arrives as
 * usual) or the request failed, whose message is `error` ("Cancelling <what>: …").
 */
export async function requestCancel(cancel: () => Promise<boolean>, what: string): Promise<{ cancelling: boolean; error: string | null }> {
  try {
    return { cancelling: await cancel(), error: null };
  } catch (e) {
    return { cancelling: false, error: `Cancelling ${what}: ${errorMessage(e)}` };
  }
}

/** The field of an {@link ApiError}-shaped error (the bridge's errors carry it too), if any. */
export function errorField(e: unknown): string | undefined {
  if (isRecord(e) && typeof e['field'] === 'string') return e['field'];
  return undefined;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}
