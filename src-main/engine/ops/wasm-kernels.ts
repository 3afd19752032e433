/**
 * Hand-written WASM SIMD kernels (wasm/kernels.c, compiled by wasm/build.sh into wasm/kernels.wasm.ts) registered as
 * TF.js kernels, for the portable ops' hot paths: depthwise forward and both depthwise gradients (the WASM backend
 * has no depthwise gradient kernels), batch norm forward/backward in two passes each, the three matrix products of a
 * 1×1 conv (TN without a transpose), the stem's filter gradient, pools, swish and the SE channel scaling. Measured
 * against the stock formulations in bench/ops.bench.ts.
 *
 * Two hosts:
 * - `'wasm'` backend: the module imports the backend's own linear memory, so kernels read and write tensors in place
 *   (tensor data are byte offsets `dataIdMap.get(dataId).memoryOffset` into it): no copies. That relies on internals
 *   of @tensorflow/tfjs-backend-wasm 4.22 (`wasm.asm.memory`, `dataIdMap`, `makeOutput`, `disposeData`, `incRef`).
 * - `'cpu'` backend: the module gets a private memory; inputs are copied in and outputs out (a few % of a kernel's
 *   time), which still beats the cpu backend's JS loops by 10–100× and lets the unit tests run the same kernels.
 * When anything is missing (e.g. the threaded WASM build, whose memory is shared so the import does not match; Node
 * never uses it), {@link wasmKernelsReady} returns false and the ops use their tf-op formulations instead.
 */
import * as tf from '@tensorflow/tfjs';
import { KERNELS_WASM_BASE64 } from './wasm/kernels.wasm';

// The WebAssembly JS API, typed locally: tsconfig.node.json has no DOM lib and @types/node does not declare it.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly __wasmModule?: never;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
};

