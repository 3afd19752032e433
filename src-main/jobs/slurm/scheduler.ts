/**
 * Talking to Slurm (docs/CLUSTER.md): submit (`sbatch --parsable`), ask a job's state, cancel. The parsers read the
 * output formats of Slurm 22.05+ (squeue `-o` with our own field list, `scontrol show job -o`, `sacct -P`); their
 * tests run them against a real cluster's output.
 *
 * A job's state comes from the first source that still knows it:
 *   squeue (queued, running, completing) → scontrol show job (also finished jobs, for MinJobAge, default 300 s) →
 *   sacct (accounting, when the cluster has it) → unknown.
 * The caller (the tracker) combines that with the job's own files: a job the scheduler has forgotten is judged by
 * whether it wrote its end marker.
 */
import { lastLine, shq, type ClusterShell } from './shell';

/** Slurm job states the workbench tells apart (others are reported as they come). */
export const ACTIVE_STATES = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED', 'RESV_DEL_HOLD']);

/** Why the scheduler ended a job, in words, for the failed run's error. */
const END_REASONS: Record<string, string> = {
  TIMEOUT: 'the job reached its time limit',
  NODE_FAIL: 'a node of the job failed',
  PREEMPTED: 'the job was preempted',
  CANCELLED: 'the job was cancelled (scancel or an administrator)',
  OUT_OF_MEMORY: 'the job ran out of memory',
  BOOT_FAIL: 'a node of the job failed to boot',
  DEADLINE: 'the job missed its deadline',
  FAILED: 'the job exited with an error',
  REVOKED: 'the job was revoked',
};

export interface SlurmJobInfo {
  jobId: string;
  /** The Slurm state word (e.g. PENDING, RUNNING, COMPLETED, TIMEOUT); 'UNKNOWN' when no source knows the job. */
  state: string;
  /** Slurm's reason (e.g. Priority, Resources, BeginTime), null for None. */
  reason: string | null;
  /** Allocated nodes (compressed host list), null before allocation. */
  nodeList: string | null;
  numNodes: number | null;
  /** `exit:signal` of the batch script, when known. */
  exitCode: string | null;
  source: 'squeue' | 'scontrol' | 'sacct' | 'none';
}

export class SlurmError extends Error {
  override name = 'SlurmError';
}

export const isActive = (state: string): boolean => ACTIVE_STATES.has(state.split(/\s/)[0]);

