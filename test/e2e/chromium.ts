/**
 * Shared by the e2e suites: launching Debian's Chromium through playwright-core, and opening a page that records
 * everything that goes wrong on it (page errors, console errors and warnings, and CSP violations, which Chromium
 * reports as `securitypolicyviolation` events and console errors).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's binary without its wrapper script (the wrapper prints a harmless shell error), then the wrapper. */
const CHROMIUM_CANDIDATES = [process.env['CHROMIUM_PATH'], '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the suites save their screenshots. */
export const SHOTS = path.resolve('test-results');

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile and a 1280×860 viewport; throws with the fix when none is installed. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = CHROMIUM_CANDIDATES.find((p): p is string => !!p && existsSync(p));
  if (!executablePath) {
    throw new Error(
      `no Chromium found at ${CHROMIUM_CANDIDATES.filter(Boolean).join(' or ')}: ` +
        'install it with `apt-get install -y chromium fonts-liberation` or set CHROMIUM_PATH',
    );
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'alphanet-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A new page that records problems: `problems` (errors, warnings) and, per page, CSP violations. */
export async function openPage(
  context: BrowserContext,
  url: string,
  setup?: (page: Page) => Promise<unknown>,
): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  // Page-side code is passed as a string: this file is type-checked without the DOM library.
  await page.addInitScript({
    content: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));`,
  });
  await setup?.(page);
  await page.goto(url);
  return { page, problems };
}

/** CSP violations the page has seen so far. */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate('window.__csp') as Promise<string[]>;
}