interface KernelExports {
  dw_forward(x: number, w: number, y: number, n: number, h: number, wd: number, c: number, k: number, s: number, p: number, ho: number, wo: number): void;
  dw_input_grad(dy: number, w: number, dx: number, n: number, h: number, wd: number, c: number, k: number, s: number, p: number, ho: number, wo: number): void;
  dw_filter_grad(x: number, dy: number, dw: number, n: number, h: number, wd: number, c: number, k: number, s: number, p: number, ho: number, wo: number): void;
  bn_stats(x: number, m: number, c: number, mean: number, variance: number): void;
  affine(x: number, a: number, b: number, y: number, m: number, c: number): void;
  bn_grad_sums(x: number, dy: number, mean: number, m: number, c: number, sdy: number, sdyx: number): void;
  bn_grad_dx(x: number, dy: number, a: number, d: number, e: number, dx: number, m: number, c: number): void;
  conv_filter_grad(x: number, dy: number, dw: number, part: number, n: number, h: number, wd: number, ci: number, co: number, k: number, s: number, p: number, ho: number, wo: number): void;
  pool2_forward(x: number, y: number, n: number, h: number, wd: number, c: number, p: number, ho: number, wo: number): void;
  pool2_backward(dy: number, dx: number, n: number, h: number, wd: number, c: number, p: number, ho: number, wo: number): void;
  gap_forward(x: number, y: number, n: number, hw: number, c: number): void;
  gap_backward(dy: number, dx: number, n: number, hw: number, c: number): void;
  swish_forward(x: number, y: number, n: number): void;
  swish_backward(x: number, dy: number, dx: number, n: number): void;
  scale_channels_forward(x: number, s: number, y: number, n: number, hw: number, c: number): void;
  scale_channels_backward(x: number, s: number, dy: number, dx: number, ds: number, n: number, hw: number, c: number): void;
  slice4d(x: number, out: number, d0: number, d1: number, d2: number, d3: number, b0: number, b1: number, b2: number, b3: number, s0: number, s1: number, s2: number, s3: number): void;
  gemm_tn(a: number, b: number, out: number, m: number, k: number, n: number): void;
  gemm_nn(a: number, b: number, out: number, m: number, k: number, n: number): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  wasm: { asm?: { memory?: WasmMemory } };
  incRef(dataId: object): void;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The parts of tfjs-backend-cpu's MathBackendCPU used here. */
interface CpuBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/**
 * Where a kernel's tensors live while it runs. A kernel first takes pointers for all its inputs, outputs and scratch
 * (`input`, `output`, `scratch`), then calls the exports, reads/writes small [C] vectors through `view`, and
 * returns `finish(outputs)`, which releases scratch (and, on cpu, copies the outputs out).
 */
interface Host {
  k: KernelExports;
  input(t: tf.TensorInfo): number;
  output(shape: number[]): number;
  scratch(floats: number): number;
  view(ptr: number, floats: number): Float32Array;
  finish(outputs: number[]): tf.TensorInfo[];
}

let compiled: WasmModule | null | undefined;

function compile(): WasmModule | null {
  if (compiled === undefined) {
    try {
      // ~45 KB: synchronous compilation is allowed everywhere except a browser's main thread (limit 4 KB), where this
      // throws and the tf-op formulations are used.
      compiled = new WebAssembly.Module(Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0)));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

const sizeOf = (shape: number[]) => shape.reduce((a, v) => a * v, 1);

/** Host of the wasm backend: tensors in place in its heap; outputs and scratch are backend allocations. */
class WasmHost implements Host {
  private outs = new Map<number, tf.TensorInfo>();
  private temps: tf.TensorInfo[] = [];
  constructor(
    readonly k: KernelExports,
    private readonly b: WasmBackendLike,
    private readonly memory: WasmMemory,
  ) {}
  input(t: tf.TensorInfo): number {
    const d = this.b.dataIdMap.get(t.dataId);
    if (!d) throw new Error('tensor data not on the wasm backend');
    return d.memoryOffset;
  }
  output(shape: number[]): number {
    const info = this.b.makeOutput(shape, 'float32');
    const p = this.input(info);
    this.outs.set(p, info);
    return p;
  }
  scratch(floats: number): number {
    const info = this.b.makeOutput([floats], 'float32');
    this.temps.push(info);
    return this.input(info);
  }
  view(ptr: number, floats: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, floats);
  }
  finish(outputs: number[]): tf.TensorInfo[] {
    for (const t of this.temps) this.b.disposeData(t.dataId, true);
    const res = outputs.map((p) => this.outs.get(p)!);
    this.outs.clear();
    this.temps = [];
    return res;
  }
}

/** Host of the cpu backend: a private memory with a bump allocator, reset by every kernel. */
class CpuHost implements Host {
  private top = 16;
  private outs = new Map<number, number[]>();
  constructor(
    readonly k: KernelExports,
    private readonly b: CpuBackendLike,
    private readonly memory: WasmMemory,
  ) {}
  private alloc(floats: number): number {
    const p = this.top;
    this.top += Math.ceil((floats * 4) / 16) * 16 + 16;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / 65536));
    return p;
  }
  input(t: tf.TensorInfo): number {
    const vals = this.b.readSync(t.dataId);
    const p = this.alloc(vals.length);
    new Float32Array(this.memory.buffer, p, vals.length).set(vals);
    return p;
  }
  output(shape: number[]): number {
    const p = this.alloc(sizeOf(shape));
    this.outs.set(p, shape);
    return p;
  }
  scratch(floats: number): number {
    return this.alloc(floats);
  }
  view(ptr: number, floats: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, floats);
  }
  reset(): this {
    this.top = 16;
    this.outs.clear();
    return this;
  }
  finish(outputs: number[]): tf.TensorInfo[] {
    return outputs.map((p) => {
      const shape = this.outs.get(p)!;
      return this.b.makeTensorInfo(shape, 'float32', this.view(p, sizeOf(shape)).slice());
    });
  }
}

type HostFactory = () => Host;
const hosts = new WeakMap<object, HostFactory | null>();

function hostFor(backend: unknown, name: string): HostFactory | null {
  if (backend == null || typeof backend !== 'object') return null;
  let f = hosts.get(backend);
  if (f !== undefined) return f;
  f = null;
  const mod = compile();
  try {
    if (mod && name === 'wasm') {
      const b = backend as WasmBackendLike;
      const memory = b.wasm?.asm?.memory;
      if (memory && typeof b.makeOutput === 'function' && b.dataIdMap && typeof b.incRef === 'function') {
        const k = new WebAssembly.Instance(mod, { env: { memory } }).exports as KernelExports;
        f = () => new WasmHost(k, b, memory);
      }
    } else if (mod && name === 'cpu') {
      const b = backend as CpuBackendLike;
      if (typeof b.readSync === 'function' && typeof b.makeTensorInfo === 'function') {
        const memory = new WebAssembly.Memory({ initial: 16 });
        const k = new WebAssembly.Instance(mod, { env: { memory } }).exports as KernelExports;
        const host = new CpuHost(k, b, memory);
        f = () => host.reset();
      }
    }
  } catch {
    f = null;
  }
  hosts.set(backend, f);
  if (f && name === 'wasm') patchWasmBackendKernels();
  return f;
}

