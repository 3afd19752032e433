/**
 * The SQLite store (better-sqlite3 12): one database file per data directory, `<home>/alphanet.db`.
 * - WAL mode, so a training process can write while the app reads;
 * - foreign keys on (SQLite leaves them off per connection by default);
 * - a busy timeout, so two processes briefly contending for the write lock wait instead of failing;
 * - the schema versioned by `PRAGMA user_version` and upgraded by the ordered migrations in `migrations/index.ts`,
 *   each in its own transaction. A database newer than this app is refused rather than misread.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

export const DB_FILE = 'alphanet.db';

export class StoreError extends Error {
  override name = 'StoreError';
}

/** Opens (creating if needed) the database at `path` and brings its schema up to date. */
export function openDatabase(path: string, opts: { readonly?: boolean } = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // NORMAL is durable in WAL mode except for the last transactions before a power loss; never corrupting.
  db.pragma('synchronous = NORMAL');
  if (!opts.readonly) migrate(db);
  return db;
}

/** The database of a data directory. */
export function openHomeDatabase(home: string): Db {
  return openDatabase(join(home, DB_FILE));
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration above the database's version, each atomically with its version bump. */
export function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new StoreError(`the database schema is version ${current}, newer than this version of AlphaNet Workbench understands (${MIGRATIONS.length}); update the app`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const m = MIGRATIONS[v];
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
