/**
 * A search's evaluation as Slurm jobs (jobs/slurm/slurm-search.ts, docs/CLUSTER.md "Searching on the cluster"), through
 * the command line on a real single-node Slurm (slurm-harness.ts), nothing stubbed: `alphanet search --engine slurm
 * --cluster lab --ranks-per-node 2` on a briefly trained tiny run submits one job per generation whose two gloo-less
 * CPU ranks split the candidates; the search finishes, and every evaluation it stored equals what the local torch
 * evaluator computes for the same genome (same cache key, backend `torch-cpu`). Then an `scancel` of a generation's job
 * mid-way fails the search with Slurm's reason, and `alphanet search resume` finishes it: the new job continues the
 * answers already written (each candidate answered once). The same through an ssh profile (the test sshd as login node).
 * Slow suite (ALPHANET_SLOW_TESTS=1).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHomeDatabase, type Db } from '../../../src-main/store/db';
import { listSearchClusterJobs } from '../../../src-main/store/cluster-jobs';
import { getSearch, listSearchMembers } from '../../../src-main/store/searches';
import { clusterShell } from '../../../src-main/jobs/slurm/shell';
import { cancelJob } from '../../../src-main/jobs/slurm/scheduler';
import { torchSubnetCompute } from '../../../src-main/jobs/torch-evaluator';
import { evaluationSettings, loadRun } from '../../../src-main/search/run-subnets';
import { initBackend, type Genome } from '../../../src-main/engine';
import { cliAt } from '../cli/run-cli';
import { requireRunner } from '../train/runner-helpers';
import { trainTinyRun } from '../search/run-fixture';
import { tearDownSuite, useClusterEnv, waitFor, type SlurmCluster } from './slurm-harness';
import { startClusterAndSshd, type TestSshd } from './sshd-harness';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';
const PYTHON = '/usr/bin/python3';

/** Answer lines in a search's result files on the (shared, here local) run directory. */
function answerLines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => d.startsWith('eval-'))
    .flatMap((d) => readdirSync(join(dir, d)).filter((f) => f.startsWith('results.jsonl.rank')).map((f) => join(dir, d, f)))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
}

