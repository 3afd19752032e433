/**
 * Training runs, their metrics, events and checkpoints (src-main/train). docs/STORE.md describes every column.
 *
 * Status transitions are enforced here, by a trigger, so no writer (the runner, the app, the CLI, a future bug) can
 * move a run along an edge that is not in the lifecycle:
 *   queued → running ⇄ paused;  queued | running | paused → finished (running only) | failed | cancelled;
 *   failed → running (resume of a crashed run from its last checkpoint).
 */
import { statusTransitionTrigger } from './status-trigger';

export const sql = `
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL,
  config        TEXT NOT NULL CHECK (json_valid(config)),
  space_id      TEXT NOT NULL,
  dataset_id    TEXT REFERENCES datasets(id),
  dataset_name  TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'paused', 'finished', 'failed', 'cancelled')),
  control       TEXT CHECK (control IN ('pause', 'cancel')),
  wants_resume  INTEGER NOT NULL DEFAULT 0,
  backend       TEXT,
  seed          INTEGER NOT NULL,
  app_version   TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  started_at    TEXT,
  finished_at   TEXT,
  updated_at    TEXT NOT NULL,
  heartbeat_at  TEXT,
  error         TEXT,
  pid           INTEGER,
  step          INTEGER NOT NULL DEFAULT 0,
  total_steps   INTEGER,
  epoch         INTEGER NOT NULL DEFAULT 0,
  best_metric   REAL
);
CREATE INDEX runs_status ON runs(status, created_at);
CREATE INDEX runs_dataset ON runs(dataset_id);

${statusTransitionTrigger('runs', 'run')}

CREATE TABLE step_metrics (
  run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step              INTEGER NOT NULL,
  epoch             INTEGER NOT NULL,
  time              TEXT NOT NULL,
  lr                REAL NOT NULL,
  loss              REAL,
  losses            TEXT NOT NULL,
  alpha_min_share   REAL,
  clipped_share     REAL,
  nonfinite         INTEGER NOT NULL DEFAULT 0,
  step_ms           REAL NOT NULL,
  images_per_sec    REAL,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE epoch_metrics (
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch         INTEGER NOT NULL,
  step          INTEGER NOT NULL,
  subnet        TEXT NOT NULL,
  genome        TEXT NOT NULL,
  mflops        REAL NOT NULL,
  val_top1      REAL NOT NULL,
  val_loss      REAL NOT NULL,
  val_images    INTEGER NOT NULL,
  time          TEXT NOT NULL,
  PRIMARY KEY (run_id, epoch, subnet)
) WITHOUT ROWID;

CREATE TABLE run_events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  time      TEXT NOT NULL,
  step      INTEGER,
  kind      TEXT NOT NULL,
  message   TEXT NOT NULL,
  data      TEXT CHECK (data IS NULL OR json_valid(data))
);
CREATE INDEX run_events_run ON run_events(run_id, id);

CREATE TABLE checkpoints (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step        INTEGER NOT NULL,
  epoch       INTEGER NOT NULL,
  path        TEXT NOT NULL,
  sha256      TEXT NOT NULL,
  bytes       INTEGER NOT NULL,
  metric      REAL,
  is_best     INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL
);
CREATE INDEX checkpoints_run ON checkpoints(run_id, step);
`;
