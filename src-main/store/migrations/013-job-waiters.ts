/**
 * Who waits to start a job, and since when (docs/STORE.md): the job queue is first come, first served across every
 * process sharing the database, not only within one. A process that queues a job (or asks to resume one) records its
 * pid in `waiter_pid` and the time in `waiting_since`; a queue in another process starts none of its own jobs that
 * came later while that process is alive and the job still waits. Cleared when the job starts or is cancelled, and
 * when the waiting queue closes; a waiter whose process is gone is ignored. NULL in rows written before this migration.
 */
export const sql = `
ALTER TABLE runs ADD COLUMN waiter_pid INTEGER;
ALTER TABLE runs ADD COLUMN waiting_since TEXT;
ALTER TABLE searches ADD COLUMN waiter_pid INTEGER;
ALTER TABLE searches ADD COLUMN waiting_since TEXT;
`;
