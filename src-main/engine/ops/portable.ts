/**
 * The portable formulation: each op is a custom op (common.ts `customOp`) with a hand-written gradient, in two tiers
 * chosen at every call:
 * - on the `'wasm'` and `'cpu'` backends with the SIMD kernels of wasm-kernels.ts (the fast path; see there);
 * - elsewhere, tf-op formulations whose gradients only need kernels every backend has: pointwise and im2col conv as
 *   matMuls with explicitly transposed gradients, depthwise forward on tf.depthwiseConv2d with its input gradient as a
 *   depthwise forward over the zero-dilated dy and its filter gradient as k² window·dy products, batch norm as a few
 *   elementwise ops with matMul column sums. These are for correctness, not speed: on wasm their window slices
 *   are slow (the stock Slice copies its whole input out to JS unless patched).
 */
import * as tf from '@tensorflow/tfjs';
import type { SupernetOps } from './types';
import { convOutSize, customOp, symPad, tapWindows } from './common';
import * as K from './wasm-kernels';

/** Per-channel sum over the first axis of a [M,C] matrix, as a matMul with a ones row: far faster on WASM than
 * tf.sum over axis 0. Returns [1,C]. */
function colSum(x2: tf.Tensor2D, scale = 1): tf.Tensor2D {
  return tf.matMul(tf.fill([1, x2.shape[0]], scale), x2);
}

/**
 * [M,K] × [K,N] matMul whose gradients transpose explicitly instead of passing transpose flags (the flagged WASM
 * matMul is a naive loop, ~10× slower). With the WASM kernels, all three products are ours: measured in a max-subnet
 * step, XNNPACK's matMul as TF.js drives it (weights repacked every call) took about twice as long as gemm_nn.
 */
function matMulNT(a: tf.Tensor2D, b: tf.Tensor2D, kernels: boolean): tf.Tensor2D {
  const mm = (x: tf.Tensor, y: tf.Tensor): tf.Tensor2D =>
    kernels ? K.runWasmKernel<tf.Tensor2D>(K.K_GEMM_NN, { a: x, b: y }) : tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D);
  return customOp(
    [a, b],
    (save) => {
      save([a, b]);
      return mm(a, b);
    },
    (dy, [as, bs]) => [
      () => mm(dy, tf.transpose(bs)),
      // aᵀ·dy straight from a [M,K] (a is big, M = N·H·W): no transpose pass over it on WASM.
      () => (kernels ? K.runWasmKernel<tf.Tensor2D>(K.K_GEMM_TN, { a: as, b: dy }) : tf.matMul(tf.transpose(as), dy)),
    ],
  );
}

function pointwise(this: Ctx, x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D {
  const [n, h, wd, cin] = x.shape;
  const y = matMulNT(tf.reshape(x, [n * h * wd, cin]), w, this.kernels());
  return tf.reshape(y, [n, h, wd, w.shape[1]]);
}

/**
 * Gradient of a symmetric-padded depthwise conv with respect to its input, from the depthwise *forward* kernel (which
 * every backend has): a stride-1 correlation of dy, zero-dilated by the stride, with the spatially flipped filter.
 */
function depthwiseInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number], s: 1 | 2, p: number): tf.Tensor4D {
  const k = w.shape[0];
  const [n, h, wd, c] = xShape;
  const [, ho, wo] = dy.shape;
  let d = dy;
  let hd = ho;
  let wdd = wo;
  if (s === 2) {
    // Interleave zeros after every column and row: [N,Ho,Wo,C] → [N,2Ho,2Wo,C]; the trailing zero row/column is
    // absorbed into the bottom/right padding below.
    const z = tf.zeros([n, ho, wo, 1, c]);
    d = tf.reshape(tf.concat([tf.reshape(d, [n, ho, wo, 1, c]), z], 3), [n, ho, 2 * wo, c]);
    const z2 = tf.zeros([n, ho, 1, 2 * wo, c]);
    d = tf.reshape(tf.concat([tf.reshape(d, [n, ho, 1, 2 * wo, c]), z2], 2), [n, 2 * ho, 2 * wo, c]);
    hd = 2 * ho;
    wdd = 2 * wo;
  }
  const top = k - 1 - p;
  // Output rows = hd + top + bottom − k + 1 must equal h.
  const bottom = h - hd - top + k - 1;
  const right = wd - wdd - top + k - 1;
  if (bottom < 0 || right < 0) {
    d = tf.slice(d, [0, 0, 0, 0], [n, hd + Math.min(0, bottom), wdd + Math.min(0, right), c]);
  }
  const wf = tf.reverse(w, [0, 1]) as tf.Tensor4D;
  return tf.depthwiseConv2d(d, wf, 1, [
    [0, 0],
    [top, Math.max(0, bottom)],
    [top, Math.max(0, right)],
    [0, 0],
  ]);
}

