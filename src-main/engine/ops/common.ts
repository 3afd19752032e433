import * as tf from '@tensorflow/tfjs';

/** Lazy gradient of one input: called only when backprop needs that input's gradient. */
export type GradThunk = () => tf.Tensor;

interface KernelFuncEngine {
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: (tensors: tf.Tensor[]) => void) => tf.Tensor | tf.Tensor[];
    backwardsFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => Record<string, GradThunk>;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor | tf.Tensor[];
}

/**
 * An op with a hand-written gradient. Unlike `tf.customGrad` it may return several outputs (batch norm returns y,
 * mean and variance) and its gradients are lazy thunks, so an input that needs no gradient (e.g. the image fed to the
 * stem) costs nothing. Built on `Engine.runKernelFunc`, the function `tf.customGrad` itself uses; it is marked private
 * in tfjs-core's typings, hence the cast (the TF.js version is pinned; the unit tests exercise this path).
 *
 * `forward` runs inside a tidy with the tape off; tensors it wants in `backward` must go through `save` (they are then
 * kept until the tape is disposed; closures over them would see them disposed, since `tf.grads` runs the forward
 * pass in a tidy). `save` clones through the Identity kernel, which the stock WASM backend implements as a copy:
 * wasm-kernels.ts patches it to share the buffer. For multi-output ops `backward` receives one dy per output (zeros
 * for outputs that do not reach the loss).
 */
export function customOp<O extends tf.Tensor | tf.Tensor[]>(
  inputs: tf.Tensor[],
  forward: (save: (tensors: tf.Tensor[]) => void) => O,
  backward: (dy: O, saved: tf.Tensor[]) => GradThunk[],
): O {
  const inputMap: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (inputMap[String(i)] = t));
  const engine = tf.engine() as unknown as KernelFuncEngine;
  return engine.runKernelFunc({
    forwardFunc: (_backend, save) => forward(save),
    backwardsFunc: (dy, saved) => {
      const thunks = backward(dy as O, saved);
      const map: Record<string, GradThunk> = {};
      thunks.forEach((f, i) => (map[String(i)] = f));
      return map;
    },
    inputs: inputMap,
  }) as O;
}

/** Output size of a k×k window with stride s and symmetric padding p: floor((n + 2p − k)/s) + 1. */
export function convOutSize(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/** Explicit NHWC padding for tfjs conv kernels: symmetric p on H and W (PyTorch), never TF 'same'. */
export function symPad(p: number): [[number, number], [number, number], [number, number], [number, number]] {
  return [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
}

/**
 * The k² shifted windows of a k×k, stride-s conv over x padded symmetrically by p, each [N,Ho,Wo,C], in row-major
 * tap order (i, j). Built from pad, slice and reshape only, so it is differentiable on every backend (stridedSlice has
 * no gradient): for stride 2 the padded input is split into its four row/column phases with a reshape, and tap (i, j)
 * is then a stride-1 window of phase (i mod 2, j mod 2) at offset (⌊i/2⌋, ⌊j/2⌋).
 */
export function tapWindows(x: tf.Tensor4D, k: number, s: 1 | 2, p: number): tf.Tensor4D[] {
  const [n, h, w, c] = x.shape;
  const ho = convOutSize(h, k, s, p);
  const wo = convOutSize(w, k, s, p);
  const taps: tf.Tensor4D[] = [];
  if (s === 1) {
    const xp = p > 0 ? tf.pad(x, symPad(p)) : x;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) taps.push(tf.slice(xp, [0, i, j, 0], [n, ho, wo, c]));
    return taps;
  }
  // Pad to an even size that covers every window; the extra bottom/right zeros are never read by a tap.
  const hh = Math.max(ho + (k - 1 >> 1), Math.ceil((h + 2 * p) / 2));
  const wh = Math.max(wo + (k - 1 >> 1), Math.ceil((w + 2 * p) / 2));
  const xp = tf.pad(x, [
    [0, 0],
    [p, 2 * hh - h - p],
    [p, 2 * wh - w - p],
    [0, 0],
  ]);
  const x6 = tf.reshape(xp, [n, hh, 2, wh, 2, c]);
  const phases: tf.Tensor4D[][] = [0, 1].map((a) =>
    [0, 1].map((b) => tf.reshape(tf.slice(x6, [0, 0, a, 0, b, 0], [n, hh, 1, wh, 1, c]), [n, hh, wh, c]) as tf.Tensor4D),
  );
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++)
      taps.push(tf.slice(phases[i & 1][j & 1], [0, i >> 1, j >> 1, 0], [n, ho, wo, c]));
  return taps;
}
