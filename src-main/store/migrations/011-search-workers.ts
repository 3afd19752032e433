/**
 * Parallel search evaluation (docs/STORE.md):
 * - `searches.workers`: the evaluation workers a search asks for, N, or NULL for `auto` (the cores the job queue
 *   gives it). Rows written before this migration are NULL: `auto`.
 * - `machine_holds`: a process that needs the machine to itself (building a latency table: its timings must not
 *   share the CPU) holds it here; while a live holder is recorded, no job queue starts a job. One row per holder
 *   process; a row whose process is gone is ignored and cleared by the next holder.
 */
export const sql = `
ALTER TABLE searches ADD COLUMN workers INTEGER CHECK (workers IS NULL OR workers >= 1);
CREATE TABLE machine_holds (
  pid INTEGER PRIMARY KEY,
  reason TEXT NOT NULL,
  since TEXT NOT NULL
);
`;
