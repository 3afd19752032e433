/**
 * The renderer's Content-Security-Policy, in one place. The app's `app://` protocol and the served mode send it as a
 * response header (with frame-ancestors); src-renderer/index.html carries the rest in a <meta> (a unit test keeps
 * the two equal), so a copy of the page opened without headers, such as a `file:` page, still enforces it.
 */

/** What the production renderer may load: its own bundle, nothing inline, no eval, no WebAssembly (TF.js runs in
 * main/CLI processes, never in the renderer), images from itself or `data:` URLs. */
const PRODUCTION: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/**
 * The policy as a header/meta value.
 * @param opts.dev default false. True for Vite's dev server only, which injects CSS through <style> elements and so
 *   needs `'unsafe-inline'` styles; built CSS is a file, so production keeps `style-src 'self'`.
 * @param opts.header default false. True for a response header, which adds `frame-ancestors 'none'` (no site may
 *   frame the page: clickjacking in the served mode). Browsers ignore that directive in a `<meta>` and warn about it,
 *   so index.html's copy leaves it out.
 */
export function contentSecurityPolicy(opts: { dev?: boolean; header?: boolean } = {}): string {
  const directives = Object.entries(PRODUCTION).map(([name, values]) => {
    const all = opts.dev && name === 'style-src' ? [...values, "'unsafe-inline'"] : values;
    return `${name} ${all.join(' ')}`;
  });
  if (opts.header) directives.push("frame-ancestors 'none'");
  return directives.join('; ');
}
