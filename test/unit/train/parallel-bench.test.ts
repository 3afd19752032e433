/** The parallel benchmark's worker counts and its report (the measurements themselves come from `npm run bench`). */
import { describe, expect, it } from 'vitest';
import { defaultWorkerCounts, formatParallelBench, type ParallelBenchResult } from '../../../src-main/bench/parallel-bench';

describe('parallel bench', () => {
  it('measures 1, 2 and powers of two up to the cores', () => {
    expect(defaultWorkerCounts(1)).toEqual([1, 2]);
    expect(defaultWorkerCounts(2)).toEqual([1, 2]);
    expect(defaultWorkerCounts(6)).toEqual([1, 2, 4]);
    expect(defaultWorkerCounts(16)).toEqual([1, 2, 4, 8, 16]);
  });

  it('reports a tensor count that grows in any worker as GROWING', () => {
    const r: ParallelBenchResult = { cores: 2, load: [1, 2], rows: [], leak: { workers: 2, batch: 16, steps: 1000, after10: [800, 270], atEnd: [800, 270] } };
    expect(formatParallelBench(r)).toMatch(/after step 1000 800, 270 \(flat\)$/);
    expect(formatParallelBench({ ...r, leak: { ...r.leak!, atEnd: [800, 271] } })).toMatch(/\(GROWING\)$/);
  });
});
