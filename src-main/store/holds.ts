/**
 * Repository of `machine_holds` (migration 011; docs/STORE.md): processes that need the machine to themselves while
 * they time something (the latency table build). The job queue starts no job while a live holder is recorded.
 */
import type { Db } from './db';
import { now } from './jobs';

export interface MachineHold {
  pid: number;
  /** What it is doing, for the people waiting: `building the latency table of run 3`. */
  reason: string;
  since: string;
}

/** Records `pid` as holding the machine (replacing an older hold of the same process). */
export function addMachineHold(db: Db, pid: number, reason: string): void {
  db.prepare('INSERT INTO machine_holds (pid, reason, since) VALUES (?, ?, ?) ON CONFLICT (pid) DO UPDATE SET reason = excluded.reason, since = excluded.since').run(pid, reason, now());
}

export function removeMachineHold(db: Db, pid: number): void {
  db.prepare('DELETE FROM machine_holds WHERE pid = ?').run(pid);
}

/** Every recorded hold, oldest first (a dead holder's included: the caller checks the pids). */
export function listMachineHolds(db: Db): MachineHold[] {
  return db.prepare('SELECT pid, reason, since FROM machine_holds ORDER BY since, pid').all() as MachineHold[];
}
