/**
 * The supernet: shapes, gradient routing through slices, a finite-difference check of a whole tiny subnet, the MACs
 * of the ops that actually ran against the analytic count, and tensor leaks. Runs on the CPU backend with the
 * portable ops (the formulation every non-native backend trains with); the ImageNet space runs only in the slow
 * suite (ALPHANET_SLOW_TESTS=1, set by CI) because its max subnet is 1.9 GMACs at 288×288.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createOps } from '../../../src-main/engine/ops';
import { Rng } from '../../../src-main/engine/core/rng';
import { Supernet, type LayerHook, type Regularize } from '../../../src-main/engine/supernet';
import { listSpaces } from '../../../src-main/engine/core/registry';
import { maxGenome, minGenome, randomGenome } from '../../../src-main/engine/core/genome';
import type { Genome, SearchSpace } from '../../../src-main/engine/core/schema';
import { TINY } from './tiny-space';
import { subnetCost } from '../../../src-main/engine/core/flops';

const SLOW = process.env.ALPHANET_SLOW_TESTS === '1';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Random γ (instead of the zero init of the residual BNs) so that every part of every branch gets a gradient. */
function perturb(net: Supernet, rng: Rng) {
  for (const [name, v] of net.params) {
    if (name.endsWith('.bn.gamma') || name.endsWith('.bn.beta') || name.endsWith('.b')) {
      const vals = Float32Array.from({ length: v.size }, () => (name.endsWith('gamma') ? 0.5 + rng.next() : 0.2 + 0.3 * rng.next()));
      tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
    }
  }
}

function input(space: SearchSpace, n: number, size: number, seed: number): tf.Tensor4D {
  return tf.randomNormal([n, size, size, space.inputChannels], 0, 1, 'float32', seed) as tf.Tensor4D;
}

const subnetsOf = (space: SearchSpace): [string, Genome][] => {
  const rng = new Rng(11);
  return [
    ['min', minGenome(space)],
    ['max', maxGenome(space)],
    ['random 1', randomGenome(space, rng)],
    ['random 2', randomGenome(space, rng)],
    ['random 3', randomGenome(space, rng)],
  ];
};

/** Checks that gradients reach exactly the sliced region of every parameter. */
function checkGradientRouting(net: Supernet, g: Genome, x: tf.Tensor4D) {
  const regions = net.subnetParamRegions(g);
  const { value, grads } = tf.variableGrads(() => {
    const logits = net.forward(x, g);
    const r = tf.randomNormal(logits.shape, 0, 1, 'float32', 5);
    return tf.sum(tf.mul(logits, r)) as tf.Scalar;
  }, [...net.params.values()]);
  const logitsShape = tf.tidy(() => net.forward(x, g).shape);
  expect(logitsShape).toEqual([x.shape[0], net.numClasses]);
  expect(Number.isFinite(value.dataSync()[0])).toBe(true);
  const got = new Set(Object.keys(grads).map((k) => net.shortName(k)));
  expect([...got].sort()).toEqual([...regions.keys()].sort());
  for (const [varName, gt] of Object.entries(grads)) {
    const name = net.shortName(varName);
    const region = regions.get(name)!;
    const [outside, inside, insideNonZero, finite] = tf.tidy(() => {
      const mask = tf.pad(tf.ones(region.size), region.begin.map((b, d) => [b, gt.shape[d] - b - region.size[d]] as [number, number]));
      const nonZero = tf.cast(tf.notEqual(gt, 0), 'float32');
      return [
        tf.sum(tf.mul(tf.abs(gt), tf.sub(1, mask))),
        tf.sum(mask),
        tf.sum(tf.mul(nonZero, mask)),
        tf.all(tf.isFinite(gt)),
      ].map((t) => t.dataSync()[0]);
    });
    expect(finite, `${name} has a non-finite gradient`).toBe(1);
    expect(outside, `${name}: gradient outside the slice (begin ${region.begin}, size ${region.size})`).toBe(0);
    // The β of a block's last BN shifts each channel by a constant that every later path cancels in a following BN
    // (batch statistics): its gradient is zero up to rounding, so only its routing is checked. Everything else must
    // learn almost everywhere (ReLU in SE can silence a few entries).
    if (!name.endsWith('project.bn.beta')) expect(insideNonZero / inside, name).toBeGreaterThan(0.8);
  }
  tf.dispose([value, ...Object.values(grads)]);
}

