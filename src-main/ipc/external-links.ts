/**
 * The only web pages the app will hand to the system browser (`shell.openExternal`). Anything else a page asks to
 * open is dropped: openExternal on untrusted input can launch arbitrary protocol handlers (Electron security
 * checklist, item 15). Electron-free so it can be unit-tested under plain Node.
 */

interface AllowedPlace {
  /** Exact hostname (no subdomains). */
  host: string;
  /** Path that the URL's path must equal or continue with a `/`, `?` or `#` boundary after. */
  path: string;
}

/** The allow-list: the AlphaNet paper and its reference code. */
export const ALLOWED_EXTERNAL_PLACES: readonly AllowedPlace[] = Object.freeze([
  { host: 'github.com', path: '/facebookresearch/AlphaNet' },
  { host: 'arxiv.org', path: '/abs/2102.07954' },
  { host: 'arxiv.org', path: '/pdf/2102.07954' },
]);

/** Links the app itself shows (menu, pages); every one of them passes {@link isAllowedExternalUrl}. */
export const EXTERNAL_LINKS = Object.freeze({
  referenceCode: 'https://github.com/facebookresearch/AlphaNet',
  paper: 'https://arxiv.org/abs/2102.07954',
});

/**
 * True when `url` is an https URL on the default port, without credentials, whose host is on the allow-list and
 * whose (normalised) path is an allowed path or lies below it. Strings that do not parse as URLs are refused.
 */
export function isAllowedExternalUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  // URL has already lower-cased the host, dropped a default port and resolved `..` / `%2e%2e` segments.
  if (u.protocol !== 'https:' || u.port !== '' || u.username !== '' || u.password !== '') return false;
  return ALLOWED_EXTERNAL_PLACES.some(
    (p) => u.hostname === p.host && (u.pathname === p.path || u.pathname.startsWith(`${p.path}/`)),
  );
}
