/**
 * Supernet ops: the portable formulation against TF.js's own kernels ('native') on the cpu backend, outputs and
 * gradients (wrt inputs and weights, through tf.grads with a random upstream gradient dy), batch norm and pools
 * against hand computations, tensor leaks, and the portable ops on the WASM backend against the cpu results.
 *
 * Tolerance: every comparison is max_i |a_i − b_i| ≤ 1e-4 · max(max_i |b_i|, 1e-6), i.e. relative to the reference's
 * largest magnitude (an ∞-norm-relative error), unless a test states otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createOps, defaultOpsMode, type SupernetOps } from '../../../src-main/engine/ops';
import { wasmKernelsReady } from '../../../src-main/engine/ops/wasm-kernels';
import { Rng } from '../../../src-main/engine/core/rng';

const TOL = 1e-4;

function randn(rng: Rng, n: number, scale = 1, shift = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale + shift;
  return a;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxDiff)) maxDiff = d; // NaN-propagating
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-6);
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = TOL): void {
  const e = relErr(a, b);
  expect(e, `${what}: relative error ${e}`).toBeLessThanOrEqual(tol);
}

/** Output and gradients of op(...args) · dy with respect to every arg, as plain arrays. */
function valueAndGrads(
  f: (...args: tf.Tensor[]) => tf.Tensor,
  args: { data: Float32Array; shape: number[] }[],
  dyData: Float32Array,
): { y: Float32Array; yShape: number[]; grads: Float32Array[] } {
  return tf.tidy(() => {
    const ts = args.map((a) => tf.tensor(a.data, a.shape));
    const y = f(...ts);
    const dy = tf.tensor(dyData, y.shape);
    const g = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), dy)));
    const grads = g(ts).map((t) => t.dataSync() as Float32Array);
    return { y: y.dataSync() as Float32Array, yShape: y.shape, grads };
  });
}

/** Number of elements of f(...args), from a forward pass only. */
function outputSize(f: (...args: tf.Tensor[]) => tf.Tensor, args: { data: Float32Array; shape: number[] }[]): number {
  return tf.tidy(() => f(...args.map((a) => tf.tensor(a.data, a.shape))).size);
}

function compareOps(
  a: SupernetOps,
  b: SupernetOps,
  pick: (o: SupernetOps) => (...args: tf.Tensor[]) => tf.Tensor,
  args: { data: Float32Array; shape: number[] }[],
  rng: Rng,
  what: string,
): void {
  const dy = randn(rng, outputSize(pick(b), args));
  const r = valueAndGrads(pick(b), args, dy);
  const t = valueAndGrads(pick(a), args, dy);
  expect(t.yShape).toEqual(r.yShape);
  expectClose(t.y, r.y, `${what} output`);
  t.grads.forEach((g, i) => expectClose(g, r.grads[i], `${what} grad of arg ${i}`));
}

/** Portable as used: the WASM SIMD kernels, on the wasm and the cpu backend. */
const portableK = createOps('portable');
/** Portable without the SIMD kernels: the tf-op formulations (what other backends run). */
const portableTf = createOps('portable', { wasmKernels: false });
const portable = portableK;
const native = createOps('native');

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('defaultOpsMode', () => {
  it('picks native only where conv/depthwise gradients are fast kernels', () => {
    expect(defaultOpsMode('tensorflow')).toBe('native');
    expect(defaultOpsMode('webgl')).toBe('native');
    expect(defaultOpsMode('wasm')).toBe('portable');
    expect(defaultOpsMode('cpu')).toBe('portable');
    expect(createOps('portable').mode).toBe('portable');
    expect(createOps('native').mode).toBe('native');
  });
});