/** Gradient of a symmetric-padded depthwise conv with respect to its filter: for each tap, Σ_{n,h,w} window·dy. */
function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, s: 1 | 2, p: number): tf.Tensor4D {
  const c = x.shape[3];
  const m = dy.shape[0] * dy.shape[1] * dy.shape[2];
  const dy2 = tf.reshape(dy, [m, c]);
  const ones = tf.ones([1, m]);
  const rows = tapWindows(x, k, s, p).map((t) => tf.matMul(ones, tf.mul(tf.reshape(t, [m, c]), dy2)));
  return tf.reshape(tf.concat(rows, 0), [k, k, c, 1]);
}

function depthwise(this: Ctx, x: tf.Tensor4D, w: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D {
  const k = w.shape[0];
  const p = k >> 1;
  if (this.kernels()) {
    const [, h, wd] = x.shape;
    return customOp(
      [x, w],
      (save) => {
        save([x, w]);
        return K.runWasmKernel<tf.Tensor4D>(K.K_DW_FORWARD, { x, w }, { stride, pad: p });
      },
      (dy, [xs, ws]) => [
        () => K.runWasmKernel<tf.Tensor4D>(K.K_DW_INPUT_GRAD, { dy, w: ws }, { stride, pad: p, inH: h, inW: wd }),
        () => K.runWasmKernel<tf.Tensor4D>(K.K_DW_FILTER_GRAD, { x: xs, dy }, { stride, pad: p, k }),
      ],
    );
  }
  return customOp(
    [x, w],
    (save) => {
      save([x, w]);
      return tf.depthwiseConv2d(x, w, stride, symPad(p));
    },
    (dy, [xs, ws]) => [
      () => depthwiseInputGrad(dy, ws as tf.Tensor4D, xs.shape as [number, number, number, number], stride, p),
      () => depthwiseFilterGrad(xs as tf.Tensor4D, dy, k, stride, p),
    ],
  );
}

/** Full conv as im2col: the k² windows concatenated on channels, then one matMul. Windows are built from
 * differentiable pad/slice/reshape/concat, so the input gradient is only computed when something needs it. */
function conv(this: Ctx, x: tf.Tensor4D, w: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D {
  const [k, , cin, cout] = w.shape;
  const p = k >> 1;
  const [n, h, wd] = x.shape;
  if (this.kernels()) {
    // WASM has conv2d forward and Conv2DBackpropInput, only the filter gradient needs our kernel. Lazy thunks: the
    // input gradient of the stem (the image) is never computed.
    return customOp(
      [x, w],
      (save) => {
        save([x, w]);
        return tf.conv2d(x, w, stride, symPad(p));
      },
      (dy, [xs, ws]) => [
        () => tf.conv2dTranspose(dy, ws as tf.Tensor4D, [n, h, wd, cin], stride, symPad(p)),
        () => K.runWasmKernel<tf.Tensor4D>(K.K_CONV_FILTER_GRAD, { x: xs, dy }, { k, stride, pad: p }),
      ],
    );
  }
  const ho = convOutSize(h, k, stride, p);
  const wo = convOutSize(wd, k, stride, p);
  const cols = tf.concat(tapWindows(x, k, stride, p), 3);
  const y = matMulNT(tf.reshape(cols, [n * ho * wo, k * k * cin]), tf.reshape(w, [k * k * cin, cout]), false);
  return tf.reshape(y, [n, ho, wo, cout]);
}

function batchNormTrain(
  this: Ctx,
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const c = x.shape[3];
  const m = x.size / c;
  if (this.kernels()) {
    // Two passes forward (statistics, then the normalisation as one per-channel affine) and two backward.
    const [y, mean, variance] = customOp(
      [x, gamma, beta],
      (save) => {
        const outs = K.runWasmKernel<tf.Tensor[]>(K.K_BN_TRAIN, { x, gamma, beta }, { eps });
        save([x, gamma, outs[1], outs[2]]);
        return outs;
      },
      ([dy, dmean, dvar], [xs, gs, mu, va]) => {
        const [dx, dgamma, dbeta] = K.runWasmKernel<tf.Tensor[]>(K.K_BN_GRAD, { x: xs, dy, gamma: gs, mean: mu, variance: va, dmean, dvar }, { eps });
        return [() => dx, () => dgamma, () => dbeta];
      },
    );
    return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const [y, mean, variance] = customOp(
    [x, gamma, beta],
    (save) => {
      const x2 = tf.reshape(x, [m, c]) as tf.Tensor2D;
      const mean2 = colSum(x2, 1 / m);
      const xc = tf.sub(x2, mean2);
      const var2 = colSum(tf.square(xc) as tf.Tensor2D, 1 / m);
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(var2, eps)));
      const y = tf.reshape(tf.add(tf.mul(xc, scale), beta), x.shape);
      const mean = tf.reshape(mean2, [c]);
      const variance = tf.reshape(var2, [c]);
      save([x, gamma, mean, variance]);
      return [y, mean, variance];
    },
    (dys, [xs, gs, mean, variance]) => {
      const [dy, dmean, dvar] = dys;
      const dy2 = tf.reshape(dy, [m, c]) as tf.Tensor2D;
      const inv = tf.rsqrt(tf.add(variance, eps));
      const xhat = tf.mul(tf.sub(tf.reshape(xs, [m, c]), mean), inv);
      const dbeta = tf.reshape(colSum(dy2), [c]);
      const dgamma = tf.reshape(colSum(tf.mul(dy2, xhat) as tf.Tensor2D), [c]);
      // dx = A·dy + xhat·Cc + B, all per-channel coefficients; the dmean/dvar terms fold in for free.
      const a = tf.mul(gs, inv);
      const b = tf.div(tf.sub(dmean, tf.mul(a, dbeta)), m);
      const cc = tf.div(tf.sub(tf.div(tf.mul(dvar, 2), inv), tf.mul(a, dgamma)), m);
      const dx = tf.reshape(tf.add(tf.add(tf.mul(dy2, a), tf.mul(xhat, cc)), b), xs.shape);
      return [() => dx, () => dgamma, () => dbeta];
    },
  );
  return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

function batchNormEval(
  this: Ctx,
  x: tf.Tensor4D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor4D {
  if (this.kernels()) {
    // y = x·a + b with per-channel a = γ/√(σ²+ε), b = β − μ·a: one pass over x. Differentiable through customOp.
    const a = tf.mul(gamma, tf.rsqrt(tf.add(variance, eps))) as tf.Tensor1D;
    const b = tf.sub(beta, tf.mul(mean, a)) as tf.Tensor1D;
    return channelAffine(x, a, b);
  }
  return tf.batchNorm(x, mean, variance, beta, gamma, eps);
}

/** x·a + b per channel (WASM kernel), with its gradient. */
function channelAffine(x: tf.Tensor4D, a: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor4D {
  const c = x.shape[3];
  const m = x.size / c;
  return customOp(
    [x, a, b],
    (save) => {
      save([x, a]);
      return K.runWasmKernel<tf.Tensor4D>(K.K_AFFINE, { x, a, b });
    },
    (dy, [xs, as]) => {
      const dy2 = tf.reshape(dy, [m, c]) as tf.Tensor2D;
      return [
        () => K.runWasmKernel<tf.Tensor4D>(K.K_AFFINE, { x: dy, a: as, b: tf.zeros([c]) }),
        () => tf.reshape(colSum(tf.mul(dy2, tf.reshape(xs, [m, c])) as tf.Tensor2D), [c]),
        () => tf.reshape(colSum(dy2), [c]),
      ];
    },
  );
}

function shortcutPool(this: Ctx, x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  const p = h % 2 === 1 || w % 2 === 1 ? 1 : 0;
  if (this.kernels()) {
    return customOp(
      [x],
      () => K.runWasmKernel<tf.Tensor4D>(K.K_POOL2, { x }, { pad: p }),
      (dy) => [() => K.runWasmKernel<tf.Tensor4D>(K.K_POOL2_GRAD, { dy }, { pad: p, inH: h, inW: w })],
    );
  }
  const xp = p > 0 ? tf.pad(x, symPad(p)) : x;
  return tf.avgPool(xp, 2, 2, 'valid');
}

function globalAvgPool(this: Ctx, x: tf.Tensor4D): tf.Tensor2D {
  const [, h, w] = x.shape;
  if (this.kernels()) {
    return customOp(
      [x],
      () => K.runWasmKernel<tf.Tensor2D>(K.K_GAP, { x }),
      (dy) => [() => K.runWasmKernel<tf.Tensor4D>(K.K_GAP_GRAD, { dy }, { inH: h, inW: w })],
    );
  }
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

function matMul(this: Ctx, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMulNT(a, b, this.kernels());
}

function swish<T extends tf.Tensor>(this: Ctx, x: T): T {
  if (this.kernels()) {
    return customOp(
      [x],
      (save) => {
        save([x]);
        return K.runWasmKernel<T>(K.K_SWISH, { x });
      },
      (dy, [xs]) => [() => K.runWasmKernel<tf.Tensor>(K.K_SWISH_GRAD, { x: xs, dy })],
    );
  }
  return customOp(
    [x],
    (save) => {
      save([x]);
      return tf.mul(x, tf.sigmoid(x)) as T;
    },
    // d/dx x·s(x) = s·(1 + x·(1 − s)); s recomputed from x rather than kept.
    (dy, [xs]) => [
      () => {
        const s = tf.sigmoid(xs);
        return tf.mul(tf.mul(dy, s), tf.add(1, tf.mul(xs, tf.sub(1, s))));
      },
    ],
  );
}

function scaleChannels(this: Ctx, x: tf.Tensor4D, s: tf.Tensor2D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (this.kernels()) {
    return customOp(
      [x, s],
      (save) => {
        save([x, s]);
        return K.runWasmKernel<tf.Tensor4D>(K.K_SCALE_CH, { x, s });
      },
      (dy, [xs, ss]) => {
        const [dx, ds] = K.runWasmKernel<tf.Tensor[]>(K.K_SCALE_CH_GRAD, { x: xs, s: ss, dy });
        return [() => dx, () => ds];
      },
    );
  }
  return customOp(
    [x, s],
    (save) => {
      save([x, s]);
      return tf.mul(x, tf.reshape(s, [n, 1, 1, c]));
    },
    // ds = Σ_hw dy·x as a batched ones-row matMul ([N,1,HW]·[N,HW,C]) rather than tf.sum over axes 1,2.
    (dy, [xs, ss]) => [
      () => tf.mul(dy, tf.reshape(ss, [n, 1, 1, c])),
      () => tf.reshape(tf.matMul(tf.ones([n, 1, h * w]), tf.reshape(tf.mul(dy, xs), [n, h * w, c])), [n, c]),
    ],
  );
}

/** What the op functions see as `this`: whether to use the WASM SIMD kernels for this call. */
interface Ctx {
  kernels(): boolean;
}

/**
 * The portable formulation (see {@link OpsMode}). On the `'wasm'` and `'cpu'` backends it uses the SIMD kernels of
 * ./wasm-kernels.ts unless `wasmKernels` is false (default true); elsewhere, or if they cannot be instantiated, it
 * uses tf-op formulations whose gradients exist on every backend.
 */
export function createPortableOps(wasmKernels = true): SupernetOps {
  const ctx: Ctx = { kernels: () => wasmKernels && K.wasmKernelsReady() };
  return {
    mode: 'portable',
    pointwise: pointwise.bind(ctx),
    depthwise: depthwise.bind(ctx),
    conv: conv.bind(ctx),
    batchNormTrain: batchNormTrain.bind(ctx),
    batchNormEval: batchNormEval.bind(ctx),
    shortcutPool: shortcutPool.bind(ctx),
    globalAvgPool: globalAvgPool.bind(ctx),
    matMul: matMul.bind(ctx),
    swish: swish.bind(ctx) as SupernetOps['swish'],
    scaleChannels: scaleChannels.bind(ctx),
  };
}
