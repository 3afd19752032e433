/**
 * Following a cluster job (docs/CLUSTER.md): each `pollClusterJob` asks Slurm for the job's state (pending with its
 * reason, running on which nodes, completing, ended) and reads the new complete lines of the job's progress.jsonl
 * (docs/TORCH.md) from where the last poll stopped, then records both in the job's `cluster_jobs` row. The caller's
 * `apply` sees the new lines inside the same transaction that advances the offset, so a line is applied exactly once
 * even when the workbench is closed between polls: the next workbench starts from the stored offset and catches up.
 *
 * The outcome:
 * - the `done` line of progress.jsonl when there is one (finished, paused, cancelled, or failed with its error);
 * - else, once Slurm says the job has ended: failed, with the scheduler's reason (time limit, node failure,
 *   preemption, scancel, out of memory, …) and the last line of the job's Slurm log; resumable from the newest
 *   checkpoint, which the engine writes to a temp name and renames, so it is whole;
 * - else, when no Slurm source knows the job any more (accounting off and MinJobAge passed while the workbench was
 *   closed): failed, saying exactly that.
 */
import type { Db } from '../../store/db';
import { getClusterJob, updateClusterJob, type ClusterJobOutcome, type ClusterJobRow } from '../../store/cluster-jobs';
import { ClusterShellError, lastLine, mustExec, readFrom, shPath, type ClusterShell } from './shell';
import { cancelJob, describeEnd, isActive, queryJob, type SlurmJobInfo } from './scheduler';

/** One line of progress.jsonl: `type` plus the engine's fields. */
export type ProgressLine = { type: string } & Record<string, unknown>;

export const PROGRESS_FILE = 'progress.jsonl';
export const CONTROL_FILE = 'control';
export const slurmLogName = (jobId: string) => `slurm-${jobId}.out`;

export interface PollResult {
  job: ClusterJobRow;
  /** Scheduler facts of this poll (null when the job had already ended before it). */
  info: SlurmJobInfo | null;
  /** The new progress lines, in order. */
  lines: ProgressLine[];
}

