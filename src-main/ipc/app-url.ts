/**
 * Is this URL the app's own page? One check for two gates in main: which navigations a window may make
 * (`will-navigate`) and which frames may call IPC handlers (`event.senderFrame.url`). Electron-free for unit tests.
 */

/**
 * True when `candidate` is the app's page `appUrl` or a location within that same app:
 * - for an http(s) app URL (the dev server): same origin (scheme, host and port), compared on parsed URLs, never by
 *   string prefix, so `http://localhost:5173.evil.com` does not pass;
 * - for an `app:` app URL (the app's own scheme): the same host;
 * - for a `file:` app URL (no longer used by the app): the very same file, whatever its query or fragment, since every
 *   `file:` URL shares one opaque origin and an origin check would let any local file through.
 * Unparseable input, and any other scheme (`data:`, `javascript:`, `about:blank`, ...), is refused.
 */
export function isAppUrl(candidate: string | undefined, appUrl: string): boolean {
  if (!candidate) return false;
  let c: URL;
  let app: URL;
  try {
    c = new URL(candidate);
    app = new URL(appUrl);
  } catch {
    return false;
  }
  if (app.protocol === 'file:') {
    // Paths are compared decoded: Chromium and Node's pathToFileURL do not percent-encode quite the same characters.
    return c.protocol === 'file:' && c.host === app.host && decoded(c.pathname) === decoded(app.pathname);
  }
  if (app.protocol === 'http:' || app.protocol === 'https:') return c.origin === app.origin;
  // The app's own scheme (security/app-protocol.ts, `app://workbench/`): same scheme and host. Compared on the parsed
  // parts, since Node gives non-special schemes the origin 'null'.
  if (app.protocol === 'app:') return c.protocol === app.protocol && c.host === app.host && c.host !== '';
  return false;
}

/** The percent-decoded path, or the raw one when it holds a malformed escape (which then only matches itself). */
function decoded(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

/**
 * True for a `blob:` URL the app's own page created (`blob:app://workbench/<uuid>`, or the dev server's
 * `blob:http://localhost:5173/<uuid>`): the only downloads the app starts (the run page's metrics export). Main lets
 * these through to Electron's save dialog and cancels any other download, so no page or link can drop files.
 */
export function isAppBlobUrl(candidate: string | undefined, appUrl: string): boolean {
  return !!candidate?.startsWith('blob:') && isAppUrl(candidate.slice('blob:'.length), appUrl);
}
