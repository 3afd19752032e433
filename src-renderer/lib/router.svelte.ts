/**
 * Hash routing: the pages live at `#/datasets`, `#/datasets/<id>`, `#/new`, `#/runs` and `#/runs/<id>`. Hash routes
 * work the same from `file:` (the packaged app) and from the served mode's single page, and need no server routes.
 */

export type Route =
  | { page: 'datasets'; datasetId: string | null }
  | { page: 'new' }
  | { page: 'runs' }
  | { page: 'run'; runId: number }
  | { page: 'not-found'; hash: string };

/** The route a location hash names; an empty hash is the datasets page. */
export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [head, arg] = parts;
  if (!head || (head === 'datasets' && parts.length === 1)) return { page: 'datasets', datasetId: null };
  if (head === 'datasets' && arg && parts.length === 2) return { page: 'datasets', datasetId: arg };
  if (head === 'new' && parts.length === 1) return { page: 'new' };
  if (head === 'runs' && parts.length === 1) return { page: 'runs' };
  if (head === 'runs' && arg && parts.length === 2 && /^\d+$/.test(arg)) return { page: 'run', runId: Number(arg) };
  return { page: 'not-found', hash };
}

/** The hash of a route (inverse of {@link parseHash}). */
export function hrefOf(route: Exclude<Route, { page: 'not-found' }>): string {
  switch (route.page) {
    case 'datasets':
      return route.datasetId ? `#/datasets/${encodeURIComponent(route.datasetId)}` : '#/datasets';
    case 'new':
      return '#/new';
    case 'runs':
      return '#/runs';
    case 'run':
      return `#/runs/${route.runId}`;
  }
}

/** The current route, following `hashchange`. */
class Router {
  route: Route = $state(parseHash(typeof window === 'undefined' ? '' : window.location.hash));

  /** Starts following the address bar; returns the function that stops. */
  listen(): () => void {
    const update = (): void => {
      this.route = parseHash(window.location.hash);
    };
    update();
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }

  go(route: Exclude<Route, { page: 'not-found' }>): void {
    const href = hrefOf(route);
    if (window.location.hash === href) this.route = parseHash(href);
    else window.location.hash = href;
  }
}

export const router = new Router();