describe.runIf(SLOW)('search evaluation as Slurm jobs (slow)', () => {
  let cluster: SlurmCluster;
  let sshd: TestSshd;
  let home: string;
  let runId: number;
  let runDir: string;
  let db: Db;
  let restoreEnv: (() => void) | undefined;
  // The runners the CLI forks inherit this process's environment, which useClusterEnv points at the test cluster.
  const { cli, ok } = cliAt(() => home, () => ({ ...process.env, ALPHANET_BACKEND: 'wasm' }));

  beforeAll(async () => {
    requireRunner();
    ({ cluster, sshd } = await startClusterAndSshd(PYTHON));
    ({ home, runId } = await trainTinyRun('alphanet-slurm-search-'));
    runDir = mkdtempSync(join(tmpdir(), 'alphanet-slurm-search-runs-'));
    restoreEnv = useClusterEnv(cluster);
    db = openHomeDatabase(home);
    await ok(['clusters', 'add', 'lab', '--local', '--run-dir', runDir, '--partition', 'debug', '--python', PYTHON, '--time', '10']);
  }, 300_000);
  afterAll(() => tearDownSuite({ restoreEnv, db, daemons: [sshd, cluster], dirs: [home, runDir] }), 60_000);

  it('one job per generation, its 2 ranks splitting the candidates; the evaluations equal the local torch evaluator', async () => {
    const r = JSON.parse((await ok(['--json', 'search', String(runId), '--engine', 'slurm', '--cluster', 'lab', '--ranks-per-node', '2', '--population', '4', '--mutate', '2', '--crossover', '1', '--generations', '1', '--seed', '5'])).out);
    expect(r.search).toMatchObject({ status: 'finished', engine: 'slurm', cluster: { name: 'lab', nodes: 1, ranksPerNode: 2, gpusPerNode: 0 }, evaluations: 7, error: null });
    const id = r.search.id as number;
    expect(getSearch(db, id).backend).toMatch(/^slurm lab, 1 node × 2 ranks: torch-cpu/);
    const jobs = listSearchClusterJobs(db, id);
    expect(jobs).toHaveLength(2);
    for (const j of jobs) expect(j).toMatchObject({ cluster: 'lab', kind: 'evaluate', searchId: id, runId: null, nodes: 1, ranksPerNode: 2, outcome: 'finished', nodeList: cluster.node, remoteDir: `${runDir}/search-${id}` });
    // Both ranks answered: the generation's candidates were split, each answered once.
    const dir = `${runDir}/search-${id}`;
    const ranks = readdirSync(dir).filter((d) => d.startsWith('eval-')).map((d) => readdirSync(join(dir, d)).filter((f) => f.startsWith('results.jsonl.rank')).sort());
    expect(ranks).toEqual([
      ['results.jsonl.rank0', 'results.jsonl.rank1'],
      ['results.jsonl.rank0', 'results.jsonl.rank1'],
    ]);
    expect(answerLines(dir)).toHaveLength(7);

    const members = listSearchMembers(db, id);
    expect(members).toHaveLength(7);
    const s = getSearch(db, id);
    for (const m of members) expect(m.evaluation).toMatchObject({ backend: 'torch-cpu', split: s.split, checkpointSha256: s.checkpointSha256, calibrationBatches: s.calibrationBatches, calibrationSeed: s.calibrationSeed });

    // The same genomes through the local torch evaluator (the `--engine torch` compute), under the search's settings.
    await initBackend({ force: 'wasm' });
    const run = await loadRun(home, db, runId, { checkpoint: { path: s.checkpointPath, sha256: s.checkpointSha256, step: s.checkpointStep } });
    const settings = evaluationSettings(run, { split: s.split, calibrationBatches: s.calibrationBatches, calibrationBatchSize: s.calibrationBatchSize, calibrationSeed: s.calibrationSeed });
    const local = await torchSubnetCompute({ home, runId, space: run.space, numClasses: run.numClasses, dataset: run.dataset, checkpoint: run.checkpoint, settings, threads: 1 });
    try {
      const want = await local.evaluateMany(members.map((m) => m.evaluation.genome as Genome));
      members.forEach((m, i) => {
        const e = m.evaluation;
        expect(e.accuracy, `candidate ${i}`).toBe(want[i].accuracy);
        expect(e.loss).toBeCloseTo(want[i].loss, 6);
        expect(e.before?.accuracy).toBe(want[i].before?.accuracy);
        expect(e.before?.loss).toBeCloseTo(want[i].before!.loss, 6);
        expect([e.images, e.calibrationImages]).toEqual([want[i].images, want[i].calibrationImages]);
      });
      // Not a trivially equal pair: the subnets differ in accuracy.
      expect(new Set(want.map((w) => w.loss)).size).toBeGreaterThan(1);
    } finally {
      await local.dispose();
      run.dispose();
    }
  }, 900_000);

  it('the SSH path: the bundle, the jobs and the answers go through an ssh profile to the login node', async () => {
    await ok(['clusters', 'add', 'far', '--ssh', sshd.host, '--ssh-config', sshd.configFile, '--run-dir', runDir, '--partition', 'debug', '--python', PYTHON, '--time', '10']);
    const r = JSON.parse((await ok(['--json', 'search', String(runId), '--cluster', 'far', '--ranks-per-node', '2', '--population', '3', '--generations', '0', '--seed', '21'])).out);
    expect(r.search).toMatchObject({ status: 'finished', engine: 'slurm', cluster: { name: 'far' }, evaluations: 3, error: null });
    const [job] = listSearchClusterJobs(db, r.search.id);
    expect(job).toMatchObject({ cluster: 'far', kind: 'evaluate', outcome: 'finished', nodeList: cluster.node });
    expect(listSearchMembers(db, r.search.id).map((m) => m.evaluation.backend)).toEqual(['torch-cpu', 'torch-cpu', 'torch-cpu']);
  }, 600_000);

  it('scancel of a generation\'s job → the search fails with the reason → search resume → finished, each candidate answered once', async () => {
    // One generation of 24 candidates (12 per rank): the cancel lands after the first answers, before the last.
    const prior = (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM searches').get() as { id: number }).id;
    const searching = cli(['--json', 'search', String(runId), '--engine', 'slurm', '--cluster', 'lab', '--ranks-per-node', '2', '--population', '24', '--generations', '0', '--seed', '11', '--split', 'test']);
    await waitFor(() => db.prepare('SELECT 1 FROM searches WHERE id > ?').get(prior) !== undefined, 60_000, 'the search was not queued');
    const id = prior + 1;
    const dir = `${runDir}/search-${id}`;
    await waitFor(() => answerLines(dir).length >= 2, 300_000, 'the evaluation job answered nothing', 100);
    const [job] = listSearchClusterJobs(db, id);
    await cancelJob(clusterShell({ transport: 'local', sshHost: null, sshConfig: null }, cluster.env), job.jobId);
    const failed = await searching;
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(new RegExp(`search ${id} failed: Slurm job ${job.jobId} on lab failed: Slurm CANCELLED: the job was cancelled .*; (\\d+) of 24 candidates of this generation were evaluated`));
    const before = Number(/; (\d+) of 24 candidates/.exec(failed.err)![1]);
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(24);
    expect(getSearch(db, id)).toMatchObject({ status: 'failed', evaluations: 0 });

    const resumed = JSON.parse((await ok(['--json', 'search', 'resume', String(id)])).out);
    expect(resumed.search).toMatchObject({ id, status: 'finished', evaluations: 24, error: null });
    expect(listSearchClusterJobs(db, id).map((j) => j.outcome)).toEqual(['failed', 'finished']);
    // The resumed job skipped what the cancelled one had answered: 24 answers in all, each id once.
    const answers = answerLines(dir).map((l) => (JSON.parse(l) as { id: number }).id);
    expect(answers.sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(listSearchMembers(db, id).every((m) => m.evaluation.backend === 'torch-cpu')).toBe(true);
  }, 900_000);
});
