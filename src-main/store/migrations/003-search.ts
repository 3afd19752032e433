/**
 * Searches and evaluated subnets (src-main/search). docs/SEARCH.md ("Storage") describes every table.
 *
 * - `devices`: latency device fingerprints, by a short id (the sha256 of the fingerprint's JSON), so an evaluation's
 *   latency says which machine and backend measured or predicted it.
 * - `subnet_evaluations`: the cache of BN-calibrated evaluations of a run's subnets, one row per (run, genome ID,
 *   split, calibration batches, calibration batch size, calibration seed, checkpoint sha256): the same question asked
 *   again is answered from here. Everything that changes the answer is in the key; nothing else is.
 * - `searches`: one row per search job, with the engine's resumable `SearchState` saved after every evaluation. Its
 *   lifecycle is the runs' one, enforced by a trigger the same way.
 * - `search_members`: which evaluations a search produced, in its evaluation order, with the candidate's origin.
 * - `pareto_fronts`: the stored front of each search and the fronts of each run (per objective, split, checkpoint and,
 *   for latency, device), with the hypervolume against the stated reference point.
 * Everything cascades from `runs`: deleting a run deletes its evaluations, searches and fronts.
 */
import { statusTransitionTrigger } from './status-trigger';

export const sql = `
CREATE TABLE devices (
  id           TEXT PRIMARY KEY,
  fingerprint  TEXT NOT NULL CHECK (json_valid(fingerprint)),
  created_at   TEXT NOT NULL
);

CREATE TABLE subnet_evaluations (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id                  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  genome_id               TEXT NOT NULL,
  genome                  TEXT NOT NULL CHECK (json_valid(genome)),
  split                   TEXT NOT NULL CHECK (split IN ('val', 'test')),
  calibration_batches     INTEGER NOT NULL CHECK (calibration_batches > 0),
  calibration_batch_size  INTEGER NOT NULL CHECK (calibration_batch_size > 0),
  calibration_seed        INTEGER NOT NULL,
  checkpoint_sha256       TEXT NOT NULL,
  checkpoint_step         INTEGER NOT NULL,
  accuracy                REAL NOT NULL CHECK (accuracy >= 0 AND accuracy <= 1),
  loss                    REAL NOT NULL,
  accuracy_before         REAL CHECK (accuracy_before IS NULL OR (accuracy_before >= 0 AND accuracy_before <= 1)),
  loss_before             REAL,
  before_method           TEXT CHECK (before_method IS NULL OR before_method IN ('reset', 'batch')),
  images                  INTEGER NOT NULL CHECK (images > 0),
  calibration_images      INTEGER NOT NULL,
  mflops                  REAL NOT NULL,
  mparams                 REAL NOT NULL,
  latency_ms              REAL,
  latency_method          TEXT CHECK (latency_method IS NULL OR latency_method IN ('measured', 'lut')),
  latency_batch           INTEGER,
  device_id               TEXT REFERENCES devices(id),
  backend                 TEXT,
  eval_ms                 REAL NOT NULL,
  created_at              TEXT NOT NULL,
  UNIQUE (run_id, genome_id, split, calibration_batches, calibration_batch_size, calibration_seed, checkpoint_sha256)
);
CREATE INDEX subnet_evaluations_run ON subnet_evaluations(run_id, split, checkpoint_sha256);

CREATE TABLE searches (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id                  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name                    TEXT NOT NULL,
  kind                    TEXT NOT NULL CHECK (kind IN ('evolution', 'random')),
  config                  TEXT NOT NULL CHECK (json_valid(config)),
  budget                  TEXT NOT NULL CHECK (json_valid(budget)),
  objective               TEXT NOT NULL CHECK (objective IN ('mflops', 'latency')),
  target_evaluations      INTEGER,
  split                   TEXT NOT NULL CHECK (split IN ('val', 'test')),
  calibration_batches     INTEGER NOT NULL CHECK (calibration_batches > 0),
  calibration_batch_size  INTEGER NOT NULL CHECK (calibration_batch_size > 0),
  calibration_seed        INTEGER NOT NULL,
  checkpoint_path         TEXT NOT NULL,
  checkpoint_sha256       TEXT NOT NULL,
  checkpoint_step         INTEGER NOT NULL,
  backend_request         TEXT NOT NULL DEFAULT 'auto',
  status                  TEXT NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'paused', 'finished', 'failed', 'cancelled')),
  control                 TEXT CHECK (control IN ('pause', 'cancel')),
  wants_resume            INTEGER NOT NULL DEFAULT 0,
  backend                 TEXT,
  evaluations             INTEGER NOT NULL DEFAULT 0,
  total                   INTEGER NOT NULL,
  elapsed_ms              REAL NOT NULL DEFAULT 0,
  eta_ms                  REAL,
  state                   TEXT CHECK (state IS NULL OR json_valid(state)),
  error                   TEXT,
  pid                     INTEGER,
  app_version             TEXT NOT NULL,
  created_at              TEXT NOT NULL,
  started_at              TEXT,
  finished_at             TEXT,
  updated_at              TEXT NOT NULL,
  heartbeat_at            TEXT
);
CREATE INDEX searches_run ON searches(run_id, id);
CREATE INDEX searches_status ON searches(status, created_at);

${statusTransitionTrigger('searches', 'search')}

CREATE TABLE search_members (
  search_id      INTEGER NOT NULL REFERENCES searches(id) ON DELETE CASCADE,
  position       INTEGER NOT NULL CHECK (position >= 0),
  evaluation_id  INTEGER NOT NULL REFERENCES subnet_evaluations(id) ON DELETE CASCADE,
  generation     INTEGER NOT NULL,
  origin         TEXT NOT NULL CHECK (origin IN ('min', 'random', 'mutate', 'crossover', 'random-fallback')),
  parents        TEXT CHECK (parents IS NULL OR json_valid(parents)),
  cost           REAL NOT NULL,
  cached         INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (search_id, position)
) WITHOUT ROWID;
CREATE INDEX search_members_evaluation ON search_members(evaluation_id);

CREATE TABLE pareto_fronts (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  search_id          INTEGER REFERENCES searches(id) ON DELETE CASCADE,
  objective          TEXT NOT NULL CHECK (objective IN ('mflops', 'latency')),
  split              TEXT NOT NULL CHECK (split IN ('val', 'test')),
  checkpoint_sha256  TEXT NOT NULL,
  device_id          TEXT REFERENCES devices(id),
  points             TEXT NOT NULL CHECK (json_valid(points)),
  size               INTEGER NOT NULL,
  offered            INTEGER NOT NULL,
  hypervolume        REAL NOT NULL,
  cost_ref           REAL NOT NULL,
  acc_ref            REAL NOT NULL,
  updated_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX pareto_fronts_search ON pareto_fronts(search_id) WHERE search_id IS NOT NULL;
CREATE UNIQUE INDEX pareto_fronts_run ON pareto_fronts(run_id, objective, split, checkpoint_sha256, IFNULL(device_id, ''))
  WHERE search_id IS NULL;
`;
