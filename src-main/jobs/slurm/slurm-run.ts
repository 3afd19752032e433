/**
 * A training run on a Slurm cluster (config `engine: 'slurm'`, docs/CLUSTER.md), driven from the ordinary training
 * runner process like a torch run (jobs/torch-run.ts): the run keeps its row, queue place, control column and
 * messages; the steps happen in the cluster job.
 *
 * 1. Writes the run bundle (config.json, dataset/: the torch engine's run directory, `writeRunBundle`) under
 *    `<home>/runs/<id>/cluster-bundle/` and submits it with the engine package to `<runDir>/run-<id>` on the cluster
 *    (`submitClusterJob`: sbatch script with `srun` → torchrun → c10d rendezvous across the nodes). A resume is a new
 *    submission of the same folder with `--resume`: the engine continues from its newest checkpoint there.
 * 2. Follows the job (`pollClusterJob`): queue state into `cluster_jobs`, the progress.jsonl lines through the same
 *    applier as a local torch run (`progressApplier`), so the run page, charts and events read the same rows. Each
 *    checkpoint the job writes is copied into the run's local checkpoints/ folder before its row is written, so the
 *    explorer, search, compare and export use the run like a local one, and a run whose job dies keeps every
 *    checkpoint it had brought back.
 * 3. Pause: the engine checkpoints and stops (its control file), then `scancel`; cancel: stop and `scancel`.
 * 4. A job the scheduler ends (time limit, node failure, preemption, scancel) fails the run with Slurm's reason; the
 *    run is resumable (failed → running) from its last checkpoint.
 * 5. The workbench closing (`detach`) leaves the job running: the loop stops following and the run stays `running`.
 *    A runner started for a run that still has a followed submission (an open `cluster_jobs` row: the workbench came
 *    back, or a resume after the runner itself failed, e.g. the login node was unreachable) submits nothing: it
 *    follows that job again from the stored offset, so everything the job wrote meanwhile is applied once, in order,
 *    and a job that ended meanwhile ends the run as it would have — except on a resume after the runner failed (the
 *    run's last event is that failure): if that job has also ended without finishing, the run goes on in a new
 *    submission from its newest checkpoint, as the user asked.
 */
