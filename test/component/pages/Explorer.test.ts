import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { comparison } from '../../../src-renderer/lib/comparison.svelte';
import Explorer from '../../../src-renderer/pages/Explorer.svelte';
import type { ExportInfo, PredictorView } from '../../../src-main/ipc/api-types';
import { evaluation, fakeApi, INFO, run, untilCancelled } from '../fake-api';

beforeEach(() => {
  // jsdom has no canvas: the chart skips drawing; points are reached with the keyboard, as a screen-reader user would.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
  comparison.clear();
});
afterEach(() => vi.restoreAllMocks());

const RUN = run(1, 'alpha run', { distillation: 'adaptive-alpha' });
// The front: e1 (3 MFLOPs) → e2 (5 MFLOPs). e3 is dominated; e4 is e1's genome on the test split (not charted).
const EVALS = [
  evaluation(1, 1, { accuracy: 0.5, accuracyBefore: 0.2, mflops: 3, mparams: 0.12, latencyMs: 1.5 }),
  evaluation(2, 1, { accuracy: 0.6, mflops: 5, mparams: 0.2 }),
  evaluation(3, 1, { accuracy: 0.4, mflops: 4, mparams: 0.15 }),
  evaluation(4, 1, { genomeId: 'g00000000001', split: 'test', accuracy: 0.45 }),
];

async function setup(mode: 'electron' | 'served' = 'served', over: Parameters<typeof fakeApi>[0] = {}) {
  const fake = fakeApi({ runs: [RUN], evaluations: EVALS, ...over });
  render(Explorer, { api: fake.api, runId: 1, searchId: null, mode, dataDir: INFO.dataDir });
  await screen.findByRole('heading', { level: 1, name: 'Pareto explorer · alpha run · adaptive α' });
  return fake;
}

/** Selects the first front point (the cheapest) with the keyboard: → then Enter. */
async function selectCheapest(): Promise<HTMLElement> {
  const plot = screen.getByRole('group', { name: /Subnets of alpha run/ });
  plot.focus();
  await fireEvent.keyDown(plot, { key: 'ArrowRight' });
  await fireEvent.keyDown(plot, { key: 'Enter' });
  return screen.findByRole('complementary', { name: 'g00000000001' });
}

