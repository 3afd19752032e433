/**
 * BN recalibration (METHOD.md §4: reset, then the plain average of per-batch means and unbiased variances) and static
 * subnet extraction (copied weights + calibrated BN give the supernet path's eval output).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createOps } from '../../../src-main/engine/ops';
import { Rng } from '../../../src-main/engine/core/rng';
import { Supernet } from '../../../src-main/engine/supernet';
import { calibrateBn, extractStatic } from '../../../src-main/engine/calibration';
import { getSpace } from '../../../src-main/engine/core/registry';
import { maxGenome, minGenome, randomGenome } from '../../../src-main/engine/core/genome';
import { subnetCost } from '../../../src-main/engine/core/flops';
import { TINY } from './tiny-space';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const batches = (n: number, size: number, c: number, seed: number) =>
  Array.from({ length: n }, (_, i) => tf.randomNormal([4, size, size, c], 0.3, 1.2, 'float32', seed + i) as tf.Tensor4D);

describe('BN calibration', () => {
  it('first BN: cumulative average of per-batch means and unbiased variances of the stem output', () => {
    const net = new Supernet({ space: TINY, ops: createOps('portable'), seed: 3 });
    const g = randomGenome(TINY, new Rng(1));
    const xs = batches(3, g.resolution, 3, 10);
    const { stats, batches: nb, images } = calibrateBn(net, g, xs);
    expect(nb).toBe(3);
    expect(images).toBe(12);
    // Independent computation with the native conv (explicit symmetric padding) and plain JS statistics.
    const c = g.width[0];
    const w = tf.slice(net.param('first.conv.w'), [0, 0, 0, 0], [3, 3, 3, c]) as tf.Tensor4D;
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    for (const x of xs) {
      const y = tf.tidy(() => tf.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), w, 1, 'valid').dataSync());
      const n = y.length / c;
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = ch; i < y.length; i += c) s += y[i];
        const m = s / n;
        let ss = 0;
        for (let i = ch; i < y.length; i += c) ss += (y[i] - m) ** 2;
        mean[ch] += m / xs.length;
        variance[ch] += ss / (n - 1) / xs.length;
      }
    }
    const got = stats.get('first')!;
    for (let ch = 0; ch < c; ch++) {
      expect(got.mean[ch]).toBeCloseTo(mean[ch], 4);
      expect(Math.abs(got.variance[ch] - variance[ch]) / variance[ch]).toBeLessThan(1e-4);
    }
    // Every BN of the subnet was calibrated, at its sliced width.
    const bnNames = [...net.subnetParamRegions(g).keys()].filter((n) => n.endsWith('.bn.gamma')).map((n) => n.replace('.bn.gamma', ''));
    expect([...stats.keys()].sort()).toEqual(bnNames.sort());
    tf.dispose([...xs, w]);
    net.dispose();
  });

  it('refuses zero batches', () => {
    const net = new Supernet({ space: TINY, ops: createOps('portable') });
    expect(() => calibrateBn(net, minGenome(TINY), [])).toThrow(/at least one batch/);
    net.dispose();
  });
});

describe('static subnet extraction', () => {
  for (const space of [TINY, getSpace('alphanet-cifar32'), getSpace('slimmable-cifar32')]) {
    const rng = new Rng(4);
    for (const [label, g] of [['min', minGenome(space)], ['max', maxGenome(space)], ['random', randomGenome(space, rng)]] as const) {
      it(`${space.id} ${label}: eval output equals the supernet path after calibration (≤ 1e-4)`, () => {
        const net = new Supernet({ space, ops: createOps('portable'), seed: 9 });
        // Non-trivial γ so the residual branches matter.
        for (const [name, v] of net.params) if (name.endsWith('project.bn.gamma')) tf.tidy(() => v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', 1)));
        const size = space.resolutions[space.resolutions.length - 1];
        const xs = batches(2, size, space.inputChannels, 20);
        const { stats } = calibrateBn(net, g, xs);
        const st = extractStatic(net, g, stats);
        expect(st.net.allocatedParams()).toBe(subnetCost(space, g).params);
        const x = tf.randomNormal([3, size, size, space.inputChannels], 0, 1, 'float32', 99) as tf.Tensor4D;
        const a = tf.tidy(() => net.forward(x, g, { bn: { kind: 'running', stats } }).dataSync());
        const b = tf.tidy(() => st.forward(x).dataSync());
        let maxDiff = 0;
        for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        expect(maxDiff).toBeLessThanOrEqual(1e-4);
        // Calibrated eval differs from batch statistics on a 3-image batch: the stats are really used.
        const c = tf.tidy(() => net.forward(x, g).dataSync());
        expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - c[i])))).toBeGreaterThan(1e-4);
        tf.dispose([...xs, x]);
        st.dispose();
        net.dispose();
      });
    }
  }
});
