import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterJobInfo, RunStepPoint } from '../../../src-main/ipc/api-types';
import ClusterJobs from '../../../src-renderer/components/ClusterJobs.svelte';
import RunDetail from '../../../src-renderer/pages/RunDetail.svelte';
import { inertCanvas } from '../canvas';
import { fakeApi, run } from '../fake-api';

beforeEach(inertCanvas);
afterEach(() => vi.restoreAllMocks());

/** A step whose distilled members report a negative α surrogate as their loss, and their (positive) divergence. */
const step = (n: number, withDivergence: boolean): RunStepPoint => ({
  step: n,
  epoch: 0,
  lr: 0.1,
  losses: [
    { role: 'max', loss: 2.25 },
    { role: 'random-1', loss: -0.0625, ...(withDivergence ? { divergence: 0.125 } : {}) },
    { role: 'min', loss: -0.5, ...(withDivergence ? { divergence: 0.375 } : {}) },
  ],
  alphaMinShare: 0.5,
  clippedShare: 0,
  nonfinite: 0,
  imagesPerSec: 100,
});

async function show(distillation: string, withDivergence: boolean, over = {}) {
  const fake = fakeApi({ runs: [run(1, 'r', { distillation, ...over })] });
  vi.mocked(fake.api.runs.metrics).mockResolvedValue({ steps: [step(1, withDivergence), step(2, withDivergence)], epochs: [] });
  render(RunDetail, { api: fake.api, runId: 1 });
  return screen.findByText(/^Training loss — /);
}

describe('RunDetail loss chart', () => {
  it('plots the distilled members\' selected divergence, not the negative surrogate, and says so', async () => {
    const title = await show('adaptive-alpha', true);
    expect(title.textContent).toMatch(/max subnet: label-smoothed cross-entropy; others: the selected α-divergence .*not the surrogate/);
    const alt = title.parentElement!.querySelector('.sr-only')!.textContent!;
    expect(alt).toContain('max (loss or divergence): 2.25 at step 2');
    expect(alt).toContain('random-1 (loss or divergence): 0.125 at step 2');
    expect(alt).toContain('min (loss or divergence): 0.375 at step 2');
    expect(alt).not.toContain('-0.5');
  });

  it('names KL and fixed α for what they plot', async () => {
    expect((await show('kl', true)).textContent).toMatch(/others: KL divergence to it/);
  });

  it('falls back to the loss for runs recorded without a divergence', async () => {
    const title = await show('none', false);
    expect(title.textContent).toMatch(/no distillation/);
    expect(title.parentElement!.querySelector('.sr-only')!.textContent).toContain('min (loss or divergence): -0.5 at step 2');
  });

  it('plots the α₋ share only for adaptive α, the clipped share for every run', async () => {
    await show('adaptive-alpha', true);
    const both = (await screen.findByText('α₋ share of distilled samples, clipped share of gradients')).parentElement!.querySelector('.sr-only')!.textContent!;
    expect(both).toContain('α₋ share (share): 50');
    expect(both).toContain('clipped share (share)');
  });

  it.each(['kl', 'none', 'alpha'])('leaves the α₋ share off the chart of a %s run', async (kind) => {
    await show(kind, kind !== 'none');
    const alt = (await screen.findByText('Clipped share of gradients (per step)')).parentElement!.querySelector('.sr-only')!.textContent!;
    expect(alt).toContain('clipped share (share)');
    expect(alt).not.toContain('α₋');
    expect(screen.queryByText(/α₋ share of distilled samples/)).toBeNull();
  });

  it('shows the 1-based epoch of the configured total and the ETA of a running run', async () => {
    await show('kl', true, { status: 'running', step: 30, totalSteps: 120, epoch: 0, epochs: 2, etaSec: 75 });
    expect(await screen.findByText(/step 30 \/ 120 · epoch 1 \/ 2 · 1 min 15 s left/)).toBeTruthy();
  });
});