import { basename, join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { getCluster } from '../../store/clusters';
import { setJobRuntime } from '../../store/jobs';
import { runDir as localRunDir } from '../../train/paths';
import { progressApplier, writeRunBundle, type TorchRunOptions, type TorchRunOutcome } from '../torch-run';
import { torchEngineDir } from '../python';
import { clusterShell, downloadFiles, type ClusterShell } from './shell';
import type { ClusterProfile } from '../../store/cluster-profile';
import { addRunEvent, getRun, listRunEvents } from '../../store/runs';
import { submitClusterJob } from './submit';
import { cancelClusterJob, pauseClusterJob, pollClusterJob, type ProgressLine } from './tracker';
import { openRunClusterJob, restateClusterJobOutcome, type ClusterJobRow } from '../../store/cluster-jobs';
import { describeEnd, isActive, queryJob } from './scheduler';

export class SlurmRunError extends Error {
  override name = 'SlurmRunError';
}

/** Writes the run bundle and submits it (a resume: the same folder with `--resume`); returns the job's row. */
async function submit(o: TorchRunOptions, profile: ClusterProfile, shell: ClusterShell): Promise<ClusterJobRow> {
  const { db, config } = o;
  const engineDir = torchEngineDir(o.env ?? process.env);
  if (!engineDir) throw new SlurmRunError('the torch engine package (engines/torch) is missing; set ALPHANET_TORCH_ENGINE to its directory');
  const bundle = join(localRunDir(o.home, o.runId), 'cluster-bundle');
  writeRunBundle(o, bundle);
  const gpus = config.gpus > 0 ? config.gpus : profile.gpusPerNode;
  const job = await submitClusterJob(db, shell, profile, {
    kind: 'train',
    runId: o.runId,
    name: `alphanet-run-${o.runId}`,
    subdir: `run-${o.runId}`,
    bundleDir: bundle,
    engineDir,
    module: 'alphanet_torch.train',
    args: ['--device', gpus > 0 ? 'cuda' : 'cpu', ...(o.resume ? ['--resume'] : [])],
    nodes: config.nodes,
    gpusPerNode: gpus,
    ranksPerNode: config.ranks,
  });
  const ranks = job.nodes * job.ranksPerNode;
  setJobRuntime(db, 'runs', o.runId, { backend: `slurm ${profile.name} job ${job.jobId} (${job.nodes} node${job.nodes > 1 ? 's' : ''} × ${job.ranksPerNode} ${gpus > 0 ? 'GPU' : 'CPU'} rank${job.ranksPerNode > 1 ? 's' : ''})`, pid: process.pid });
  o.send({ type: 'event', runId: o.runId, kind: 'start', message: `submitted to ${profile.name} as Slurm job ${job.jobId}: ${ranks} rank${ranks > 1 ? 's' : ''} in ${job.remoteDir}` });
  return job;
}

/**
 * A job that ended `paused` without the workbench asking: the engine pauses with a checkpoint on SIGTERM, which is how
 * Slurm stops a job (scancel, time limit, preemption), so the job failed for the scheduler's reason (the run stays
 * resumable). Restates the row with that reason, once Slurm says why (it may still be completing).
 */
async function schedulerStop(db: TorchRunOptions['db'], shell: ClusterShell, job: ClusterJobRow, step: number): Promise<ClusterJobRow> {
  let info = await queryJob(shell, job.jobId);
  const until = Date.now() + 60_000;
  while (isActive(info.state) && Date.now() < until) {
    await new Promise((res) => setTimeout(res, 1000));
    info = await queryJob(shell, job.jobId);
  }
  const error = `${isActive(info.state) ? `Slurm stopped the job (state ${info.state})` : describeEnd(info)}; the engine saved a checkpoint at step ${step}`;
  restateClusterJobOutcome(db, job.id, 'failed', error);
  return { ...job, outcome: 'failed', error };
}

/** How often the job is polled (ms): squeue and a file read, over ssh for a login node. */
const POLL_MS = Number(process.env.ALPHANET_SLURM_POLL_MS) || 3000;

export async function runSlurm(o: TorchRunOptions): Promise<TorchRunOutcome> {
  const { db, config } = o;
  const open = openRunClusterJob(db, o.runId);
  const clusterName = open?.cluster ?? config.cluster;
  if (!clusterName) throw new SlurmRunError("engine 'slurm' needs a cluster");
  const profile = getCluster(db, clusterName);
  const shell = clusterShell(profile, o.env ?? process.env);
  // The run failed while this job was still followed: the runner failed, not the job (a job's end closes its row).
  const runnerFailed = open !== null && listRunEvents(db, o.runId).at(-1)?.kind === 'fail';
  let job = open ?? (await submit(o, profile, shell));
  if (open) {
    setJobRuntime(db, 'runs', o.runId, { pid: process.pid });
    const message = `following Slurm job ${job.jobId} on ${profile.name} again (last seen ${job.state}): catching up from its files after step ${getRun(db, o.runId).step}`;
    addRunEvent(db, o.runId, { kind: 'resume', step: getRun(db, o.runId).step, message });
    o.send({ type: 'event', runId: o.runId, kind: 'resume', message });
  }

  const applier = progressApplier(o);
  const localCkpts = join(localRunDir(o.home, o.runId), 'checkpoints');
  /** Copies the checkpoints the new lines name and points the lines at the copies. */
  const prepare = async (lines: ProgressLine[], j: ClusterJobRow) => {
    const ckpts = lines.filter((l) => l.type === 'checkpoint' && typeof l.path === 'string');
    if (!ckpts.length) return;
    const names = ckpts.map((l) => basename(l.path as string)).map((n) => `checkpoints/${n}`);
    // A checkpoint the engine already pruned is skipped (a later line names its successor).
    await downloadFiles(shell, j.remoteDir, names, localRunDir(o.home, o.runId), { ignoreMissing: true });
    for (const l of ckpts) {
      const local = join(localCkpts, basename(l.path as string));
      l.path = local;
      if (existsSync(local)) l.bytes = statSync(local).size;
    }
  };
  const apply = (lines: ProgressLine[]) => {
    for (const l of lines) {
      // A pruned checkpoint that never came back is not recorded.
      if (l.type === 'checkpoint' && !existsSync(l.path as string)) continue;
      applier.handle(l);
    }
    applier.flush();
  };
  if (open && runnerFailed) {
    // A resume after such a failure: catch up on the job; if it has also ended without finishing meanwhile (the
    // scheduler killed it, or it stopped), the user asked to go on, so the run continues in a new submission from the
    // newest checkpoint instead of failing again for the old job.
    let caught = (await pollClusterJob(db, shell, open.id, apply, prepare)).job;
    if (caught.outcome === 'paused') caught = await schedulerStop(db, shell, caught, applier.done()?.step ?? applier.step());
    if (caught.outcome && caught.outcome !== 'finished') {
      const message = `Slurm job ${caught.jobId} had ended meanwhile (${caught.outcome}${caught.error ? `: ${caught.error}` : ''}); resuming in a new submission`;
      addRunEvent(db, o.runId, { kind: 'resume', step: applier.step() || getRun(db, o.runId).step, message });
      o.send({ type: 'event', runId: o.runId, kind: 'resume', message });
      job = await submit({ ...o, resume: true }, profile, shell);
    }
  }
  const gpus = job.gpusPerNode;
  let current = job;
  let lastState = '';
  let requested: 'pause' | 'cancel' | null = null;
  while (!current.outcome) {
    const req = o.control();
    if (req === 'detach') return { status: 'detached', step: applier.step() || getRun(db, o.runId).step };
    if (req === 'cancel') {
      current = await cancelClusterJob(db, shell, job.id);
      break;
    }
    if (req === 'pause' && requested !== 'pause') {
      requested = 'pause';
      current = await pauseClusterJob(db, shell, job.id, { apply, prepare, everyMs: Math.min(POLL_MS, 1000) });
      break;
    }
    const r = await pollClusterJob(db, shell, job.id, apply, prepare);
    current = r.job;
    const state = `${current.state}${current.reason ? ` (${current.reason})` : ''}`;
    if (state !== lastState && !current.outcome) {
      lastState = state;
      o.send({ type: 'event', runId: o.runId, kind: 'start', message: `Slurm job ${current.jobId}: ${state}${current.nodeList ? ` on ${current.nodeList}` : ''}` });
    }
    if (!current.outcome) await new Promise((res) => setTimeout(res, POLL_MS));
  }
  applier.flush();
  const done = applier.done();
  if (current.outcome === 'paused' && requested !== 'pause') current = await schedulerStop(db, shell, current, done?.step ?? applier.step());
  if (current.outcome === 'failed') throw new SlurmRunError(`Slurm job ${current.jobId} on ${profile.name} failed at step ${done?.step ?? applier.step()}: ${current.error ?? 'no reason given'}`);
  return { status: current.outcome as TorchRunOutcome['status'], step: done?.step ?? applier.step() };
}
