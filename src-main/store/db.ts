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

/**
 * Opens (creating if needed) the database at `path` and brings its schema up to date. A data directory that cannot
 * be created, or a database that cannot be opened or written (a read-only filesystem, `--home` naming a file, no
 * permission), is a {@link StoreError} of one line naming the directory and the cause, not a stack trace.
 */
export function openDatabase(path: string, opts: { readonly?: boolean } = {}): Db {
  const where = path === ':memory:' ? path : dirname(path);
  let db: Db | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly: opts.readonly ?? false });
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // NORMAL is durable in WAL mode except for the last transactions before a power loss; never corrupting.
    db.pragma('synchronous = NORMAL');
    if (!opts.readonly) migrate(db);
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(`cannot use the data directory ${where}: ${storageCause(e)}`);
  }
}

/** The cause of a failure to create or open the store, in words (the errno code and SQLite's message say it). */
function storageCause(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
    case 'SQLITE_READONLY':
      return 'it is on a read-only filesystem or not writable';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file is in the way (it, or a folder above it, is a file)';
    case 'ENOSPC':
    case 'SQLITE_FULL':
      return 'no space left on the device';
    case 'SQLITE_CANTOPEN':
      return 'the database file cannot be opened (not writable, or not a folder)';
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return `${DB_FILE} is not a valid database (damaged?)`;
    default:
      return (e as Error)?.message?.split('\n')[0] ?? String(e);
  }
}

/** The database of a data directory. */
export function openHomeDatabase(home: string): Db {
  return openDatabase(join(home, DB_FILE));
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every migration above the database's version, atomically with the version bump. The version is read
 * inside an IMMEDIATE transaction (which takes the write lock first): two processes opening a brand-new data
 * directory at once would otherwise both read version 0 and the second would fail on `CREATE TABLE`.
 * The second one now waits for the lock (busy_timeout), then reads the version the first one left, and does nothing.
 */
export function migrate(db: Db): void {
  const check = (current: number) => {
    if (current > MIGRATIONS.length) {
      throw new StoreError(`the database schema is version ${current}, newer than this version of AlphaNet Workbench understands (${MIGRATIONS.length}); update the app`);
    }
  };
  // The common case (up to date) takes no write lock: a reader never waits for a training run's writes.
  const seen = schemaVersion(db);
  check(seen);
  if (seen === MIGRATIONS.length) return;
  db.transaction(() => {
    const current = schemaVersion(db);
    check(current);
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v].sql);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
