/**
 * Supernet ops (NHWC, float32) in two formulations, chosen per backend with {@link defaultOpsMode}; see
 * {@link OpsMode} and {@link SupernetOps}.
 *
 * - `'native'` (native.ts): stock TF.js ops with explicit symmetric padding. Needs the backend's conv / depthwise
 *   gradient kernels, so not for wasm.
 * - `'portable'` (portable.ts): every op is a custom op with a hand-written gradient. On the `'wasm'` backend they run
 *   WASM SIMD kernels (wasm-kernels.ts, compiled from wasm/kernels.c) that work in place in the backend's heap:
 *   depthwise forward and both gradients, batch norm in two passes each way, all matrix products, pools, swish, SE
 *   scaling, the stem's filter gradient. On `'cpu'` the same kernels run in a memory of their own (copy in/out).
 *   Elsewhere (webgl, or if the kernels cannot be instantiated) the ops fall back to tf-op formulations whose
 *   gradients exist on every backend.
 * - Setting the kernels up also patches two stock WASM kernels engine-wide (Identity shares buffers, Slice copies only
 *   the slice): see `patchWasmBackendKernels` in wasm-kernels.ts.
 *
 * Gradients: with respect to every tensor argument (inputs and weights, including weights that are slices of larger
 * variables), lazily per argument (an input that needs no gradient, like the image fed to the stem, costs nothing).
 * Second-order gradients are not supported (the hand-written gradients are not themselves differentiable).
 *
 * Importing this module imports `@tensorflow/tfjs`, which registers every gradient function (tfjs-core alone
 * registers none in Node). It does not import the WASM backend; whoever selects it does.
 */
import '@tensorflow/tfjs';
import type { OpsMode, SupernetOps } from './types';
import { createNativeOps } from './native';
import { createPortableOps } from './portable';

export type { OpsMode, SupernetOps } from './types';
export { wasmKernelsReady, patchWasmBackendKernels } from './wasm-kernels';

/** Options of {@link createOps}. */
export interface OpsOptions {
  /**
   * Portable mode only: run the hand-written WASM SIMD kernels when the current backend is `'wasm'` or `'cpu'`
   * (checked at every call). Default true; false forces the tf-op formulations (for tests and comparisons).
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
 * `'portable'`: wasm has no conv-filter or depthwise gradient kernels, and on both wasm and cpu the portable ops run
 * the SIMD kernels (on cpu ~600× faster than its JS conv gradients at batch 8).
 */
export function defaultOpsMode(backendName: string): OpsMode {
  return backendName === 'tensorflow' || backendName === 'webgl' || backendName === 'webgpu' ? 'native' : 'portable';
}
