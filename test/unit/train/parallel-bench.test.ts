/** The parallel benchmark's worker counts and its report (the measurements themselves come from `npm run bench`). */
import { describe, expect, it } from 'vitest';
import { defaultWorkerCounts, formatParallelBench, type ParallelBenchResult } from '../../../src-main/bench/parallel-bench';
import { formatCeilingBench, type CeilingResult } from '../../../src-main/bench/ceiling-bench';
import { formatEvaluateBench, type EvaluateBenchResult } from '../../../src-main/bench/evaluate-bench';
import { median } from '../../../src-main/bench/stats';

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

  it('reports the interleaved speed-up with the pairs\' median and range', () => {
    const r: ParallelBenchResult = {
      cores: 2,
      load: [1, 1],
      rows: [],
      leak: null,
      interleaved: { workers: 2, batch: 64, pairs: 12, oneImagesPerSec: 39, manyImagesPerSec: 68.75, speedup: 1.763, pairSpeedup: { median: 1.77, min: 1.511, max: 1.978 }, oneCpuMs: 1669, manyCpuMs: 1774 },
    };
    expect(formatParallelBench(r)).toContain('1 worker 39 img/s, 2 workers 68.75 img/s, speed-up **1.763×** (pairs: median 1.77×, 1.511–1.978×); process CPU per step 1669 / 1774 ms');
  });
});

describe('bench statistics and reports', () => {
  it('median: the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('the ceiling report: each round and the medians of pair, split and bound', () => {
    const round = (full: number, half: number, a: number, b: number) => ({ full, half, pair: [a, b] as [number, number], pairRatio: (a + b) / half, split: half / full, bound: ((a + b) / half) * (half / full) });
    const rounds = [round(40, 36, 33, 33), round(40, 38, 30, 31)];
    const r: CeilingResult = { batch: 64, steps: 10, rounds, pair: { median: 1.72, range: [1.605, 1.833] }, split: { median: 0.925, range: [0.9, 0.95] }, bound: { median: 1.59, range: [1.525, 1.65] } };
    const text = formatCeilingBench(r);
    expect(text).toContain('| 1 | 40 | 36 | 33 + 33 |');
    expect(text).toContain('bound **1.59×** (1.525–1.65)');
  });

  it('the evaluate report gives per-count medians when a count is measured more than once', () => {
    const row = (workers: number, perMinute: number) => ({ workers, seconds: 1, perMinute, speedup: 1, efficiency: 1, workerTensors: [] });
    const r: EvaluateBenchResult = {
      space: 's', backend: 'wasm', cores: 2, evaluations: 24, calibrationImages: 256, evalImages: 512, load: [1, 1], identical: true,
      rows: [row(1, 25.94), row(2, 47.39), row(2, 51.39), row(1, 27.47)],
      medians: [{ workers: 1, rows: 2, perMinute: 26.71, speedup: 1 }, { workers: 2, rows: 2, perMinute: 49.39, speedup: 1.85 }],
    };
    expect(formatEvaluateBench(r)).toContain('medians: 1 worker 26.71/min over 2 rows (1×), 2 workers 49.39/min over 2 rows (1.85×)');
    expect(formatEvaluateBench({ ...r, rows: r.rows.slice(0, 2), medians: r.medians.map((m) => ({ ...m, rows: 1 })) })).not.toContain('medians:');
  });
});
