import { describe, expect, it } from 'vitest';
import { formatTorchCpuBench, settingMedians, type TorchCpuRun } from '../../../src-main/bench/torch-cpu-bench';

// Shaped as bench_cpu.py prints its lines; values from the first 2-round measurement of 2026-12-05 (docs/BENCHMARKS.md).
const run = (malloc: TorchCpuRun['malloc'], round: number, medianStepMs: number, userS: number, systemS: number, minorFaults: number, validationS: number | null = null): TorchCpuRun =>
  ({ malloc, round, medianStepMs, medianImagesPerSec: 64000 / medianStepMs, userS, systemS, minorFaults, load: 2.8, validationS });
const runs = [run('default', 0, 635, 24.5, 5.9, 819525), run('tuned', 0, 384, 16.5, 1.5, 139211),
  run('default', 1, 551, 19.8, 4.1, 638635), run('tuned', 1, 444, 19.7, 1.5, 140520)];
const validated = [run('default', 0, 500, 30, 6, 900000, 20), run('tuned', 0, 400, 20, 1, 150000, 8),
  run('default', 1, 520, 31, 7, 950000, 24), run('tuned', 1, 420, 21, 1, 150000, 6)];

describe('torch-cpu bench', () => {
  it("takes each setting's medians over its runs", () => {
    expect(settingMedians(runs, 'default')).toEqual({ stepMs: 593, validationS: null, userS: 22.15, systemS: 5, minorFaults: 729080 });
    expect(settingMedians(runs, 'tuned')).toEqual({ stepMs: 414, validationS: null, userS: 18.1, systemS: 1.5, minorFaults: 139865.5 });
    expect(settingMedians(validated, 'default').validationS).toBe(22);
    expect(settingMedians(validated, 'tuned').validationS).toBe(7);
    expect(() => settingMedians(runs.filter((r) => r.malloc === 'tuned'), 'default')).toThrow(/no run with malloc default/);
  });

  it('prints both settings and the speed-up', () => {
    const d = settingMedians(runs, 'default');
    const t = settingMedians(runs, 'tuned');
    const text = formatTorchCpuBench({ torch: '1.13.0a0 (python3)', space: 'alphanet-mnist28', steps: 40, batch: 64, valImages: 0, runs, default: d, tuned: t, speedup: d.stepMs / t.stepMs, totalSec: 120 });
    expect(text).toContain('| glibc default | 593 | 107.9 | – | 22.1 | 5.0 | 729080 |');
    expect(text).toContain('| tuned (malloc.py) | 414 | 154.6 | – | 18.1 | 1.5 | 139866 |');
    expect(text).toContain('no validation, 2 runs per setting');
    expect(text).toContain('speed-up of the tuning: 1.43× on the step (default / tuned)\n');
    expect(text).toContain('load average 2.8–2.8');
  });

  it('adds the validation where the runs had one', () => {
    const d = settingMedians(validated, 'default');
    const t = settingMedians(validated, 'tuned');
    const text = formatTorchCpuBench({ torch: '1.13.0a0 (python3)', space: 'alphanet-mnist28', steps: 40, batch: 64, valImages: 2560, runs: validated, default: d, tuned: t, speedup: d.stepMs / t.stepMs, totalSec: 120 });
    expect(text).toContain('then validation on 2560 images');
    expect(text).toContain('| glibc default | 510 | 125.5 | 22.0 |');
    expect(text).toContain('speed-up of the tuning: 1.24× on the step (default / tuned), 3.14× on the validation');
  });
});
