import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Search from '../../../src-renderer/pages/Search.svelte';
import type { ClusterProfile, LatencyTableInfo } from '../../../src-main/ipc/api-types';
import { evaluation, fakeApi, run, search, untilCancelled } from '../fake-api';

beforeEach(() => {
  // jsdom has no canvas: the Pareto chart skips drawing and keeps its accessible table, which these tests read.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});
afterEach(() => {
  vi.restoreAllMocks();
  window.location.hash = '';
});

const RUN = run(1, 'alpha run', { distillation: 'adaptive-alpha' });

async function setup(opts: Parameters<typeof fakeApi>[0] = {}, searchId: number | null = null) {
  const fake = fakeApi({ runs: [RUN], ...opts });
  render(Search, { api: fake.api, runId: 1, searchId });
  await screen.findByRole('heading', { level: 1, name: 'Search · alpha run · adaptive α' });
  // The budget range comes from runs.check of the run's config: the tiny space spans 2.4–4 MFLOPs in the fake.
  await waitFor(() => expect((screen.getByLabelText('MFLOPs up to') as HTMLInputElement).value).toBe('4'));
  return fake;
}

/** The error shown at a field (by its request path). */
function fieldError(path: string): string {
  const field = document.querySelector(`[data-field="${path}"]`);
  if (!field) throw new Error(`no field ${path}`);
  return within(field as HTMLElement).queryByRole('alert')?.textContent ?? '';
}

describe('Search page', () => {
  it('asks for this machine\'s latency table when latency is the objective, builds it, then allows the start', async () => {
    const fake = await setup();
    expect(screen.queryByRole('group', { name: 'Latency table' })).toBeNull();
    expect(fake.api.latency.table).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByRole('radio', { name: /^Latency/ }));
    const panel = await screen.findByRole('group', { name: 'Latency table' });
    expect(await within(panel).findByText(/No latency table for this machine and backend yet/)).toBeTruthy();
    expect(fake.api.latency.table).toHaveBeenCalledWith(1);
    const startButton = screen.getByRole('button', { name: 'Start search' }) as HTMLButtonElement;
    expect(startButton.disabled).toBe(true);
    expect(screen.getByText(/needs this machine’s latency table: build it first/)).toBeTruthy();

    // While it builds, the page says it is timed alone; the notice goes once the table is there.
    const built = fake.api.latency.build;
    let finish: () => void = () => undefined;
    fake.api.latency.build = vi.fn((runId: number) => new Promise<Awaited<ReturnType<typeof built>>>((resolve) => (finish = () => resolve(built(runId)))));
    expect(within(panel).queryByTestId('latency-timing-notice')).toBeNull();
    await fireEvent.click(within(panel).getByRole('button', { name: 'Build latency table' }));
    await waitFor(() => expect(fake.api.latency.build).toHaveBeenCalledWith(1));
    expect((await within(panel).findByTestId('latency-timing-notice')).textContent).toMatch(/^\s*Timed with one worker and nothing else running: queued runs and searches wait until the table is built, and\s+it waits for running ones to finish first\.\s*$/);
    finish();
    await waitFor(() => expect(within(panel).queryByTestId('latency-timing-notice')).toBeNull());
    expect((await within(panel).findByTestId('latency-held-out')).textContent).toBe('Held-out error: median 6.1 %, p90 9.3 % over 20 subnets.');
    expect(within(panel).getByText(/346 layer entries, built .* in 42 s on AMD EPYC ×2, wasm \(portable\), tfjs 4\.22\.0/)).toBeTruthy();
    expect(within(panel).getByRole('button', { name: 'Rebuild latency table' })).toBeTruthy();
    await waitFor(() => expect(startButton.disabled).toBe(false));
  });

  it('cancels a table build: it ends as cancelled, not as an error, and the start stays refused', async () => {
    const fake = await setup();
    const op = untilCancelled<LatencyTableInfo>('building the latency table of run 1');
    fake.api.latency.build = op.start;
    fake.api.latency.cancelBuild = op.cancel;
    await fireEvent.click(screen.getByRole('radio', { name: /^Latency/ }));
    const panel = await screen.findByRole('group', { name: 'Latency table' });
    expect(within(panel).queryByRole('button', { name: 'Cancel' })).toBeNull();
    await fireEvent.click(await within(panel).findByRole('button', { name: 'Build latency table' }));
    await fireEvent.click(await within(panel).findByRole('button', { name: 'Cancel' }));
    expect(op.cancel).toHaveBeenCalledWith(1);
    expect((await within(panel).findByTestId('latency-cancelled')).textContent).toBe('Build cancelled; no table was written.');
    expect(within(panel).queryByRole('alert')).toBeNull();
    expect(within(panel).queryByRole('button', { name: 'Cancel' })).toBeNull();
    expect(within(panel).queryByTestId('latency-timing-notice')).toBeNull();
    expect(within(panel).getByRole('button', { name: 'Build latency table' })).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Start search' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('offers the slurm engine: the cluster profiles (first chosen), nodes, ranks and GPUs per node, sent with the request', async () => {
    const profile = (name: string, over: Partial<ClusterProfile> = {}): ClusterProfile => ({
      name, transport: 'local', sshHost: null, sshConfig: null, partition: null, account: null, gpusPerNode: 0, runDir: '/scratch/an', pythonSetup: '', python: 'python3', timeLimit: null, createdAt: '2026-12-03T04:00:00.000Z', ...over,
    });
    const fake = await setup({ clusters: [profile('hpc', { transport: 'ssh', sshHost: 'login1', partition: 'gpu', gpusPerNode: 4 }), profile('lab')] });
    expect(screen.queryByLabelText('Cluster')).toBeNull();
    expect(fake.api.clusters.list).not.toHaveBeenCalled();
    await fireEvent.change(screen.getByLabelText('Evaluation engine'), { target: { value: 'slurm' } });
    const picker = (await screen.findByLabelText('Cluster')) as HTMLSelectElement;
    await waitFor(() => expect(picker.value).toBe('hpc'));
    expect([...picker.options].map((o) => o.textContent)).toEqual(['hpc (ssh login1, partition gpu, 4 GPUs per node)', 'lab (this machine, CPU nodes)']);
    await fireEvent.change(picker, { target: { value: 'lab' } });
    await fireEvent.input(screen.getByLabelText('CPU ranks per node'), { target: { value: '0' } });
    expect(fieldError('ranksPerNode')).toBe('Must be a whole number ≥ 1.');
    await fireEvent.input(screen.getByLabelText('CPU ranks per node'), { target: { value: '2' } });
    await fireEvent.input(screen.getByLabelText('Nodes'), { target: { value: '3' } });
    // GPUs per node: 0 (the default) takes the profile's; a count is checked like the CLI's --gpus-per-node.
    expect((screen.getByLabelText('GPUs per node') as HTMLInputElement).value).toBe('0');
    await fireEvent.input(screen.getByLabelText('GPUs per node'), { target: { value: '65' } });
    expect(fieldError('gpusPerNode')).toBe("Must be a whole number from 0 to 64 (0: the cluster profile's).");
    await fireEvent.input(screen.getByLabelText('GPUs per node'), { target: { value: '2' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Start search' }));
    await waitFor(() => expect(fake.api.searches.start).toHaveBeenCalledTimes(1));
    expect(fake.api.searches.start).toHaveBeenCalledWith(expect.objectContaining({ engine: 'slurm', cluster: 'lab', nodes: 3, ranksPerNode: 2, gpusPerNode: 2 }));
  });

  it('engine slurm without a cluster profile says so, links to Settings and keeps the start refused', async () => {
    await setup();
    await fireEvent.change(screen.getByLabelText('Evaluation engine'), { target: { value: 'slurm' } });
    const note = await screen.findByTestId('no-cluster');
    expect(note.textContent).toMatch(/No cluster yet: the slurm engine submits to a cluster profile\.\s+Add one in Settings → Clusters, then choose it here\./);
    expect(within(note).getByRole('link', { name: 'Add one in Settings → Clusters' }).getAttribute('href')).toBe('#/settings');
    expect((screen.getByRole('button', { name: 'Start search' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('shows a failed table build and keeps the start refused', async () => {
    const fake = await setup();
    fake.api.latency.build = vi.fn(async () => {
      throw new Error('building the latency table of run 1: the machine ran out of memory');
    });
    await fireEvent.click(screen.getByRole('radio', { name: /^Latency/ }));
    const panel = await screen.findByRole('group', { name: 'Latency table' });
    await fireEvent.click(await within(panel).findByRole('button', { name: 'Build latency table' }));
    expect((await within(panel).findByRole('alert')).textContent).toMatch(/^Building the latency table: .*ran out of memory/);
    expect((screen.getByRole('button', { name: 'Start search' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('validates the settings at their fields and starts a search with the request the form shows', async () => {
    const fake = await setup();
    const startButton = screen.getByRole('button', { name: 'Start search' }) as HTMLButtonElement;
    expect(startButton.disabled).toBe(false);
    expect((screen.getByLabelText('MFLOPs from') as HTMLInputElement).value).toBe('2.4');
    expect((screen.getByLabelText('Population') as HTMLInputElement).value).toBe('16');

    await fireEvent.input(screen.getByLabelText('Population'), { target: { value: '0' } });
    expect(fieldError('config.populationSize')).toBe('Must be at least 1.');
    await fireEvent.input(screen.getByLabelText('Mutation probability'), { target: { value: '1.5' } });
    expect(fieldError('config.mutateProb')).toBe('Must be a number from 0 to 1.');
    await fireEvent.input(screen.getByLabelText('MFLOPs from'), { target: { value: '5' } });
    expect(fieldError('budget.mflopsMin')).toBe('Above the maximum (4 MFLOPs).');
    expect(startButton.disabled).toBe(true);
    await fireEvent.submit(startButton.closest('form')!);
    expect(fake.api.searches.start).not.toHaveBeenCalled();

    await fireEvent.input(screen.getByLabelText('Population'), { target: { value: '6' } });
    await fireEvent.input(screen.getByLabelText('Mutation probability'), { target: { value: '0.3' } });
    await fireEvent.input(screen.getByLabelText('MFLOPs from'), { target: { value: '' } });
    await fireEvent.input(screen.getByLabelText('MFLOPs up to'), { target: { value: '3.5' } });
    await fireEvent.input(screen.getByLabelText('Generations'), { target: { value: '1' } });
    await fireEvent.input(screen.getByLabelText('Search name'), { target: { value: 'small budget' } });
    expect((screen.getByLabelText('Evaluation engine') as HTMLSelectElement).value).toBe('local');
    await fireEvent.change(screen.getByLabelText('Evaluation engine'), { target: { value: 'torch' } });
    expect(startButton.disabled).toBe(false);
    await fireEvent.click(startButton);
    await waitFor(() => expect(fake.api.searches.start).toHaveBeenCalledTimes(1));
    expect(fake.api.searches.start).toHaveBeenCalledWith({
      runId: 1,
      name: 'small budget',
      kind: 'evolution',
      objective: 'mflops',
      engine: 'torch',
      budget: { mflopsMax: 3.5 },
      config: { populationSize: 6, mutateSize: 8, crossoverSize: 8, mutateProb: 0.3, crossoverProb: 0.5, generations: 1, seed: 0 },
    });
    // The new search opens in the live view and heads the list.
    await screen.findByRole('heading', { level: 2, name: 'small budget' });
    expect(screen.getByTestId('search-status').textContent).toBe('queued');
    expect(window.location.hash).toBe('#/search/1/1');
  });

  it('asks for evaluation workers of the local engine: empty is auto, a number goes into the request', async () => {
    const fake = await setup({ searches: [search(5, 1, { status: 'running', workers: 2, name: 'two workers' })] }, 5);
    // The open search says how many workers evaluate it.
    await screen.findByRole('heading', { level: 2, name: 'two workers' });
    expect(screen.getByText(/ · 2 evaluation workers$/)).toBeTruthy();
    const workers = screen.getByLabelText('Evaluation workers') as HTMLInputElement;
    expect(workers.value).toBe('');
    expect(workers.placeholder).toBe('automatic');
    expect(screen.getByText(/Empty: every core the job queue gives the search\./)).toBeTruthy();
    const startButton = screen.getByRole('button', { name: 'Start search' }) as HTMLButtonElement;

    await fireEvent.input(workers, { target: { value: '0' } });
    expect(fieldError('workers')).toBe('Must be a whole number from 1 to 256, or empty.');
    await fireEvent.input(workers, { target: { value: '1.5' } });
    expect(fieldError('workers')).toBe('Must be a whole number from 1 to 256, or empty.');
    expect(startButton.disabled).toBe(true);
    await fireEvent.input(workers, { target: { value: '3' } });
    expect(fieldError('workers')).toBe('');
    // Torch evaluates on one thread: the field goes, and a bad value there no longer blocks the start.
    await fireEvent.input(workers, { target: { value: '0' } });
    await fireEvent.change(screen.getByLabelText('Evaluation engine'), { target: { value: 'torch' } });
    expect(screen.queryByLabelText('Evaluation workers')).toBeNull();
    expect(startButton.disabled).toBe(false);
    await fireEvent.change(screen.getByLabelText('Evaluation engine'), { target: { value: 'local' } });
    await fireEvent.input(screen.getByLabelText('Evaluation workers'), { target: { value: '3' } });
    await fireEvent.click(startButton);
    await waitFor(() => expect(fake.api.searches.start).toHaveBeenCalledTimes(1));
    expect(fake.api.searches.start).toHaveBeenLastCalledWith(expect.objectContaining({ engine: 'local', workers: 3 }));

    // Emptied again: no workers in the request, so the search takes `auto`.
    await fireEvent.input(screen.getByLabelText('Evaluation workers'), { target: { value: '' } });
    await fireEvent.click(startButton);
    await waitFor(() => expect(fake.api.searches.start).toHaveBeenCalledTimes(2));
    expect(vi.mocked(fake.api.searches.start).mock.calls[1][0]).not.toHaveProperty('workers');
  });

  it('shows the API’s refusal at the field it names', async () => {
    const fake = await setup();
    await fireEvent.input(screen.getByLabelText('MFLOPs from'), { target: { value: '' } });
    await fireEvent.input(screen.getByLabelText('MFLOPs up to'), { target: { value: '1' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Start search' }));
    await waitFor(() => expect(fieldError('budget.mflopsMax')).toBe('no subnet of run 1 has at most 1 MFLOPs (the smallest has 2)'));
    expect(screen.getByLabelText('MFLOPs up to').getAttribute('aria-invalid')).toBe('true');
    expect(fake.api.searches.start).toHaveBeenCalledTimes(1);
    // Editing the field clears the refusal.
    await fireEvent.input(screen.getByLabelText('MFLOPs up to'), { target: { value: '3' } });
    expect(fieldError('budget.mflopsMax')).toBe('');
  });

  it('fills the chart live from search events, with progress, and offers the controls the status allows', async () => {
    const fake = await setup({ searches: [search(5, 1, { name: 'live one', status: 'running', total: 4 })] }, 5);
    await screen.findByRole('heading', { level: 2, name: 'live one' });
    const bar = screen.getByRole('progressbar', { name: 'Progress of live one' }) as HTMLProgressElement;
    expect(bar.value).toBe(0);

    const a = evaluation(1, 1, { accuracy: 0.5, mflops: 3 });
    const b = evaluation(2, 1, { accuracy: 0.6, mflops: 4 });
    const dominated = evaluation(3, 1, { accuracy: 0.45, mflops: 3.5 });
    for (const [i, e] of [a, b, dominated].entries()) {
      fake.emitSearch({ type: 'evaluated', searchId: 5, evaluation: e, progress: (i + 1) / 4, etaSec: 10 });
    }
    // Another search's events change nothing here.
    fake.emitSearch({ type: 'evaluated', searchId: 6, evaluation: evaluation(9, 1), progress: 1, etaSec: 0 });
    await waitFor(() => expect(bar.value).toBeCloseTo(0.75));
    expect(screen.getByTestId('search-progress').textContent).toBe('75 %');
    const plot = screen.getByRole('group', { name: /Subnets evaluated by live one/ });
    expect(plot.getAttribute('aria-label')).toMatch(/for 3 subnets.*2 on the front/);

    fake.emitSearch({
      type: 'front',
      searchId: 5,
      front: { objective: 'mflops', evaluationIds: [1, 2], points: [], hypervolume: 0.4567891, reference: { costRef: 4, accRef: 0 } },
    });
    await waitFor(() => expect(screen.getByTestId('search-hv').textContent).toBe('0.4568'));

    await fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    expect(fake.api.searches.pause).toHaveBeenCalledWith(5);
    expect(screen.queryByRole('button', { name: 'Resume' })).toBeNull();
    fake.emitSearch({ type: 'status', search: search(5, 1, { name: 'live one', status: 'paused', total: 4, progress: 0.75, evaluations: 3 }) });
    await screen.findByRole('button', { name: 'Resume' });
    expect(screen.getByTestId('search-status').textContent).toBe('paused');
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel search' }));
    expect(fake.api.searches.cancel).toHaveBeenCalledWith(5);
    // The run's list follows the same events.
    const row = document.querySelector('tr[data-search-id="5"]') as HTMLElement;
    expect(within(row).getByText('3 / 4')).toBeTruthy();
  });

  describe('predictor-guided', () => {
    /** A run with 4 evaluated subnets and the fake's predictor of them (τ 1), fresh or stale. */
    async function withPredictor(stale: boolean) {
      const evaluations = [1, 2, 3, 4].map((i) => evaluation(i, 1, { accuracy: 0.4 + i / 20, mflops: 2 + i / 2 }));
      const view = await fakeApi({ runs: [RUN], evaluations }).api.predictor.build(1, {});
      return setup({ evaluations, predictor: { ...view, predictor: { ...view.predictor, stale } } });
    }
    const box = () => screen.getByRole('checkbox', { name: 'Predictor-guided' }) as HTMLInputElement;
    const note = () => screen.getByTestId('guided-note');

    it('is off, with the reason and a link to build the predictor, when the run has none', async () => {
      const fake = await setup();
      await waitFor(() => expect(note().textContent).toMatch(/This run has no accuracy predictor yet\./));
      expect(fake.api.predictor.get).toHaveBeenCalledWith(1);
      expect(box().disabled).toBe(true);
      expect(within(note()).getByRole('link', { name: 'Build it in the Pareto explorer' }).getAttribute('href')).toBe('#/explorer/1');
      expect(screen.queryByLabelText('Screen factor')).toBeNull();
    });

    it('is off when the predictor is stale, and offers to rebuild it', async () => {
      await withPredictor(true);
      await waitFor(() => expect(note().textContent).toMatch(/stale: it learned from step 12, and the run has a newer checkpoint/));
      expect(box().disabled).toBe(true);
      expect(within(note()).getByRole('link', { name: 'Rebuild it in the Pareto explorer' }).getAttribute('href')).toBe('#/explorer/1');
    });

    it('sends the screen factor with a fresh predictor, checks it, and leaves it out of a random search', async () => {
      const fake = await withPredictor(false);
      await waitFor(() => expect(box().disabled).toBe(false));
      expect(note().textContent).toMatch(/Kendall τ 1\.000 on 2 held-out subnets/);
      expect(box().checked).toBe(false);
      await fireEvent.click(box());
      const factor = screen.getByLabelText('Screen factor') as HTMLInputElement;
      expect(factor.value).toBe('8');
      await fireEvent.input(factor, { target: { value: '1' } });
      expect(fieldError('config.screen')).toBe('Must be a whole number from 2 to 64.');
      const startButton = screen.getByRole('button', { name: 'Start search' }) as HTMLButtonElement;
      expect(startButton.disabled).toBe(true);
      await fireEvent.input(factor, { target: { value: '4' } });
      expect(startButton.disabled).toBe(false);
      await fireEvent.click(startButton);
      await waitFor(() => expect(fake.api.searches.start).toHaveBeenCalledTimes(1));
      expect(vi.mocked(fake.api.searches.start).mock.calls[0][0].config).toEqual({ populationSize: 16, mutateSize: 8, crossoverSize: 8, mutateProb: 0.2, crossoverProb: 0.5, generations: 10, seed: 0, screen: 4 });
      await waitFor(() => expect(screen.getByText(/^evolution · predictor-guided \(screen 4\) · cost MFLOPs/)).toBeTruthy());

      // Random search: the box is disabled with its reason, and the request is plain.
      await fireEvent.click(screen.getByRole('radio', { name: /^Random/ }));
      expect(box().disabled).toBe(true);
      expect(note().textContent).toMatch(/Predictor screening is for the evolutionary search\./);
      expect(screen.queryByLabelText('Screen factor')).toBeNull();
      await fireEvent.click(startButton);
      await waitFor(() => expect(fake.api.searches.start).toHaveBeenCalledTimes(2));
      expect(vi.mocked(fake.api.searches.start).mock.calls[1][0].config).not.toHaveProperty('screen');
    });
  });
});