describe('RunDetail: Export metrics', () => {
  /** What the page handed to the browser as downloads: file name and text, read from the Blob behind each link. */
  function captureDownloads(): { name: string; text: Promise<string>; type: string }[] {
    const got: { name: string; text: Promise<string>; type: string }[] = [];
    const blobs = new Map<string, Blob>();
    let n = 0;
    // jsdom has no object URLs and does not download: stand in for both, keeping what the link points at.
    Object.assign(URL, { createObjectURL: (b: Blob) => { const u = `blob:test/${++n}`; blobs.set(u, b); return u; }, revokeObjectURL: (u: string) => blobs.delete(u) });
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      const b = blobs.get(this.href)!;
      got.push({ name: this.download, text: b.text(), type: b.type });
    });
    return got;
  }

  it('is disabled, saying why, before any metrics are recorded', async () => {
    const fake = fakeApi({ runs: [run(1, 'fresh', { status: 'queued' })] });
    render(RunDetail, { api: fake.api, runId: 1 });
    const group = await screen.findByRole('group', { name: 'Export metrics' });
    for (const name of ['Steps CSV', 'Epochs CSV', 'JSON']) expect(within(group).getByRole('button', { name }).hasAttribute('disabled')).toBe(true);
    expect(group.getAttribute('aria-describedby')).toBe('export-note');
    expect(within(group).getByText('No metrics recorded yet.')).toBeTruthy();
  });

  it('downloads the steps CSV (live steps included), the JSON; the epochs CSV waits for a validation', async () => {
    const got = captureDownloads();
    const fake = fakeApi({ runs: [run(1, 'my run, "α"', { status: 'running' })] });
    vi.mocked(fake.api.runs.metrics).mockResolvedValue({ steps: [step(1, true), step(2, true)], epochs: [] });
    render(RunDetail, { api: fake.api, runId: 1 });
    const group = await screen.findByRole('group', { name: 'Export metrics' });
    const epochs = within(group).getByRole('button', { name: 'Epochs CSV' });
    expect(epochs.hasAttribute('disabled')).toBe(true);
    expect(epochs.getAttribute('title')).toBe('No validation yet: it runs at the end of each epoch.');
    fake.emitRun({ type: 'progress', runId: 1, step: { ...step(3, true), lr: 0.05 }, totalSteps: 10, etaSec: 5 });

    await fireEvent.click(within(group).getByRole('button', { name: 'Steps CSV' }));
    expect(got.map((d) => [d.name, d.type])).toEqual([['run-1-my-run-steps.csv', 'text/csv;charset=utf-8']]);
    expect(await got[0]!.text).toBe(
      [
        'step,epoch,lr,max_loss,random-1_loss,random-1_divergence,min_loss,min_divergence,alpha_min_share,clipped_share,nonfinite,images_per_sec',
        '1,0,0.1,2.25,-0.0625,0.125,-0.5,0.375,0.5,0,0,100',
        '2,0,0.1,2.25,-0.0625,0.125,-0.5,0.375,0.5,0,0,100',
        '3,0,0.05,2.25,-0.0625,0.125,-0.5,0.375,0.5,0,0,100',
        '',
      ].join('\n'),
    );

    await fireEvent.click(within(group).getByRole('button', { name: 'JSON' }));
    expect(got[1]!.name).toBe('run-1-my-run.json');
    const doc = JSON.parse(await got[1]!.text);
    expect(doc).toMatchObject({ schema: 'alphanet-workbench/run-metrics', version: 1, run: { id: 1, name: 'my run, "α"', status: 'running' } });
    expect(doc.steps).toHaveLength(3);

    fake.emitRun({ type: 'epoch', runId: 1, points: [{ epoch: 0, step: 3, subnet: 'max', mflops: 9, valTop1: 0.5, valLoss: 1 }] });
    await waitFor(() => expect(epochs.hasAttribute('disabled')).toBe(false));
    await fireEvent.click(epochs);
    expect(await got[2]!.text).toBe('epoch,step,max_top1,max_loss,max_mflops\n0,3,0.5,1,9\n');
  });
});

/** Two submissions of run 1: one the scheduler ended, its resume waiting in the queue. */
const job = { cluster: 'hpc', nodes: 2, ranksPerNode: 4, gpusPerNode: 4, nodeList: null, remoteDir: '/scratch/an/run-1', submittedAt: '2026-12-03T05:00:00.000Z' };
const jobs = (): ClusterJobInfo[] => [
  { ...job, jobId: '101', state: 'TIMEOUT', reason: null, nodeList: 'gpu[01-02]', outcome: 'failed', error: 'Slurm TIMEOUT: the job reached its time limit' },
  { ...job, jobId: '102', state: 'PENDING', reason: 'Priority', outcome: null, error: null },
];

