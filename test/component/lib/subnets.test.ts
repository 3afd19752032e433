import { describe, expect, it } from 'vitest';
import { hrefOf, parseHash } from '../../../src-renderer/lib/router.svelte';
import { initialSearchForm, searchFormErrors, searchRequest, sliderStep } from '../../../src-renderer/lib/search-form';
import { applySearchEvent, applyToDetail } from '../../../src-renderer/lib/searches';
import { chartEvaluations, genomeRows, runLabel, toPoint } from '../../../src-renderer/lib/subnets';
import { evaluation, search } from '../fake-api';

describe('subnets', () => {
  it('charts validation evaluations of the newest checkpoint only, the newest per genome', () => {
    const old = evaluation(1, 1, { genomeId: 'aaa' });
    const other = evaluation(2, 1, { genomeId: 'bbb' });
    const newer = evaluation(3, 1, { genomeId: 'aaa', accuracy: 0.9 });
    const test = evaluation(4, 1, { genomeId: 'bbb', split: 'test' });
    const stale = evaluation(5, 1, { genomeId: 'ccc', checkpointStep: 4 });
    expect(chartEvaluations([old, other, newer, test, stale]).map((e) => e.id)).toEqual([2, 3]);
  });

  it('names points by genome, and by genome and run on a chart of several runs', () => {
    const e = evaluation(7, 3, { genomeId: 'abc' });
    expect(toPoint(e).id).toBe('abc');
    expect(toPoint(e, 'run-3')).toMatchObject({ id: 'abc · run 3', series: 'run-3', runId: 3 });
  });

  it('lays the genome out per stage whether the names cover the convs or the MB stages only', () => {
    const g = { resolution: 32, width: [8, 16, 24, 128], depth: [1, 2], kernelSize: [3, 5], expandRatio: [1, 4] };
    const all = genomeRows(g, ['first', 'mb1', 'mb2', 'last']);
    expect(all).toEqual([
      { name: 'first', width: 8, depth: null, kernel: null, expand: null },
      { name: 'mb1', width: 16, depth: 1, kernel: 3, expand: 1 },
      { name: 'mb2', width: 24, depth: 2, kernel: 5, expand: 4 },
      { name: 'last', width: 128, depth: null, kernel: null, expand: null },
    ]);
    expect(genomeRows(g, ['mb1', 'mb2']).map((r) => r.name)).toEqual(['first conv', 'mb1', 'mb2', 'last conv']);
    expect(genomeRows(g, []).map((r) => r.name)).toEqual(['first conv', 'stage 1', 'stage 2', 'last conv']);
  });

  it('labels a run by name and distillation', () => {
    expect(runLabel({ name: 'r', distillation: 'kl' })).toBe('r · KL');
    expect(runLabel({ name: 'r', distillation: 'something-new' })).toBe('r · something-new');
  });
});