for (const [label, portable] of [
  ['SIMD kernels', portableK],
  ['tf-op formulation', portableTf],
] as const)
describe(`portable (${label}) vs native on cpu (outputs and gradients)`, () => {
  const rng = new Rng(label.length);
  for (const [n, h, w, cin, cout] of [
    [2, 7, 7, 5, 6],
    [3, 8, 9, 16, 8],
    [1, 4, 4, 24, 96],
  ]) {
    it(`pointwise [${n},${h},${w},${cin}]×[${cin},${cout}]`, () => {
      compareOps(portable, native, (o) => o.pointwise as (...a: tf.Tensor[]) => tf.Tensor, [
        { data: randn(rng, n * h * w * cin), shape: [n, h, w, cin] },
        { data: randn(rng, cin * cout), shape: [cin, cout] },
      ], rng, 'pointwise');
    });
  }

  for (const k of [3, 5])
    for (const s of [1, 2] as const)
      for (const [h, w] of [
        [7, 7],
        [8, 8],
        [9, 9],
        [16, 16],
        [8, 9],
      ])
        for (const c of [3, 8]) {
          it(`depthwise k${k} s${s} ${h}×${w} C${c}`, () => {
            compareOps(portable, native, (o) => (x, wt) => o.depthwise(x as tf.Tensor4D, wt as tf.Tensor4D, s), [
              { data: randn(rng, 2 * h * w * c), shape: [2, h, w, c] },
              { data: randn(rng, k * k * c), shape: [k, k, c, 1] },
            ], rng, 'depthwise');
          });
        }

  for (const k of [3, 5])
    for (const s of [1, 2] as const)
      for (const hw of [7, 8, 9, 16])
        for (const [cin, cout] of [
          [3, 4],
          [5, 8],
        ]) {
          it(`conv k${k} s${s} ${hw}×${hw} ${cin}→${cout}`, () => {
            compareOps(portable, native, (o) => (x, wt) => o.conv(x as tf.Tensor4D, wt as tf.Tensor4D, s), [
              { data: randn(rng, 2 * hw * hw * cin), shape: [2, hw, hw, cin] },
              { data: randn(rng, k * k * cin * cout), shape: [k, k, cin, cout] },
            ], rng, 'conv');
          });
        }

  it('gradients flow through weight slices (kernel centre crop, channel prefix) and input slices', () => {
    // A k=3 subnet uses the centre 3×3 of a 5×5 variable and the first C channels of it; the input is itself a slice.
    const bigW = { data: randn(rng, 5 * 5 * 12), shape: [5, 5, 12, 1] };
    const bigX = { data: randn(rng, 2 * 8 * 8 * 10), shape: [2, 8, 8, 10] };
    const bigP = { data: randn(rng, 10 * 16), shape: [10, 16] };
    const f = (o: SupernetOps) => (xb: tf.Tensor, wb: tf.Tensor, pb: tf.Tensor) => {
      const x = tf.slice(xb, [0, 0, 0, 0], [2, 8, 8, 6]) as tf.Tensor4D;
      const pw = tf.slice(pb, [0, 0], [6, 8]) as tf.Tensor2D;
      const dw = tf.slice(wb, [1, 1, 0, 0], [3, 3, 8, 1]) as tf.Tensor4D;
      return o.depthwise(o.pointwise(x, pw), dw, 2);
    };
    compareOps(portable, native, f as (o: SupernetOps) => (...a: tf.Tensor[]) => tf.Tensor, [bigX, bigW, bigP], rng, 'sliced');
  });

  it('matMul, swish and scaleChannels (extras)', () => {
    compareOps(portable, native, (o) => o.matMul as (...a: tf.Tensor[]) => tf.Tensor, [
      { data: randn(rng, 6 * 13), shape: [6, 13] },
      { data: randn(rng, 13 * 7), shape: [13, 7] },
    ], rng, 'matMul');
    compareOps(portable, native, (o) => (x) => o.swish(x), [{ data: randn(rng, 2 * 5 * 5 * 6, 4), shape: [2, 5, 5, 6] }], rng, 'swish 4D');
    compareOps(portable, native, (o) => (x) => o.swish(x), [{ data: randn(rng, 3 * 7, 30), shape: [3, 7] }], rng, 'swish 2D, large |x|');
    compareOps(portable, native, (o) => (x, sc) => o.scaleChannels(x as tf.Tensor4D, sc as tf.Tensor2D), [
      { data: randn(rng, 2 * 3 * 4 * 5), shape: [2, 3, 4, 5] },
      { data: randn(rng, 2 * 5), shape: [2, 5] },
    ], rng, 'scaleChannels');
  });
});

