/**
 * Accuracy predictors (docs/SEARCH.md "Accuracy predictor"): one per run, checkpoint and split — the
 * evaluations it learned from are those of one checkpoint, so a newer checkpoint makes it stale (the store compares
 * `checkpoint_sha256` with the run's newest checkpoint) and a rebuild replaces the row. The MLP's weights are a
 * float32 BLOB laid out as `layout` says (search/predictor/mlp.ts); held-out metrics, the training-size table and
 * the held-out points (evaluation id, measured, predicted) are kept so the app can show them without refitting.
 * Deleting the run deletes its predictors.
 */
export const sql = `
CREATE TABLE predictors (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id                  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  checkpoint_sha256       TEXT NOT NULL,
  checkpoint_step         INTEGER NOT NULL,
  split                   TEXT NOT NULL CHECK (split IN ('val', 'test')),
  calibration_batches     INTEGER NOT NULL CHECK (calibration_batches > 0),
  calibration_batch_size  INTEGER NOT NULL CHECK (calibration_batch_size > 0),
  calibration_seed        INTEGER NOT NULL,
  space_id                TEXT NOT NULL,
  layout                  TEXT NOT NULL CHECK (json_valid(layout)),
  weights                 BLOB NOT NULL,
  train_size              INTEGER NOT NULL CHECK (train_size > 0),
  held_out                INTEGER NOT NULL CHECK (held_out > 1),
  kendall_tau             REAL,
  spearman_rho            REAL,
  rmse_points             REAL,
  size_table              TEXT NOT NULL CHECK (json_valid(size_table)),
  held_out_points         TEXT NOT NULL CHECK (json_valid(held_out_points)),
  fit                     TEXT NOT NULL CHECK (json_valid(fit)),
  train_loss              REAL,
  fit_ms                  REAL NOT NULL,
  sampled                 INTEGER NOT NULL DEFAULT 0 CHECK (sampled >= 0),
  backend                 TEXT,
  app_version             TEXT NOT NULL,
  created_at              TEXT NOT NULL,
  UNIQUE (run_id, checkpoint_sha256, split)
);
CREATE INDEX predictors_run ON predictors (run_id, created_at);
`;