const KERNEL_BACKENDS = ['wasm', 'cpu'];

/** True when the current backend (`'wasm'` or `'cpu'`) runs the SIMD kernels. */
export function wasmKernelsReady(): boolean {
  const name = tf.getBackend();
  return KERNEL_BACKENDS.includes(name) && hostFor(tf.backend(), name) !== null;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** Registers `body` as kernel `name` on every host backend. */
function defineKernel(name: string, body: (h: Host, inp: Record<string, tf.TensorInfo>, attrs: Record<string, number>) => tf.TensorInfo[]): void {
  for (const backendName of KERNEL_BACKENDS) {
    if (tf.getKernel(name, backendName) != null) continue;
    tf.registerKernel({
      kernelName: name,
      backendName,
      kernelFunc: ((args: KernelArgs) => {
        const f = hostFor(args.backend, backendName);
        if (!f) throw new Error(`AlphaNet WASM kernels are not available on the ${backendName} backend`);
        const outs = body(f(), args.inputs as Record<string, tf.TensorInfo>, (args.attrs ?? {}) as Record<string, number>);
        return outs.length === 1 ? outs[0] : outs;
      }) as unknown as tf.KernelFunc,
    });
  }
}

export const K_DW_FORWARD = 'AlphaNetDepthwiseForward';
export const K_DW_INPUT_GRAD = 'AlphaNetDepthwiseInputGrad';
export const K_DW_FILTER_GRAD = 'AlphaNetDepthwiseFilterGrad';
export const K_BN_TRAIN = 'AlphaNetBatchNormTrain';
export const K_BN_GRAD = 'AlphaNetBatchNormGrad';
export const K_AFFINE = 'AlphaNetChannelAffine';
export const K_GEMM_TN = 'AlphaNetMatMulTN';
export const K_GEMM_NN = 'AlphaNetMatMul';
export const K_CONV_FILTER_GRAD = 'AlphaNetConvFilterGrad';
export const K_POOL2 = 'AlphaNetShortcutPool';
export const K_POOL2_GRAD = 'AlphaNetShortcutPoolGrad';
export const K_GAP = 'AlphaNetGlobalAvgPool';
export const K_GAP_GRAD = 'AlphaNetGlobalAvgPoolGrad';
export const K_SWISH = 'AlphaNetSwish';
export const K_SWISH_GRAD = 'AlphaNetSwishGrad';
export const K_SCALE_CH = 'AlphaNetScaleChannels';
export const K_SCALE_CH_GRAD = 'AlphaNetScaleChannelsGrad';

const outSize = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;

// inputs x [N,H,W,C], w [k,k,C,1]; attrs stride, pad → y [N,Ho,Wo,C]
defineKernel(K_DW_FORWARD, (h, { x, w }, a) => {
  const [n, hh, ww, c] = x.shape;
  const k = w.shape[0];
  const ho = outSize(hh, k, a.stride, a.pad);
  const wo = outSize(ww, k, a.stride, a.pad);
  const [px, pw, py] = [h.input(x), h.input(w), h.output([n, ho, wo, c])];
  h.k.dw_forward(px, pw, py, n, hh, ww, c, k, a.stride, a.pad, ho, wo);
  return h.finish([py]);
});

// inputs dy [N,Ho,Wo,C], w [k,k,C,1]; attrs stride, pad, inH, inW → dx [N,inH,inW,C]
defineKernel(K_DW_INPUT_GRAD, (h, { dy, w }, a) => {
  const [n, ho, wo, c] = dy.shape;
  const [pdy, pw, pdx] = [h.input(dy), h.input(w), h.output([n, a.inH, a.inW, c])];
  h.k.dw_input_grad(pdy, pw, pdx, n, a.inH, a.inW, c, w.shape[0], a.stride, a.pad, ho, wo);
  return h.finish([pdx]);
});

// inputs x [N,H,W,C], dy [N,Ho,Wo,C]; attrs k, stride, pad → dw [k,k,C,1]
defineKernel(K_DW_FILTER_GRAD, (h, { x, dy }, a) => {
  const [n, hh, ww, c] = x.shape;
  const [px, pdy, pdw] = [h.input(x), h.input(dy), h.output([a.k, a.k, c, 1])];
  h.k.dw_filter_grad(px, pdy, pdw, n, hh, ww, c, a.k, a.stride, a.pad, dy.shape[1], dy.shape[2]);
  return h.finish([pdw]);
});

// inputs x [...,C], gamma [C], beta [C]; attrs eps → [y, mean [C], variance [C]]
defineKernel(K_BN_TRAIN, (h, { x, gamma, beta }, a) => {
  const c = x.shape[x.shape.length - 1];
  const m = sizeOf(x.shape) / c;
  const [px, pg, pb] = [h.input(x), h.input(gamma), h.input(beta)];
  const [py, pmean, pvar, pab] = [h.output(x.shape), h.output([c]), h.output([c]), h.scratch(2 * c)];
  h.k.bn_stats(px, m, c, pmean, pvar);
  // Per-channel scale and shift of the normalisation, y = x·a + b.
  const [mu, va, ga, be, ab] = [h.view(pmean, c), h.view(pvar, c), h.view(pg, c), h.view(pb, c), h.view(pab, 2 * c)];
  for (let i = 0; i < c; i++) {
    const s = ga[i] / Math.sqrt(va[i] + a.eps);
    ab[i] = s;
    ab[c + i] = be[i] - mu[i] * s;
  }
  h.k.affine(px, pab, pab + 4 * c, py, m, c);
  return h.finish([py, pmean, pvar]);
});

// inputs x, dy [...,C], gamma, mean, variance, dmean, dvar [C]; attrs eps → [dx, dgamma, dbeta]
defineKernel(K_BN_GRAD, (h, { x, dy, gamma, mean, variance, dmean, dvar }, a) => {
  const c = x.shape[x.shape.length - 1];
  const m = sizeOf(x.shape) / c;
  const [px, pdy, pg, pmu, pva, pdm, pdv] = [x, dy, gamma, mean, variance, dmean, dvar].map((t) => h.input(t));
  const [pdx, pdgamma, pdbeta, pt] = [h.output(x.shape), h.output([c]), h.output([c]), h.scratch(3 * c)];
  // dbeta = Σ dy; dgamma first holds Σ dy·(x − mean), scaled by 1/σ below.
  h.k.bn_grad_sums(px, pdy, pmu, m, c, pdbeta, pdgamma);
  const [ga, mu, va, dm, dv, sdy, sdyx, t3] = [h.view(pg, c), h.view(pmu, c), h.view(pva, c), h.view(pdm, c), h.view(pdv, c), h.view(pdbeta, c), h.view(pdgamma, c), h.view(pt, 3 * c)];
  for (let i = 0; i < c; i++) {
    const inv = 1 / Math.sqrt(va[i] + a.eps);
    const dg = sdyx[i] * inv;
    sdyx[i] = dg;
    // dx = A·dy + Cc·xhat + B with xhat = (x − mean)·inv, the dmean and dvar terms folded into B and Cc; then
    // written as dx = A·dy + D·x + E for a single pass.
    const aa = ga[i] * inv;
    const bb = (dm[i] - aa * sdy[i]) / m;
    const cc = ((2 * dv[i]) / inv - aa * dg) / m;
    t3[i] = aa;
    t3[c + i] = cc * inv;
    t3[2 * c + i] = bb - cc * inv * mu[i];
  }
  h.k.bn_grad_dx(px, pdy, pt, pt + 4 * c, pt + 8 * c, pdx, m, c);
  return h.finish([pdx, pdgamma, pdbeta]);
});

// inputs x [...,C], a [C], b [C] → x·a + b
defineKernel(K_AFFINE, (h, { x, a, b }) => {
  const c = x.shape[x.shape.length - 1];
  const [px, pa, pb, py] = [h.input(x), h.input(a), h.input(b), h.output(x.shape)];
  h.k.affine(px, pa, pb, py, sizeOf(x.shape) / c, c);
  return h.finish([py]);
});

// inputs a [M,K], b [M,N] → aᵀ·b [K,N]
defineKernel(K_GEMM_TN, (h, { a, b }) => {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const [pa, pb, po] = [h.input(a), h.input(b), h.output([k, n])];
  h.k.gemm_tn(pa, pb, po, m, k, n);
  return h.finish([po]);
});

// inputs a [M,K], b [K,N] → a·b [M,N]
defineKernel(K_GEMM_NN, (h, { a, b }) => {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const [pa, pb, po] = [h.input(a), h.input(b), h.output([m, n])];
  h.k.gemm_nn(pa, pb, po, m, k, n);
  return h.finish([po]);
});

// inputs x [N,H,W,Ci], dy [N,Ho,Wo,Co]; attrs k, stride, pad → dw [k,k,Ci,Co]
defineKernel(K_CONV_FILTER_GRAD, (h, { x, dy }, a) => {
  const [n, hh, ww, ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const [px, pdy, pdw, part] = [h.input(x), h.input(dy), h.output([a.k, a.k, ci, co]), h.scratch(a.k * a.k * ci * co)];
  h.k.conv_filter_grad(px, pdy, pdw, part, n, hh, ww, ci, co, a.k, a.stride, a.pad, ho, wo);
  return h.finish([pdw]);
});

// inputs x [N,H,W,C]; attrs pad → 2×2/2 average pool counting the padding
defineKernel(K_POOL2, (h, { x }, a) => {
  const [n, hh, ww, c] = x.shape;
  const ho = outSize(hh, 2, 2, a.pad);
  const wo = outSize(ww, 2, 2, a.pad);
  const [px, py] = [h.input(x), h.output([n, ho, wo, c])];
  h.k.pool2_forward(px, py, n, hh, ww, c, a.pad, ho, wo);
  return h.finish([py]);
});

// inputs dy [N,Ho,Wo,C]; attrs pad, inH, inW → dx [N,inH,inW,C]
defineKernel(K_POOL2_GRAD, (h, { dy }, a) => {
  const [n, ho, wo, c] = dy.shape;
  const [pdy, pdx] = [h.input(dy), h.output([n, a.inH, a.inW, c])];
  h.k.pool2_backward(pdy, pdx, n, a.inH, a.inW, c, a.pad, ho, wo);
  return h.finish([pdx]);
});

// inputs x [N,H,W,C] → [N,C]
defineKernel(K_GAP, (h, { x }) => {
  const [n, hh, ww, c] = x.shape;
  const [px, py] = [h.input(x), h.output([n, c])];
  h.k.gap_forward(px, py, n, hh * ww, c);
  return h.finish([py]);
});

// inputs dy [N,C]; attrs inH, inW → dx [N,inH,inW,C]
defineKernel(K_GAP_GRAD, (h, { dy }, a) => {
  const [n, c] = dy.shape;
  const [pdy, pdx] = [h.input(dy), h.output([n, a.inH, a.inW, c])];
  h.k.gap_backward(pdy, pdx, n, a.inH * a.inW, c);
  return h.finish([pdx]);
});

// inputs x (any shape) → x·sigmoid(x)
defineKernel(K_SWISH, (h, { x }) => {
  const [px, py] = [h.input(x), h.output(x.shape)];
  h.k.swish_forward(px, py, sizeOf(x.shape));
  return h.finish([py]);
});

// inputs x, dy (same shape) → dy · d swish(x)/dx
defineKernel(K_SWISH_GRAD, (h, { x, dy }) => {
  const [px, pdy, pdx] = [h.input(x), h.input(dy), h.output(x.shape)];
  h.k.swish_backward(px, pdy, pdx, sizeOf(x.shape));
  return h.finish([pdx]);
});

// inputs x [N,H,W,C], s [N,C] → x·s broadcast over H,W
defineKernel(K_SCALE_CH, (h, { x, s }) => {
  const [n, hh, ww, c] = x.shape;
  const [px, ps, py] = [h.input(x), h.input(s), h.output(x.shape)];
  h.k.scale_channels_forward(px, ps, py, n, hh * ww, c);
  return h.finish([py]);
});

// inputs x [N,H,W,C], s [N,C], dy [N,H,W,C] → [dx, ds]
defineKernel(K_SCALE_CH_GRAD, (h, { x, s, dy }) => {
  const [n, hh, ww, c] = x.shape;
  const [px, ps, pdy, pdx, pds] = [h.input(x), h.input(s), h.input(dy), h.output(x.shape), h.output([n, c])];
  h.k.scale_channels_backward(px, ps, pdy, pdx, pds, n, hh * ww, c);
  return h.finish([pdx, pds]);
});

/** Runs one of the kernels above on the current backend (which must be a host: see {@link wasmKernelsReady}). */
export function runWasmKernel<T extends tf.Tensor | tf.Tensor[]>(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): T {
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs) as T;
}

const patchedTag = Symbol('alphanet patched wasm kernel');

/** Replaces the wasm backend's kernel `name` by `make(stock)` once; true when the patched kernel is in place. */
function patchKernel(name: string, make: (stock: tf.KernelConfig) => tf.KernelFunc): boolean {
  const stock = tf.getKernel(name, 'wasm');
  if (!stock) return false;
  if ((stock.kernelFunc as unknown as Record<symbol, boolean>)[patchedTag]) return true;
  const kernelFunc = make(stock);
  (kernelFunc as unknown as Record<symbol, boolean>)[patchedTag] = true;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc });
  return true;
}

