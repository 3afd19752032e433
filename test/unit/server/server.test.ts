/**
 * The served mode's server over a real service and a temporary data directory: the token, Host and Origin checks,
 * argument validation, error statuses, static files with the CSP, path traversal, the WebSocket's events, and
 * `alphanet serve` end to end (needs the build: out/main/cli.js, data-worker.js, out/renderer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { tempDir } from '../../../src-main/data/synthetic';
import { contentSecurityPolicy } from '../../../src-main/security/csp';
import { MAX_BODY_BYTES, startServer, tokenMatches, type RunningServer } from '../../../src-main/server/server';
import { createWorkbenchService, type WorkbenchService } from '../../../src-main/service';

let svc: WorkbenchService;
let srv: RunningServer;
let staticDir: string;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (fetch cannot set Host). */
function http(method: string, path: string, o: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, method, path, headers: { host: `127.0.0.1:${srv.port}`, ...o.headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const call = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  http('POST', `/api/${method}`, {
    headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  const parent = tempDir('alphanet-static-');
  staticDir = join(parent, 'renderer');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  mkdirSync(join(staticDir, 'assets'));
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(parent, 'secret.txt'), 'TOP-SECRET');
  svc = createWorkbenchService({ home: tempDir('alphanet-serve-home-'), mode: 'served', adoptQueued: false, probeBackend: async () => ({ name: 'cpu', detail: 'test' }), allowedFolders: [tmpdir()] });
  srv = await startServer({ service: svc, staticDir });
});
afterAll(async () => {
  await srv?.close();
  await svc?.close();
});

describe('token', () => {
  it('compares in constant time and refuses missing or different tokens', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
    expect(srv.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/?token=${srv.token}`);
  });

  it('answers API calls without the right token with 401', async () => {
    const none = await http('POST', '/api/app.info', { body: '{"args":[]}' });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/token/) } });
    expect((await call('app.info', { args: [] }, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await call('app.info', { args: [] }, { authorization: srv.token })).status).toBe(401);
  });
});

describe('Host and Origin', () => {
  it('refuses a foreign Host (DNS rebinding) with 421, on static files and the API', async () => {
    expect((await http('GET', '/', { headers: { host: `evil.example:${srv.port}` } })).status).toBe(421);
    expect((await call('app.info', { args: [] }, { host: 'evil.example' })).status).toBe(421);
    expect((await call('app.info', { args: [] }, { host: `127.0.0.1:${srv.port + 1}` })).status).toBe(421);
    expect((await http('GET', '/', { headers: { host: `localhost:${srv.port}` } })).status).toBe(200);
  });

  it('refuses a foreign Origin with 403 even with the token', async () => {
    expect((await call('app.info', { args: [] }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('app.info', { args: [] }, { origin: 'null' })).status).toBe(403);
    expect((await call('app.info', { args: [] }, { origin: `http://localhost:${srv.port}` })).status).toBe(200);
  });
});

describe('API calls', () => {
  it('answers a valid call with {ok, result}', async () => {
    const r = await call('app.info', { args: [] });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(r.body)).toMatchObject({ ok: true, result: { mode: 'served', backend: { name: 'cpu' } } });
    expect(JSON.parse((await call('datasets.list', { args: [] })).body)).toEqual({ ok: true, result: [] });
  });

  it('refuses malformed payloads with 400 naming the argument, before the service runs', async () => {
    const notJson = await call('runs.list', '{"args": [');
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error.message).toMatch(/not JSON/);
    expect((await call('runs.list', { arguments: [] })).status).toBe(400);
    const bad = await call('datasets.samples', { args: ['ds-x', { split: 'train', perClass: 0 }] });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ ok: false, error: { message: expect.stringMatching(/datasets\.samples: argument 'opts\.perClass': Too small/), field: 'opts.perClass' } });
    const arity = await call('runs.get', { args: [] });
    expect(JSON.parse(arity.body).error.message).toBe('runs.get: expected 1 argument (id), got 0');
  });

  it('answers 404 for an unknown method or a missing object, 405 for other verbs, 413 for huge bodies', async () => {
    expect((await call('runs.nope', { args: [] })).status).toBe(404);
    expect((await call('constructor', { args: [] })).status).toBe(404);
    const missing = await call('runs.get', { args: [12345] });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.message).toBe('no run with id 12345');
    expect((await http('GET', '/api/runs.list', { headers: { authorization: `Bearer ${srv.token}` } })).status).toBe(405);
    const huge = await call('runs.check', { args: [{ name: 'x'.repeat(MAX_BODY_BYTES) }] });
    expect(huge.status).toBe(413);
  });

  it('answers a refused action with 400 and the field', async () => {
    const r = await call('runs.start', { args: [{ epochs: 0 }] });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ field: 'epochs' });
  });
});

