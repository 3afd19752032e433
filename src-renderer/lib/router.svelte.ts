/**
 * Hash routing: the pages live at `#/datasets`, `#/datasets/<id>`, `#/new`, `#/runs`, `#/runs/<id>`,
 * `#/search[/<runId>[/<searchId>]]`, `#/explorer[/<runId>[/<searchId>]]`, `#/compare[/<id>,<id>…]` and `#/settings`. Hash routes
 * work the same from `file:` (the packaged app) and from the served mode's single page, and need no server routes.
 */

export type Route =
  | { page: 'datasets'; datasetId: string | null }
  | { page: 'new' }
  | { page: 'runs' }
  | { page: 'run'; runId: number }
  /** Searches of a run (null: choose a run first); `searchId` selects one of them. */
  | { page: 'search'; runId: number | null; searchId: number | null }
  /** Every evaluated subnet of a run (null: choose a run); `searchId` limits the points to one search. */
  | { page: 'explorer'; runId: number | null; searchId: number | null }
  /** Runs side by side, in the order given (none: choose them). */
  | { page: 'compare'; runIds: number[] }
  | { page: 'settings' }
  | { page: 'not-found'; hash: string };

const isId = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s);

/** The route a location hash names; an empty hash is the datasets page. */
export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [head, arg] = parts;
  if (!head || (head === 'datasets' && parts.length === 1)) return { page: 'datasets', datasetId: null };
  if (head === 'datasets' && arg && parts.length === 2) return { page: 'datasets', datasetId: arg };
  if (head === 'new' && parts.length === 1) return { page: 'new' };
  if (head === 'settings' && parts.length === 1) return { page: 'settings' };
  if (head === 'runs' && parts.length === 1) return { page: 'runs' };
  if (head === 'runs' && arg && parts.length === 2 && /^\d+$/.test(arg)) return { page: 'run', runId: Number(arg) };
  if ((head === 'search' || head === 'explorer') && parts.length <= 3 && parts.slice(1).every(isId)) {
    return { page: head, runId: isId(arg) ? Number(arg) : null, searchId: isId(parts[2]) ? Number(parts[2]) : null };
  }
  if (head === 'compare' && parts.length === 1) return { page: 'compare', runIds: [] };
  if (head === 'compare' && parts.length === 2 && arg && /^\d+(,\d+)*$/.test(arg)) {
    return { page: 'compare', runIds: [...new Set(arg.split(',').map(Number))] };
  }
  return { page: 'not-found', hash };
}

/** The hash of a route (inverse of {@link parseHash}). */
export function hrefOf(route: Exclude<Route, { page: 'not-found' }>): string {
  switch (route.page) {
    case 'datasets':
      return route.datasetId ? `#/datasets/${encodeURIComponent(route.datasetId)}` : '#/datasets';
    case 'new':
      return '#/new';
    case 'settings':
      return '#/settings';
    case 'runs':
      return '#/runs';
    case 'run':
      return `#/runs/${route.runId}`;
    case 'search':
    case 'explorer': {
      const tail = route.runId === null ? '' : `/${route.runId}${route.searchId === null ? '' : `/${route.searchId}`}`;
      return `#/${route.page}${tail}`;
    }
    case 'compare':
      return route.runIds.length ? `#/compare/${route.runIds.join(',')}` : '#/compare';
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