for (const [label, portable] of [
  ['SIMD kernels', portableK],
  ['tf-op formulation', portableTf],
] as const)
describe(`batch norm (portable: ${label})`, () => {
  const rng = new Rng(2 + label.length);
  const eps = 1e-5;

  it('train mode: mean, biased variance and y equal a hand computation', () => {
    const [n, h, w, c] = [3, 5, 4, 6];
    const m = n * h * w;
    const x = randn(rng, m * c, 2, 3);
    const g = randn(rng, c);
    const b = randn(rng, c);
    const out = tf.tidy(() => {
      const r = portable.batchNormTrain(tf.tensor4d(x, [n, h, w, c]), tf.tensor1d(g), tf.tensor1d(b), eps);
      return { y: r.y.dataSync(), mean: r.mean.dataSync(), variance: r.variance.dataSync(), shapes: [r.mean.shape, r.variance.shape] };
    });
    expect(out.shapes).toEqual([[c], [c]]);
    const mean = new Float64Array(c);
    const vari = new Float64Array(c);
    for (let i = 0; i < m; i++) for (let j = 0; j < c; j++) mean[j] += x[i * c + j] / m;
    for (let i = 0; i < m; i++) for (let j = 0; j < c; j++) vari[j] += (x[i * c + j] - mean[j]) ** 2 / m;
    const y = new Float64Array(m * c);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < c; j++) y[i * c + j] = (g[j] * (x[i * c + j] - mean[j])) / Math.sqrt(vari[j] + eps) + b[j];
    expectClose(out.mean, mean, 'mean');
    expectClose(out.variance, vari, 'variance');
    expectClose(out.y, y, 'y');
  });

  for (const [n, h, w, c, shift] of [
    [2, 7, 7, 5, 0],
    [4, 8, 8, 16, 5],
    [64, 2, 2, 3, -1],
  ]) {
    it(`train mode [${n},${h},${w},${c}] (mean shift ${shift}): y, mean, var and grads wrt x, gamma, beta vs moments+batchNorm`, () => {
      const args = [
        { data: randn(rng, n * h * w * c, 1.5, shift), shape: [n, h, w, c] },
        { data: randn(rng, c), shape: [c] },
        { data: randn(rng, c), shape: [c] },
      ];
      // y alone (the training path) ...
      compareOps(portable, native, (o) => (x, g, b) => o.batchNormTrain(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, eps).y, args, rng, 'bn y');
      // ... and a loss that also reads mean and variance, so their (folded-in) gradients are checked too.
      compareOps(portable, native, (o) => (x, g, b) => {
        const r = o.batchNormTrain(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, eps);
        return tf.concat([tf.reshape(r.y, [-1]), tf.mul(r.mean, 3), tf.mul(r.variance, -2)]);
      }, args, rng, 'bn y+mean+var');
    });
  }

  it('eval mode equals a hand computation and native', () => {
    const [n, h, w, c] = [2, 3, 3, 4];
    const x = randn(rng, n * h * w * c);
    const mu = randn(rng, c);
    const va = Float32Array.from(randn(rng, c), (v) => v * v + 0.1);
    const g = randn(rng, c);
    const b = randn(rng, c);
    const run = (o: SupernetOps) =>
      tf.tidy(() => o.batchNormEval(tf.tensor4d(x, [n, h, w, c]), tf.tensor1d(mu), tf.tensor1d(va), tf.tensor1d(g), tf.tensor1d(b), eps).dataSync());
    const y = Array.from(x, (v, i) => (g[i % c] * (v - mu[i % c])) / Math.sqrt(va[i % c] + eps) + b[i % c]);
    expectClose(run(portable), y, 'bn eval portable');
    expectClose(run(native), y, 'bn eval native');
  });
});

