/**
 * The Content-Security-Policy as Chromium enforces it on the built renderer (out/renderer): served over HTTP by the
 * served mode's own server (`startServer`: the header *and* the page's <meta>), and opened as a `file:` page, which
 * gets no response headers, so the <meta> alone must hold. In both, the app's own bundle runs and a script or style
 * that the page did not load from itself is refused. (eval is not tried: code that the test injects runs through the
 * DevTools protocol, which the policy does not govern.) And no page of another origin can frame the served page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { serveStatic } from '../../src-main/bench/chromium';
import { tempDir } from '../../src-main/data/synthetic';
import { startServer, type RunningServer } from '../../src-main/server/server';
import { createWorkbenchService, type WorkbenchService } from '../../src-main/service';
import { cspViolations, launchChromium, openPage, WAIT, type Browser } from './chromium';

const ROOT = path.resolve('out/renderer');

/** The content of the page's `<meta http-equiv="Content-Security-Policy">`, or null. */
function metaPolicy(html: string): string | null {
  const m = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(html);
  return m?.[1] ?? null;
}

/**
 * Tries, in the page, an inline <script>, an inline <style> and a script from another origin (a data: URL);
 * returns what took effect. Page-side code is a string: this file is type-checked without the DOM library.
 */
function tryForbidden(page: Page): Promise<{ inlineScript: boolean; inlineStyle: boolean; dataScript: boolean }> {
  return page.evaluate(`(async () => {
    const root = document.documentElement;
    const before = getComputedStyle(root).backgroundColor;
    const script = document.createElement('script');
    script.textContent = 'document.documentElement.dataset.inline = "ran"';
    document.head.append(script);
    const style = document.createElement('style');
    style.textContent = ':root { background-color: rgb(255, 0, 0) !important }';
    document.head.append(style);
    const data = document.createElement('script');
    data.src = 'data:text/javascript,document.documentElement.dataset.data%20%3D%20%22ran%22';
    await new Promise((done) => { data.onload = done; data.onerror = done; setTimeout(done, 3000); document.head.append(data); });
    return {
      inlineScript: root.dataset.inline === 'ran',
      inlineStyle: getComputedStyle(root).backgroundColor !== before,
      dataScript: root.dataset.data === 'ran',
    };
  })()`);
}

/** Directive name → sources of a policy string. */
function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).filter((p) => p[0]).map(([name, ...sources]) => [name!, sources]));
}

const NOTHING_RAN = { inlineScript: false, inlineStyle: false, dataScript: false };