describe('supernet forward and gradient routing', () => {
  const spaces = [TINY, ...listSpaces().filter((s) => SLOW || s.id !== 'alphanet-imagenet')];
  for (const space of spaces) {
    // Fast suite: every subnet of the tiny space and one random subnet of each real space; the slow suite runs all.
    for (const [label, g] of subnetsOf(space).filter(([l]) => SLOW || space === TINY || l === 'random 1')) {
      it(`${space.id} ${label}: logits shape, no NaN, gradients reach exactly the sliced weights`, () => {
        const net = new Supernet({ space, ops: createOps('portable'), seed: 1 });
        perturb(net, new Rng(2));
        const size = space.resolutions[space.resolutions.length - 1];
        const x = input(space, 2, size, 3);
        checkGradientRouting(net, g, x);
        x.dispose();
        net.dispose();
      });
    }
  }
});

describe('supernet numerics', () => {
  it('matches finite differences on a whole tiny subnet', () => {
    const net = new Supernet({ space: TINY, ops: createOps('portable'), seed: 4 });
    const rng = new Rng(5);
    perturb(net, rng);
    const g = randomGenome(TINY, new Rng(8));
    g.depth = [2, 2, 2];
    g.kernelSize = [5, 3, 5];
    const x = input(TINY, 3, 9, 6);
    const r = tf.randomNormal([3, TINY.numClasses], 0, 1, 'float32', 7);
    const loss = () => tf.tidy(() => tf.sum(tf.mul(net.forward(x, g), r)).dataSync()[0]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(net.forward(x, g), r)) as tf.Scalar, [...net.params.values()]);
    const regions = net.subnetParamRegions(g);
    let checked = 0;
    let worst = 0;
    for (const [name, region] of regions) {
      const v = net.param(name);
      const grad = grads[net.varPrefix + name].dataSync();
      const strides = v.shape.map((_, i) => v.shape.slice(i + 1).reduce((a, b) => a * b, 1));
      for (let t = 0; t < 1; t++) {
        const idx = region.begin.map((b, d) => b + rng.int(region.size[d]));
        const flat = idx.reduce((a, i, d) => a + i * strides[d], 0);
        const orig = v.dataSync()[flat];
        // Five-point stencil: truncation error O(h⁴), so h can stay large enough for float32 round-off.
        const h = 1e-2 * Math.max(1, Math.abs(orig));
        const set = (val: number) => {
          const vals = v.dataSync().slice();
          vals[flat] = val;
          tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
        };
        const at = (d: number) => {
          set(orig + d);
          return loss();
        };
        const fd = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
        set(orig);
        const err = Math.abs(fd - grad[flat]) / Math.max(1e-2, Math.abs(fd), Math.abs(grad[flat]));
        worst = Math.max(worst, err);
        expect(err, `${name}[${idx}] fd ${fd} analytic ${grad[flat]}`).toBeLessThan(2e-2);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(25);
    tf.dispose([x, r, ...Object.values(grads)]);
    net.dispose();
  });

  it('zero-initialises the last BN γ of every block and nothing else', () => {
    const net = new Supernet({ space: TINY, ops: createOps('portable') });
    for (const [name, v] of net.params) {
      if (name.endsWith('.bn.gamma')) expect(Array.from(v.dataSync()).every((x) => x === (name.endsWith('project.bn.gamma') ? 0 : 1))).toBe(true);
    }
    net.dispose();
  });
});

/** MACs of one executed layer, from the shapes that actually ran (batch 1). */
function macsOf(layer: Parameters<LayerHook>[0]): number {
  const [, ho, wo] = layer.output;
  const w = layer.weight;
  switch (layer.kind) {
    case 'conv':
      return w[0] * w[1] * w[2] * w[3] * ho * wo;
    case 'depthwise':
      return w[0] * w[1] * w[2] * ho * wo;
    case 'pointwise':
      return w[0] * w[1] * ho * wo;
    case 'linear':
      return w[0] * w[1];
  }
}

describe('executed MACs equal the analytic count', () => {
  for (const space of [TINY, ...listSpaces().filter((s) => SLOW || s.id !== 'alphanet-imagenet')]) {
    it(`${space.id}: min, max and random subnets`, () => {
      const net = new Supernet({ space, ops: createOps('portable') });
      const rng = new Rng(21);
      const genomes = [minGenome(space), maxGenome(space), randomGenome(space, rng), randomGenome(space, rng)];
      for (const g of genomes) {
        let macs = 0;
        let layers = 0;
        tf.tidy(() => {
          net.forward(input(space, 1, g.resolution, 1), g, {
            hook: (l) => {
              macs += macsOf(l);
              layers++;
            },
          });
        });
        expect(layers).toBeGreaterThan(5);
        expect(macs).toBe(subnetCost(space, g).macs);
      }
      net.dispose();
    });
  }
});

describe('regularize with given keep masks (a replay)', () => {
  it('asks for drop-connect masks per regularised block in block order at keep 1 − rate · scale, then the dropout mask', () => {
    const net = new Supernet({ space: TINY, ops: createOps('portable') });
    const x = input(TINY, 3, 9, 4);
    const g = maxGenome(TINY);
    const plan = net.plan(g);
    const asked: [number[], number][] = [];
    const masks = (shape: number[], keep: number) => {
      asked.push([shape, keep]);
      return tf.ones(shape);
    };
    tf.dispose(net.forward(x, g, { regularize: { dropout: 0.5, dropConnect: 0.4, masks } }));
    const want: [number[], number][] = plan.blocks.filter((b) => b.dropConnectScale > 0).map((b) => [[3, 1, 1, 1], 1 - 0.4 * b.dropConnectScale]);
    expect(want.length).toBeGreaterThan(1);
    want.push([[3, plan.head.cLast], 0.5]);
    expect(asked).toEqual(want);
    x.dispose();
    net.dispose();
  });

  it('kept entries scale by 1/keep, dropped ones vanish: all-ones dropout doubles the classifier input at rate 0.5, all-zeros leaves the bias', async () => {
    const net = new Supernet({ space: TINY, ops: createOps('portable') });
    perturb(net, new Rng(2));
    const x = input(TINY, 3, 9, 4);
    const g = maxGenome(TINY);
    const fill = (v: number) => (shape: number[]) => tf.fill(shape, v);
    const logits = (reg?: Regularize) => {
      const t = tf.tidy(() => net.forward(x, g, reg ? { regularize: reg } : {}));
      const rows = t.arraySync() as number[][];
      t.dispose();
      return rows;
    };
    const plain = logits();
    const ones = logits({ dropout: 0.5, dropConnect: 0, masks: fill(1) });
    const zeros = logits({ dropout: 0.5, dropConnect: 0, masks: fill(0) });
    const bias = Array.from(await net.params.get('classifier.b')!.data());
    plain.forEach((row, i) =>
      row.forEach((v, j) => {
        expect(ones[i][j] - bias[j]).toBeCloseTo(2 * (v - bias[j]), 4);
        expect(zeros[i][j]).toBeCloseTo(bias[j], 6);
      }),
    );
    expect(Math.max(...plain.flat().map((v, k) => Math.abs(v - bias[k % bias.length])))).toBeGreaterThan(1e-2);
    x.dispose();
    net.dispose();
  });
});

describe('memory', () => {
  it('a disposed supernet leaves no tensor behind (its initial values included)', () => {
    const before = tf.memory().numTensors;
    const net = new Supernet({ space: TINY, ops: createOps('portable') });
    expect(tf.memory().numTensors - before).toBe(net.params.size);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('no tensor leak: the count after 100 forward+backward steps equals the count after 10', () => {
    const net = new Supernet({ space: TINY, ops: createOps('portable') });
    const x = input(TINY, 2, 9, 1);
    const rng = new Rng(3);
    const step = () => {
      const g = randomGenome(TINY, rng);
      const { value, grads } = tf.variableGrads(() => tf.mean(net.forward(x, g, { regularize: { dropout: 0.2, dropConnect: 0.2, rng } })) as tf.Scalar, [
        ...net.params.values(),
      ]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    for (let i = 0; i < 10; i++) step();
    const after10 = tf.memory().numTensors;
    for (let i = 0; i < 90; i++) step();
    expect(tf.memory().numTensors).toBe(after10);
    x.dispose();
    net.dispose();
  });
});
