import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterProfile } from '../../../src-main/ipc/api-types';
import NewRun from '../../../src-renderer/pages/NewRun.svelte';
import { fakeApi } from '../fake-api';
import { distillationEvidence } from '../../../src-main/train/distillation-evidence';

afterEach(() => {
  window.location.hash = '';
});

async function setup(opts: Parameters<typeof fakeApi>[0] = {}) {
  const fake = fakeApi(opts);
  render(NewRun, { api: fake.api, mode: 'served', checkDelayMs: 0 });
  const epochs = (await screen.findByLabelText('Epochs')) as HTMLInputElement;
  const start = screen.getByRole('button', { name: 'Start run' }) as HTMLButtonElement;
  await waitFor(() => expect(start.disabled).toBe(false));
  return { fake, epochs, start };
}

describe('NewRun', () => {
  it('fills the form from the preset with the engine’s defaults filled in', async () => {
    const { fake } = await setup();
    expect((screen.getByLabelText('Epochs') as HTMLInputElement).value).toBe('3');
    expect((screen.getByLabelText('Batch size') as HTMLInputElement).value).toBe('32');
    // Not in the preset: the value runs.check filled in.
    expect((screen.getByLabelText('Seed') as HTMLInputElement).value).toBe('0');
    // The preset names its dataset `demo`; the form picks that dataset by id.
    expect((screen.getByLabelText('Dataset') as HTMLSelectElement).value).toBe('ds-demo');
    expect((screen.getByRole('radio', { name: /Demo quick-start/ }) as HTMLInputElement).checked).toBe(true);
    expect(screen.getByTestId('max-mflops').textContent).toBe('4.00 MFLOPs · 0.40 M params');
    expect(fake.api.runs.presets).toHaveBeenCalledOnce();
  });

  it('shows an invalid value’s error at its field, disables Start, and never starts the run', async () => {
    const { fake, epochs, start } = await setup();
    await fireEvent.input(epochs, { target: { value: '0' } });
    await waitFor(() => expect(epochs.getAttribute('aria-invalid')).toBe('true'));
    const field = epochs.closest('[data-field="epochs"]') as HTMLElement;
    expect(within(field).getByRole('alert').textContent).toBe('Too small: expected number to be >0');
    expect(start.disabled).toBe(true);
    expect(screen.getByText('1 problem to fix before starting.')).toBeTruthy();
    await fireEvent.click(start);
    expect(fake.api.runs.start).not.toHaveBeenCalled();

    // Text that is not a number is refused at the field too.
    await fireEvent.input(epochs, { target: { value: 'ten' } });
    await waitFor(() => expect(fake.api.runs.check).toHaveBeenLastCalledWith(expect.objectContaining({ epochs: 'ten' })));
    expect(start.disabled).toBe(true);

    await fireEvent.input(epochs, { target: { value: '1' } });
    await waitFor(() => expect(start.disabled).toBe(false));
    expect(epochs.getAttribute('aria-invalid')).toBeNull();
    await fireEvent.click(start);
    await waitFor(() => expect(fake.api.runs.start).toHaveBeenCalledOnce());
    expect(fake.api.runs.start).toHaveBeenCalledWith(expect.objectContaining({ epochs: 1, space: 'tiny', dataset: 'ds-demo' }));
    await waitFor(() => expect(window.location.hash).toBe('#/runs/100'));
  });

  it('edits the search space per stage: MFLOPs follow, a bad list is refused at its cell', async () => {
    const { fake, start } = await setup();
    const mb2 = screen.getByLabelText('mb2 widths') as HTMLInputElement;
    expect(mb2.value).toBe('16, 24');
    await fireEvent.input(mb2, { target: { value: '16, 48' } });
    await waitFor(() => expect(screen.getByTestId('max-mflops').textContent).toBe('6.40 MFLOPs · 0.40 M params'));
    expect(screen.getByText('tiny-custom')).toBeTruthy();
    // Edited back to the registered values: sent by id again.
    await fireEvent.input(mb2, { target: { value: '16, 24' } });
    await waitFor(() => expect(screen.queryByText('tiny-custom')).toBeNull());
    await fireEvent.input(mb2, { target: { value: '16, 48' } });

    const mb1 = screen.getByLabelText('mb1 widths') as HTMLInputElement;
    await fireEvent.input(mb1, { target: { value: '8; sixteen' } });
    await waitFor(() => expect(mb1.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('Invalid input: expected array, received string')).toBeTruthy();
    expect(start.disabled).toBe(true);
    expect(screen.getByText('Fix the search space to see its cost.')).toBeTruthy();
    // What was typed stays in the cell, so it can be corrected.
    expect(mb1.value).toBe('8; sixteen');

    await fireEvent.input(mb1, { target: { value: '8, 16' } });
    await waitFor(() => expect(start.disabled).toBe(false));
    await fireEvent.click(start);
    await waitFor(() => expect(fake.api.runs.start).toHaveBeenCalledOnce());
    const sent = (fake.api.runs.start as unknown as { mock: { calls: [Record<string, unknown>][] } }).mock.calls[0]?.[0];
    expect(sent?.['space']).toMatchObject({ id: 'tiny-custom', stages: [{ width: [8, 16] }, { width: [16, 48] }] });
  });

  it('offers the torch engine with its GPUs and CPU ranks, sent with the config', async () => {
    const { fake } = await setup();
    const engine = screen.getByLabelText('Training engine') as HTMLSelectElement;
    expect([...engine.options].map((o) => o.value)).toEqual(['local', 'torch', 'slurm']);
    await fireEvent.change(engine, { target: { value: 'torch' } });
    await fireEvent.input(screen.getByLabelText('GPUs'), { target: { value: '2' } });
    await waitFor(() => expect(fake.api.runs.check).toHaveBeenLastCalledWith(expect.objectContaining({ engine: 'torch', gpus: 2 })));
  });

  it('offers the slurm engine: a picker of the cluster profiles, nodes and GPUs per node, sent with the config; leaving it drops them', async () => {
    const profile = (name: string, over: Partial<ClusterProfile> = {}): ClusterProfile => ({
      name, transport: 'local', sshHost: null, sshConfig: null, partition: null, account: null, gpusPerNode: 0, runDir: '/scratch/an', pythonSetup: '', python: 'python3', timeLimit: null, createdAt: '2026-12-03T04:00:00.000Z', ...over,
    });
    const { fake } = await setup({ clusters: [profile('hpc', { transport: 'ssh', sshHost: 'login1', partition: 'gpu', gpusPerNode: 4 }), profile('lab')] });
    // The slurm settings are not the local engine's.
    expect(screen.queryByLabelText('Cluster')).toBeNull();
    expect(screen.queryByLabelText('Nodes')).toBeNull();
    await fireEvent.change(screen.getByLabelText('Training engine'), { target: { value: 'slurm' } });
    const cluster = (await screen.findByLabelText('Cluster')) as HTMLSelectElement;
    expect([...cluster.options].map((o) => o.textContent)).toEqual(['hpc (ssh login1, partition gpu, 4 GPUs per node)', 'lab (this machine, CPU nodes)']);
    expect(cluster.value).toBe('hpc'); // the first profile, chosen for the user
    await fireEvent.change(cluster, { target: { value: 'lab' } });
    await fireEvent.input(screen.getByLabelText('Nodes'), { target: { value: '4' } });
    await fireEvent.input(screen.getByLabelText('GPUs per node'), { target: { value: '8' } });
    await waitFor(() => expect(fake.api.runs.check).toHaveBeenLastCalledWith(expect.objectContaining({ engine: 'slurm', cluster: 'lab', nodes: 4, gpus: 8 })));
    await waitFor(() => expect((screen.getByRole('button', { name: 'Start run' }) as HTMLButtonElement).disabled).toBe(false));
    // Back to local: the cluster and the nodes go (the engine refuses them there), the run can start.
    await fireEvent.change(screen.getByLabelText('Training engine'), { target: { value: 'local' } });
    await waitFor(() => expect(fake.api.runs.check).toHaveBeenLastCalledWith(expect.objectContaining({ engine: 'local', nodes: 1 })));
    expect(vi.mocked(fake.api.runs.check).mock.lastCall?.[0]).not.toHaveProperty('cluster');
    expect(screen.queryByLabelText('Cluster')).toBeNull();
    await waitFor(() => expect((screen.getByRole('button', { name: 'Start run' }) as HTMLButtonElement).disabled).toBe(false));
  }, 60_000); // a dozen debounced checks: over 20 s on a loaded 2-core machine

  it('with no cluster profile, engine slurm says so and links to Settings; Start stays disabled', async () => {
    const { start } = await setup();
    await fireEvent.change(screen.getByLabelText('Training engine'), { target: { value: 'slurm' } });
    const none = await screen.findByTestId('no-cluster');
    expect(none.textContent!.replace(/\s+/g, ' ').trim()).toBe('No cluster yet: the slurm engine submits to a cluster profile. Add one in Settings → Clusters, then choose it here.');
    expect(within(none).getByRole('link', { name: 'Add one in Settings → Clusters' }).getAttribute('href')).toBe('#/settings');
    await waitFor(() => expect(start.disabled).toBe(true));
    expect(screen.queryByLabelText('Cluster')).toBeNull();
  });

  it('offers four distillations with one sentence each and shows the chosen one’s parameters', async () => {
    await setup();
    const group = screen.getByRole('radiogroup', { name: 'Distillation' });
    expect(within(group).getAllByRole('radio')).toHaveLength(4);
    expect((screen.getByLabelText('α₋') as HTMLInputElement).value).toBe('-1');
    expect((screen.getByLabelText('KL warm-up') as HTMLInputElement).value).toBe('0');
    await fireEvent.click(within(group).getByRole('radio', { name: /^Fixed α/ }));
    await waitFor(() => expect((screen.getByLabelText('α') as HTMLInputElement).value).toBe('0.5'));
    expect(screen.queryByLabelText('α₋')).toBeNull();
    expect((screen.getByLabelText('KL warm-up') as HTMLInputElement).value).toBe('0');
    await fireEvent.click(within(group).getByRole('radio', { name: /^KL/ }));
    await waitFor(() => expect(screen.queryByLabelText('α')).toBeNull());
    expect(screen.queryByLabelText('KL warm-up')).toBeNull();
  });

  it('states, where distillation is chosen, what the fidelity study measured for short and long schedules', async () => {
    await setup();
    const note = screen.getByRole('note', { name: 'What the fidelity study measured' });
    // In the distillation group, next to the choice it informs.
    expect(note.closest('[data-group="distillation"]')).not.toBeNull();
    const text = note.textContent!.replace(/\s+/g, ' ');
    expect(text).toContain('Short schedules, measured: on the built-in demo set after 1 epoch (140 steps of 64 images), KL trained a better smallest subnet than adaptive α on every engine.');
    expect(text).toContain('smallest subnet: +4.5 on the local engine (seeds 0, 1 and 2: +5.0, +3.0, +5.5) and +4.9 on the PyTorch engine (seeds 0, 1 and 2: +0.9, +5.2, +8.6); largest subnet: +1.0 on the local engine (seeds 0, 1 and 2: −2.1, +1.0, +4.2) and +3.6 on the PyTorch engine (seeds 0, 1 and 2: +4.6, +1.3, +4.8).');
    expect(text).toContain('Thin evidence: 3 seeds, and every subnet still at 10–25 % top-1');
    expect(text).toContain('Longer schedules, 3 seeds: on the built-in demo set after 3 epochs (420 steps of 64 images), KL trained a better smallest subnet than adaptive α on every engine.');
    expect(text).toContain(
      'smallest subnet: +31.3 on the local engine (seeds 0, 1 and 2: +27.4, +37.8, +28.8) and +38.1 on the PyTorch engine (seeds 0, 1 and 2: +23.3, +45.4, +45.7); ' +
        'largest subnet: +31.3 on the local engine (seeds 0, 1 and 2: +24.0, +40.6, +29.4) and +44.9 on the PyTorch engine (seeds 0, 1 and 2: +32.8, +47.7, +54.3). ' +
        'KL’s subnets ended at 64–85 % top-1, adaptive α’s at 19–58 % (every seed and subnet). Nothing measured yet beyond 3 epochs but the 10-epoch cell below, nor on a real dataset beyond 10 epochs.',
    );
    // The real-data cell (its numbers are checked against the study's records in distillation-evidence.test.ts), between the two.
    const real = distillationEvidence().real;
    expect(real).toMatch(/^Real data, .*: on Fashion-MNIST after 1 epoch \(843 steps of 64 images\), /);
    expect(real).toMatch(/ Longer, .*: on Fashion-MNIST after 3 epochs \(2529 steps of 64 images\), /);
    expect(real).toMatch(/ Longest on real data so far, 3 seeds: on Fashion-MNIST after 10 epochs \(8430 steps of 64 images\), KL trained a better smallest subnet than adaptive α on every engine on average, not on every seed\. /);
    const paragraphs = [...note.querySelectorAll('p')].map((p) => p.textContent);
    expect(paragraphs[1]).toBe(real);
    expect([paragraphs[0]!.startsWith('Short schedules'), paragraphs[2]!.startsWith('Longer schedules')]).toEqual([true, true]);
    // Then the longest schedule so far, and what a KL warm-up did to the longer schedule's gap (numbers checked in
    // distillation-evidence.test.ts).
    expect(paragraphs[3]).toBe(distillationEvidence().longest);
    expect(paragraphs[3]).toMatch(/^Longest on the demo set so far, 3 seeds: on the built-in demo set after 10 epochs \(1400 steps of 64 images\), KL trained a better smallest subnet than adaptive α on every engine\. /);
    expect(paragraphs[4]).toBe(distillationEvidence().warmup);
    expect(paragraphs[4]).toMatch(
      /^A KL warm-up before adaptive α, on the built-in demo set after 3 epochs .* on the local engine: .* after 1 epoch of KL .* after 2 epochs of KL .*; on the PyTorch engine: .* after 2 epochs of KL .*\. Then, on the built-in demo set after 10 epochs .* on the local engine: .* after 5 epochs of KL .*; on the PyTorch engine: .* after 5 epochs of KL .*choices show it as “KL warm-up”\.$/,
    );
    // Last, the control: no distillation against KL on every cell it was recorded on.
    expect(paragraphs[5]).toBe(distillationEvidence().control);
    expect(paragraphs[5]).toMatch(/^No distillation, the study’s control: training every member on the labels alone \(“None”\) .* none minus KL: on the built-in demo set after /);
  });

  it('saves the config to a typed path in the served mode', async () => {
    const { fake } = await setup();
    await fireEvent.click(screen.getByRole('button', { name: 'Save config' }));
    expect(await screen.findByText('Enter a path on the workbench machine to save to.')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Save config to'), { target: { value: '/tmp/run.json' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save config' }));
    expect(await screen.findByText('Saved to /tmp/run.json')).toBeTruthy();
    expect(fake.api.runs.saveConfig).toHaveBeenCalledWith(expect.objectContaining({ epochs: 3 }), '/tmp/run.json', { overwrite: false });
    await fireEvent.click(screen.getByLabelText('Replace an existing file'));
    await fireEvent.click(screen.getByRole('button', { name: 'Save config' }));
    expect(fake.api.runs.saveConfig).toHaveBeenLastCalledWith(expect.objectContaining({ epochs: 3 }), '/tmp/run.json', { overwrite: true });
  });

  it('the KL comparison starts both runs at once, each with half the jobs\' cores as workers, then shows the runs', async () => {
    const { fake, start } = await setup();
    await fireEvent.click(screen.getByLabelText(/Also start the same run with KL distillation/));
    await fireEvent.click(start);
    await waitFor(() => expect(fake.api.runs.start).toHaveBeenCalledTimes(2));
    const calls = (fake.api.runs.start as unknown as { mock: { calls: [Record<string, unknown>][] } }).mock.calls.map((c) => c[0]);
    // Two cores for jobs (app.info): one worker each, so neither waits for the other; the same config but KL.
    expect(calls[0]).toMatchObject({ workers: 1, distillation: { kind: 'adaptive-alpha' } });
    expect(calls[1]).toMatchObject({ workers: 1, distillation: { kind: 'kl' } });
    expect({ ...calls[1], distillation: calls[0]['distillation'] }).toEqual(calls[0]);
    await waitFor(() => expect(window.location.hash).toBe('#/runs'));
  });
});