let home: string;
let svc: WorkbenchService;
let srv: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'index.html'))) {
    throw new Error(`${ROOT}/index.html is missing: build the app first with \`npx electron-vite build\` (.ci/run does)`);
  }
  home = tempDir('alphanet-csp-home-');
  svc = createWorkbenchService({ home, mode: 'served', adoptQueued: false, probeBackend: async () => ({ name: 'cpu', detail: 'test' }) });
  srv = await startServer({ service: svc, staticDir: ROOT });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await svc?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('Content-Security-Policy of the built renderer', () => {
  it("the served page's header is its <meta> plus frame-ancestors (which a <meta> cannot carry), on every file", async () => {
    const res = await fetch(`http://127.0.0.1:${srv.port}/`);
    expect(res.status).toBe(200);
    const header = res.headers.get('content-security-policy');
    const html = await res.text();
    const meta = metaPolicy(html);
    expect(header).toBeTruthy();
    expect(meta).toBeTruthy();
    // Same directives with the same sources; the header adds only frame-ancestors, which browsers ignore in a <meta>.
    const inHeader = directives(header!);
    const inMeta = directives(meta!);
    for (const [name, sources] of inMeta) expect(inHeader.get(name), name).toEqual(sources);
    expect([...inHeader.keys()].filter((n) => !inMeta.has(n))).toEqual(['frame-ancestors']);
    expect(inHeader.get('frame-ancestors')).toEqual(["'none'"]);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    // The built page is the file on disk, and its assets come with the same header.
    expect(html).toBe(readFileSync(path.join(ROOT, 'index.html'), 'utf8'));
    const assets = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets) {
      const r = await fetch(`http://127.0.0.1:${srv.port}/${a}`);
      expect(r.status, a).toBe(200);
      expect(r.headers.get('content-security-policy'), a).toBe(header);
    }
  });

  it('served: the app runs, and inline script, inline style and a foreign script are refused', async () => {
    const { page } = await openPage(browser.context, `http://127.0.0.1:${srv.port}/`);
    // The bundle (script-src 'self') ran and its stylesheet (style-src 'self') applied.
    await expect.poll(() => page.locator('h1').textContent(), WAIT).toBe('Datasets');
    expect(await page.evaluate("getComputedStyle(document.querySelector('nav')).borderRightStyle")).toBe('solid');
    expect(await cspViolations(page)).toEqual([]);

    expect(await tryForbidden(page)).toEqual(NOTHING_RAN);
    await expect.poll(async () => (await cspViolations(page)).join('\n'), WAIT).toMatch(/^script-src/m);
    const seen = (await cspViolations(page)).join('\n');
    expect(seen).toMatch(/^style-src/m);
    await page.close();
  });

  it('served: a page of another origin cannot frame it (frame-ancestors, X-Frame-Options), where it could frame a page without them', async () => {
    // The framing page: another origin on the same host (no CSP of its own), embedding the address it is given.
    const parent = createServer((req, res) => {
      const target = new URL(req.url ?? '/', 'http://x').searchParams.get('frame') ?? '';
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<!doctype html><iframe src="${target}" width="800" height="600"></iframe>`);
    });
    await new Promise<void>((r) => parent.listen(0, '127.0.0.1', r));
    const plain = await serveStatic(ROOT);
    const port = (s: { address(): unknown }) => (s.address() as AddressInfo).port;
    /** Frames `url`; returns the frame's final URL and its headings once it has settled. */
    const framed = async (url: string): Promise<{ url: string; h1: string[] }> => {
      const { page } = await openPage(browser.context, `http://127.0.0.1:${port(parent)}/?frame=${encodeURIComponent(url)}`);
      const frame = await (await page.waitForSelector('iframe')).contentFrame();
      await frame!.waitForLoadState('load');
      // A framed app draws its shell after loading: give it the time to show its heading (not a refused one).
      if (!frame!.url().startsWith('chrome-error:')) await expect.poll(() => frame!.locator('h1').allTextContents(), { timeout: 5000 }).toContain('Datasets').catch(() => undefined);
      const out = { url: frame!.url(), h1: await frame!.locator('h1').allTextContents() };
      await page.close();
      return out;
    };
    try {
      // Chromium replaces a refused frame's document with its own error page.
      const refused = await framed(`http://127.0.0.1:${srv.port}/`);
      expect(refused.url).toMatch(/^chrome-error:/);
      expect(refused.h1).not.toContain('Datasets');
      // Control: the same built page from a plain static server (CSP without frame-ancestors) loads in the frame.
      const allowed = await framed(`http://127.0.0.1:${port(plain)}/`);
      expect(allowed.h1).toContain('Datasets');
    } finally {
      for (const s of [parent, plain]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    }
  });

  it('as a file: page (no headers) the <meta> alone refuses the same', async () => {
    const { page } = await openPage(browser.context, pathToFileURL(path.join(ROOT, 'index.html')).href);
    await page.waitForLoadState('domcontentloaded');
    expect(await page.evaluate("document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')?.content")).toBe(
      metaPolicy(readFileSync(path.join(ROOT, 'index.html'), 'utf8')),
    );
    expect(await tryForbidden(page)).toEqual(NOTHING_RAN);
    await expect.poll(async () => (await cspViolations(page)).join('\n'), WAIT).toMatch(/^script-src/m);
    await page.close();
  });
});
