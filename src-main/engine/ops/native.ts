import * as tf from '@tensorflow/tfjs';
import type { SupernetOps } from './types';
import { symPad } from './common';

/**
 * The stock TF.js formulation: conv2d / depthwiseConv2d with explicit symmetric padding, moments + batchNorm, avgPool.
 * Their gradients are TF.js's registered ones, so this needs a backend with Conv2DBackpropFilter and the depthwise
 * backprop kernels (cpu, webgl, tensorflow; not wasm). It is also the reference the portable ops are tested against.
 */
export function createNativeOps(): SupernetOps {
  return {
    mode: 'native',
    pointwise(x, w) {
      return tf.conv2d(x, tf.reshape(w, [1, 1, w.shape[0], w.shape[1]]) as tf.Tensor4D, 1, 'valid');
    },
    depthwise(x, w, stride) {
      return tf.depthwiseConv2d(x, w, stride, symPad(w.shape[0] >> 1));
    },
    conv(x, w, stride) {
      return tf.conv2d(x, w, stride, symPad(w.shape[0] >> 1));
    },
    batchNormTrain(x, gamma, beta, eps) {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = tf.batchNorm(x, mean, variance, beta, gamma, eps);
      return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
    },
    batchNormEval(x, mean, variance, gamma, beta, eps) {
      return tf.batchNorm(x, mean, variance, beta, gamma, eps);
    },
    shortcutPool(x) {
      // tfjs avgPool with a numeric pad excludes the padding from the count, so pad explicitly to count it.
      const p = x.shape[1] % 2 === 1 || x.shape[2] % 2 === 1 ? 1 : 0;
      const xp = p > 0 ? tf.pad(x, symPad(p)) : x;
      return tf.avgPool(xp, 2, 2, 'valid');
    },
    globalAvgPool(x) {
      return tf.mean(x, [1, 2]) as tf.Tensor2D;
    },
    matMul(a, b) {
      return tf.matMul(a, b);
    },
    swish<T extends tf.Tensor>(x: T): T {
      return tf.mul(x, tf.sigmoid(x)) as T;
    },
    scaleChannels(x, s) {
      return tf.mul(x, tf.reshape(s, [s.shape[0], 1, 1, s.shape[1]]));
    },
  };
}
