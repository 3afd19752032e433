/** The trainer benchmark on the real 32×32 space (slow: ALPHANET_SLOW_TESTS=1). */
import { describe, expect, it } from 'vitest';
import { benchTrainer } from '../../../src-main/bench/train-bench';

describe.runIf(process.env.ALPHANET_SLOW_TESTS === '1')('train bench (slow)', () => {
  it('the trainer keeps ≥ 90 % of the bare sandwich step and persistence costs < 2 %', async () => {
    const r = await benchTrainer({ steps: 4, verbose: false });
    expect(r.space).toBe('alphanet-cifar32');
    // The within-run share is robust to load drift between the two measurements; the cross-measurement ratio is not.
    expect(r.sandwichShare).toBeGreaterThanOrEqual(0.9);
    expect(r.persistShare).toBeLessThan(0.02);
    expect(r.checkpointMiB).toBeGreaterThan(5);
  }, 900_000);
});