describe('search form', () => {
  it('starts at the run’s whole MFLOPs range and sends every setting, and only the bounds that are set', () => {
    const form = initialSearchForm({ minMFlops: 2.345, maxMFlops: 9.871, minMParams: 0.1, maxMParams: 0.5 });
    expect(form.budget).toEqual({ mflopsMin: 2.34, mflopsMax: 9.88, mparamsMax: null, latencyMaxMs: null });
    expect(searchFormErrors(form)).toEqual({});
    form.kind = 'random';
    form.evaluations = 30;
    form.engine = 'torch';
    expect(searchRequest(4, form)).toEqual({
      runId: 4,
      kind: 'random',
      objective: 'mflops',
      engine: 'torch',
      budget: { mflopsMin: 2.34, mflopsMax: 9.88 },
      config: { populationSize: 16, mutateSize: 8, crossoverSize: 8, mutateProb: 0.2, crossoverProb: 0.5, generations: 10, seed: 0 },
      evaluations: 30,
    });
  });

  it('engine slurm: sends the cluster and the jobs’ shape, and names a missing cluster or a bad count', () => {
    const form = initialSearchForm(null);
    form.engine = 'slurm';
    expect(searchFormErrors(form)).toEqual({ cluster: 'Choose a cluster (Settings → Clusters).' });
    form.cluster = 'hpc';
    form.nodes = 0;
    form.ranksPerNode = 'two';
    expect(Object.keys(searchFormErrors(form)).sort()).toEqual(['nodes', 'ranksPerNode']);
    form.nodes = 2;
    form.ranksPerNode = 4;
    expect(searchFormErrors(form)).toEqual({});
    expect(searchRequest(4, form)).toMatchObject({ engine: 'slurm', cluster: 'hpc', nodes: 2, ranksPerNode: 4 });
    // Left for another engine, the cluster settings are not sent.
    form.engine = 'torch';
    expect(searchRequest(4, form)).not.toHaveProperty('cluster');
  });

  it('names every bad field', () => {
    const form = initialSearchForm(null);
    form.config.seed = 'x';
    form.config.crossoverSize = 1.5;
    form.config.crossoverProb = -0.1;
    form.budget.latencyMaxMs = Number.NaN;
    form.kind = 'random';
    form.evaluations = 0;
    expect(Object.keys(searchFormErrors(form)).sort()).toEqual(['budget.latencyMaxMs', 'config.crossoverProb', 'config.crossoverSize', 'config.seed', 'evaluations']);
  });

  it('steps sliders in 1-2-5 steps of about 1/200 of the range', () => {
    expect(sliderStep(0, 100)).toBe(0.5);
    expect(sliderStep(2, 6)).toBeCloseTo(0.02);
    expect(sliderStep(0, 1000)).toBe(5);
  });
});

describe('search events', () => {
  it('update the list and the open search, once per evaluation', () => {
    const s = search(5, 1, { total: 4 });
    const list = applySearchEvent([s], { type: 'evaluated', searchId: 5, evaluation: evaluation(1, 1), progress: 0.5, etaSec: 3 }, 1);
    expect(list[0]).toMatchObject({ progress: 0.5, etaSec: 3, evaluations: 2 });
    // A status event of another run's search is not this page's.
    expect(applySearchEvent(list, { type: 'status', search: search(9, 2) }, 1).map((x) => x.id)).toEqual([5]);
    expect(applySearchEvent(list, { type: 'status', search: search(9, 1) }, 1).map((x) => x.id)).toEqual([9, 5]);

    const e = { type: 'evaluated' as const, searchId: 5, evaluation: evaluation(1, 1), progress: 0.25, etaSec: 3 };
    const once = applyToDetail({ summary: s, evaluations: [], front: null }, e);
    const twice = applyToDetail(once, e);
    expect(twice.evaluations.map((x) => x.id)).toEqual([1]);
    expect(twice.summary.evaluations).toBe(1);
    expect(applyToDetail(twice, { ...e, searchId: 6 })).toBe(twice);
  });
});

describe('routes of the subnet, search, explorer and compare pages', () => {
  it('parse and print search, explorer and compare addresses', () => {
    expect(parseHash('#/search')).toEqual({ page: 'search', runId: null, searchId: null });
    expect(parseHash('#/search/3/12')).toEqual({ page: 'search', runId: 3, searchId: 12 });
    expect(parseHash('#/explorer/3')).toEqual({ page: 'explorer', runId: 3, searchId: null });
    expect(parseHash('#/explorer/x')).toEqual({ page: 'not-found', hash: '#/explorer/x' });
    expect(parseHash('#/compare/4,2,4')).toEqual({ page: 'compare', runIds: [4, 2] });
    expect(parseHash('#/compare/4,')).toEqual({ page: 'not-found', hash: '#/compare/4,' });
    const routes: Parameters<typeof hrefOf>[0][] = [{ page: 'search', runId: 3, searchId: 12 }, { page: 'explorer', runId: 3, searchId: null }, { page: 'compare', runIds: [1, 2] }];
    for (const r of routes) {
      expect(parseHash(hrefOf(r))).toEqual(r);
    }
  });
});
