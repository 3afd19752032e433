/**
 * Dotted paths into plain JSON objects (`optimizer.lr`, `space.stages.3.width`), the way `runs.check` names the
 * fields it refuses. Used by the run form to read, write and match fields.
 */

type Json = Record<string, unknown> | unknown[];

/** `a[3].b` or `a.3.b` → `a.3.b`: the engine's own messages use brackets for indices, the API uses dots. */
export function normalizePath(path: string): string {
  return path.replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '');
}

function isContainer(x: unknown): x is Json {
  return typeof x === 'object' && x !== null;
}

/** The value at `path`, or undefined when any step is missing. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of normalizePath(path).split('.')) {
    if (!isContainer(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Sets (or, for `undefined`, deletes) the value at `path`, creating objects on the way. Mutates `obj`: the form
 * state is a Svelte `$state` proxy, and writing through it is what makes the change reactive.
 */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = normalizePath(path).split('.');
  let cur: Json = obj;
  for (const key of keys.slice(0, -1)) {
    const rec = cur as Record<string, unknown>;
    if (!isContainer(rec[key])) rec[key] = {};
    cur = rec[key] as Json;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete (cur as Record<string, unknown>)[last];
  else (cur as Record<string, unknown>)[last] = value;
}

/** Every leaf of a JSON object as [dotted path, value], in key order (arrays count as leaves). */
export function flatten(obj: unknown, prefix = ''): [string, unknown][] {
  if (!isContainer(obj) || Array.isArray(obj)) return [[prefix, obj]];
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(obj)) out.push(...flatten(v, prefix ? `${prefix}.${k}` : k));
  return out;
}
