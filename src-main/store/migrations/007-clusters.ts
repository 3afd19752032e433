/**
 * Slurm cluster profiles (docs/CLUSTER.md; fields in store/cluster-profile.ts). Keyed by the name the user gives
 * (`alphanet train --cluster NAME`). Nothing secret is stored: ssh logs in with the user's own config and keys.
 */
export const sql = `
CREATE TABLE clusters (
  name          TEXT PRIMARY KEY,
  transport     TEXT NOT NULL CHECK (transport IN ('local', 'ssh')),
  ssh_host      TEXT,
  ssh_config    TEXT,
  partition     TEXT,
  account       TEXT,
  gpus_per_node INTEGER NOT NULL DEFAULT 0 CHECK (gpus_per_node >= 0),
  run_dir       TEXT NOT NULL,
  python_setup  TEXT NOT NULL DEFAULT '',
  python        TEXT NOT NULL DEFAULT 'python3',
  time_limit    TEXT,
  created_at    TEXT NOT NULL,
  CHECK (transport = 'local' OR ssh_host IS NOT NULL)
);
`;