describe('Pareto explorer page', () => {
  it('charts the validation evaluations, greys by the budget and shows the run’s hypervolume', async () => {
    await setup();
    const plot = screen.getByRole('group', { name: /Subnets of alpha run/ });
    expect(plot.getAttribute('aria-label')).toMatch(/for 3 subnets; 2 on the front/);
    // The hypervolume the service's code computes (the fake builds fronts with service/compare.ts); by hand:
    // (5 − 3) MFLOPs × 50 % from e1 up to the reference at e2's cost.
    await waitFor(() => expect(screen.getByTestId('run-hv').textContent).toBe('1'));
    await fireEvent.input(screen.getByLabelText('MFLOPs up to'), { target: { value: '4' } });
    expect(plot.getAttribute('aria-label')).toMatch(/for 3 subnets, 2 within the budget/);
    // A bound that is not a number is named at its field and does not grey anything.
    await fireEvent.input(screen.getByLabelText('MFLOPs up to'), { target: { value: 'four' } });
    expect(screen.getByLabelText('MFLOPs up to').getAttribute('aria-invalid')).toBe('true');
    expect(plot.getAttribute('aria-label')).not.toMatch(/within the budget/);
  });

  it('opens the side panel on select, with the genome per stage and the evaluation’s numbers', async () => {
    const fake = await setup();
    const panel = await selectCheapest();
    const rows = within(within(panel).getByRole('table')).getAllByRole('row').map((r) => [...r.children].map((c) => c.textContent));
    expect(rows).toEqual([
      ['Stage', 'Depth', 'Width', 'Kernel', 'Expand'],
      ['first', '—', '8', '—', '—'],
      ['mb1', '1', '16', '3', '1'],
      ['mb2', '2', '24', '5', '4'],
      ['last', '—', '128', '—', '—'],
    ]);
    expect(within(panel).getByTestId('acc-after').textContent).toBe('50.00 %');
    expect(within(panel).getByText('20.00 %')).toBeTruthy();
    expect(within(panel).getByText('1.50 ms')).toBeTruthy();
    expect(within(panel).getByText('4 × 32 images, seed 0')).toBeTruthy();

    await fireEvent.click(within(panel).getByRole('button', { name: 'Evaluate on test split' }));
    await waitFor(() => expect(within(panel).getByTestId('acc-test').textContent).toBe('49.00 %'));
    expect(fake.api.subnets.evaluate).toHaveBeenCalledWith({ runId: 1, subnet: 'g00000000001', split: 'test' });

    await fireEvent.click(within(panel).getByRole('button', { name: 'Pin' }));
    await waitFor(() => expect(within(panel).getByRole('button', { name: 'Unpin' })).toBeTruthy());
    expect(fake.api.subnets.pin).toHaveBeenCalledWith(1, true);
    expect(within(panel).getByText('pinned')).toBeTruthy();

    await fireEvent.click(within(panel).getByRole('button', { name: 'Add to comparison' }));
    expect(within(panel).getByRole('button', { name: 'In comparison' }).hasAttribute('disabled')).toBe(true);
    expect(comparison.items.map((x) => [x.runLabel, x.evaluation.id])).toEqual([['alpha run · adaptive α', 1]]);

    await fireEvent.click(within(panel).getByRole('button', { name: 'Close the subnet panel' }));
    expect(screen.queryByRole('complementary')).toBeNull();
  });

  it('exports from the panel: refuses an empty destination, then lists the files and the provenance', async () => {
    const fake = await setup();
    const panel = await selectCheapest();
    await fireEvent.click(within(panel).getByRole('button', { name: 'Export…' }));
    const dialog = screen.getByRole('dialog', { name: 'Export g00000000001' });
    const dir = within(dialog).getByLabelText('Destination folder') as HTMLInputElement;
    expect(dir.value).toBe(`${INFO.dataDir}/exports/run-1-g00000000001`);

    await fireEvent.input(dir, { target: { value: '  ' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Export' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Choose a destination folder.');
    expect(dir.getAttribute('aria-invalid')).toBe('true');
    await fireEvent.input(dir, { target: { value: 'relative/dir' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Export' }));
    expect(within(dialog).getByRole('alert').textContent).toMatch(/full path/);
    await fireEvent.click(within(dialog).getByRole('checkbox', { name: /TF\.js/ }));
    await fireEvent.click(within(dialog).getByRole('checkbox', { name: /ONNX/ }));
    await fireEvent.input(dir, { target: { value: '/tmp/out' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Export' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Choose at least one format.');
    expect(fake.api.exports.start).not.toHaveBeenCalled();

    await fireEvent.click(within(dialog).getByRole('checkbox', { name: /ONNX/ }));
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Export' }));
    const files = await within(dialog).findByRole('table', { name: 'Files written' });
    expect(fake.api.exports.start).toHaveBeenCalledWith({ runId: 1, evaluationId: 1, formats: ['onnx'], dir: '/tmp/out' });
    expect(within(files).getAllByRole('rowheader').map((c) => c.textContent)).toEqual(['model.onnx', 'provenance.json']);
    expect(within(files).getByText('205 KiB')).toBeTruthy();
    expect(JSON.parse(dialog.querySelector('pre')!.textContent!)).toEqual({ runId: 1, evaluationId: 1, appVersion: '0.1.0' });
    // Served mode: no file manager to reveal the folder in.
    expect(within(dialog).queryByRole('button', { name: 'Show in file manager' })).toBeNull();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Done' }));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('cancels a running export: nothing written, the form stays for another try', async () => {
    const fake = await setup();
    const op = untilCancelled<ExportInfo>('exporting evaluation 1');
    fake.api.exports.start = op.start;
    fake.api.exports.cancel = op.cancel;
    const panel = await selectCheapest();
    await fireEvent.click(within(panel).getByRole('button', { name: 'Export…' }));
    const dialog = screen.getByRole('dialog', { name: 'Export g00000000001' });
    await fireEvent.input(within(dialog).getByLabelText('Destination folder'), { target: { value: '/tmp/out' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Export' }));
    // While it runs, the dialog's Cancel stops the export (it no longer closes the dialog).
    await fireEvent.click(await within(dialog).findByRole('button', { name: 'Cancel export' }));
    expect(op.cancel).toHaveBeenCalledWith('/tmp/out');
    expect((await within(dialog).findByTestId('export-cancelled')).textContent).toBe('Export cancelled; nothing was written to the folder.');
    expect(within(dialog).queryByRole('alert')).toBeNull();
    expect(within(dialog).queryByRole('table', { name: 'Files written' })).toBeNull();
    expect((within(dialog).getByRole('button', { name: 'Export' }) as HTMLButtonElement).disabled).toBe(false);
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('offers the folder picker and the file-manager link in the desktop app, and hides the link when refused', async () => {
    const fake = await setup('electron');
    vi.mocked(fake.api.app.pickPath).mockResolvedValue('/home/ada/picked');
    const panel = await selectCheapest();
    await fireEvent.click(within(panel).getByRole('button', { name: 'Export…' }));
    const dialog = screen.getByRole('dialog');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Choose…' }));
    await waitFor(() => expect((within(dialog).getByLabelText('Destination folder') as HTMLInputElement).value).toBe('/home/ada/picked'));
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Export' }));
    const reveal = await within(dialog).findByRole('button', { name: 'Show in file manager' });
    await fireEvent.click(reveal);
    expect(fake.api.app.revealPath).toHaveBeenCalledWith('/home/ada/picked');
    // The fake's revealPath answers false, as a system without a file manager would.
    await waitFor(() => expect(within(dialog).queryByRole('button', { name: 'Show in file manager' })).toBeNull());
  });

  it('builds the accuracy predictor, then shows its τ badge, predicted vs measured and gene importance', async () => {
    const fake = await setup();
    expect(await screen.findByText(/No predictor yet/)).toBeTruthy();
    expect(screen.getByText('Build the accuracy predictor to see which genes drive accuracy.')).toBeTruthy();
    // The parallel coordinates are there without a predictor (colour = measured top-1): 3 val subnets, 2 genes.
    expect(await screen.findByText(/Parallel coordinates of 3 subnets over 2 genes and top-1/)).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Subnets'), { target: { value: '40' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Build predictor' }));
    await waitFor(() => expect(screen.getByTestId('tau-badge').textContent).toBe('τ 1.000'));
    expect(fake.api.predictor.build).toHaveBeenCalledWith(1, { samples: 40 });
    expect(screen.getByText(/Spearman ρ 1.000 · RMSE 1.00 points · 1 held out/)).toBeTruthy();
    expect(screen.getByText(/Predicted against measured top-1 for 3 subnets/)).toBeTruthy();
    expect(await screen.findByText(/Share of the predicted accuracy's variance per gene: res 60.0%, d mb2 25.0%/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Rebuild' })).toBeTruthy();
  });

  it('cancels a predictor build: no predictor, no error, and a new build can start', async () => {
    const fake = await setup();
    const op = untilCancelled<PredictorView>('building the accuracy predictor of run 1');
    const build = fake.api.predictor.build;
    fake.api.predictor.build = op.start;
    fake.api.predictor.cancelBuild = op.cancel;
    await screen.findByText(/No predictor yet/);
    await fireEvent.click(screen.getByRole('button', { name: 'Build predictor' }));
    const progress = await screen.findByRole('status');
    const listed = vi.mocked(fake.api.subnets.list).mock.calls.length;
    await fireEvent.click(within(progress).getByRole('button', { name: 'Cancel' }));
    expect(op.cancel).toHaveBeenCalledWith(1);
    expect((await screen.findByTestId('predictor-cancelled')).textContent).toBe('Build cancelled; no predictor was stored. The subnets it evaluated stay cached for the next build.');
    // The subnets the build evaluated before the cancel join the chart: the page asks for the run's subnets again.
    await waitFor(() => expect(vi.mocked(fake.api.subnets.list).mock.calls.length).toBe(listed + 1));
    expect(screen.queryByTestId('tau-badge')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    // The next build runs as usual and clears the notice.
    fake.api.predictor.build = build;
    await fireEvent.click(screen.getByRole('button', { name: 'Build predictor' }));
    await waitFor(() => expect(screen.getByTestId('tau-badge').textContent).toBe('τ 1.000'));
    expect(screen.queryByTestId('predictor-cancelled')).toBeNull();
  });

  it('says when the predictor is stale', async () => {
    const base = fakeApi({ runs: [RUN], evaluations: EVALS });
    const view = await base.api.predictor.build(1, {});
    await setup('served', { predictor: { ...view, predictor: { ...view.predictor, stale: true } } });
    expect(await screen.findByText(/Stale: the run has a newer checkpoint/)).toBeTruthy();
  });

  it('builds a predictor for a run with no evaluated subnet yet, and charts the subnets the build evaluated', async () => {
    const fake = await setup('served', { evaluations: [] });
    expect(await screen.findByText(/No subnet of this run has been evaluated yet\..*or build the accuracy predictor, which evaluates random subnets first/)).toBeTruthy();
    expect(screen.queryByRole('group', { name: /Subnets of alpha run/ })).toBeNull();
    // What the real build does when the run has too few: it evaluates random subnets, which the run then lists.
    const sampled = EVALS.slice(0, 3);
    const view = await fakeApi({ runs: [RUN], evaluations: sampled }).api.predictor.build(1, {});
    fake.api.predictor.build = vi.fn(async () => {
      fake.api.subnets.list = vi.fn(async () => sampled);
      fake.api.predictor.get = vi.fn(async () => view);
      return view;
    });
    await fireEvent.input(screen.getByLabelText('Subnets'), { target: { value: '12' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Build predictor' }));
    await waitFor(() => expect(screen.getByTestId('tau-badge').textContent).toBe('τ 1.000'));
    expect(fake.api.predictor.build).toHaveBeenCalledWith(1, { samples: 12 });
    const plot = await screen.findByRole('group', { name: /Subnets of alpha run/ });
    expect(plot.getAttribute('aria-label')).toMatch(/for 3 subnets/);
  });

  it('a build cancelled on a run with no subnet yet: its evaluated subnets join the chart and the notice stays', async () => {
    // The served e2e's path (CI's failure at 2041718): the chart replaced the empty state and remounted the card,
    // losing "Build cancelled".
    const fake = await setup('served', { evaluations: [] });
    await screen.findByText(/No subnet of this run has been evaluated yet/);
    const op = untilCancelled<PredictorView>('building the accuracy predictor of run 1');
    fake.api.predictor.build = op.start;
    fake.api.predictor.cancelBuild = op.cancel;
    await fireEvent.click(screen.getByRole('button', { name: 'Build predictor' }));
    const progress = await screen.findByRole('status');
    fake.api.subnets.list = vi.fn(async () => EVALS.slice(0, 1));
    await fireEvent.click(within(progress).getByRole('button', { name: 'Cancel' }));
    const plot = await screen.findByRole('group', { name: /Subnets of alpha run/ });
    expect(plot.getAttribute('aria-label')).toMatch(/for 1 subnet; 1 on the front/);
    expect(screen.getByTestId('predictor-cancelled').textContent).toMatch(/^Build cancelled; no predictor was stored\./);
    expect(screen.queryByText(/No subnet of this run has been evaluated yet/)).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