/** Splits `text` into its complete lines (parsed) and the bytes they take; a torn last line waits for the next poll. */
export function completeLines(text: string): { lines: ProgressLine[]; bytes: number; bad: number } {
  const end = text.lastIndexOf('\n');
  if (end < 0) return { lines: [], bytes: 0, bad: 0 };
  const whole = text.slice(0, end + 1);
  const lines: ProgressLine[] = [];
  let bad = 0;
  for (const l of whole.split('\n')) {
    if (!l.trim()) continue;
    try {
      const v = JSON.parse(l) as unknown;
      if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string') lines.push(v as ProgressLine);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { lines, bytes: Buffer.byteLength(whole), bad };
}

const DONE_STATUSES = new Set<ClusterJobOutcome>(['finished', 'paused', 'cancelled', 'failed']);

function doneOf(lines: ProgressLine[]): { outcome: ClusterJobOutcome; error: string | null } | null {
  const done = [...lines].reverse().find((l) => l.type === 'done');
  if (!done || !DONE_STATUSES.has(done.status as ClusterJobOutcome)) return null;
  return { outcome: done.status as ClusterJobOutcome, error: typeof done.error === 'string' ? done.error : null };
}

/** The last `maxBytes` of the job's own Slurm log (stdout and stderr of the batch script and its ranks). */
export async function jobLog(shell: ClusterShell, job: Pick<ClusterJobRow, 'remoteDir' | 'jobId'>, maxBytes = 64 * 1024): Promise<string> {
  // Best effort: it only adds the log's last line to a failure that is reported anyway.
  return (await jobLogTail(shell, job, maxBytes).catch(() => null))?.text ?? '';
}

/**
 * The job's Slurm log as the run page shows it: its size in bytes and its last `maxBytes` (null when the job has not
 * written it yet: Slurm creates it when the job starts). One round trip, locally or over ssh.
 */
export async function jobLogTail(shell: ClusterShell, job: Pick<ClusterJobRow, 'remoteDir' | 'jobId'>, maxBytes: number): Promise<{ text: string; bytes: number } | null> {
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  const r = await shell.exec(`f=${shPath(`${job.remoteDir}/${slurmLogName(job.jobId)}`)}; [ -f "$f" ] || exit 3; wc -c < "$f" && tail -c ${maxBytes} "$f"`, { timeoutMs: 60_000 });
  if (r.code === 3) return null;
  if (r.code !== 0) throw new ClusterShellError(`reading the log of job ${job.jobId} failed on ${shell.where}: ${lastLine(r.stderr, `exit code ${r.code}`)}`);
  const nl = r.stdout.indexOf('\n');
  return { bytes: Number(r.stdout.slice(0, nl).trim()), text: r.stdout.slice(nl + 1) };
}

export async function pollClusterJob(
  db: Db,
  shell: ClusterShell,
  id: number,
  apply?: (lines: ProgressLine[], job: ClusterJobRow) => void,
  /** Async work on the new lines before they are applied (e.g. copying the checkpoints they name). */
  prepare?: (lines: ProgressLine[], job: ClusterJobRow) => Promise<void>,
): Promise<PollResult> {
  const job = getClusterJob(db, id);
  if (job.outcome) return { job, info: null, lines: [] };
  // State first, then the file: a job seen ended has written everything it ever will before this read.
  const info = await queryJob(shell, job.jobId);
  const text = await readFrom(shell, `${job.remoteDir}/${PROGRESS_FILE}`, job.progressOffset);
  const { lines, bytes } = completeLines(text);
  const done = doneOf(lines);
  let outcome: { outcome: ClusterJobOutcome; error: string | null } | null = done;
  if (!outcome && !isActive(info.state)) {
    if (info.source === 'none') {
      outcome = { outcome: 'failed', error: `Slurm no longer knows job ${job.jobId} (it ended while the workbench was away and the cluster keeps no accounting) and it wrote no result; resume continues from the last checkpoint` };
    } else {
      const log = lastLine(await jobLog(shell, job, 4096), '');
      outcome = { outcome: 'failed', error: `${describeEnd(info)}${log ? `; last log line: ${log}` : ''}` };
    }
  }
  if (lines.length && prepare) await prepare(lines, job);
  db.transaction(() => {
    if (lines.length && apply) apply(lines, job);
    updateClusterJob(db, id, {
      state: info.source === 'none' ? job.state : info.state,
      reason: info.reason,
      nodeList: info.nodeList ?? job.nodeList,
      progressOffset: job.progressOffset + bytes,
      ...(outcome ? { outcome: outcome.outcome, error: outcome.error } : {}),
    });
  }).immediate();
  return { job: getClusterJob(db, id), info, lines };
}

/** Writes the engine's control file (`pause`: checkpoint and stop; `cancel`: stop). */
export async function writeControl(shell: ClusterShell, job: Pick<ClusterJobRow, 'remoteDir' | 'jobId'>, what: 'pause' | 'cancel'): Promise<void> {
  await mustExec(shell, `printf '%s\\n' ${what} > ${shPath(`${job.remoteDir}/${CONTROL_FILE}`)}`, `writing the control file of job ${job.jobId}`, { timeoutMs: 60_000 });
}

/**
 * Pause: a running job checkpoints and stops (control file), then the allocation is released with scancel once its
 * `done` line arrived or `timeoutMs` passed; a job still pending is simply cancelled (nothing to checkpoint). The job
 * row ends `paused`; resume is a new submission from the newest checkpoint.
 */
export async function pauseClusterJob(db: Db, shell: ClusterShell, id: number, opts: { timeoutMs?: number; everyMs?: number; apply?: (lines: ProgressLine[], job: ClusterJobRow) => void; prepare?: (lines: ProgressLine[], job: ClusterJobRow) => Promise<void> } = {}): Promise<ClusterJobRow> {
  let polled = await pollClusterJob(db, shell, id, opts.apply, opts.prepare);
  if (polled.job.outcome) return polled.job;
  if (polled.job.state === 'PENDING') {
    await cancelJob(shell, polled.job.jobId);
    updateClusterJob(db, id, { outcome: 'paused', error: null, state: 'CANCELLED' });
    return getClusterJob(db, id);
  }
  await writeControl(shell, polled.job, 'pause');
  const until = Date.now() + (opts.timeoutMs ?? 120_000);
  while (!polled.job.outcome && Date.now() < until) {
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 2000));
    polled = await pollClusterJob(db, shell, id, opts.apply, opts.prepare);
  }
  await cancelJob(shell, polled.job.jobId);
  if (!polled.job.outcome) updateClusterJob(db, id, { outcome: 'paused', error: null });
  return getClusterJob(db, id);
}

/** Cancel: the engine is told to stop without a checkpoint and the job is cancelled at once. */
export async function cancelClusterJob(db: Db, shell: ClusterShell, id: number): Promise<ClusterJobRow> {
  const job = getClusterJob(db, id);
  if (job.outcome) return job;
  await writeControl(shell, job, 'cancel').catch(() => undefined); // a pending job may have no directory yet
  await cancelJob(shell, job.jobId);
  updateClusterJob(db, id, { outcome: 'cancelled', error: null });
  return getClusterJob(db, id);
}
