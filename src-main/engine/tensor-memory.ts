/**
 * Moving float32 values between tensors and plain (often shared) memory without garbage.
 *
 * `dataSync()` returns a fresh copy of a tensor's values, and `v.assign(tf.tensor(array))` allocates a new tensor per
 * parameter. A data-parallel step does both for every parameter of the supernet, in every worker, every step — some
 * 6 MB of short-lived arrays per copy on `alphanet-cifar32` (1.47 M parameters), made and collected while the other
 * workers wait (docs/BENCHMARKS.md, "Data-parallel training"). On the WASM backend a float32 tensor is a span of the
 * module's linear memory, so these functions copy straight between that span and the caller's array: one `set`, no
 * allocation. Other backends (cpu, webgl, node) take the plain path, which is correct everywhere.
 *
 * The WASM path reads two fields of the backend that are not part of TF.js's public API (`wasm.HEAPU8` and
 * `dataIdMap`'s `memoryOffset`/`refCount`); the version is pinned in package.json, and the unit test checks both
 * paths against `dataSync` so an upgrade that moves them fails there, not in a run.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmData {
  memoryOffset: number | null;
  refCount: number;
}

interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): WasmData | undefined };
}

/** The float32 span of `t` in the WASM backend's memory (valid until the next allocation), or null elsewhere. */
function wasmSpan(t: tf.Tensor): { heap: Float32Array; data: WasmData } | null {
  if (t.dtype !== 'float32' || tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const data = b.dataIdMap?.get(t.dataId);
  const heap8 = b.wasm?.HEAPU8;
  if (!data || data.memoryOffset === null || data.memoryOffset === undefined || !heap8) return null;
  // Read HEAPU8 afresh: the memory's ArrayBuffer is replaced whenever the module grows it.
  return { heap: new Float32Array(heap8.buffer, data.memoryOffset, t.size), data };
}

/** Copies `t`'s float32 values into `dst` at element `offset` (no intermediate array on the WASM backend). */
export function copyTensorInto(t: tf.Tensor, dst: Float32Array, offset = 0): void {
  if (offset + t.size > dst.length) throw new RangeError(`${t.size} values do not fit at ${offset} in ${dst.length}`);
  const span = wasmSpan(t);
  dst.set(span ? span.heap : (t.dataSync() as Float32Array), offset);
}

/**
 * Sets variable `v` to `src` (its size, row-major). On the WASM backend, when no other tensor shares the variable's
 * memory, the values are written in place (no tensor is created); otherwise the variable is assigned a new tensor
 * holding a copy of `src`. Either way `v` never aliases `src`, so `src` may be rewritten afterwards.
 */
export function writeVariable(v: tf.Variable, src: Float32Array): void {
  if (src.length !== v.size) throw new RangeError(`${src.length} values for a variable of ${v.size}`);
  const span = wasmSpan(v);
  if (span && span.data.refCount === 1) {
    span.heap.set(src);
    return;
  }
  // slice(): the cpu backend keeps the array it is given.
  tf.tidy(() => v.assign(tf.tensor(src.slice(), v.shape, 'float32')));
}

/**
 * A new float32 tensor of `shape` holding a copy of `src` (the WASM backend copies into its memory on creation, so
 * no JS copy is made there; other backends may keep the array they are given, so they get a copy).
 */
export function tensorFrom(src: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? src : src.slice(), shape, 'float32');
}
