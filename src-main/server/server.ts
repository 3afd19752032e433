/**
 * The browser-served mode: the built renderer and the workbench API over HTTP, events over a WebSocket, on
 * 127.0.0.1 only. The wire protocol is protocol.ts's; the defences, in the order a request meets them:
 *
 * 1. `Host` must be `127.0.0.1:<port>` or `localhost:<port>` (421 otherwise): a page on another site that rebinds
 *    its DNS name to 127.0.0.1 still sends its own name, so it cannot read our replies.
 * 2. `Origin`, when present (browsers send it on POST and WebSocket upgrades), must be this server's (403).
 * 3. The API and the events need the random token (`Authorization: Bearer`, or `?token=` for the WebSocket, which
 *    cannot send headers from a browser), compared in constant time (401).
 * 4. Bodies are JSON of at most {@link MAX_BODY_BYTES} (413), `{"args": [...]}`, validated per method
 *    (ipc/api-schemas.ts) before the service runs (400).
 * Static files come only from the renderer folder (traversal refused) with the app's Content-Security-Policy.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiArgsError, isApiMethod, parseApiArgs } from '../ipc/api-schemas';
import { API_PATH_PREFIX, EVENTS_PATH, EVENT_TOPICS, TOKEN_QUERY, type EventTopic } from '../ipc/protocol';
import type { ApiReply } from '../ipc/reply';
import { contentSecurityPolicy } from '../security/csp';
import { resolveStaticFile, staticHeaders } from '../security/static-files';
import type { WorkbenchService } from '../service';

/** Largest request body accepted (bytes): a run config with an inline space is a few KiB. */
export const MAX_BODY_BYTES = 1 << 20;


export interface ServeOptions {
  service: WorkbenchService;
  /** The built renderer (out/renderer), holding index.html. */
  staticDir: string;
  /** TCP port (default 0: a free one). The host is always 127.0.0.1. */
  port?: number;
  /** Default: 32 random bytes, base64url. */
  token?: string;
}

export interface RunningServer {
  port: number;
  token: string;
  /** `http://127.0.0.1:<port>/?token=<token>`: what `alphanet serve` prints. */
  url: string;
  server: Server;
  /** Stops accepting, closes the WebSockets and the listener. */
  close(): Promise<void>;
}

/** Constant-time token comparison (hashing first makes the lengths equal, so the length leaks nothing either). */
export function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(given), h(token));
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
};
const sendError = (res: ServerResponse, status: number, message: string, field?: string): void =>
  sendJson(res, status, { ok: false, error: field ? { message, field } : { message } } satisfies ApiReply);

/**
 * The request body as text, at most {@link MAX_BODY_BYTES}. A body over the limit is refused with a 413 whether its
 * size was declared (Content-Length) or not (chunked): the rest is read and dropped rather than the socket destroyed,
 * so the client gets the answer instead of a connection reset, and the connection is closed after it.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const tooBig = () => new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      req.resume();
      reject(tooBig());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        reject(tooBig());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolveBody(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** Starts the server on 127.0.0.1 and resolves once it listens. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const token = o.token ?? randomBytes(32).toString('base64url');
  const root = resolve(o.staticDir);
  if (!existsSync(join(root, 'index.html'))) throw new Error(`no built renderer in ${root} (index.html missing); run \`npm run build\` first`);
  const csp = contentSecurityPolicy({ header: true });
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  /** Host and Origin checks shared by HTTP requests and WebSocket upgrades; null when the request may proceed. */
  const refuse = (req: IncomingMessage): HttpError | null => {
    if (!allowedHosts().has(req.headers.host ?? '')) return new HttpError(421, `refused: Host '${req.headers.host ?? ''}' is not this server`);
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return new HttpError(403, `refused: Origin '${origin}' is not this server`);
    return null;
  };

  const serveStatic = (req: IncomingMessage, res: ServerResponse, pathname: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, `${req.method} is not allowed here`);
    const f = resolveStaticFile(root, pathname);
    if (!f.ok) return sendError(res, f.status, f.message);
    res.writeHead(200, staticHeaders(f, csp));
    if (req.method === 'HEAD') return void res.end();
    createReadStream(f.file).pipe(res);
  };

  const serveApi = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    if (req.method !== 'POST') return sendError(res, 405, 'API calls are POST requests');
    const auth = req.headers.authorization;
    if (!tokenMatches(auth?.startsWith('Bearer ') ? auth.slice(7) : null, token)) return sendError(res, 401, 'missing or wrong token: open the URL `alphanet serve` printed');
    if (!isApiMethod(method)) return sendError(res, 404, `no API method '${method}'`);
    let body: unknown;
    try {
      const text = await readBody(req);
      body = JSON.parse(text);
    } catch (e) {
      if (e instanceof HttpError) {
        // Whatever of the body is still coming is not wanted: close the connection once the answer is sent.
        if (e.status === 413) res.setHeader('Connection', 'close');
        return sendError(res, e.status, e.message);
      }
      return sendError(res, 400, `the body is not JSON: ${(e as Error).message}`, 'body');
    }
    if (typeof body !== 'object' || body === null || !Array.isArray((body as { args?: unknown }).args)) {
      return sendError(res, 400, 'the body must be {"args": [...]}', 'args');
    }
    let args;
    try {
      args = parseApiArgs(method, (body as { args: unknown[] }).args);
    } catch (e) {
      if (e instanceof ApiArgsError) return sendError(res, 400, e.message, e.field);
      throw e;
    }
    const { status, reply } = await o.service.run(method, args);
    sendJson(res, status, reply);
  };

  const server = createServer((req, res) => {
    const bad = refuse(req);
    if (bad) return sendError(res, bad.status, bad.message);
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const handle = url.pathname.startsWith(API_PATH_PREFIX) ? serveApi(req, res, url.pathname.slice(API_PATH_PREFIX.length)) : Promise.resolve(serveStatic(req, res, url.pathname));
    handle.catch((e: unknown) => {
      console.error('[serve] request failed:', e);
      if (!res.headersSent) sendError(res, 500, (e as Error)?.message ?? String(e));
      else res.destroy();
    });
  });

  // Events: the service's emitter fanned out to every authorised WebSocket.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const sockets = new Set<WebSocket>();
  const forwarders = (Object.keys(EVENT_TOPICS) as EventTopic[]).map((topic) => {
    const fn = (payload: unknown) => {
      const text = JSON.stringify({ topic, payload });
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
    };
    o.service.events.on(topic, fn);
    return () => o.service.events.off(topic, fn);
  });
  server.on('upgrade', (req, socket, head) => {
    const reject = (status: number, message: string) => {
      socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const bad = refuse(req);
    if (bad) return reject(bad.status, bad.status === 421 ? 'Misdirected Request' : 'Forbidden');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname !== EVENTS_PATH) return reject(404, 'Not Found');
    if (!tokenMatches(url.searchParams.get(TOKEN_QUERY), token)) return reject(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      // Server → client only: anything the client sends is ignored.
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?${TOKEN_QUERY}=${token}`,
    server,
    close: () =>
      new Promise<void>((done) => {
        for (const off of forwarders) off();
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
