/**
 * Trains the accuracy predictor's MLP with TF.js, Once-for-All's recipe (`ofa/nas/accuracy_predictor`): targets are
 * accuracies in [0, 1], MSE loss, Adam with learning rate 1e-3 and weight decay 1e-4 (PyTorch's coupled decay: the
 * gradient gets wd·w, i.e. the loss gets wd/2·‖W‖² over the kernels), and the output bias starts at the mean training
 * accuracy (OFA's `base_acc`, once-for-all#30/#42) so the network only learns the deviations from it.
 *
 * Deviation: 3 hidden layers of 128 units instead of OFA's 400 — a run has evaluated hundreds of subnets, not
 * OFA's 16 k, and the service scores thousands of points with the plain-JS forward pass (mlp.ts).
 *
 * Deterministic for a seed: the initial weights (PyTorch's Linear default, U(±1/√fan_in)) and the minibatch order
 * come from our seeded Rng. Lives in the CLI / runner processes only (it imports TF.js).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, permutation } from '../../engine/core';
import { layerShapes, paramCount, type Mlp, type MlpLayout } from './mlp';

export interface FitOptions {
  /** Hidden layer sizes (default [128, 128, 128]). */
  hidden?: number[];
  /** Passes over the data (default 200). */
  epochs?: number;
  /** Default 64. */
  batchSize?: number;
  /** Adam's learning rate (default 1e-3). */
  learningRate?: number;
  /** Coupled weight decay on the kernels (default 1e-4). */
  weightDecay?: number;
  seed?: number;
  /** Start from these weights (same layout) instead of a fresh initialisation: a refit. */
  init?: Mlp;
  /** After every epoch, with the mean training MSE of that epoch. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** OFA's recipe, with a smaller network (see above). */
export const DEFAULT_FIT = { hidden: [128, 128, 128], epochs: 200, batchSize: 64, learningRate: 1e-3, weightDecay: 1e-4 };

/** Fresh weights: U(±1/√fan_in) for kernels and biases (PyTorch's nn.Linear), the output bias = `outputBias`. */
export function initMlp(layout: MlpLayout, rng: Rng, outputBias: number): Mlp {
  const params = new Float32Array(paramCount(layout));
  const shapes = layerShapes(layout);
  let off = 0;
  shapes.forEach(([nin, nout], li) => {
    const bound = 1 / Math.sqrt(nin);
    for (let i = 0; i < nin * nout + nout; i++) params[off + i] = rng.uniform(-bound, bound);
    off += nin * nout + nout;
    if (li === shapes.length - 1) params[off - 1] = outputBias;
  });
  return { layout, params };
}

/**
 * Fits the MLP to rows `x` (n × input, row-major) and targets `y` (accuracies in [0, 1]). Returns the weights and the
 * last epoch's training MSE.
 */
export async function fitMlp(x: Float32Array, y: ArrayLike<number>, input: number, opts: FitOptions = {}): Promise<{ mlp: Mlp; loss: number }> {
  const n = y.length;
  if (n < 2) throw new RangeError(`the predictor needs at least 2 evaluated subnets to train on, got ${n}`);
  if (x.length !== n * input) throw new RangeError(`fitMlp: expected ${n} × ${input} features, got ${x.length} values`);
  const layout: MlpLayout = { input, hidden: opts.init?.layout.hidden ?? opts.hidden ?? DEFAULT_FIT.hidden };
  if (opts.init && opts.init.layout.input !== input) throw new RangeError(`fitMlp: warm start has ${opts.init.layout.input} inputs, data has ${input}`);
  const epochs = opts.epochs ?? DEFAULT_FIT.epochs;
  const batchSize = Math.min(opts.batchSize ?? DEFAULT_FIT.batchSize, n);
  const wd = opts.weightDecay ?? DEFAULT_FIT.weightDecay;
  const rng = new Rng(opts.seed ?? 0);
  let meanY = 0;
  for (let i = 0; i < n; i++) meanY += y[i];
  meanY /= n;
  const start = opts.init ?? initMlp(layout, rng, meanY);
  const shapes = layerShapes(layout);
  const vars: { w: tf.Variable; b: tf.Variable }[] = [];
  let off = 0;
  for (const [nin, nout] of shapes) {
    vars.push({
      w: tf.variable(tf.tensor2d(start.params.subarray(off, off + nin * nout), [nin, nout])),
      b: tf.variable(tf.tensor1d(start.params.subarray(off + nin * nout, off + nin * nout + nout))),
    });
    off += nin * nout + nout;
  }
  const optimizer = tf.train.adam(opts.learningRate ?? DEFAULT_FIT.learningRate);
  const forward = (xb: tf.Tensor2D) => {
    let a: tf.Tensor2D = xb;
    vars.forEach((v, i) => {
      a = tf.add(tf.matMul(a, v.w), v.b);
      if (i < vars.length - 1) a = tf.relu(a);
    });
    return tf.reshape(a, [-1]);
  };
  const xs = tf.tensor2d(x, [n, input]);
  const ys = tf.tensor1d(Float32Array.from(y));
  let loss = NaN;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = tf.tensor1d(Int32Array.from(permutation(n, rng)), 'int32');
      let sum = 0;
      for (let s = 0; s + batchSize <= n || s === 0; s += batchSize) {
        const idx = order.slice(s, Math.min(batchSize, n - s));
        const xb = tf.gather(xs, idx) as tf.Tensor2D;
        const yb = tf.gather(ys, idx);
        let mse: tf.Scalar | null = null;
        const cost = optimizer.minimize(() => {
          const m = tf.mean(tf.square(tf.sub(forward(xb), yb))) as tf.Scalar;
          // Kept out of minimize's scope: the reported loss is the MSE alone; the decay only shapes the gradient.
          mse = tf.keep(m.clone());
          const decay = vars.reduce((acc: tf.Scalar, v) => tf.add(acc, tf.sum(tf.square(v.w))), tf.scalar(0));
          return tf.add(m, tf.mul(wd / 2, decay)) as tf.Scalar;
        }, true);
        sum += (await (mse as unknown as tf.Scalar).data())[0] * idx.shape[0];
        tf.dispose([idx, xb, yb, mse as unknown as tf.Scalar, ...(cost ? [cost] : [])]);
      }
      order.dispose();
      loss = sum / (Math.floor(n / batchSize) * batchSize || n);
      opts.onEpoch?.(epoch, loss);
    }
    const params = new Float32Array(paramCount(layout));
    off = 0;
    for (const v of vars) {
      const w = await v.w.data();
      const b = await v.b.data();
      params.set(w, off);
      params.set(b, off + w.length);
      off += w.length + b.length;
    }
    return { mlp: { layout, params }, loss };
  } finally {
    tf.dispose([xs, ys]);
    for (const v of vars) tf.dispose([v.w, v.b]);
    optimizer.dispose();
  }
}
