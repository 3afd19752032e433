/**
 * A search's evaluations on a Slurm cluster (search engine `slurm`, docs/CLUSTER.md "Searching on the cluster"): a
 * `SubnetCompute` (search/subnet-compute.ts) whose every `evaluateMany` — a generation's candidates, since its
 * concurrency is unbounded — is one Slurm job whose ranks split the candidates, as AlphaNet's parallel evolutionary
 * search does. The search itself, the evaluation cache, MFLOPs and latency stay in the workbench's search runner.
 *
 * 1. Once per compute, the bundle goes to `<profile.runDir>/search-<id>/` (same transport and script as a training
 *    run, jobs/slurm/submit.ts): the torch evaluator's setup (`writeTorchEvalSetup`: the pinned checkpoint, the
 *    split, the exact calibration images and crops) with paths relative to that folder, the dataset arrays, the
 *    checkpoint file and the engine package.
 * 2. Each call writes the candidates to `eval-<hash>/genomes.jsonl` (the hash of the setup and the candidate list)
 *    and submits `alphanet_torch.evaluate setup.json --genomes … --out eval-<hash>/results.jsonl --rank-split`
 *    under `srun torchrun`: rank r of N evaluates the candidates i ≡ r (mod N) and appends its answers to
 *    `results.jsonl.rank<r>`, flushed one by one.
 * 3. It follows the job (queue state into `cluster_jobs` and the search's events) until Slurm says it has ended, then
 *    reads the answers back and returns them in the order given. Every answer is the torch evaluator's: the rows
 *    record `torch-cpu` or `torch-cuda`, under the same cache key as a local evaluation.
 * 4. A job the scheduler ends before every candidate is answered (time limit, node failure, preemption, scancel)
 *    fails the call with Slurm's reason. The answers already written stay on the cluster: a resumed search asks for
 *    the same generation again, the folder name is the same, and the batch mode skips the candidates it answered.
 * 5. A pause or cancel of the search while a job runs cancels the job (`SlurmSearchInterrupted`); the same folder is
 *    reused when the search resumes.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { validateGenome } from '../../engine/core';
import type { Db } from '../../store/db';
import { getCluster } from '../../store/clusters';
import { listOpenSearchClusterJobs, updateClusterJob, type ClusterJobRow } from '../../store/cluster-jobs';
import type { SearchCluster } from '../../store/searches';
import type { ComputedEvaluation, SubnetCompute } from '../../search/subnet-compute';
import { runDir as localRunDir } from '../../train/paths';
import { torchEngineDir } from '../python';
import { computedOfTorch, writeTorchEvalSetup, type TorchEvalSetupOptions, type TorchEvaluation } from '../torch-evaluator';
import { cancelJob, describeEnd, isActive, queryJob, type SlurmJobInfo } from './scheduler';
import { clusterShell, lastLine, shPath, type ClusterShell } from './shell';
import { submitClusterJob } from './submit';
import { jobLog } from './tracker';

export class SlurmSearchError extends Error {
  override name = 'SlurmSearchError';
}

/** The search was paused or cancelled while a generation's job ran: the job was cancelled; not a failure. */
export class SlurmSearchInterrupted extends SlurmSearchError {
  override name = 'SlurmSearchInterrupted';
}

export interface SlurmSubnetComputeOptions extends TorchEvalSetupOptions {
  db: Db;
  searchId: number;
  cluster: SearchCluster;
  env?: NodeJS.ProcessEnv;
  /** True once the search is asked to pause or cancel (checked while a job runs). */
  stopRequested?: () => boolean;
  /** The job's queue state in words, each time it changes (the search's events). */
  onState?: (message: string) => void;
  /** How often the job is asked about (ms). */
  pollMs?: number;
  /** Extra sbatch options (tests: --begin). */
  sbatchOptions?: string[];
}

const CHECKPOINT = 'checkpoint.anckpt';
const POLL_MS = Number(process.env.ALPHANET_SLURM_POLL_MS) || 3000;

type Answer = { id: number; result?: TorchEvaluation; error?: string };