describe('static files', () => {
  it('serves the renderer with the CSP, and / as index.html', async () => {
    const index = await http('GET', '/?token=whatever');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>t</title>');
    expect(index.headers['content-security-policy']).toBe(contentSecurityPolicy({ header: true }));
    expect(index.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    const js = await http('GET', '/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await http('GET', '/assets/none.js')).status).toBe(404);
    expect((await http('POST', '/index.html')).status).toBe(405);
  });

  it('refuses path traversal', async () => {
    for (const p of ['/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/../secret.txt', '/assets/%00x']) {
      const r = await http('GET', p);
      expect([403, 404], p).toContain(r.status);
      expect(r.body, p).not.toContain('TOP-SECRET');
    }
    expect((await http('GET', '/..%2fsecret.txt')).status).toBe(403);
  });
});

describe('events WebSocket', () => {
  const connect = (query: string, headers: Record<string, string> = {}) => new WebSocket(`ws://127.0.0.1:${srv.port}/events${query}`, { headers });
  const refusedWith = (ws: WebSocket) =>
    new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });

  it('refuses a missing token (401), a foreign Origin (403) or Host (421)', async () => {
    expect(await refusedWith(connect(''))).toBe(401);
    expect(await refusedWith(connect('?token=wrong'))).toBe(401);
    expect(await refusedWith(connect(`?token=${srv.token}`, { origin: 'http://evil.example' }))).toBe(403);
    expect(await refusedWith(connect(`?token=${srv.token}`, { host: 'evil.example' }))).toBe(421);
  });

  it("pushes the service's events as {topic, payload}: a dataset job's error", async () => {
    const ws = connect(`?token=${srv.token}`, { origin: `http://127.0.0.1:${srv.port}` });
    const got: { topic: string; payload: { type?: string; jobId?: string } }[] = [];
    await new Promise((resolve) => ws.on('open', resolve));
    const junk = join(tempDir(), 'junk');
    mkdirSync(junk);
    const job = JSON.parse((await call('datasets.import', { args: [{ path: junk }] })).body).result as { jobId: string };
    await new Promise<void>((resolve) =>
      ws.on('message', (m) => {
        const e = JSON.parse(String(m));
        got.push(e);
        if (e.payload.type === 'error') resolve();
      }),
    );
    expect(got.at(-1)).toEqual({ topic: 'datasets.job', payload: { jobId: job.jobId, type: 'error', error: { message: expect.stringMatching(/cannot tell the format/) } } });
    svc.events.emit('runs.event', { type: 'deleted', runId: 7 });
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
    expect(got.at(-1)).toEqual({ topic: 'runs.event', payload: { type: 'deleted', runId: 7 } });
    const front = { objective: 'mflops' as const, evaluationIds: [4], points: [{ evaluationId: 4, accuracy: 0.5, cost: 2 }], hypervolume: 1, reference: { costRef: 4, accRef: 0 } };
    svc.events.emit('searches.event', { type: 'front', searchId: 3, front });
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
    expect(got.at(-1)).toEqual({ topic: 'searches.event', payload: { type: 'front', searchId: 3, front } });
    ws.close();
  });
});

describe('alphanet serve', () => {
  it('prints the URL as its first line, serves the built renderer, and stops cleanly on SIGTERM', async () => {
    const cli = join(__dirname, '..', '..', '..', 'out', 'main', 'cli.js');
    const home = tempDir('alphanet-serve-cli-');
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const first = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    });
    const m = /^serving at http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{43})$/.exec(first);
    expect(m, first).not.toBeNull();
    const [, port, token] = m!;
    const page = await fetch(`http://127.0.0.1:${port}/?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(contentSecurityPolicy({ header: true }));
    expect(await page.text()).toMatch(/<script type="module"[^>]* src="\/?\.?\/?assets\//);
    const info = await fetch(`http://127.0.0.1:${port}/api/app.info`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{"args":[]}' });
    expect(await info.json()).toMatchObject({ ok: true, result: { dataDir: home, mode: 'served' } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toMatch(/SIGTERM: pausing running runs and stopping…\nstopped/);
  });
});

describe('limits and headers', () => {
  it('answers 413 to a chunked body over the limit (no Content-Length), and stays up', async () => {
    const r = await new Promise<Reply>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: srv.port, method: 'POST', path: '/api/runs.check', headers: { host: `127.0.0.1:${srv.port}`, authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      const chunk = 'x'.repeat(64 * 1024);
      req.write('{"args": [{"name": "');
      // Written without waiting: the server may answer (and close) before the body ends.
      for (let i = 0; i < 24; i++) req.write(chunk);
      req.end('"}]}');
    });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.message).toMatch(/over 1048576 bytes/);
    expect((await call('runs.list', { args: [] })).status).toBe(200);
  });

  it('forbids framing the page: frame-ancestors in the CSP header and X-Frame-Options', async () => {
    const index = await http('GET', '/');
    expect(index.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(index.headers['x-frame-options']).toBe('DENY');
  });
});
