/**
 * Which file of the built renderer a request path names — one answer for the two places that serve the renderer:
 * the served mode's HTTP server and the desktop app's `app://` protocol (the app does not load its page
 * from `file://`, where every local file shares one origin and no response headers can be set). Electron-free, so
 * both are unit-tested under Node. Refuses anything outside the renderer folder: `..` (also percent-encoded), NUL
 * bytes, malformed escapes.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
};

export type StaticFile = { ok: true; file: string; size: number; contentType: string } | { ok: false; status: 400 | 403 | 404; message: string };

/** The file `pathname` (a URL path, still percent-encoded; `/` is index.html) names under `root` (resolved). */
export function resolveStaticFile(root: string, pathname: string): StaticFile {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return { ok: false, status: 400, message: 'malformed path' };
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = resolve(root, `.${rel.startsWith('/') ? rel : `/${rel}`}`);
  if (rel.includes('\0') || (file !== root && !file.startsWith(root + sep))) return { ok: false, status: 403, message: 'refused: path outside the app' };
  if (!existsSync(file)) return { ok: false, status: 404, message: `not found: ${pathname}` };
  const st = statSync(file);
  if (!st.isFile()) return { ok: false, status: 404, message: `not found: ${pathname}` };
  return { ok: true, file, size: st.size, contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' };
}

/**
 * The headers both servers send with a renderer file: the Content-Security-Policy (with frame-ancestors), no MIME
 * sniffing, no framing by other sites, and no referrer (the served page's URL carries its token).
 */
export function staticHeaders(f: { file: string; size: number; contentType: string }, csp: string): Record<string, string> {
  return {
    'Content-Type': f.contentType,
    'Content-Length': String(f.size),
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    // No other site may frame the page (clickjacking); frame-ancestors in the CSP says it too, for newer browsers.
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': f.file.endsWith('.html') ? 'no-store' : 'no-cache',
  };
}
