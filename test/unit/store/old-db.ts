/** Databases as an earlier release left them, for the upgrade tests of later migrations. */
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src-main/store/migrations';

/**
 * A database at `path` with only the first `version` migrations applied (and `user_version` set to match), as the
 * release that had those migrations left it; the caller inserts its rows with plain SQL and closes it.
 */
export function databaseAtVersion(path: string, version: number): Database.Database {
  if (version < 1 || version > MIGRATIONS.length) throw new Error(`no schema version ${version} (1…${MIGRATIONS.length})`);
  const db = new Database(path);
  for (const [i, m] of MIGRATIONS.slice(0, version).entries()) {
    db.exec(m.sql);
    db.pragma(`user_version = ${i + 1}`);
  }
  return db;
}
