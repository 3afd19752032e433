/**
 * Submitting a cluster job (docs/CLUSTER.md): the run bundle — the caller's local folder (config.json, dataset/,
 * anything the module reads) plus engine/ (a copy of the `alphanet_torch` package) and the generated job.sh — goes to
 * `<profile.runDir>/<subdir>` on the cluster in one tar stream, `sbatch --parsable` queues it (its Slurm log next to
 * it), and the job is recorded in `cluster_jobs` before anything else can happen, so a crash right after submission
 * still leaves a row the next workbench follows.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../store/db';
import type { ClusterProfile } from '../../store/cluster-profile';
import { insertClusterJob, type ClusterJobRow } from '../../store/cluster-jobs';
import { ClusterShellError, mustExec, shPath, uploadDir, type ClusterShell } from './shell';
import { submitBatch } from './scheduler';
import { jobScript, ranksPerNodeOf } from './script';
import { slurmLogName } from './tracker';

export interface SubmitOptions {
  kind: 'train' | 'evaluate';
  runId?: number | null;
  searchId?: number | null;
  /** Job name for squeue. */
  name: string;
  /** Folder under the profile's run directory (e.g. `run-12`); a resubmission reuses it (its checkpoints). */
  subdir: string;
  /** Local folder whose files become the bundle (may be null: resubmission of a bundle already there). */
  bundleDir: string | null;
  /** The engine package folder (engines/torch), copied as engine/; null to keep the copy already there. */
  engineDir: string | null;
  module: string;
  args?: string[];
  /** See `JobScriptOptions.dirArg`. */
  dirArg?: boolean;
  nodes: number;
  gpusPerNode?: number;
  ranksPerNode?: number;
  /** Extra sbatch options (tests: --begin). */
  sbatchOptions?: string[];
}

/** The profile's run directory resolved on the cluster (`~` expanded), created if missing. */
export async function remoteRunDir(shell: ClusterShell, p: ClusterProfile): Promise<string> {
  const out = await mustExec(shell, `mkdir -p ${shPath(p.runDir)} && cd ${shPath(p.runDir)} && pwd -P`, `creating the run directory ${p.runDir}`);
  const dir = out.trim().split('\n').pop() ?? '';
  if (!dir.startsWith('/')) throw new ClusterShellError(`the run directory ${p.runDir} did not resolve to an absolute path on ${shell.where} (got '${dir}')`);
  return dir;
}

export async function submitClusterJob(db: Db, shell: ClusterShell, p: ClusterProfile, o: SubmitOptions): Promise<ClusterJobRow> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(o.subdir)) throw new ClusterShellError(`bad job folder name '${o.subdir}'`);
  const base = await remoteRunDir(shell, p);
  const dir = `${base}/${o.subdir}`;
  const gpus = o.gpusPerNode ?? p.gpusPerNode;
  const staging = mkdtempSync(join(tmpdir(), 'alphanet-bundle-'));
  try {
    if (o.bundleDir) cpSync(o.bundleDir, staging, { recursive: true });
    if (o.engineDir) {
      const pkg = join(o.engineDir, 'alphanet_torch');
      if (!existsSync(pkg)) throw new ClusterShellError(`no alphanet_torch package in ${o.engineDir}`);
      cpSync(pkg, join(staging, 'engine', 'alphanet_torch'), { recursive: true, filter: (src) => !src.includes('__pycache__') });
    }
    writeFileSync(join(staging, 'job.sh'), jobScript(p, { name: o.name, dir, nodes: o.nodes, gpusPerNode: gpus, ranksPerNode: o.ranksPerNode, module: o.module, args: o.args, dirArg: o.dirArg }), { mode: 0o755 });
    await uploadDir(shell, staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  // A stale control file (a pause of the previous submission) would stop the new one at its first step.
  await mustExec(shell, `rm -f ${shPath(`${dir}/control`)}`, 'clearing the control file');
  // A resubmission appends to the same progress.jsonl: the new job's lines start after what is there now.
  const progressOffset = await progressSize(shell, dir);
  const jobId = await submitBatch(shell, `${dir}/job.sh`, [`--chdir=${dir}`, `--output=${dir}/${slurmLogName('%j')}`, '--open-mode=append', ...(o.sbatchOptions ?? [])]);
  return insertClusterJob(db, {
    cluster: p.name,
    kind: o.kind,
    runId: o.runId ?? null,
    searchId: o.searchId ?? null,
    jobId,
    remoteDir: dir,
    nodes: o.nodes,
    gpusPerNode: gpus,
    ranksPerNode: ranksPerNodeOf({ gpusPerNode: gpus, ranksPerNode: o.ranksPerNode }, p),
    progressOffset,
  });
}

async function progressSize(shell: ClusterShell, dir: string): Promise<number> {
  const out = await mustExec(shell, `f=${shPath(`${dir}/progress.jsonl`)}; [ -f "$f" ] && wc -c < "$f" || echo 0`, 'reading the progress file size');
  return Number(out.trim()) || 0;
}
