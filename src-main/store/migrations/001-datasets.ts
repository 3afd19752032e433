/**
 * Imported datasets (src-main/data). One row per dataset; the pixels live in `<home>/datasets/<id>/` as
 * uint8 files. List-valued fields are JSON text: they are read and written whole, never queried into.
 * `content_hash` is UNIQUE: the same content imported twice is the same dataset.
 */
export const sql = `
CREATE TABLE datasets (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  format       TEXT NOT NULL CHECK (format IN ('idx', 'cifar10', 'cifar100', 'folder', 'demo')),
  source       TEXT NOT NULL,
  content_hash TEXT NOT NULL UNIQUE,
  height       INTEGER NOT NULL CHECK (height > 0),
  width        INTEGER NOT NULL CHECK (width > 0),
  channels     INTEGER NOT NULL CHECK (channels IN (1, 3)),
  class_names  TEXT NOT NULL,  -- JSON array of strings
  splits       TEXT NOT NULL,  -- JSON {train, val, test: {count, classCounts}}
  mean         TEXT NOT NULL,  -- JSON array, per channel, [0,1] units
  std          TEXT NOT NULL,  -- JSON array, per channel, [0,1] units
  val_fraction REAL NOT NULL CHECK (val_fraction >= 0 AND val_fraction < 1),
  val_seed     INTEGER NOT NULL,
  augment      TEXT NOT NULL,  -- JSON {flip, padding}
  size_bytes   INTEGER NOT NULL,
  created_at   TEXT NOT NULL
);
`;
