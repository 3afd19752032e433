/** evaluateSubnet: calibrate → eval-mode accuracy and loss (checked against a direct computation), before/after, costs. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createOps } from '../../../src-main/engine/ops';
import { Rng } from '../../../src-main/engine/core/rng';
import { Supernet } from '../../../src-main/engine/supernet';
import { calibrateBn } from '../../../src-main/engine/calibration';
import { genomeId, randomGenome } from '../../../src-main/engine/core/genome';
import { subnetCost } from '../../../src-main/engine/core/flops';
import { evaluateSubnet, resetStats } from '../../../src-main/engine/evaluate';
import { TINY } from './tiny-space';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('evaluateSubnet', () => {
  it('matches a direct computation, records before/after calibration, and repeats exactly', () => {
    const net = new Supernet({ space: TINY, ops: createOps('portable'), seed: 2 });
    const rng = new Rng(4);
    for (const [name, v] of net.params) {
      if (name.endsWith('.bn.gamma')) tf.tidy(() => v.assign(tf.add(tf.onesLike(v), tf.randomUniform(v.shape, 0, 1, 'float32', 3))));
    }
    const g = randomGenome(TINY, rng);
    const cal = Array.from({ length: 3 }, (_, i) => tf.randomNormal([5, 9, 9, 3], 0.5, 2, 'float32', 10 + i) as tf.Tensor4D);
    const evalBatches = Array.from({ length: 2 }, (_, i) => ({
      x: tf.randomNormal([6, 9, 9, 3], 0.5, 2, 'float32', 20 + i) as tf.Tensor4D,
      labels: Array.from({ length: 6 }, () => rng.int(TINY.numClasses)),
    }));
    const r = evaluateSubnet(net, g, { calibration: cal, evaluation: evalBatches });
    const again = evaluateSubnet(net, g, { calibration: cal, evaluation: evalBatches.map((b) => ({ x: b.x, labels: tf.tensor1d(b.labels, 'int32') })) });
    expect(again.accuracy).toBe(r.accuracy);
    expect(again.loss).toBe(r.loss);
    expect(again.beforeCalibration).toEqual(r.beforeCalibration);

    // Direct: calibrate, forward, softmax CE and argmax in plain JS.
    const { stats } = calibrateBn(net, g, cal);
    let correct = 0;
    let loss = 0;
    for (const b of evalBatches) {
      const logits = tf.tidy(() => net.forward(b.x, g, { bn: { kind: 'running', stats } }).arraySync());
      logits.forEach((row, i) => {
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        loss += lse - row[b.labels[i]];
        if (row.indexOf(m) === b.labels[i]) correct++;
      });
    }
    expect(r.accuracy).toBeCloseTo(correct / 12, 12);
    expect(r.loss).toBeCloseTo(loss / 12, 4);
    expect(r.images).toBe(12);
    expect(r.calibration).toEqual({ batches: 3, images: 15 });
    expect(r.genomeId).toBe(genomeId(TINY.id, g));
    expect(r.mflops).toBeCloseTo(subnetCost(TINY, g).mflops, 12);
    expect(r.mparams).toBeCloseTo(subnetCost(TINY, g).mparams, 12);
    // Inputs far from N(0,1): the reset statistics are badly off, so calibration changes the loss.
    expect(r.beforeCalibration!.method).toBe('reset');
    expect(r.beforeCalibration!.loss).not.toBeCloseTo(r.loss, 3);
    // The reset statistics cover exactly the BNs calibration fills.
    expect([...resetStats(net, g).keys()].sort()).toEqual([...stats.keys()].sort());

    const batchMode = evaluateSubnet(net, g, { calibration: cal, evaluation: evalBatches, before: 'batch' });
    expect(batchMode.beforeCalibration!.method).toBe('batch');
    expect(batchMode.accuracy).toBe(r.accuracy);
    expect(evaluateSubnet(net, g, { calibration: cal, evaluation: evalBatches, before: 'none' }).beforeCalibration).toBeUndefined();

    expect(() => evaluateSubnet(net, g, { calibration: cal, evaluation: [] })).toThrow(/at least one labelled batch/);
    expect(() => evaluateSubnet(net, g, { calibration: [], evaluation: evalBatches })).toThrow(/at least one batch/);
    expect(() => evaluateSubnet(net, g, { calibration: cal, evaluation: [{ x: evalBatches[0].x, labels: [1, 2] }] })).toThrow(/2 labels/);
    tf.dispose([...cal, ...evalBatches.map((b) => b.x)]);
    net.dispose();
  });
});