describe('RunDetail of a Slurm run', () => {

  it('shows each submission (cluster, job id, nodes and ranks, state with its reason, the failure) and the newest job’s own log', async () => {
    const fake = fakeApi({ runs: [run(1, 'r', { status: 'running' })], clusterJobs: { 1: jobs() } });
    render(RunDetail, { api: fake.api, runId: 1 });
    const first = (await screen.findByRole('heading', { name: 'Cluster' })).parentElement!.querySelector('[data-job="101"]')!;
    expect(first.textContent!.replace(/\s+/g, ' ')).toMatch(/hpc · Slurm job 101 · 2 nodes × 4 GPU ranks on gpu\[01-02\] · failed · Slurm TIMEOUT: the job reached its time limit/);
    const second = first.parentElement!.querySelector('[data-job="102"]')!;
    expect(second.textContent!.replace(/\s+/g, ' ')).toMatch(/Slurm job 102 · 2 nodes × 4 GPU ranks · PENDING \(Priority\)/);
    // The log of the newest job, read from the cluster through the API with the page's size cap.
    expect(await screen.findByText(/rank 0: step 1/)).toBeTruthy();
    expect(fake.api.clusters.jobLog).toHaveBeenCalledWith(1, '102', 64 * 1024);
    expect(screen.getByTestId('job-log-meta').textContent!.replace(/\s+/g, ' ')).toMatch(/^\/scratch\/an\/run-1\/slurm-102\.out · \d+ B · read at .+ · refreshed every 5 s$/);
    // Refresh reads it again (the fake's log grows by a line per read); Show log switches jobs.
    await fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    expect(await screen.findByText(/rank 0: step 2/)).toBeTruthy();
    await fireEvent.click(within(first as HTMLElement).getByRole('button', { name: 'Show log' }));
    await waitFor(() => expect(fake.api.clusters.jobLog).toHaveBeenLastCalledWith(1, '101', 64 * 1024));
    expect(await screen.findByRole('heading', { name: 'Log of job 101' })).toBeTruthy();
  });
});

describe('ClusterJobs', () => {
  it('reads a followed job’s log and state again on its own, an ended job’s once; shows only the end of a long log', async () => {
    const fake = fakeApi({ runs: [run(1, 'r', { status: 'running' })], clusterJobs: { 1: jobs() } });
    // The tracker has seen the job start since the page loaded: the log read brings the new state.
    vi.mocked(fake.api.clusters.jobLog).mockImplementation(async (runId, jobId, maxBytes = 0) => ({
      jobId, path: `/scratch/an/run-1/slurm-${jobId}.out`, exists: true, bytes: 5000, text: 'x'.repeat(maxBytes), truncated: true, readAt: '2026-12-03T05:00:00.000Z',
      job: { ...jobs()[1], state: 'RUNNING', reason: null, nodeList: 'gpu[03-04]' },
    }));
    render(ClusterJobs, { api: fake.api, runId: 1, jobs: jobs(), refreshMs: 30, maxBytes: 1024 });
    await waitFor(() => expect(vi.mocked(fake.api.clusters.jobLog).mock.calls.length).toBeGreaterThanOrEqual(3));
    expect(screen.getByTestId('job-log-meta').textContent).toMatch(/the last 1.00 KiB of 4.88 KiB/);
    await waitFor(() => expect(document.querySelector('[data-job="102"]')!.textContent!.replace(/\s+/g, ' ')).toMatch(/on gpu\[03-04\] · RUNNING/));

    const ended = fakeApi({ runs: [run(2, 'r', { status: 'failed' })], clusterJobs: { 2: jobs().slice(0, 1) } });
    render(ClusterJobs, { api: ended.api, runId: 2, jobs: jobs().slice(0, 1), refreshMs: 30 });
    await waitFor(() => expect(ended.api.clusters.jobLog).toHaveBeenCalledOnce());
    await new Promise((r) => setTimeout(r, 120));
    expect(ended.api.clusters.jobLog).toHaveBeenCalledOnce();
  });

  it('says when the job has not started its log yet, and why a read failed', async () => {
    const fake = fakeApi({ runs: [run(1, 'r', { status: 'running' })], clusterJobs: { 1: jobs() } });
    vi.mocked(fake.api.clusters.jobLog).mockResolvedValueOnce({ jobId: '102', job: jobs()[1], path: '/scratch/an/run-1/slurm-102.out', exists: false, bytes: 0, text: '', truncated: false, readAt: '2026-12-03T05:00:00.000Z' });
    render(ClusterJobs, { api: fake.api, runId: 1, jobs: jobs(), refreshMs: 60_000 });
    await waitFor(() => expect(screen.getByTestId('job-log-meta').textContent).toMatch(/not written yet \(Slurm creates it when the job starts\)/));
    vi.mocked(fake.api.clusters.jobLog).mockRejectedValueOnce(new Error('ssh to login1 failed: Connection refused'));
    await fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Could not read the log: ssh to login1 failed: Connection refused');
  });
});