for (const [label, portable] of [
  ['SIMD kernels', portableK],
  ['tf-op formulation', portableTf],
] as const)
describe(`pools (portable: ${label})`, () => {
  const rng = new Rng(3 + label.length);

  /** PyTorch AvgPool2d(2, 2, padding=p, count_include_pad=True), p = 1 when H or W is odd. */
  function shortcutPoolRef(x: Float32Array, [n, h, w, c]: number[]): { y: Float64Array; shape: number[] } {
    const p = h % 2 === 1 || w % 2 === 1 ? 1 : 0;
    const ho = Math.floor((h + 2 * p - 2) / 2) + 1;
    const wo = Math.floor((w + 2 * p - 2) / 2) + 1;
    const y = new Float64Array(n * ho * wo * c);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++)
          for (let ch = 0; ch < c; ch++) {
            let s = 0;
            for (let di = 0; di < 2; di++)
              for (let dj = 0; dj < 2; dj++) {
                const r = 2 * i + di - p;
                const q = 2 * j + dj - p;
                if (r >= 0 && r < h && q >= 0 && q < w) s += x[((b * h + r) * w + q) * c + ch];
              }
            y[((b * ho + i) * wo + j) * c + ch] = s / 4; // padding counted
          }
    return { y, shape: [n, ho, wo, c] };
  }

  for (const hw of [7, 9, 5, 8, 16]) {
    it(`shortcutPool ${hw}×${hw} equals the count_include_pad reference; gradients match native`, () => {
      const shape = [2, hw, hw, 3];
      const x = randn(rng, 2 * hw * hw * 3);
      const ref = shortcutPoolRef(x, shape);
      for (const o of [portable, native]) {
        const out = tf.tidy(() => {
          const y = o.shortcutPool(tf.tensor4d(x, shape as [number, number, number, number]));
          return { y: y.dataSync(), shape: y.shape };
        });
        expect(out.shape).toEqual(ref.shape);
        expectClose(out.y, ref.y, `shortcutPool ${o.mode}`);
      }
      compareOps(portable, native, (o) => (t) => o.shortcutPool(t as tf.Tensor4D), [{ data: x, shape }], rng, 'shortcutPool');
    });
  }

  it('globalAvgPool equals the mean over H,W; gradients match native', () => {
    const shape = [3, 5, 4, 7];
    const x = randn(rng, 3 * 5 * 4 * 7);
    const ref = new Float64Array(3 * 7);
    for (let b = 0; b < 3; b++) for (let i = 0; i < 20; i++) for (let c = 0; c < 7; c++) ref[b * 7 + c] += x[(b * 20 + i) * 7 + c] / 20;
    const out = tf.tidy(() => {
      const y = portable.globalAvgPool(tf.tensor4d(x, shape as [number, number, number, number]));
      return { y: y.dataSync(), shape: y.shape };
    });
    expect(out.shape).toEqual([3, 7]);
    expectClose(out.y, ref, 'globalAvgPool');
    compareOps(portable, native, (o) => (t) => o.globalAvgPool(t as tf.Tensor4D), [{ data: x, shape }], rng, 'globalAvgPool');
  });
});

/** One forward+backward through every portable op, as a supernet block would chain them. */
function blockStep(o: SupernetOps, rng: Rng) {
  const x = tf.tensor4d(randn(rng, 2 * 9 * 9 * 3), [2, 9, 9, 3]);
  const stem = tf.tensor4d(randn(rng, 27 * 8), [3, 3, 3, 8]);
  const pw = tf.tensor2d(randn(rng, 8 * 16), [8, 16]);
  const dw = tf.tensor4d(randn(rng, 25 * 16), [5, 5, 16, 1]);
  const g = tf.tensor1d(randn(rng, 16));
  const b = tf.tensor1d(randn(rng, 16));
  const loss = (xi: tf.Tensor, s: tf.Tensor, p: tf.Tensor, d: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
    const h0 = o.conv(xi as tf.Tensor4D, s as tf.Tensor4D, 1);
    const h1 = o.pointwise(h0, p as tf.Tensor2D);
    const h2 = o.depthwise(h1, d as tf.Tensor4D, 2);
    const bn = o.batchNormTrain(h2, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5);
    const sc = o.shortcutPool(h1);
    const act = o.swish(tf.add(bn.y, sc) as tf.Tensor4D);
    const pooled = o.globalAvgPool(o.scaleChannels(act, tf.sigmoid(o.globalAvgPool(act))));
    return tf.sum(o.matMul(pooled, tf.transpose(p) as tf.Tensor2D));
  };
  const { value, grads } = tf.valueAndGrads(loss)([x, stem, pw, dw, g, b]);
  return [value, ...grads];
}

