/**
 * Hand-written WASM SIMD kernels (wasm/kernels.c) registered as TF.js kernels of the `'wasm'` backend, for the
 * portable ops' hot paths: depthwise forward and both depthwise gradients (which the WASM backend lacks), batch norm
 * forward/backward as two passes each, and the 1×1 conv weight gradient xᵀ·dy without a transpose.
 *
 * The module imports the WASM backend's own linear memory, so kernels read and write tensors in place (tensor data
 * are byte offsets `dataIdMap.get(dataId).memoryOffset` into it): no copies. That relies on internals of
 * @tensorflow/tfjs-backend-wasm 4.22 (`wasm.asm.memory`, `dataIdMap`, `makeOutput`, `disposeData`); when any is
 * missing, or the memory is shared (the threaded build) so the import does not match, {@link wasmKernelsReady}
 * returns false and the ops use their tf-op formulations instead.
 */
import * as tf from '@tensorflow/tfjs';
import { KERNELS_WASM_BASE64 } from './wasm/kernels.wasm';

// The WebAssembly JS API, typed locally: tsconfig.node.json has no DOM lib and @types/node does not declare it.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmModule {
  readonly __wasmModule?: never;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: abstract new (...args: never[]) => WasmMemory;
};

interface KernelExports {
  dw_forward(x: number, w: number, y: number, n: number, h: number, wd: number, c: number, k: number, s: number, p: number, ho: number, wo: number): void;
  dw_input_grad(dy: number, w: number, dx: number, n: number, h: number, wd: number, c: number, k: number, s: number, p: number, ho: number, wo: number): void;
  dw_filter_grad(x: number, dy: number, dw: number, n: number, h: number, wd: number, c: number, k: number, s: number, p: number, ho: number, wo: number): void;
  bn_stats(x: number, m: number, c: number, mean: number, variance: number): void;
  affine(x: number, a: number, b: number, y: number, m: number, c: number): void;
  bn_grad_sums(x: number, dy: number, mean: number, m: number, c: number, sdy: number, sdyx: number): void;
  bn_grad_dx(x: number, dy: number, a: number, d: number, e: number, dx: number, m: number, c: number): void;
  transpose2d(x: number, out: number, m: number, c: number): void;
  conv_filter_grad(x: number, dy: number, dw: number, part: number, n: number, h: number, wd: number, ci: number, co: number, k: number, s: number, p: number, ho: number, wo: number): void;
  pool2_forward(x: number, y: number, n: number, h: number, wd: number, c: number, p: number, ho: number, wo: number): void;
  pool2_backward(dy: number, dx: number, n: number, h: number, wd: number, c: number, p: number, ho: number, wo: number): void;
  gap_forward(x: number, y: number, n: number, hw: number, c: number): void;
  gap_backward(dy: number, dx: number, n: number, hw: number, c: number): void;
  gemm_tn(a: number, b: number, out: number, m: number, k: number, n: number): void;
  gemm_nn(a: number, b: number, out: number, m: number, k: number, n: number): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendLike {
  wasm: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

let compiled: WasmModule | null | undefined;
const instances = new WeakMap<object, { k: KernelExports; memory: WasmMemory } | null>();

function compile(): WasmModule | null {
  if (compiled === undefined) {
    try {
      // ~22 KB: synchronous compilation is allowed everywhere except a browser's main thread (limit 4 KB), where this
      // throws and the tf-op formulations are used.
      compiled = new WebAssembly.Module(Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0)));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

function instanceFor(backend: unknown): { k: KernelExports; memory: WasmMemory } | null {
  const b = backend as WasmBackendLike;
  if (b == null || typeof b !== 'object') return null;
  let inst = instances.get(b);
  if (inst !== undefined) return inst;
  inst = null;
  const memory = b.wasm?.asm?.memory;
  const mod = compile();
  if (mod && memory instanceof WebAssembly.Memory && typeof b.makeOutput === 'function' && b.dataIdMap) {
    try {
      const i = new WebAssembly.Instance(mod, { env: { memory } });
      inst = { k: i.exports as unknown as KernelExports, memory };
    } catch {
      inst = null;
    }
  }
  instances.set(b, inst);
  return inst;
}

/** True when the current backend is `'wasm'` and the SIMD kernels run inside it. */
export function wasmKernelsReady(): boolean {
  return tf.getBackend() === 'wasm' && instanceFor(tf.backend()) !== null;
}

function ptr(b: WasmBackendLike, t: tf.TensorInfo): number {
  const d = b.dataIdMap.get(t.dataId);
  if (!d) throw new Error('tensor data not on the wasm backend');
  return d.memoryOffset;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function ctx(args: KernelArgs) {
  const b = args.backend as WasmBackendLike;
  const inst = instanceFor(b);
  if (!inst) throw new Error('AlphaNet WASM kernels are not available on this backend');
  const attrs = (args.attrs ?? {}) as Record<string, number>;
  return { b, k: inst.k, memory: inst.memory, attrs, inp: args.inputs as Record<string, tf.TensorInfo> };
}

export const K_DW_FORWARD = 'AlphaNetDepthwiseForward';
export const K_DW_INPUT_GRAD = 'AlphaNetDepthwiseInputGrad';
export const K_DW_FILTER_GRAD = 'AlphaNetDepthwiseFilterGrad';
export const K_BN_TRAIN = 'AlphaNetBatchNormTrain';
export const K_BN_GRAD = 'AlphaNetBatchNormGrad';
export const K_AFFINE = 'AlphaNetChannelAffine';
export const K_GEMM_TN = 'AlphaNetMatMulTN';
export const K_GEMM_NN = 'AlphaNetMatMul';
export const K_TRANSPOSE = 'AlphaNetTranspose2D';
export const K_CONV_FILTER_GRAD = 'AlphaNetConvFilterGrad';
export const K_POOL2 = 'AlphaNetShortcutPool';
export const K_POOL2_GRAD = 'AlphaNetShortcutPoolGrad';
export const K_GAP = 'AlphaNetGlobalAvgPool';
export const K_GAP_GRAD = 'AlphaNetGlobalAvgPoolGrad';

/** Depthwise geometry from attrs: x [N,H,W,C], kernel k, stride s, pad p, output Ho×Wo. */
function dwGeom(xShape: number[], k: number, s: number, p: number) {
  const [n, h, w, c] = xShape;
  return { n, h, w, c, ho: Math.floor((h + 2 * p - k) / s) + 1, wo: Math.floor((w + 2 * p - k) / s) + 1 };
}

const kernels: tf.KernelConfig[] = [
  {
    // inputs x [N,H,W,C], w [k,k,C,1]; attrs stride, pad → y [N,Ho,Wo,C]
    kernelName: K_DW_FORWARD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, attrs, inp } = ctx(args as KernelArgs);
      const { x, w } = inp;
      const kk = w.shape[0];
      const g = dwGeom(x.shape, kk, attrs.stride, attrs.pad);
      const y = b.makeOutput([g.n, g.ho, g.wo, g.c], 'float32');
      k.dw_forward(ptr(b, x), ptr(b, w), ptr(b, y), g.n, g.h, g.w, g.c, kk, attrs.stride, attrs.pad, g.ho, g.wo);
      return y;
    },
  },
  {
    // inputs dy [N,Ho,Wo,C], w [k,k,C,1]; attrs stride, pad, inH, inW → dx [N,inH,inW,C]
    kernelName: K_DW_INPUT_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, attrs, inp } = ctx(args as KernelArgs);
      const { dy, w } = inp;
      const kk = w.shape[0];
      const [n, ho, wo, c] = dy.shape;
      const dx = b.makeOutput([n, attrs.inH, attrs.inW, c], 'float32');
      k.dw_input_grad(ptr(b, dy), ptr(b, w), ptr(b, dx), n, attrs.inH, attrs.inW, c, kk, attrs.stride, attrs.pad, ho, wo);
      return dx;
    },
  },
  {
    // inputs x [N,H,W,C], dy [N,Ho,Wo,C]; attrs k, stride, pad → dw [k,k,C,1]
    kernelName: K_DW_FILTER_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, attrs, inp } = ctx(args as KernelArgs);
      const { x, dy } = inp;
      const g = dwGeom(x.shape, attrs.k, attrs.stride, attrs.pad);
      const dw = b.makeOutput([attrs.k, attrs.k, g.c, 1], 'float32');
      k.dw_filter_grad(ptr(b, x), ptr(b, dy), ptr(b, dw), g.n, g.h, g.w, g.c, attrs.k, attrs.stride, attrs.pad, dy.shape[1], dy.shape[2]);
      return dw;
    },
  },
  {
    // inputs x [...,C], gamma [C], beta [C]; attrs eps → [y, mean [C], variance [C]]
    kernelName: K_BN_TRAIN,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, memory, attrs, inp } = ctx(args as KernelArgs);
      const { x, gamma, beta } = inp;
      const c = x.shape[x.shape.length - 1];
      const m = x.shape.reduce((a, v) => a * v, 1) / c;
      const mean = b.makeOutput([c], 'float32');
      const variance = b.makeOutput([c], 'float32');
      k.bn_stats(ptr(b, x), m, c, ptr(b, mean), ptr(b, variance));
      // Per-channel scale and shift, computed here on [C] views of the heap.
      const ab = b.makeOutput([2 * c], 'float32');
      const f = (t: tf.TensorInfo, len: number) => new Float32Array(memory.buffer, ptr(b, t), len);
      const [mu, va, ga, be, abv] = [f(mean, c), f(variance, c), f(gamma, c), f(beta, c), f(ab, 2 * c)];
      for (let i = 0; i < c; i++) {
        const a = ga[i] / Math.sqrt(va[i] + attrs.eps);
        abv[i] = a;
        abv[c + i] = be[i] - mu[i] * a;
      }
      const y = b.makeOutput(x.shape, 'float32');
      const abp = ptr(b, ab);
      k.affine(ptr(b, x), abp, abp + 4 * c, ptr(b, y), m, c);
      b.disposeData(ab.dataId, true);
      return [y, mean, variance];
    },
  },
  {
    // inputs x, dy [...,C], gamma, mean, variance, dmean, dvar [C]; attrs eps → [dx, dgamma, dbeta]
    kernelName: K_BN_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, memory, attrs, inp } = ctx(args as KernelArgs);
      const { x, dy, gamma, mean, variance, dmean, dvar } = inp;
      const c = x.shape[x.shape.length - 1];
      const m = x.shape.reduce((a, v) => a * v, 1) / c;
      const dbeta = b.makeOutput([c], 'float32');
      const dgamma = b.makeOutput([c], 'float32');
      // dgamma first holds Σ dy·(x − mean); scaled by 1/σ below.
      k.bn_grad_sums(ptr(b, x), ptr(b, dy), ptr(b, mean), m, c, ptr(b, dbeta), ptr(b, dgamma));
      const tmp = b.makeOutput([3 * c], 'float32');
      const f = (t: tf.TensorInfo, len: number) => new Float32Array(memory.buffer, ptr(b, t), len);
      const [ga, mu, va, dm, dv, sdy, sdyx, t3] = [f(gamma, c), f(mean, c), f(variance, c), f(dmean, c), f(dvar, c), f(dbeta, c), f(dgamma, c), f(tmp, 3 * c)];
      for (let i = 0; i < c; i++) {
        const inv = 1 / Math.sqrt(va[i] + attrs.eps);
        const dg = sdyx[i] * inv;
        sdyx[i] = dg;
        // dx = A·dy + Cc·xhat + B with xhat = (x − mean)·inv; folded to dx = A·dy + D·x + E.
        const a = ga[i] * inv;
        const bb = (dm[i] - a * sdy[i]) / m;
        const cc = ((2 * dv[i]) / inv - a * dg) / m;
        t3[i] = a;
        t3[c + i] = cc * inv;
        t3[2 * c + i] = bb - cc * inv * mu[i];
      }
      const dx = b.makeOutput(x.shape, 'float32');
      const tp = ptr(b, tmp);
      k.bn_grad_dx(ptr(b, x), ptr(b, dy), tp, tp + 4 * c, tp + 8 * c, ptr(b, dx), m, c);
      b.disposeData(tmp.dataId, true);
      return [dx, dgamma, dbeta];
    },
  },
  {
    // inputs x [...,C], a [C], b [C] → x·a + b
    kernelName: K_AFFINE,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, inp } = ctx(args as KernelArgs);
      const { x, a, b: sh } = inp;
      const c = x.shape[x.shape.length - 1];
      const y = b.makeOutput(x.shape, 'float32');
      k.affine(ptr(b, x), ptr(b, a), ptr(b, sh), ptr(b, y), x.shape.reduce((p, v) => p * v, 1) / c, c);
      return y;
    },
  },
  {
    // inputs a [M,K], b [M,N] → aᵀ·b [K,N]
    kernelName: K_GEMM_TN,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, inp } = ctx(args as KernelArgs);
      const { a, b: bm } = inp;
      const [m, kk] = a.shape;
      const n = bm.shape[1];
      const out = b.makeOutput([kk, n], 'float32');
      k.gemm_tn(ptr(b, a), ptr(b, bm), ptr(b, out), m, kk, n);
      return out;
    },
  },
  {
    // inputs a [M,K], b [K,N] → a·b [M,N]
    kernelName: K_GEMM_NN,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, inp } = ctx(args as KernelArgs);
      const { a, b: bm } = inp;
      const [m, kk] = a.shape;
      const n = bm.shape[1];
      const out = b.makeOutput([m, n], 'float32');
      k.gemm_nn(ptr(b, a), ptr(b, bm), ptr(b, out), m, kk, n);
      return out;
    },
  },
  {
    // inputs x [M,C] → [C,M]
    kernelName: K_TRANSPOSE,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, inp } = ctx(args as KernelArgs);
      const { x } = inp;
      const [m, c] = x.shape;
      const out = b.makeOutput([c, m], 'float32');
      k.transpose2d(ptr(b, x), ptr(b, out), m, c);
      return out;
    },
  },
  {
    // inputs x [N,H,W,Ci], dy [N,Ho,Wo,Co]; attrs k, stride, pad → dw [k,k,Ci,Co]
    kernelName: K_CONV_FILTER_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, attrs, inp } = ctx(args as KernelArgs);
      const { x, dy } = inp;
      const [n, h, w, ci] = x.shape;
      const [, ho, wo, co] = dy.shape;
      const dw = b.makeOutput([attrs.k, attrs.k, ci, co], 'float32');
      const part = b.makeOutput([attrs.k * attrs.k * ci * co], 'float32');
      k.conv_filter_grad(ptr(b, x), ptr(b, dy), ptr(b, dw), ptr(b, part), n, h, w, ci, co, attrs.k, attrs.stride, attrs.pad, ho, wo);
      b.disposeData(part.dataId, true);
      return dw;
    },
  },
  {
    // inputs x [N,H,W,C]; attrs pad → 2×2/2 average pool counting the padding
    kernelName: K_POOL2,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, attrs, inp } = ctx(args as KernelArgs);
      const { x } = inp;
      const [n, h, w, c] = x.shape;
      const ho = Math.floor((h + 2 * attrs.pad - 2) / 2) + 1;
      const wo = Math.floor((w + 2 * attrs.pad - 2) / 2) + 1;
      const y = b.makeOutput([n, ho, wo, c], 'float32');
      k.pool2_forward(ptr(b, x), ptr(b, y), n, h, w, c, attrs.pad, ho, wo);
      return y;
    },
  },
  {
    // inputs dy [N,Ho,Wo,C]; attrs pad, inH, inW → dx [N,inH,inW,C]
    kernelName: K_POOL2_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, attrs, inp } = ctx(args as KernelArgs);
      const { dy } = inp;
      const [n, ho, wo, c] = dy.shape;
      const dx = b.makeOutput([n, attrs.inH, attrs.inW, c], 'float32');
      k.pool2_backward(ptr(b, dy), ptr(b, dx), n, attrs.inH, attrs.inW, c, attrs.pad, ho, wo);
      return dx;
    },
  },
  {
    // inputs x [N,H,W,C] → [N,C]
    kernelName: K_GAP,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, inp } = ctx(args as KernelArgs);
      const { x } = inp;
      const [n, h, w, c] = x.shape;
      const y = b.makeOutput([n, c], 'float32');
      k.gap_forward(ptr(b, x), ptr(b, y), n, h * w, c);
      return y;
    },
  },
  {
    // inputs dy [N,C]; attrs inH, inW → dx [N,inH,inW,C]
    kernelName: K_GAP_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { b, k, attrs, inp } = ctx(args as KernelArgs);
      const { dy } = inp;
      const [n, c] = dy.shape;
      const dx = b.makeOutput([n, attrs.inH, attrs.inW, c], 'float32');
      k.gap_backward(ptr(b, dy), ptr(b, dx), n, attrs.inH * attrs.inW, c);
      return dx;
    },
  },
];

for (const cfg of kernels) if (tf.getKernel(cfg.kernelName, cfg.backendName) == null) tf.registerKernel(cfg);

/** Runs one of the kernels above on the current (wasm) backend. */
export function runWasmKernel<T extends tf.Tensor | tf.Tensor[]>(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): T {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs) as T;
}
