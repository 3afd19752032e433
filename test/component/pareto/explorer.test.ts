import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import ParetoExplorer from '../../../src-renderer/lib/pareto/ParetoExplorer.svelte';
import type { ExplorerPoint } from '../../../src-renderer/lib/pareto/types';

// Two runs: fronts a1 → a2 → a4 (adaptive) and k1 → k2 (kl). Under mflopsMax 10, a4 and k2 are over budget.
const points: ExplorerPoint[] = [
  { id: 'a1', accuracy: 0.6, mflops: 3, latencyMs: 2, mparams: 1, series: 'a' },
  { id: 'a2', accuracy: 0.7, mflops: 8, latencyMs: null, mparams: 2, series: 'a' },
  { id: 'a3', accuracy: 0.65, mflops: 9, latencyMs: 5, mparams: 2.5, series: 'a' },
  { id: 'a4', accuracy: 0.8, mflops: 20, latencyMs: 9, mparams: 4, series: 'a' },
  { id: 'k1', accuracy: 0.7, mflops: 4, latencyMs: 3, mparams: 1.1, series: 'kl' },
  { id: 'k2', accuracy: 0.75, mflops: 12, latencyMs: 6, mparams: 3, series: 'kl' },
];
const series = [
  { id: 'a', label: 'run 1 · adaptive-alpha' },
  { id: 'kl', label: 'run 2 · kl' },
];

beforeEach(() => {
  // jsdom has no canvas: drawing is skipped (and checked in Chromium by the bench); silence its "not implemented".
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});
afterEach(() => vi.restoreAllMocks());

const rowIds = () =>
  within(screen.getByRole('table'))
    .getAllByRole('rowheader')
    .map((c) => c.textContent);

describe('ParetoExplorer', () => {
  it('renders the accessible summary: labelled plot, table of front points, legend', () => {
    render(ParetoExplorer, { points, series, budget: { mflopsMax: 10 } });
    const plot = screen.getByRole('group', { name: /Pareto explorer/ });
    expect(plot.getAttribute('tabindex')).toBe('0');
    expect(plot.getAttribute('aria-label')).toBe(
      'Pareto explorer: top-1 accuracy against MFLOPs for 6 subnets, 4 within the budget; run 1 · adaptive-alpha: 3 on the front, ' +
        'run 2 · kl: 2 on the front. Arrow keys walk the front, Enter selects, plus and minus zoom, 0 resets.',
    );
    expect(rowIds()).toEqual(['a1', 'a2', 'a4', 'k1', 'k2']);
    const a4 = screen.getByRole('rowheader', { name: 'a4' }).closest('tr')!;
    expect([...a4.querySelectorAll('td')].map((c) => c.textContent)).toEqual(['run 1 · adaptive-alpha', '80.00 %', '20.0', '4.00', '9.00 ms', 'over']);
    const legend = screen.getByRole('list', { name: 'Legend' });
    const items = within(legend)
      .getAllByRole('listitem')
      .map((li) => [...li.querySelectorAll('span:not([aria-hidden])')].map((s) => s.textContent).join(' | '));
    expect(items).toEqual(['run 1 · adaptive-alpha | 4 subnets, 3 on the front', 'run 2 · kl | 2 subnets, 2 on the front', 'over budget', 'best within budget']);
    expect(screen.getByRole('button', { name: 'Reset zoom' }).hasAttribute('disabled')).toBe(true);
  });

  it('walks the front with the arrow keys, announces the point and selects it with Enter', async () => {
    const onhover = vi.fn();
    const onselect = vi.fn();
    render(ParetoExplorer, { points, series, onhover, onselect });
    const plot = screen.getByRole('group', { name: /Pareto explorer/ });
    plot.focus();
    await fireEvent.keyDown(plot, { key: 'ArrowRight' });
    expect(onhover).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'a1' }));
    await fireEvent.keyDown(plot, { key: 'ArrowRight' });
    expect(onhover).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'a2' }));
    expect(document.querySelector('[aria-live="polite"]')!.textContent).toBe(
      'subnet a2, 70.00 % accuracy, 8.00 MFLOPs, 2.00 M params, latency not measured; front point 2 of 3 of run 1 · adaptive-alpha',
    );
    await fireEvent.keyDown(plot, { key: 'End' });
    expect(onhover).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'a4' }));
    await fireEvent.keyDown(plot, { key: 'ArrowRight' }); // stays on the last point
    expect(onhover).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'a4' }));
    // Down: the next series, at its front point nearest in cost (k2 at 12 MFLOPs is nearer to 20 than k1 at 4).
    await fireEvent.keyDown(plot, { key: 'ArrowDown' });
    expect(onhover).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'k2' }));
    expect(onselect).not.toHaveBeenCalled();
    await fireEvent.keyDown(plot, { key: 'Enter' });
    expect(onselect).toHaveBeenCalledTimes(1);
    expect(onselect).toHaveBeenCalledWith(expect.objectContaining({ id: 'k2', series: 'kl' }));
    await fireEvent.keyDown(plot, { key: 'Escape' });
    expect(onhover).toHaveBeenLastCalledWith(null);
  });

  it('zooms from the keyboard and resets with the button', async () => {
    render(ParetoExplorer, { points, series });
    const plot = screen.getByRole('group', { name: /Pareto explorer/ });
    const reset = screen.getByRole('button', { name: 'Reset zoom' });
    await fireEvent.keyDown(plot, { key: '+' });
    expect(reset.hasAttribute('disabled')).toBe(false);
    await fireEvent.click(reset);
    expect(reset.hasAttribute('disabled')).toBe(true);
  });

  it('on the latency axis leaves out unmeasured points and says so', () => {
    render(ParetoExplorer, { points, series, xAxis: 'latency' });
    expect(screen.getByText(/1 of 6 subnets have no measured latency/)).toBeTruthy();
    expect(rowIds()).toEqual(['a1', 'a3', 'a4', 'k1', 'k2']);
    expect(screen.getByRole('group', { name: /against latency in milliseconds for 5 subnets/ })).toBeTruthy();
  });

  it('shows an error instead of drawing bad input', () => {
    render(ParetoExplorer, { points: [...points, { ...points[0] }], series });
    expect(screen.getByRole('alert').textContent).toBe("Cannot draw the Pareto chart: points: duplicate id 'a1'");
  });

  it('reports a bad budget by field name', () => {
    render(ParetoExplorer, { points, series, budget: { mflopsMin: 10, mflopsMax: 5 } });
    expect(screen.getByRole('alert').textContent).toContain('budget.mflopsMin (10) is above budget.mflopsMax (5)');
  });
});

