/**
 * The Content-Security-Policy as Chromium enforces it on the built renderer (out/renderer), in both ways the app is
 * delivered: served over HTTP by the served mode's own server (`startServer`, the header *and* the page's <meta>),
 * and opened as a `file:` page like the packaged app (the <meta> alone: file pages get no response headers). In
 * both, the app's own bundle runs and a script or style that the page did not load from itself is refused. (eval is
 * not tried: code that the test injects runs through the DevTools protocol, which the policy does not govern.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
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
  it('the served page carries the same policy in its header and in its <meta> (the header adds frame-ancestors), and every static file has the header', async () => {
    const res = await fetch(`http://127.0.0.1:${srv.port}/`);
    expect(res.status).toBe(200);
    const header = res.headers.get('content-security-policy');
    const html = await res.text();
    expect(header).toBeTruthy();
    // Browsers ignore frame-ancestors in a <meta>, so only the header carries it; every other directive is the same.
    const directives = (p: string) => p.split(';').map((d) => d.trim()).filter(Boolean).sort();
    const meta = metaPolicy(html);
    expect(meta).toBeTruthy();
    expect(directives(header!)).toEqual([...directives(meta!), "frame-ancestors 'none'"].sort());
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

  it('as a file: page (the packaged app, no headers) the <meta> alone refuses the same', async () => {
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
