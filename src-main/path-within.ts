/**
 * Whether a path lies inside a folder, seen through symbolic links: the served mode's allowed folders
 * (service/folders.ts) and the importer's refusal to follow a link out of them (data/source.ts). A leaf module.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** `path` with the symbolic links of its longest existing prefix resolved (the rest appended as written). */
export function realPathOfPrefix(path: string): string {
  const abs = resolve(path);
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return rest.length ? join(realpathSync(cur), ...rest.reverse()) : realpathSync(cur);
    } catch {
      const up = dirname(cur);
      if (up === cur) return abs;
      rest.push(cur.slice(up.length).replace(/^[\\/]+/, ''));
      cur = up;
    }
  }
}

/** True when `path` is `root` or inside it (both already resolved). */
export function isInside(path: string, root: string): boolean {
  const r = relative(root, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r) && r.split(sep)[0] !== '..');
}

