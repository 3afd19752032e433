/**
 * Debian's Chromium through playwright-core, for everything that drives the built renderer in a real browser: the
 * e2e suites (test/e2e/chromium.ts re-exports this) and the explorer benchmark (explorer-bench.ts). One list of
 * executables, one set of launch flags, and one static file server that sends the app's CSP header, so the tests and
 * the benchmark measure the same browser under the same policy.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { contentSecurityPolicy } from '../security/csp';

/** `$CHROMIUM_PATH`, then Debian's binary without its wrapper script (which prints a harmless shell error), then the wrapper. */
export const CHROMIUM_CANDIDATES = [process.env['CHROMIUM_PATH'], '/usr/lib/chromium/chromium', '/usr/bin/chromium'];

/** No sandbox (containers), no GPU (software canvas: the slow case), no network chatter, no first-run UI. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The first Chromium of {@link CHROMIUM_CANDIDATES} that exists; throws with the fix when none is installed. */
export function findChromium(): string {
  const found = CHROMIUM_CANDIDATES.find((p): p is string => !!p && existsSync(p));
  if (!found) {
    throw new Error(
      `no Chromium found at ${CHROMIUM_CANDIDATES.filter(Boolean).join(' or ')}: ` +
        'install it with `apt-get install -y chromium fonts-liberation` or set CHROMIUM_PATH',
    );
  }
  return found;
}

export interface Browser {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * A headless Chromium with a fresh profile (a temporary folder named `<profilePrefix>…`, removed by `close`).
 * @param o.viewport page size in CSS pixels (default 1280×860)
 * @param o.profilePrefix default `alphanet-chromium-`
 */
export async function launchChromium(o: { viewport?: { width: number; height: number }; profilePrefix?: string } = {}): Promise<Browser> {
  const executablePath = findChromium();
  const profile = await mkdtemp(path.join(tmpdir(), o.profilePrefix ?? 'alphanet-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: o.viewport ?? { width: 1280, height: 860 },
    });
    return {
      context,
      async close() {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * A static file server for `root` on 127.0.0.1 (a free port: read it from `server.address()`), sending the app's
 * Content-Security-Policy header with every file, as main does; `/` is `index.html`. Paths outside `root` get 403,
 * missing files 404.
 */
export function serveStatic(root: string): Promise<Server> {
  const base = path.resolve(root);
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = path.join(base, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(base + path.sep)) return void res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': contentSecurityPolicy() }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
