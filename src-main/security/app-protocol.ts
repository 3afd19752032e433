/**
 * The desktop app's own scheme. The packaged app used to load `file://…/index.html`: every local file
 * shares that one opaque origin, a `file:` page gets no response headers (so the CSP could only be a `<meta>`, which
 * cannot say frame-ancestors), and Electron grants `file:` extra privileges. The page now loads from
 * `app://workbench/`, a standard, secure scheme whose handler (index.ts) serves only the renderer folder, through
 * the same resolver as the served mode (static-files.ts), with the same headers. Electron-free: the handler's logic
 * is {@link appResponse}, unit-tested under Node.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveStaticFile, staticHeaders } from './static-files';

export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
/** The page the windows load. */
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** What the protocol answers to `url`: status, headers and body (null for refusals). */
export function appResponse(url: string, rendererDir: string, csp: string): { status: number; headers: Record<string, string>; body: Buffer | null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { status: 400, headers: {}, body: null };
  }
  // Only this scheme and host; a request for `app://elsewhere/` is not ours to answer.
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return { status: 404, headers: {}, body: null };
  const f = resolveStaticFile(resolve(rendererDir), u.pathname);
  if (!f.ok) return { status: f.status, headers: {}, body: null };
  return { status: 200, headers: staticHeaders(f, csp), body: readFileSync(f.file) };
}