/** The live tensor count after each of 4 tidy-wrapped forward+backward steps of every op. */
function tensorCountsOverSteps(o: Parameters<typeof blockStep>[0], rng: Rng): number[] {
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) {
    tf.tidy(() => {
      blockStep(o, rng).forEach((t) => t.dataSync());
    });
    counts.push(tf.memory().numTensors);
  }
  return counts;
}

describe('memory', () => {
  it('no tensor leaks across repeated tidy-wrapped forward+backward of every portable op (both variants, cpu)', () => {
    const rng = new Rng(4);
    for (const o of [portableK, portableTf]) {
      const counts = tensorCountsOverSteps(o, rng);
      expect(counts[3]).toBe(counts[1]);
      expect(counts[2]).toBe(counts[1]);
    }
  });
});

describe('portable ops on the WASM backend', () => {
  let wasmOk = false;
  beforeAll(async () => {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      wasmOk = await tf.setBackend('wasm');
      await tf.ready();
    } catch {
      wasmOk = false;
    }
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  /**
   * Runs op with native ops on cpu, then with `o` on wasm, same inputs and dy, and compares outputs and gradients; also
   * checks the wasm run leaves no tensor behind.
   */
  async function crossCheck(
    o: SupernetOps,
    pick: (o: SupernetOps) => (...args: tf.Tensor[]) => tf.Tensor,
    args: { data: Float32Array; shape: number[] }[],
    rng: Rng,
    what: string,
  ) {
    await tf.setBackend('cpu');
    const dy = randn(rng, outputSize(pick(native), args));
    const ref = valueAndGrads(pick(native), args, dy);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = valueAndGrads(pick(o), args, dy);
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    expect(got.yShape).toEqual(ref.yShape);
    expectClose(got.y, ref.y, `wasm ${what} output`);
    got.grads.forEach((g, i) => expectClose(g, ref.grads[i], `wasm ${what} grad of arg ${i}`));
  }

  it('loads (skips the rest if the WASM backend cannot start here)', () => {
    if (!wasmOk) console.warn('WASM backend did not load; WASM checks skipped');
    expect(typeof wasmOk).toBe('boolean');
  });

  it('the SIMD kernels instantiate inside the WASM backend (and on cpu, in a memory of their own)', async () => {
    if (!wasmOk) return;
    expect(wasmKernelsReady()).toBe(true); // cpu
    await tf.setBackend('wasm');
    const ready = wasmKernelsReady();
    // Setting them up makes Identity (what TF.js uses to save tensors for backprop) and same-dtype Cast share buffers.
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    const shared = tf.tidy(() => y.dataId === x.dataId && tf.cast(x, 'float32').dataId === x.dataId);
    const converted = tf.tidy(() => Array.from(tf.cast(tf.tensor1d([1.7, -2.2]), 'int32').dataSync())); // real casts still convert
    x.dispose();
    const values = Array.from(y.dataSync());
    y.dispose();
    await tf.setBackend('cpu');
    expect(ready).toBe(true);
    expect(shared).toBe(true);
    expect(values).toEqual([1, 2, 3]);
    expect(converted).toEqual([1, -2]);
  });

  it('the patched Slice kernel on wasm equals the stock slice on cpu (ranks 1–5, float32 and int32, -1 sizes, empty)', async () => {
    if (!wasmOk) return;
    const rng = new Rng(7);
    const cases: [number[], number[], number[]][] = [
      [[10], [3], [5]],
      [[6, 7], [1, 2], [4, -1]],
      [[5, 5, 9, 1], [1, 1, 0, 0], [3, 3, 7, 1]],
      [[2, 4, 5, 6], [0, 1, 2, 3], [2, 2, 3, 3]],
      [[3, 4, 5], [1, 0, 0], [2, 4, 5]],
      [[2, 3, 4, 5, 6], [1, 0, 1, 2, 0], [1, 3, 2, 2, 6]],
      [[4, 4], [1, 1], [0, 2]],
    ];
    for (const dtype of ['float32', 'int32'] as const) {
      for (const [shape, begin, size] of cases) {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = dtype === 'int32' ? Int32Array.from({ length: n }, () => rng.int(1000) - 500) : randn(rng, n);
        await tf.setBackend('cpu');
        const ref = tf.tidy(() => {
          const y = tf.slice(tf.tensor(data, shape, dtype), begin, size);
          return { v: Array.from(y.dataSync()), s: y.shape };
        });
        await tf.setBackend('wasm');
        const got = tf.tidy(() => {
          const y = tf.slice(tf.tensor(data, shape, dtype), begin, size);
          return { v: Array.from(y.dataSync()), s: y.shape, d: y.dtype };
        });
        await tf.setBackend('cpu');
        expect(got.s).toEqual(ref.s);
        expect(got.d).toBe(dtype);
        expect(got.v).toEqual(ref.v);
      }
    }
  });

  for (const [label, o] of [
    ['SIMD kernels', portable],
    ['tf-op formulation', portableTf],
  ] as const) {
    describe(`portable ops on wasm (${label}) match native on cpu`, () => {
      const rng = new Rng(label.length);
      it('pointwise', async () => {
        if (!wasmOk) return;
        for (const [n, h, w, cin, cout] of [
          [2, 7, 7, 5, 6],
          [2, 8, 8, 12, 20],
          [1, 4, 4, 24, 96],
          [3, 3, 5, 9, 3],
        ])
          await crossCheck(o, (q) => q.pointwise as (...a: tf.Tensor[]) => tf.Tensor, [
            { data: randn(rng, n * h * w * cin), shape: [n, h, w, cin] },
            { data: randn(rng, cin * cout), shape: [cin, cout] },
          ], rng, `pointwise ${cin}→${cout}`);
      });
      for (const k of [3, 5])
        for (const s of [1, 2] as const)
          it(`depthwise and conv k${k} s${s}, odd/even/non-square sizes, channel tails`, async () => {
            if (!wasmOk) return;
            for (const [h, w, c] of [
              [7, 7, 5],
              [8, 8, 24],
              [9, 9, 12],
              [16, 16, 8],
              [8, 9, 37],
              [4, 4, 3],
            ]) {
              await crossCheck(o, (q) => (x, wt) => q.depthwise(x as tf.Tensor4D, wt as tf.Tensor4D, s), [
                { data: randn(rng, 2 * h * w * c), shape: [2, h, w, c] },
                { data: randn(rng, k * k * c), shape: [k, k, c, 1] },
              ], rng, `depthwise k${k} s${s} ${h}×${w} C${c}`);
              const [cin, cout] = c % 2 ? [3, 8] : [5, 6];
              await crossCheck(o, (q) => (x, wt) => q.conv(x as tf.Tensor4D, wt as tf.Tensor4D, s), [
                { data: randn(rng, 2 * h * w * cin), shape: [2, h, w, cin] },
                { data: randn(rng, k * k * cin * cout), shape: [k, k, cin, cout] },
              ], rng, `conv k${k} s${s} ${h}×${w} ${cin}→${cout}`);
            }
          });
      it('batchNormTrain (y, mean, variance and all gradients) and batchNormEval', async () => {
        if (!wasmOk) return;
        for (const [n, hw, c, shift] of [
          [4, 8, 16, 1],
          [64, 4, 24, 1],
          [3, 5, 5, 1],
          [2, 3, 37, 1],
          [4, 8, 12, 50], // mean ≫ std: the statistics must not cancel
        ]) {
          await crossCheck(o, (q) => (x, g, b) => {
            const r = q.batchNormTrain(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
            return tf.concat([tf.reshape(r.y, [-1]), tf.mul(r.mean, 2), tf.mul(r.variance, -3)]);
          }, [
            { data: randn(rng, n * hw * hw * c, 2, shift), shape: [n, hw, hw, c] },
            { data: randn(rng, c), shape: [c] },
            { data: randn(rng, c), shape: [c] },
          ], rng, `batchNormTrain C${c} shift ${shift}`);
          await crossCheck(o, (q) => (x, mu, va, g, b) =>
            q.batchNormEval(x as tf.Tensor4D, mu as tf.Tensor1D, tf.add(tf.square(va), 0.1) as tf.Tensor1D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), [
            { data: randn(rng, n * hw * hw * c, 2, 1), shape: [n, hw, hw, c] },
            { data: randn(rng, c), shape: [c] },
            { data: randn(rng, c), shape: [c] },
            { data: randn(rng, c), shape: [c] },
            { data: randn(rng, c), shape: [c] },
          ], rng, `batchNormEval C${c}`);
        }
      });
      it('matMul, swish and scaleChannels (extras)', async () => {
        if (!wasmOk) return;
        for (const [m, k, n] of [
          [16, 96, 80],
          [7, 5, 9],
          [13, 8, 3],
        ])
          await crossCheck(o, (q) => q.matMul as (...a: tf.Tensor[]) => tf.Tensor, [
            { data: randn(rng, m * k), shape: [m, k] },
            { data: randn(rng, k * n), shape: [k, n] },
          ], rng, `matMul ${m}×${k}×${n}`);
        // Scales 1…60 cover the polynomial range and the clamp of the SIMD exp; 2×3×3×7 leaves a scalar tail.
        for (const scale of [1, 8, 60])
          await crossCheck(o, (q) => (x) => q.swish(x), [{ data: randn(rng, 2 * 3 * 3 * 7, scale), shape: [2, 3, 3, 7] }], rng, `swish ×${scale}`);
        for (const [n, h, w, c] of [
          [2, 3, 4, 5],
          [4, 8, 8, 24],
        ])
          await crossCheck(o, (q) => (x, sc) => q.scaleChannels(x as tf.Tensor4D, sc as tf.Tensor2D), [
            { data: randn(rng, n * h * w * c), shape: [n, h, w, c] },
            { data: randn(rng, n * c), shape: [n, c] },
          ], rng, `scaleChannels C${c}`);
      });
      it('shortcutPool and globalAvgPool', async () => {
        if (!wasmOk) return;
        for (const [h, w, c] of [
          [7, 7, 5],
          [8, 8, 8],
          [9, 9, 6],
          [8, 9, 3],
        ])
          await crossCheck(o, (q) => (x) => q.shortcutPool(x as tf.Tensor4D), [{ data: randn(rng, 2 * h * w * c), shape: [2, h, w, c] }], rng, `shortcutPool ${h}×${w}`);
        for (const [h, w, c] of [
          [4, 4, 5],
          [3, 5, 16],
        ])
          await crossCheck(o, (q) => (x) => q.globalAvgPool(x as tf.Tensor4D), [{ data: randn(rng, 2 * h * w * c), shape: [2, h, w, c] }], rng, 'globalAvgPool');
      });
    });
  }

  it('no tensor leaks on wasm across repeated forward+backward (kernels and tf-op formulation)', async () => {
    if (!wasmOk) return;
    await tf.setBackend('wasm');
    const rng = new Rng(6);
    for (const o of [portable, portableTf]) {
      const counts = tensorCountsOverSteps(o, rng);
      expect(counts[3]).toBe(counts[1]);
    }
    await tf.setBackend('cpu');
  });
});
