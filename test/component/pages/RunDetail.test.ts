import { render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunStepPoint } from '../../../src-main/ipc/api-types';
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

  it('shows the 1-based epoch of the configured total and the ETA of a running run', async () => {
    await show('kl', true, { status: 'running', step: 30, totalSteps: 120, epoch: 0, epochs: 2, etaSec: 75 });
    expect(await screen.findByText(/step 30 \/ 120 · epoch 1 \/ 2 · 1 min 15 s left/)).toBeTruthy();
  });
});

describe('RunDetail of a Slurm run', () => {
  it('shows each submission: cluster, job id, nodes and ranks, state with its reason, the failure and the log path', async () => {
    const fake = fakeApi({ runs: [run(1, 'r', { status: 'running' })] });
    const detail = await fake.api.runs.get(1);
    const job = { cluster: 'hpc', nodes: 2, ranksPerNode: 4, gpusPerNode: 4, nodeList: null, remoteDir: '/scratch/an/run-1', submittedAt: '2026-12-03T05:00:00.000Z' };
    vi.mocked(fake.api.runs.get).mockResolvedValue({
      ...detail,
      clusterJobs: [
        { ...job, jobId: '101', state: 'TIMEOUT', reason: null, nodeList: 'gpu[01-02]', outcome: 'failed', error: 'Slurm TIMEOUT: the job reached its time limit' },
        { ...job, jobId: '102', state: 'PENDING', reason: 'Priority', outcome: null, error: null },
      ],
    });
    render(RunDetail, { api: fake.api, runId: 1 });
    const first = (await screen.findByRole('heading', { name: 'Cluster' })).parentElement!.querySelector('[data-job="101"]')!;
    expect(first.textContent!.replace(/\s+/g, ' ')).toMatch(/hpc · Slurm job 101 · 2 nodes × 4 GPU ranks on gpu\[01-02\] · failed · Slurm TIMEOUT: the job reached its time limit · log \/scratch\/an\/run-1\/slurm-101\.out/);
    const second = first.parentElement!.querySelector('[data-job="102"]')!;
    expect(second.textContent!.replace(/\s+/g, ' ')).toMatch(/Slurm job 102 · 2 nodes × 4 GPU ranks · PENDING \(Priority\)/);
  });
});