describe('ParetoExplorer pointer interaction (geometry mocked: jsdom lays nothing out)', () => {
  beforeEach(() => {
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(800);
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(420);
  });

  /** Renders, then returns the plot and where a point is drawn (plot-relative = client coordinates here). */
  function setup(props: Record<string, unknown> = {}) {
    const r = render(ParetoExplorer, { points, series, ...props });
    const chart = (r.component as unknown as { getChart(): import('../../../src-renderer/lib/pareto/chart').ExplorerChart }).getChart();
    const plot = screen.getByRole('group', { name: /Pareto explorer/ });
    const at = (id: string) => {
      const s = chart.screenOf(id);
      if (!s) throw new Error(`${id} is not drawn`);
      return { clientX: s.x, clientY: s.y };
    };
    return { plot, at, chart };
  }

  it('hovers the point under the pointer, within 10 px, and nothing elsewhere', async () => {
    const onhover = vi.fn();
    const { plot, at } = setup({ onhover });
    const k1 = at('k1');
    await fireEvent.pointerMove(plot, { clientX: k1.clientX + 6, clientY: k1.clientY - 5 });
    expect(onhover).toHaveBeenLastCalledWith(expect.objectContaining({ id: 'k1' }));
    const tip = document.querySelector('.tooltip') as HTMLElement;
    expect(tip.style.visibility).toBe('visible');
    expect(tip.textContent).toContain('k1');
    expect(tip.textContent).toContain('70.00 %');
    await fireEvent.pointerMove(plot, { clientX: k1.clientX + 12, clientY: k1.clientY });
    expect(onhover).toHaveBeenLastCalledWith(null);
    expect(tip.style.visibility).toBe('hidden');
  });

  it('selects on click and reports a shift+drag box', async () => {
    const onselect = vi.fn();
    const onboxselect = vi.fn();
    const { plot, at } = setup({ onselect, onboxselect });
    const a2 = at('a2');
    await fireEvent.pointerDown(plot, { ...a2, button: 0, pointerId: 1 });
    await fireEvent.pointerUp(plot, { ...a2, button: 0, pointerId: 1 });
    expect(onselect).toHaveBeenCalledWith(expect.objectContaining({ id: 'a2' }));
    // A box around a1 and k1 (the two cheapest, at 3 and 4 MFLOPs), from above-left to below-right.
    const a1 = at('a1');
    const k1 = at('k1');
    await fireEvent.pointerDown(plot, { clientX: a1.clientX - 5, clientY: k1.clientY - 5, button: 0, shiftKey: true, pointerId: 2 });
    await fireEvent.pointerMove(plot, { clientX: k1.clientX + 5, clientY: a1.clientY + 5, pointerId: 2 });
    await fireEvent.pointerUp(plot, { clientX: k1.clientX + 5, clientY: a1.clientY + 5, pointerId: 2 });
    expect(onboxselect).toHaveBeenCalledTimes(1);
    expect(onboxselect.mock.calls[0][0].map((p: ExplorerPoint) => p.id)).toEqual(['a1', 'k1']);
    expect(onselect).toHaveBeenCalledTimes(1); // the box did not also select
  });

  it('pans with a drag: the window moves and the zoom can be reset', async () => {
    const { plot, at, chart } = setup();
    const before = chart.getDomain();
    const start = at('a3');
    await fireEvent.pointerDown(plot, { ...start, button: 0, pointerId: 3 });
    await fireEvent.pointerMove(plot, { clientX: start.clientX + 100, clientY: start.clientY, pointerId: 3 });
    await fireEvent.pointerUp(plot, { clientX: start.clientX + 100, clientY: start.clientY, pointerId: 3 });
    const after = chart.getDomain();
    expect(after.x0).toBeLessThan(before.x0);
    expect(after.x1 - after.x0).toBeCloseTo(before.x1 - before.x0, 9);
    const reset = screen.getByRole('button', { name: 'Reset zoom' });
    expect(reset.hasAttribute('disabled')).toBe(false);
    await fireEvent.click(reset);
    expect(chart.getDomain()).toEqual(before);
  });
});
