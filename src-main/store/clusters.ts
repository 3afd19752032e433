/**
 * Repository functions for cluster profiles (migration 007; fields and validation in cluster-profile.ts).
 */
import type { Db } from './db';
import { StoreError } from './db';
import { now } from './jobs';
import { parseClusterProfile, type ClusterProfile } from './cluster-profile';

export class ClusterNotFoundError extends StoreError {
  override name = 'ClusterNotFoundError';
}

interface ClusterRow {
  name: string;
  transport: 'local' | 'ssh';
  ssh_host: string | null;
  ssh_config: string | null;
  partition: string | null;
  account: string | null;
  gpus_per_node: number;
  run_dir: string;
  python_setup: string;
  python: string;
  time_limit: string | null;
  created_at: string;
}

const fromRow = (r: ClusterRow): ClusterProfile => ({
  name: r.name,
  transport: r.transport,
  sshHost: r.ssh_host,
  sshConfig: r.ssh_config,
  partition: r.partition,
  account: r.account,
  gpusPerNode: r.gpus_per_node,
  runDir: r.run_dir,
  pythonSetup: r.python_setup,
  python: r.python,
  timeLimit: r.time_limit,
  createdAt: r.created_at,
});

/** A profile input that fails validation: `field` names the offending input. */
export class ClusterProfileError extends StoreError {
  override name = 'ClusterProfileError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** Validates `input` (cluster-profile.ts) and saves it; see {@link saveCluster}. */
export function addCluster(db: Db, input: unknown, opts: { replace?: boolean } = {}): ClusterProfile {
  const r = parseClusterProfile(input);
  if (!r.ok) throw new ClusterProfileError(r.message, r.field);
  return saveCluster(db, r.profile, opts);
}

/** Adds a profile, or replaces the one of that name when `replace` (its creation time is kept). */
export function saveCluster(db: Db, p: Omit<ClusterProfile, 'createdAt'>, opts: { replace?: boolean } = {}): ClusterProfile {
  const exists = db.prepare('SELECT 1 FROM clusters WHERE name = ?').get(p.name) !== undefined;
  if (exists && !opts.replace) throw new StoreError(`a cluster named '${p.name}' exists already (remove it first, or replace it)`);
  db.prepare(
    `INSERT INTO clusters (name, transport, ssh_host, ssh_config, partition, account, gpus_per_node, run_dir, python_setup, python, time_limit, created_at)
     VALUES (@name, @transport, @sshHost, @sshConfig, @partition, @account, @gpusPerNode, @runDir, @pythonSetup, @python, @timeLimit, @createdAt)
     ON CONFLICT (name) DO UPDATE SET transport = excluded.transport, ssh_host = excluded.ssh_host, ssh_config = excluded.ssh_config,
       partition = excluded.partition, account = excluded.account, gpus_per_node = excluded.gpus_per_node, run_dir = excluded.run_dir,
       python_setup = excluded.python_setup, python = excluded.python, time_limit = excluded.time_limit`,
  ).run({ ...p, createdAt: now() });
  return getCluster(db, p.name);
}

export function listClusters(db: Db): ClusterProfile[] {
  return (db.prepare('SELECT * FROM clusters ORDER BY name').all() as ClusterRow[]).map(fromRow);
}

export function getCluster(db: Db, name: string): ClusterProfile {
  const row = db.prepare('SELECT * FROM clusters WHERE name = ?').get(name) as ClusterRow | undefined;
  if (!row) {
    const known = listClusters(db).map((c) => c.name);
    throw new ClusterNotFoundError(`no cluster named '${name}' (${known.length ? `known: ${known.join(', ')}` : 'add one with `alphanet clusters add`'})`);
  }
  return fromRow(row);
}

/** Removes a profile. Runs submitted to it keep their provenance (the name is copied into their job rows). */
export function removeCluster(db: Db, name: string): void {
  if (db.prepare('DELETE FROM clusters WHERE name = ?').run(name).changes === 0) getCluster(db, name);
}
