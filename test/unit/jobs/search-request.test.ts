/** The search request's `workers` field (jobs/search-messages.ts): `auto` by default, N ≥ 1, one for the torch engine. */
import { describe, expect, it } from 'vitest';
import { SearchRequestSchema } from '../../../src-main/jobs/search-messages';

const issues = (input: unknown) => {
  const r = SearchRequestSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('search request workers', () => {
  it('defaults to auto, takes N ≥ 1, refuses 0, fractions and several workers on the torch engine', () => {
    expect(SearchRequestSchema.parse({ runId: 1 }).workers).toBe('auto');
    expect(SearchRequestSchema.parse({ runId: 1, workers: 3 }).workers).toBe(3);
    expect(SearchRequestSchema.parse({ runId: 1, engine: 'torch' }).workers).toBe('auto');
    expect(SearchRequestSchema.parse({ runId: 1, engine: 'torch', workers: 1 }).workers).toBe(1);
    expect(issues({ runId: 1, workers: 0 })).toHaveLength(1);
    expect(issues({ runId: 1, workers: 1.5 })[0]).toMatch(/^workers: /);
    expect(issues({ runId: 1, engine: 'torch', workers: 2 })).toEqual(['workers: the torch engine evaluates in one process on one thread; several evaluation workers are for the local engine']);
  });

  it('engine slurm needs a cluster, takes nodes and ranks per node (default 1), no evaluation workers; a cluster goes with slurm only', () => {
    expect(SearchRequestSchema.parse({ runId: 1, engine: 'slurm', cluster: 'hpc' })).toMatchObject({ engine: 'slurm', cluster: 'hpc', nodes: 1, ranksPerNode: 1, gpusPerNode: 0 });
    expect(SearchRequestSchema.parse({ runId: 1, engine: 'slurm', cluster: 'hpc', nodes: 2, ranksPerNode: 4 })).toMatchObject({ nodes: 2, ranksPerNode: 4 });
    expect(issues({ runId: 1, engine: 'slurm' })).toEqual(["cluster: engine 'slurm' needs a cluster (Settings → Clusters, or `alphanet clusters add`)"]);
    expect(issues({ runId: 1, engine: 'torch', cluster: 'hpc' })).toEqual(["cluster: a cluster goes with engine 'slurm'"]);
    expect(issues({ runId: 1, engine: 'slurm', cluster: 'hpc', workers: 2 })).toEqual(['workers: a Slurm search evaluates on the cluster: set its nodes and ranks per node, not evaluation workers']);
    expect(issues({ runId: 1, engine: 'slurm', cluster: 'hpc', nodes: 0 })[0]).toMatch(/^nodes: /);
  });
});
