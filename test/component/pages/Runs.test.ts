import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Runs from '../../../src-renderer/pages/Runs.svelte';
import { fakeApi, run } from '../fake-api';

const RUNS = [
  run(1, 'bravo', { status: 'finished', bestAccuracy: 0.61, datasetName: 'demo' }),
  run(2, 'alpha', { status: 'running', progress: 0.4, step: 4, etaSec: 75, bestAccuracy: null, datasetName: 'digits' }),
  run(3, 'charlie', { status: 'cancelled', progress: 0.2, bestAccuracy: 0.3, distillation: 'kl', datasetName: 'demo' }),
];

/** Run names in table order. */
function names(): string[] {
  return screen.getAllByRole('row').slice(1).map((r) => within(r).getByRole('rowheader').textContent ?? '');
}

async function setup() {
  const fake = fakeApi({ runs: RUNS });
  render(Runs, { api: fake.api });
  await screen.findByText('bravo');
  return fake;
}

describe('Runs', () => {
  it('sorts by a column, both ways, with nulls last', async () => {
    await setup();
    // Default: newest first.
    expect(names()).toEqual(['charlie', 'alpha', 'bravo']);
    await fireEvent.click(screen.getByRole('button', { name: /^Name/ }));
    expect(names()).toEqual(['alpha', 'bravo', 'charlie']);
    expect(screen.getByRole('columnheader', { name: /^Name/ }).getAttribute('aria-sort')).toBe('ascending');
    await fireEvent.click(screen.getByRole('button', { name: /^Name/ }));
    expect(names()).toEqual(['charlie', 'bravo', 'alpha']);
    await fireEvent.click(screen.getByRole('button', { name: /^Best accuracy/ }));
    expect(names()).toEqual(['bravo', 'charlie', 'alpha']);
    await fireEvent.click(screen.getByRole('button', { name: /^Best accuracy/ }));
    expect(names()).toEqual(['charlie', 'bravo', 'alpha']);
  });

  it('filters by status and by text', async () => {
    await setup();
    await fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'running' } });
    expect(names()).toEqual(['alpha']);
    await fireEvent.change(screen.getByLabelText('Status'), { target: { value: '' } });
    await fireEvent.input(screen.getByLabelText('Search'), { target: { value: 'DEMO' } });
    expect(names()).toEqual(['charlie', 'bravo']);
    await fireEvent.input(screen.getByLabelText('Search'), { target: { value: 'kl' } });
    expect(names()).toEqual(['charlie']);
    expect(screen.getByText('1 of 3 runs')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Search'), { target: { value: 'nothing like it' } });
    expect(screen.getByText('No run matches the filter.')).toBeTruthy();
  });

  it('offers the controls each status allows and follows live progress', async () => {
    const fake = await setup();
    expect(screen.getByRole('button', { name: 'Pause alpha' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Delete alpha' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Pause bravo' })).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel alpha' }));
    expect(fake.api.runs.cancel).toHaveBeenCalledWith(2);

    const bar = screen.getByRole('progressbar', { name: 'Progress of alpha' }) as HTMLProgressElement;
    expect(bar.value).toBe(0.4);
    fake.emitRun({
      type: 'progress',
      runId: 2,
      totalSteps: 10,
      etaSec: 5,
      step: { step: 9, epoch: 1, lr: 0.1, losses: [], alphaMinShare: null, clippedShare: null, nonfinite: 0, imagesPerSec: 10 },
    });
    await waitFor(() => expect(bar.value).toBeCloseTo(0.9));
    fake.emitRun({ type: 'status', run: { ...RUNS[1]!, status: 'finished', progress: 1, step: 10 } });
    await waitFor(() => expect(screen.getByRole('button', { name: 'Delete alpha' })).toBeTruthy());
    fake.emitRun({ type: 'deleted', runId: 3 });
    await waitFor(() => expect(names()).toEqual(['alpha', 'bravo']));
  });

  it('deletes a run only after confirmation', async () => {
    const fake = await setup();
    await fireEvent.click(screen.getByRole('button', { name: 'Delete bravo' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete run?' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(fake.api.runs.delete).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByRole('button', { name: 'Delete bravo' }));
    await fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete run' }));
    await waitFor(() => expect(names()).toEqual(['charlie', 'alpha']));
    expect(fake.api.runs.delete).toHaveBeenCalledWith(1);
  });
});
