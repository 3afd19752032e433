/** Nesterov SGD with PyTorch's semantics, checked against hand-computed values. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { NesterovSgd } from '../../../src-main/train/optimizer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const vars = (entries: [string, number[]][]) => new Map(entries.map(([n, v]) => [n, tf.variable(tf.tensor1d(v), true, `opt-test/${n}/${Math.random()}`)]));
const grads = (entries: [string, number[]][]) => new Map(entries.map(([n, v]) => [n, tf.tensor1d(v) as tf.Tensor]));
const values = (m: Map<string, tf.Variable>, n: string) => Array.from(m.get(n)!.dataSync());

describe('NesterovSgd', () => {
  it('two steps match PyTorch by hand (decay on weights, none on BN/bias)', () => {
    const p = vars([
      ['blocks.0.expand.w', [1, -2]],
      ['blocks.0.expand.bn.gamma', [1, -2]],
    ]);
    const opt = new NesterovSgd({ momentum: 0.9, nesterov: true, weightDecay: 0.1 });
    // Step 1, weight: d = g + λw = [0.5 + 0.1, −1 − 0.2] = [0.6, −1.2]; v = d; w −= 0.1·(d + 0.9 v) = 0.1·1.9·d
    opt.step(p, grads([['blocks.0.expand.w', [0.5, -1]], ['blocks.0.expand.bn.gamma', [0.5, -1]]]), 0.1);
    const w1 = [1 - 0.19 * 0.6, -2 + 0.19 * 1.2]; // [0.886, −1.772]
    expect(values(p, 'blocks.0.expand.w')[0]).toBeCloseTo(w1[0], 6);
    expect(values(p, 'blocks.0.expand.w')[1]).toBeCloseTo(w1[1], 6);
    // BN γ: no decay, d = g; w −= 0.19·g
    expect(values(p, 'blocks.0.expand.bn.gamma')).toEqual([expect.closeTo(1 - 0.095, 6), expect.closeTo(-2 + 0.19, 6)]);
    // Step 2 (lr 0.05), weight: d = g + λw1; v = 0.9·v1 + d; w −= 0.05·(d + 0.9 v)
    opt.step(p, grads([['blocks.0.expand.w', [0.2, 0.3]]]), 0.05);
    const v1 = [0.6, -1.2];
    const d2 = [0.2 + 0.1 * w1[0], 0.3 + 0.1 * w1[1]];
    const v2 = [0.9 * v1[0] + d2[0], 0.9 * v1[1] + d2[1]];
    const w2 = [w1[0] - 0.05 * (d2[0] + 0.9 * v2[0]), w1[1] - 0.05 * (d2[1] + 0.9 * v2[1])];
    expect(values(p, 'blocks.0.expand.w')[0]).toBeCloseTo(w2[0], 6);
    expect(values(p, 'blocks.0.expand.w')[1]).toBeCloseTo(w2[1], 6);
    // A parameter without a gradient this step did not move (and was not decayed).
    expect(values(p, 'blocks.0.expand.bn.gamma')).toEqual([expect.closeTo(0.905, 6), expect.closeTo(-1.81, 6)]);
    opt.dispose();
    for (const v of p.values()) v.dispose();
  });

  it('plain momentum (no Nesterov) steps by v', () => {
    const p = vars([['a.w', [1]]]);
    const opt = new NesterovSgd({ momentum: 0.9, nesterov: false });
    opt.step(p, grads([['a.w', [1]]]), 0.1); // v = 1, w = 0.9
    opt.step(p, grads([['a.w', [1]]]), 0.1); // v = 1.9, w = 0.71
    expect(values(p, 'a.w')[0]).toBeCloseTo(0.71, 6);
    opt.dispose();
  });

  it('keys buffers by name: a changing set of gradients keeps each buffer with its parameter', async () => {
    const p = vars([
      ['x.w', [0]],
      ['y.w', [0]],
    ]);
    const opt = new NesterovSgd({ momentum: 0.5 });
    opt.step(p, grads([['x.w', [1]]]), 1);
    opt.step(p, grads([['y.w', [2]]]), 1); // y's buffer starts at its own gradient, not x's
    const st = await opt.exportState();
    expect(Array.from(st.get('x.w')!.data)).toEqual([1]);
    expect(Array.from(st.get('y.w')!.data)).toEqual([2]);
    // Export → import into a fresh optimizer continues identically.
    const q = vars([['x.w', [5]]]);
    const r = vars([['x.w', [5]]]);
    const fresh = new NesterovSgd({ momentum: 0.5 });
    fresh.importState(st);
    fresh.step(q, grads([['x.w', [1]]]), 0.1);
    opt.step(r, grads([['x.w', [1]]]), 0.1);
    expect(values(q, 'x.w')).toEqual(values(r, 'x.w'));
    opt.dispose();
    fresh.dispose();
  });

  it('does not leak tensors per step', () => {
    const p = vars([['a.w', [1, 2, 3]]]);
    const opt = new NesterovSgd({ momentum: 0.9, weightDecay: 1e-4 });
    const g = grads([['a.w', [1, 1, 1]]]);
    opt.step(p, g, 0.1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.step(p, g, 0.1);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
  });
});
