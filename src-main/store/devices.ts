/** Repository of the `devices` table (migration 003): the fingerprints of machines that latencies were measured on. */
import type { Db } from './db';
import { now } from './jobs';
/** Records a device fingerprint under its id (`deviceIdOf` in search/latency; idempotent); returns the id. */
export function upsertDevice(db: Db, id: string, fingerprint: object): string {
  db.prepare('INSERT OR IGNORE INTO devices (id, fingerprint, created_at) VALUES (?, ?, ?)').run(id, JSON.stringify(fingerprint), now());
  return id;
}

export function findDevice(db: Db, id: string): unknown {
  const r = db.prepare('SELECT fingerprint FROM devices WHERE id = ?').get(id) as { fingerprint: string } | undefined;
  return r ? JSON.parse(r.fingerprint) : undefined;
}
