import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Compare from '../../../src-renderer/pages/Compare.svelte';
import { inertCanvas } from '../canvas';
import { evaluation, fakeApi, run } from '../fake-api';

beforeEach(inertCanvas);
afterEach(() => {
  vi.restoreAllMocks();
  window.location.hash = '';
});

const RUNS = [
  run(1, 'alpha run', { distillation: 'adaptive-alpha' }),
  run(2, 'kl run', { distillation: 'kl' }),
  run(3, 'third'),
  run(4, 'fourth'),
  run(5, 'fifth'),
];

describe('Compare page', () => {
  it('requires 2 to 4 runs before comparing', async () => {
    const fake = fakeApi({ runs: RUNS });
    render(Compare, { api: fake.api, runIds: [] });
    await screen.findByRole('checkbox', { name: /alpha run · adaptive α/ });
    const go = screen.getByRole('button', { name: 'Compare' }) as HTMLButtonElement;
    const tick = (name: RegExp) => fireEvent.click(screen.getByRole('checkbox', { name }));
    expect(go.disabled).toBe(true);
    expect(screen.getByRole('status').textContent).toBe('Choose at least 2 runs (0 chosen).');
    await tick(/kl run/);
    expect(go.disabled).toBe(true);
    await tick(/alpha run/);
    expect(go.disabled).toBe(false);
    await tick(/third/);
    await tick(/fourth/);
    expect(go.disabled).toBe(false);
    await tick(/fifth/);
    expect(go.disabled).toBe(true);
    expect(screen.getByRole('status').textContent).toBe('Choose at most 4 runs (5 chosen).');
    await tick(/third/);
    await tick(/fourth/);
    await tick(/fifth/);
    await fireEvent.click(go);
    // In the order ticked: the first run ticked is the first column.
    expect(window.location.hash).toBe('#/compare/2,1');
    expect(fake.api.compare.runs).not.toHaveBeenCalled();
  });

  it('refuses an address that names one run', async () => {
    const fake = fakeApi({ runs: RUNS });
    render(Compare, { api: fake.api, runIds: [3] });
    expect((await screen.findByRole('alert')).textContent).toBe('A comparison takes 2 to 4 runs; the address names 1.');
    expect(fake.api.compare.runs).not.toHaveBeenCalled();
  });

  it('labels the runs by name and distillation, with each front’s hypervolume, the diff and the budget table', async () => {
    const fake = fakeApi({
      runs: RUNS,
      evaluations: [
        evaluation(1, 1, { accuracy: 0.5, mflops: 3 }),
        evaluation(2, 1, { accuracy: 0.6, mflops: 8 }),
        evaluation(3, 2, { accuracy: 0.55, mflops: 4 }),
        // Dominated by evaluation 1 (cheaper and better): not on run 1's front, adds nothing to its hypervolume.
        evaluation(4, 1, { accuracy: 0.45, mflops: 5 }),
        // A test-split evaluation: fronts are drawn over val only.
        evaluation(5, 2, { accuracy: 0.9, mflops: 2, split: 'test' }),
      ],
    });
    render(Compare, { api: fake.api, runIds: [1, 2] });
    const legend = await screen.findByRole('list', { name: 'Runs compared' });
    expect(within(legend).getAllByRole('link').map((a) => a.textContent)).toEqual(['alpha run · adaptive α', 'kl run · KL']);
    expect(fake.api.compare.runs).toHaveBeenCalledWith([1, 2]);
    // Two series on one chart, each with its hypervolume as the service's code computes it (the fake builds its fronts
    // with service/compare.ts) against the reference (8 MFLOPs, 0 %). By hand: run 1's front is (3, 50 %), (8, 60 %),
    // so (8 − 3) × 0.5 + (8 − 8) × 0.6 = 2.5 (with the dominated (5, 45 %) wrongly kept it would be 2.35); run 2's is
    // (4, 55 %): (8 − 4) × 0.55 = 2.2 (with the test-split point wrongly counted, (8 − 2) × 0.9 = 5.4).
    const chartLegend = screen.getByRole('list', { name: 'Legend' });
    expect(within(chartLegend).getAllByRole('listitem').map((li) => li.querySelector('span:not([aria-hidden])')?.textContent)).toEqual([
      'alpha run · adaptive α · HV 2.5',
      'kl run · KL · HV 2.2',
    ]);
    const diff = screen.getByRole('region', { name: 'Config differences' });
    expect(within(diff).getAllByRole('cell').map((c) => c.textContent)).toEqual(['adaptive-alpha', 'kl']);
    const budgets = within(screen.getByRole('region', { name: 'Best accuracy under a budget' })).getAllByRole('row').map((r) => [...r.children].map((c) => c.textContent));
    expect(budgets).toEqual([
      ['Budget', 'alpha run · adaptive α', 'kl run · KL'],
      ['≤ 5.00 MFLOPs', '50.00 %', '55.00 %'],
      ['≤ 10.0 MFLOPs', '60.00 %', '55.00 %'],
    ]);
    // The better run of each budget stands out.
    expect([...document.querySelectorAll('td.best')].map((c) => c.textContent)).toEqual(['55.00 %', '60.00 %']);
    await waitFor(() => expect(screen.getAllByRole('figure').length).toBe(3));
  });
});