/** A kernel result sharing the input's buffer (refcounted, as the backend's own Reshape does). */
function shareInput(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Replaces three stock kernels of the WASM backend that copy far more than they need, engine-wide (every op benefits),
 * once, when the SIMD kernels are first set up on a wasm backend (i.e. after the backend registered its own kernels):
 * - Identity shares the input's buffer (refcounted, like the backend's own Reshape and like the cpu backend's
 *   Identity) instead of copying it. TF.js clones every tensor a gradient needs through Identity while the tape
 *   records (`saveTensorsForBackwardMode`, `customGrad`'s save), so the stock kernel costs a full copy of each saved
 *   activation: ~14 ms of a 150 ms pointwise step at [64,32,32,144]. Tensors are immutable in TF.js, so sharing is
 *   safe. String tensors keep the stock kernel.
 * - Cast to the tensor's own dtype shares the buffer too. The stock kernel copies, and TF.js's Multiply gradient casts
 *   both saved inputs to float32, so every stock tf.mul in a training graph cost two activation copies backward.
 * - Slice copies just the slice (SIMD, in the heap) for float32/int32 tensors of rank ≤ 4; the stock kernel first
 *   copies the whole input out to JS (`readSync`) and slices there: ~1 ms per weight slice of a supernet layer,
 *   ~20–50 ms for an activation. Other dtypes and ranks keep the stock kernel.
 */
export function patchWasmBackendKernels(): boolean {
  const identity = patchKernel('Identity', (stock) => ((args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    return x.dtype === 'string' ? stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]) : shareInput(args);
  }) as unknown as tf.KernelFunc);
  const cast = patchKernel('Cast', (stock) => ((args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype;
    return dtype !== x.dtype || x.dtype === 'string' ? stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]) : shareInput(args);
  }) as unknown as tf.KernelFunc);
  const slice = patchKernel('Slice', (stock) => ((args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const f = hostFor(args.backend, 'wasm');
    const rank = x.shape.length;
    if (!f || (x.dtype !== 'float32' && x.dtype !== 'int32') || rank > 4 || rank === 0) {
      return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    }
    const b = args.backend as WasmBackendLike;
    const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
    const out = b.makeOutput(size, x.dtype);
    if (size.every((d) => d > 0)) {
      const pad = 4 - rank;
      const d = [...Array(pad).fill(1), ...x.shape];
      const bg = [...Array(pad).fill(0), ...begin];
      const sz = [...Array(pad).fill(1), ...size];
      const at = (t: tf.TensorInfo) => b.dataIdMap.get(t.dataId)!.memoryOffset;
      f().k.slice4d(at(x), at(out), d[0], d[1], d[2], d[3], bg[0], bg[1], bg[2], bg[3], sz[0], sz[1], sz[2], sz[3]);
    }
    return out;
  }) as unknown as tf.KernelFunc);
  return identity && cast && slice;
}