/** The answers in a batch's results files (every rank's); a torn or foreign line is skipped, the first answer of an id kept. */
export function parseAnswers(text: string): Map<number, Answer> {
  const out = new Map<number, Answer>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let a: unknown;
    try {
      a = JSON.parse(line);
    } catch {
      continue; // a line torn by a killed rank: the resumed job answers it again
    }
    if (!a || typeof a !== 'object') continue;
    const { id, result, error } = a as Answer;
    if (typeof id !== 'number' || out.has(id) || (typeof error !== 'string' && (!result || typeof result !== 'object'))) continue;
    out.set(id, { id, ...(typeof error === 'string' ? { error } : { result }) });
  }
  return out;
}

/** Cancels the jobs a previous runner of this search left followed (it was killed or the workbench closed): the new
 * submission continues their answers, and two jobs must not append to the same files. */
async function supersede(db: Db, shell: ClusterShell, searchId: number): Promise<void> {
  for (const j of listOpenSearchClusterJobs(db, searchId)) {
    await cancelJob(shell, j.jobId);
    updateClusterJob(db, j.id, { outcome: 'cancelled', error: 'superseded by a new runner of the search' });
  }
}

export async function slurmSubnetCompute(o: SlurmSubnetComputeOptions): Promise<SubnetCompute> {
  const env = o.env ?? process.env;
  const profile = getCluster(o.db, o.cluster.name);
  const shell = clusterShell(profile, env);
  const engineDir = torchEngineDir(env);
  if (!engineDir) throw new SlurmSearchError('the torch engine package (engines/torch) is missing; set ALPHANET_TORCH_ENGINE to its directory');
  const gpus = o.cluster.gpusPerNode > 0 ? o.cluster.gpusPerNode : profile.gpusPerNode;
  const device = gpus > 0 ? 'cuda' : 'cpu';
  const pollMs = o.pollMs ?? POLL_MS;

  // The bundle: the local evaluator's setup with its paths made relative to the job's folder (the ranks' cwd).
  const localSetup = JSON.parse(readFileSync(writeTorchEvalSetup(o), 'utf8')) as { dataset: string; checkpoint: { sha256: string } };
  const setupText = `${JSON.stringify({ ...localSetup, checkpoint: { path: CHECKPOINT, sha256: localSetup.checkpoint.sha256 }, dataset: 'dataset' })}\n`;
  const bundle = join(localRunDir(o.home, o.runId), `search-${o.searchId}-cluster`);
  rmSync(bundle, { recursive: true, force: true });
  mkdirSync(bundle, { recursive: true });
  cpSync(localSetup.dataset, join(bundle, 'dataset'), { recursive: true });
  copyFileSync(o.checkpoint.path, join(bundle, CHECKPOINT));
  writeFileSync(join(bundle, 'setup.json'), setupText);
  await supersede(o.db, shell, o.searchId);

  let shipped = false;
  let broken: Error | undefined;

  /** Follows the job until Slurm says it ended (or the search is stopped); returns Slurm's last word on it. */
  const follow = async (job: ClusterJobRow): Promise<SlurmJobInfo> => {
    let said = '';
    for (;;) {
      const info = await queryJob(shell, job.jobId);
      updateClusterJob(o.db, job.id, { ...(info.source === 'none' ? {} : { state: info.state }), reason: info.reason, ...(info.nodeList ? { nodeList: info.nodeList } : {}) });
      const state = `${info.state}${info.reason ? ` (${info.reason})` : ''}`;
      if (state !== said && isActive(info.state)) {
        said = state;
        o.onState?.(`Slurm job ${job.jobId}: ${state}${info.nodeList ? ` on ${info.nodeList}` : ''}`);
      }
      if (!isActive(info.state)) return info;
      for (let t = 0; t < pollMs; t += 250) {
        if (o.stopRequested?.()) {
          await cancelJob(shell, job.jobId);
          updateClusterJob(o.db, job.id, { outcome: 'cancelled', error: 'the search was paused or cancelled', state: 'CANCELLED' });
          throw new SlurmSearchInterrupted(`Slurm job ${job.jobId} cancelled: the search was paused or cancelled (its answers so far stay on ${profile.name})`);
        }
        await sleep(Math.min(250, pollMs - t));
      }
    }
  };

  const run = async (genomes: readonly ReturnType<typeof validateGenome>[]): Promise<ComputedEvaluation[]> => {
    const list = genomes.map((genome, id) => `${JSON.stringify({ id, genome })}\n`).join('');
    const batch = `eval-${createHash('sha256').update(setupText).update(list).digest('hex').slice(0, 16)}`;
    // The first submission carries the bundle and the engine; later ones only their candidate list.
    const staging = shipped ? mkdtempSync(join(tmpdir(), 'alphanet-eval-')) : bundle;
    let job: ClusterJobRow;
    try {
      mkdirSync(join(staging, batch), { recursive: true });
      writeFileSync(join(staging, batch, 'genomes.jsonl'), list);
      job = await submitClusterJob(o.db, shell, profile, {
        kind: 'evaluate',
        searchId: o.searchId,
        name: `alphanet-search-${o.searchId}`,
        subdir: `search-${o.searchId}`,
        bundleDir: staging,
        engineDir: shipped ? null : engineDir,
        module: 'alphanet_torch.evaluate',
        dirArg: false,
        args: ['setup.json', '--genomes', `${batch}/genomes.jsonl`, '--out', `${batch}/results.jsonl`, '--rank-split', '--device', device],
        nodes: o.cluster.nodes,
        gpusPerNode: gpus,
        ranksPerNode: o.cluster.ranksPerNode,
        sbatchOptions: o.sbatchOptions,
      });
    } finally {
      if (shipped) rmSync(staging, { recursive: true, force: true });
      else rmSync(join(staging, batch), { recursive: true, force: true });
    }
    shipped = true;
    const ranks = job.nodes * job.ranksPerNode;
    o.onState?.(`submitted ${genomes.length} candidate${genomes.length === 1 ? '' : 's'} to ${profile.name} as Slurm job ${job.jobId}: ${ranks} rank${ranks > 1 ? 's' : ''} in ${job.remoteDir}/${batch}`);
    const info = await follow(job);
    // Slurm says the job ended: every answer it will ever write is in the files now.
    const r = await shell.exec(`cd ${shPath(`${job.remoteDir}/${batch}`)} && cat results.jsonl.rank* 2>/dev/null; true`, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new SlurmSearchError(`reading the answers of Slurm job ${job.jobId} failed on ${shell.where}: ${lastLine(r.stderr, `exit code ${r.code}`)}`);
    const answers = parseAnswers(r.stdout);
    if (answers.size < genomes.length) {
      const log = lastLine(await jobLog(shell, job, 4096), '');
      const error = `${describeEnd(info)}${log ? `; last log line: ${log}` : ''}`;
      updateClusterJob(o.db, job.id, { outcome: 'failed', error });
      throw new SlurmSearchError(
        `Slurm job ${job.jobId} on ${profile.name} failed: ${error}; ${answers.size} of ${genomes.length} candidates of this generation were evaluated (kept on the cluster: resuming the search continues them)`,
      );
    }
    updateClusterJob(o.db, job.id, { outcome: 'finished', error: null });
    return genomes.map((g, i) => {
      const a = answers.get(i)!;
      if (a.error !== undefined) throw new SlurmSearchError(`candidate ${i} of Slurm job ${job.jobId}: ${a.error}`);
      return computedOfTorch(g, a.result!);
    });
  };

  return {
    backend: `torch-${device}`,
    // A generation is one job: the search hands over all of its candidates at once.
    concurrency: Number.MAX_SAFE_INTEGER,
    async evaluateMany(genomes) {
      if (broken) throw broken;
      // Checked here first, so a bad genome is the workbench's own message naming the gene.
      const valid = genomes.map((g) => validateGenome(o.space, g));
      try {
        return await run(valid);
      } catch (e) {
        broken = e as Error;
        throw e;
      }
    },
    async dispose() {
      broken ??= new SlurmSearchError('the Slurm compute was disposed');
      rmSync(bundle, { recursive: true, force: true });
    },
  };
}
