/**
 * Jobs submitted to Slurm clusters (docs/CLUSTER.md): one row per submission (a resume is a new submission of the
 * same run). The tracker keeps the scheduler's view (state, reason, nodes) and how far it has read the job's
 * progress.jsonl (`progress_offset`, bytes), so a workbench closed while the job ran catches up from there. The
 * cluster's name is copied, not referenced: provenance outlives a removed profile.
 */
export const sql = `
CREATE TABLE cluster_jobs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  cluster         TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('train', 'evaluate')),
  run_id          INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  search_id       INTEGER REFERENCES searches(id) ON DELETE CASCADE,
  job_id          TEXT NOT NULL,
  remote_dir      TEXT NOT NULL,
  nodes           INTEGER NOT NULL CHECK (nodes >= 1),
  gpus_per_node   INTEGER NOT NULL CHECK (gpus_per_node >= 0),
  ranks_per_node  INTEGER NOT NULL CHECK (ranks_per_node >= 1),
  state           TEXT NOT NULL DEFAULT 'SUBMITTED',
  reason          TEXT,
  node_list       TEXT,
  progress_offset INTEGER NOT NULL DEFAULT 0,
  outcome         TEXT CHECK (outcome IN ('finished', 'paused', 'cancelled', 'failed')),
  error           TEXT,
  submitted_at    TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  ended_at        TEXT
);
CREATE INDEX cluster_jobs_run ON cluster_jobs(run_id, id);
CREATE INDEX cluster_jobs_open ON cluster_jobs(id) WHERE outcome IS NULL;
`;
