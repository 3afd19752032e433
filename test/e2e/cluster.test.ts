/**
 * A Slurm run in Chromium against the served mode (docs/CLUSTER.md): its page shows the cluster, each submission
 * (job id, nodes × ranks, the nodes, Slurm's state, the failure) and the job's own log read from the cluster through
 * the API (a local profile: the log is a file on this machine), refreshed on demand; the New run form offers the
 * cluster profiles, nodes and ranks per node for engine slurm, and says where to add a profile when there is none.
 * The run's rows are written into the store the way the Slurm tracker writes them (the real tracker against a real
 * Slurm is the slow suite's, test/unit/cluster/); no Slurm runs here. Screenshots go to test-results/.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHomeDatabase } from '../../src-main/store/db';
import { insertClusterJob, updateClusterJob } from '../../src-main/store/cluster-jobs';
import { createRun, insertStepMetrics, type StepMetric } from '../../src-main/store/runs';
import { setJobRuntime, transitionJob } from '../../src-main/store/jobs';
import { openServedApp, pageShot, servedUnavailable, SHOTS, WAIT, type ServedApp } from './chromium';

const unavailable = servedUnavailable();
if (unavailable) console.warn(`cluster e2e skipped: ${unavailable}`);

let app: ServedApp | undefined;
let page: Page;

describe.skipIf(unavailable !== null)('a Slurm run in the served app', () => {
  let runId: number;
  let log: string;

  beforeAll(async () => {
    app = await openServedApp('alphanet-cluster-');
    page = app.page;
    const runDir = path.join(app.home, 'cluster-runs');
    await app.served.call('clusters.add', { name: 'lab', transport: 'local', runDir, partition: 'debug', timeLimit: '1:00:00' }, false);

    // A run on 2 nodes × 2 CPU ranks: its first job was cancelled by the scheduler, the resume is running. The row is
    // held by this test's process (a live pid), so the server only watches it, as it watches any foreign run.
    const db = openHomeDatabase(app.home);
    try {
      const config = { engine: 'slurm', cluster: 'lab', nodes: 2, ranks: 2, dataset: 'demo', epochs: 2, batchSize: 32, stepsPerEpoch: 30 };
      runId = createRun(db, { name: 'cluster run', config, spaceId: 'alphanet-cifar32', datasetId: null, datasetName: 'demo', seed: 0, appVersion: 'e2e', totalSteps: 60 }).id;
      transitionJob(db, 'runs', runId, 'running', { pid: process.pid, startedAt: new Date().toISOString() });
      setJobRuntime(db, 'runs', runId, { backend: 'slurm lab job 1002 (2 nodes × 2 CPU ranks)' });
      const t0 = Date.now() - 120_000;
      const steps: StepMetric[] = Array.from({ length: 24 }, (_, i) => ({
        step: i + 1, epoch: 0, time: new Date(t0 + i * 4000).toISOString(), lr: 0.1 * Math.min(1, (i + 1) / 6), loss: 3.4 - i * 0.05,
        losses: [{ role: 'max', loss: 2.3 - i * 0.03 }, { role: 'min', loss: 1.1 - i * 0.02, divergence: 0.4 - i * 0.01 }],
        alphaMinShare: 0.4, clippedShare: 0.02, nonfinite: 0, stepMs: 4000, imagesPerSec: 8 + (i % 3),
      }));
      insertStepMetrics(db, runId, steps);
      db.prepare('UPDATE runs SET step = 24 WHERE id = ?').run(runId);
      const job = { cluster: 'lab', kind: 'train' as const, runId, remoteDir: path.join(runDir, `run-${runId}`), nodes: 2, gpusPerNode: 0, ranksPerNode: 2 };
      mkdirSync(job.remoteDir, { recursive: true });
      const first = insertClusterJob(db, { ...job, jobId: '1001' });
      updateClusterJob(db, first.id, { state: 'CANCELLED', nodeList: 'node[1-2]', outcome: 'failed', error: 'Slurm CANCELLED: the job was cancelled (scancel or an administrator)' });
      const second = insertClusterJob(db, { ...job, jobId: '1002' });
      updateClusterJob(db, second.id, { state: 'RUNNING', nodeList: 'node[3-4]' });
      writeFileSync(path.join(job.remoteDir, 'slurm-1001.out'), 'alphanet: job 1001 on 2 node(s) (node[1-2]), rendezvous node1:21001\nslurmstepd: error: *** JOB 1001 CANCELLED ***\n');
      log = path.join(job.remoteDir, 'slurm-1002.out');
      writeFileSync(log, ['alphanet: job 1002 on 2 node(s) (node[3-4]), rendezvous node3:21002', ...Array.from({ length: 12 }, (_, i) => `[rank 0] step ${13 + i}: loss ${(2.9 - i * 0.05).toFixed(3)}`)].join('\n') + '\n');
    } finally {
      db.close();
    }
  });

  afterAll(async () => {
    await app?.close();
  });

  it('the run page shows the cluster, the jobs, the nodes and the newest job’s own log, refreshed', { timeout: 120_000 }, async () => {
    await page.getByRole('link', { name: 'Runs' }).click();
    const link = page.getByRole('link', { name: 'cluster run' });
    await expect.poll(() => link.count(), WAIT).toBe(1);
    await link.click();
    const panel = page.locator('section.cluster');
    await expect.poll(() => panel.locator('[data-job="1001"]').textContent(), WAIT).toMatch(/lab · Slurm job 1001 · 2 nodes × 2 CPU ranks on node\[1-2\] · failed · Slurm CANCELLED: the job was cancelled/);
    expect((await panel.locator('[data-job="1002"]').textContent())?.replace(/\s+/g, ' ')).toMatch(/lab · Slurm job 1002 · 2 nodes × 2 CPU ranks on node\[3-4\] · RUNNING/);
    const text = panel.locator('pre.log');
    await expect.poll(() => text.textContent(), WAIT).toContain('[rank 0] step 24: loss 2.350');
    expect(await page.getByTestId('job-log-meta').textContent()).toContain(`${log} ·`);
    expect(await page.getByText('backend slurm lab job 1002 (2 nodes × 2 CPU ranks)', { exact: false }).count()).toBeGreaterThan(0);
    await pageShot(page, 'page-run-cluster');

    appendFileSync(log, '[rank 0] step 25: loss 2.300\n');
    await panel.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => text.textContent(), WAIT).toContain('[rank 0] step 25: loss 2.300');
    await panel.getByRole('button', { name: 'Show log' }).click();
    await expect.poll(() => text.textContent(), WAIT).toContain('*** JOB 1001 CANCELLED ***');
    expect(app!.problems).toEqual([]);
  });

  it('the New run form offers the cluster profiles, nodes and ranks per node for engine slurm; without a profile it points to Settings', { timeout: 120_000 }, async () => {
    await page.getByRole('link', { name: 'New run' }).click();
    await expect.poll(() => page.locator('h1').textContent(), WAIT).toBe('New run');
    await page.getByRole('radio', { name: /Demo quick-start/ }).check();
    expect(await page.getByLabel('Cluster', { exact: true }).count()).toBe(0);
    await page.getByLabel('Training engine').selectOption('slurm');
    const cluster = page.getByLabel('Cluster', { exact: true });
    await expect.poll(() => cluster.inputValue(), WAIT).toBe('lab');
    expect(await cluster.locator('option').allTextContents()).toEqual(['lab (this machine, partition debug, CPU nodes)']);
    await page.getByLabel('Nodes', { exact: true }).fill('2');
    await page.getByLabel('CPU ranks per node').fill('2');
    const start = page.getByRole('button', { name: 'Start run' });
    await expect.poll(() => start.isEnabled(), WAIT).toBe(true);
    await page.locator('[data-group="engine"]').scrollIntoViewIfNeeded();
    await pageShot(page, 'page-new-run-slurm');
    await page.locator('[data-group="engine"]').screenshot({ path: path.join(SHOTS, 'new-run-slurm-engine.png') });

    // Without a profile: one message, linking to where profiles are added.
    await app!.served.call('clusters.remove', 'lab');
    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByRole('link', { name: 'New run' }).click();
    await page.getByRole('radio', { name: /Demo quick-start/ }).check();
    await page.getByLabel('Training engine').selectOption('slurm');
    const none = page.getByTestId('no-cluster');
    await expect.poll(() => none.textContent(), WAIT).toMatch(/No cluster yet: the slurm engine submits to a cluster profile\.\s+Add one in Settings → Clusters, then choose it here\./);
    await expect.poll(() => start.isDisabled(), WAIT).toBe(true);
    await none.getByRole('link', { name: 'Add one in Settings → Clusters' }).click();
    await expect.poll(() => page.locator('h1').textContent(), WAIT).toBe('Settings');
    expect(app!.problems).toEqual([]);
  });
});
