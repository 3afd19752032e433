import type * as tf from '@tensorflow/tfjs';

/**
 * Which formulation the supernet ops use.
 * - `'native'`: TF.js's own conv / depthwise / moments / batchNorm / avgPool kernels and their registered gradients.
 *   Fast where the backend has fast forward *and* gradient kernels for them (tfjs-node's `tensorflow`, `webgl`).
 * - `'portable'`: formulations whose gradients use only kernels that exist on every backend (the WASM backend has no
 *   Conv2DBackpropFilter and no depthwise gradient kernels at all), tuned for speed on WASM.
 */
export type OpsMode = 'native' | 'portable';

/**
 * The handful of ops a weight-sharing supernet needs. Layout is NHWC, float32. Every op is differentiable with respect
 * to every tensor argument (inputs and weights; weights are typically slices of larger variables).
 */
export interface SupernetOps {
  readonly mode: OpsMode;
  /** 1×1 conv: x [N,H,W,Cin], w [Cin,Cout] → [N,H,W,Cout]. */
  pointwise(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D;
  /**
   * Depthwise k×k conv, stride 1 or 2, symmetric zero padding k//2 on every side (PyTorch convention, not TF 'same').
   * w [k,k,C,1]. Output size floor((H + 2·(k//2) − k)/stride) + 1.
   */
  depthwise(x: tf.Tensor4D, w: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D;
  /** Full k×k conv (the stem), stride 1 or 2, symmetric padding k//2. w [k,k,Cin,Cout]. */
  conv(x: tf.Tensor4D, w: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D;
  /**
   * Training-mode batch norm over N,H,W with batch statistics: y = gamma·(x−mean)/sqrt(var+eps) + beta, var biased
   * (divided by N·H·W). Returns y and the batch mean and biased variance ([C]); the gradient of y includes the paths
   * through the batch statistics. mean and variance are differentiable too (their gradients are exact), though a
   * supernet only reads them to update running statistics / for BN calibration.
   */
  batchNormTrain(
    x: tf.Tensor4D,
    gamma: tf.Tensor1D,
    beta: tf.Tensor1D,
    eps: number,
  ): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D };
  /** Eval-mode batch norm with given running statistics: y = gamma·(x−mean)/sqrt(variance+eps) + beta. */
  batchNormEval(
    x: tf.Tensor4D,
    mean: tf.Tensor1D,
    variance: tf.Tensor1D,
    gamma: tf.Tensor1D,
    beta: tf.Tensor1D,
    eps: number,
  ): tf.Tensor4D;
  /**
   * The residual shortcut's 2×2 average pool with stride 2. When H or W is odd, both spatial dims are padded by 1 on
   * each side with zeros and the padding is counted (PyTorch AvgPool2d(2, 2, padding=1, count_include_pad=True), the
   * module AttentiveNAS builds for odd inputs); output size floor((H + 2p − 2)/2) + 1, with p = 0 when both are even.
   */
  shortcutPool(x: tf.Tensor4D): tf.Tensor4D;
  /** Global average pool over H,W: [N,H,W,C] → [N,C]. */
  globalAvgPool(x: tf.Tensor4D): tf.Tensor2D;

  // Extras beyond the layer ops above, for the rest of the network.

  /**
   * Plain matrix product a [M,K] · b [K,N] (the head's 1×1 conv after pooling, SE convs, the classifier). Portable:
   * gradients transpose explicitly instead of using tf.matMul's transpose flags (a naive loop on WASM, ~10× slower).
   */
  matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D;
  /** swish(x) = x·sigmoid(x), any shape. Portable: one fused kernel each way on WASM instead of four stock ops. */
  swish<T extends tf.Tensor>(x: T): T;
  /** x [N,H,W,C] · s [N,C] broadcast over H,W (the SE block's re-weighting). */
  scaleChannels(x: tf.Tensor4D, s: tf.Tensor2D): tf.Tensor4D;
}
