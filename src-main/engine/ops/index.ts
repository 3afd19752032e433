/**
 * Supernet ops (NHWC, float32) in two formulations, chosen per backend; see {@link OpsMode}.
 *
 * Importing this module imports `@tensorflow/tfjs`, which registers every gradient function (tfjs-core alone
 * registers none in Node).
 */
import '@tensorflow/tfjs';
import type { OpsMode, SupernetOps } from './types';
import { createNativeOps } from './native';
import { createPortableOps } from './portable';

export type { OpsMode, SupernetOps } from './types';

/** Options of {@link createOps}. */
export interface OpsOptions {
  /**
   * Portable mode only: run the hand-written WASM SIMD kernels when the current backend is `'wasm'` (checked at
   * every call). Default true; false forces the tf-op formulations (for tests and comparisons).
   */
  wasmKernels?: boolean;
}

/** The ops object for a formulation. Stateless and cheap; one per mode is enough. */
export function createOps(mode: OpsMode, options: OpsOptions = {}): SupernetOps {
  return mode === 'native' ? createNativeOps() : createPortableOps(options.wasmKernels ?? true);
}

/**
 * `'native'` where the backend has fast forward *and* gradient kernels for conv / depthwise: tfjs-node's
 * `'tensorflow'` backend and `'webgl'` (also `'webgpu'`). Everything else (`'wasm'`, `'cpu'`, unknown names) gets
 * `'portable'`: the cpu backend's conv gradients are slow JS loops and wasm has none.
 */
export function defaultOpsMode(backendName: string): OpsMode {
  return backendName === 'tensorflow' || backendName === 'webgl' || backendName === 'webgpu' ? 'native' : 'portable';
}
