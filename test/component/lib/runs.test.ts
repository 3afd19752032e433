import { describe, expect, it } from 'vitest';
import { normalizePath, getPath, setPath, flatten } from '../../../src-renderer/lib/paths';
import { parseFieldText, parseList } from '../../../src-renderer/lib/run-form';
import { parseHash } from '../../../src-renderer/lib/router.svelte';
import { applyRunEvent, sortRuns } from '../../../src-renderer/lib/runs';
import { run } from '../fake-api';

describe('run helpers', () => {
  it('sorts with nulls last in both directions', () => {
    const rs = [run(1, 'a', { bestAccuracy: null }), run(2, 'b', { bestAccuracy: 0.2 }), run(3, 'c', { bestAccuracy: 0.5 })];
    expect(sortRuns(rs, { key: 'bestAccuracy', dir: 'desc' }).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(sortRuns(rs, { key: 'bestAccuracy', dir: 'asc' }).map((r) => r.id)).toEqual([2, 3, 1]);
  });

  it('raises the best accuracy only from the max subnet, and only upwards', () => {
    const rs = [run(1, 'a', { bestAccuracy: 0.4 })];
    const pt = (subnet: string, valTop1: number) => ({ epoch: 2, step: 20, subnet, mflops: 1, valTop1, valLoss: 1 });
    expect(applyRunEvent(rs, { type: 'epoch', runId: 1, points: [pt('min', 0.9), pt('max', 0.3)] })[0]?.bestAccuracy).toBe(0.4);
    expect(applyRunEvent(rs, { type: 'epoch', runId: 1, points: [pt('max', 0.55)] })[0]?.bestAccuracy).toBe(0.55);
  });

  it('adds a run it has not seen from a status event', () => {
    expect(applyRunEvent([run(1, 'a')], { type: 'status', run: run(2, 'b') }).map((r) => r.id)).toEqual([2, 1]);
  });
});

describe('paths and parsing', () => {
  it('reads and writes dotted paths, with bracketed indices accepted', () => {
    const o: Record<string, unknown> = { space: { stages: [{ width: [1] }] } };
    expect(normalizePath('space.stages[0].width')).toBe('space.stages.0.width');
    expect(getPath(o, 'space.stages[0].width')).toEqual([1]);
    setPath(o, 'optimizer.lr', 0.05);
    setPath(o, 'space.stages.0.width', [2, 3]);
    expect(o).toEqual({ space: { stages: [{ width: [2, 3] }] }, optimizer: { lr: 0.05 } });
    setPath(o, 'optimizer.lr', undefined);
    expect(o['optimizer']).toEqual({});
    expect(flatten({ a: 1, b: { c: [1, 2], d: 'x' } })).toEqual([['a', 1], ['b.c', [1, 2]], ['b.d', 'x']]);
  });

  it('turns field text into JSON values, keeping what is not a number for the engine to refuse', () => {
    expect(parseFieldText({ kind: 'number' }, ' 1e-3 ')).toBe(0.001);
    expect(parseFieldText({ kind: 'int' }, '')).toBeNull();
    expect(parseFieldText({ kind: 'int', optional: true }, '')).toBeUndefined();
    expect(parseFieldText({ kind: 'int' }, 'ten')).toBe('ten');
    expect(parseList('16, 24 32')).toEqual([16, 24, 32]);
    expect(parseList('16, x')).toBe('16, x');
    expect(parseList('')).toBe('');
  });

  it('parses hash routes', () => {
    expect(parseHash('')).toEqual({ page: 'datasets', datasetId: null });
    expect(parseHash('#/datasets/ds%201')).toEqual({ page: 'datasets', datasetId: 'ds 1' });
    expect(parseHash('#/runs/12')).toEqual({ page: 'run', runId: 12 });
    expect(parseHash('#/runs/x')).toEqual({ page: 'not-found', hash: '#/runs/x' });
  });
});