/** A scheduler end state in words, e.g. "TIMEOUT: the job reached its time limit". */
export function describeEnd(info: Pick<SlurmJobInfo, 'state' | 'reason' | 'exitCode'>): string {
  const state = info.state.split(/\s/)[0];
  const words = END_REASONS[state] ?? `the job ended in state ${state}`;
  const extra = [info.reason && info.reason !== 'None' ? `reason ${info.reason}` : '', info.exitCode && info.exitCode !== '0:0' ? `exit code ${info.exitCode}` : ''].filter(Boolean);
  return `Slurm ${state}: ${words}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** The job id `sbatch --parsable` printed (`id` or `id;cluster`). */
export function parseSbatchParsable(out: string): string {
  const first = out.trim().split('\n').pop()?.split(';')[0]?.trim() ?? '';
  if (!/^\d+(_\d+)?$/.test(first)) throw new SlurmError(`sbatch did not print a job id (got '${out.trim().slice(0, 200)}')`);
  return first;
}

/** `key=value` pairs of one `scontrol show job -o` record. Values never hold spaces in that format except a few
 * free-text fields (Command, WorkDir, StdOut…), which run to the next ` Key=`. */
export function parseScontrolRecord(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const keys: { key: string; start: number; valueStart: number }[] = [];
  for (let m = re.exec(line); m; m = re.exec(line)) keys.push({ key: m[1], start: m.index, valueStart: m.index + m[0].length });
  keys.forEach((k, i) => {
    const end = i + 1 < keys.length ? keys[i + 1].start : line.length;
    out[k.key] = line.slice(k.valueStart, end).trim();
  });
  return out;
}

const SQUEUE_FORMAT = '%i|%T|%r|%D|%N';

/** Parses squeue lines printed with `-o '%i|%T|%r|%D|%N'`. */
export function parseSqueue(out: string): SlurmJobInfo[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [jobId, state, reason, nodes, nodeList] = l.split('|');
      return {
        jobId,
        state,
        reason: reason && reason !== 'None' ? reason : null,
        numNodes: Number(nodes) || null,
        nodeList: nodeList && nodeList !== '(null)' ? nodeList : null,
        exitCode: null,
        source: 'squeue' as const,
      };
    });
}

export function fromScontrol(rec: Record<string, string>): SlurmJobInfo {
  const nodeList = rec.NodeList && rec.NodeList !== '(null)' ? rec.NodeList : null;
  return {
    jobId: rec.JobId,
    state: rec.JobState ?? 'UNKNOWN',
    reason: rec.Reason && rec.Reason !== 'None' ? rec.Reason : null,
    nodeList,
    numNodes: rec.NumNodes ? Number(rec.NumNodes.split('-')[0]) || null : null,
    exitCode: rec.ExitCode ?? null,
    source: 'scontrol',
  };
}

/** Parses `sacct -n -P -X -o JobID,State,ExitCode,NNodes,NodeList,Reason` (first line: the allocation). */
export function parseSacct(out: string): SlurmJobInfo | null {
  const line = out.split('\n').find((l) => l.trim());
  if (!line) return null;
  const [jobId, state, exitCode, nodes, nodeList, reason] = line.split('|');
  return {
    jobId,
    state: state.split(' ')[0],
    reason: reason && reason !== 'None' ? reason : null,
    numNodes: Number(nodes) || null,
    nodeList: nodeList && nodeList !== 'None assigned' ? nodeList : null,
    exitCode: exitCode || null,
    source: 'sacct',
  };
}

/** The job's state from the first source that knows it (see the module comment). */
export async function queryJob(shell: ClusterShell, jobId: string): Promise<SlurmJobInfo> {
  const id = shq(jobId);
  // One round trip (ssh logins cost ~0.1-1 s): the three sources, separated by marker lines.
  const r = await shell.exec(
    `squeue -h -j ${id} -o '${SQUEUE_FORMAT}' 2>/dev/null; echo @@scontrol; scontrol show job -o ${id} 2>/dev/null; echo @@sacct; ` +
      `command -v sacct >/dev/null && sacct -n -P -X -j ${id} -o JobID,State,ExitCode,NNodes,NodeList,Reason 2>/dev/null; true`,
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new SlurmError(`cannot ask Slurm about job ${jobId} on ${shell.where}: ${lastLine(r.stderr, `exit code ${r.code}`)}`);
  const [sq, rest = ''] = r.stdout.split('@@scontrol');
  const [sc, sa = ''] = rest.split('@@sacct');
  const fromQueue = parseSqueue(sq).find((j) => j.jobId === jobId);
  if (fromQueue) return fromQueue;
  const rec = sc.split('\n').find((l) => l.startsWith('JobId='));
  if (rec) return fromScontrol(parseScontrolRecord(rec));
  const acct = parseSacct(sa);
  if (acct) return acct;
  return { jobId, state: 'UNKNOWN', reason: null, nodeList: null, numNodes: null, exitCode: null, source: 'none' };
}

/** Submits a batch script that is already on the cluster; returns the job id. */
export async function submitBatch(shell: ClusterShell, scriptPath: string, opts: string[] = []): Promise<string> {
  const r = await shell.exec(`sbatch --parsable ${opts.map(shq).join(' ')} ${shq(scriptPath)}`, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new SlurmError(`sbatch refused the job on ${shell.where}: ${lastLine(r.stderr, `exit code ${r.code}`).replace(/^sbatch: error:\s*/, '')}`);
  return parseSbatchParsable(r.stdout);
}

/** Sends `signal` (default: end the job) through scancel. A job that already ended is not an error. */
export async function cancelJob(shell: ClusterShell, jobId: string, signal?: string): Promise<void> {
  const r = await shell.exec(`scancel ${signal ? `--signal=${shq(signal)} --batch --full ` : ''}${shq(jobId)}`, { timeoutMs: 60_000 });
  if (r.code !== 0 && !/already completing or completed|Invalid job id/i.test(r.stderr)) {
    throw new SlurmError(`scancel ${jobId} failed on ${shell.where}: ${lastLine(r.stderr, `exit code ${r.code}`)}`);
  }
}
