/**
 * The folders the served mode may read and write. A browser tab that holds the token can call every API
 * method; without a limit, `runs.saveConfig`, `exports.start` and `datasets.import` would let it write or probe any
 * path the user can. The served mode therefore only touches paths inside the allowed folders — a setting
 * (`allowedFolders` in settings.json, or `alphanet serve --allow-folder`), by default the data directory and the
 * user's home folder — and a refusal names no path: it does not even say whether the path exists.
 *
 * Paths are compared after resolving symbolic links of the part that exists, so a link inside an allowed folder that
 * points outside it does not open the way out.
 */
import { isInside, realPathOfPrefix } from '../path-within';
import { ApiError } from './errors';

export { isInside, realPathOfPrefix } from '../path-within';

export class FolderPolicy {
  private readonly roots: string[];

  /** @param roots absolute folders; each is resolved once here (a root that does not exist yet still counts). */
  constructor(roots: readonly string[]) {
    this.roots = roots.map((r) => realPathOfPrefix(r));
  }

  /** The allowed folders, resolved. */
  get folders(): readonly string[] {
    return this.roots;
  }

  allows(path: string): boolean {
    const real = realPathOfPrefix(path);
    return this.roots.some((root) => isInside(real, root));
  }

  /** Refuses (403, at `field`) a path outside every allowed folder, without naming it. */
  require(path: string, field: string, what: 'read' | 'write'): void {
    if (!this.allows(path)) {
      throw new ApiError(
        403,
        `${field}: outside the folders this served workbench may ${what} (the data directory and the home folder unless settings.json's "allowedFolders" or \`alphanet serve --allow-folder\` says otherwise)`,
        field,
      );
    }
  }
}
