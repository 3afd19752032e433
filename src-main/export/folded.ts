/**
 * A calibrated static subnet as a flat list of layers with batch norm folded into the preceding convolutions: the
 * common source of the TF.js and ONNX exporters, so both read the same numbers.
 *
 * Folding is exact algebra: every BN follows a convolution without bias, so
 *   BN(conv(x; W)) = conv(x; W·s) + (β − μ·s),  s = γ / √(σ² + ε)
 * per output channel (only floating-point rounding differs; the fold is done in float64). Weights keep the engine's
 * layouts: conv [k,k,Cin,Cout] (HWIO), depthwise [k,k,C,1], pointwise and dense [Cin,Cout].
 */
import type { StaticSubnet } from '../engine';
import { subnetPlan, type BlockPlan } from '../engine/core';

export interface FoldedConv {
  kind: 'conv' | 'depthwise' | 'pointwise';
  k: number;
  stride: 1 | 2;
  cIn: number;
  cOut: number;
  /** HWIO for conv/pointwise ([1,1,Cin,Cout] for pointwise), [k,k,C,1] for depthwise. */
  w: Float32Array;
  /** Absent for the shortcut conv (no BN, no bias). */
  b?: Float32Array;
}

export interface FoldedDense {
  cIn: number;
  cOut: number;
  /** [Cin, Cout]. */
  w: Float32Array;
  b?: Float32Array;
}

export interface FoldedBlock {
  /** The plan entry (channels, kernel, stride, sizes, shortcut kind). */
  plan: BlockPlan;
  expand?: FoldedConv;
  dw: FoldedConv;
  se?: { reduce: FoldedDense; expand: FoldedDense };
  project: FoldedConv;
  shortcutPool: boolean;
  /** True when the pool's input is odd-sized: pad 1 on every side, count the padding (METHOD.md §3.2). */
  shortcutPoolPad: boolean;
  shortcut?: FoldedConv;
}

export interface FoldedSubnet {
  resolution: number;
  inputChannels: number;
  numClasses: number;
  first: FoldedConv;
  blocks: FoldedBlock[];
  head: { expand: FoldedConv; mix: FoldedDense; classifier: FoldedDense };
}

/** Reads the static subnet's weights and calibrated statistics and folds every BN. */
export function foldSubnet(s: StaticSubnet): FoldedSubnet {
  const net = s.net;
  const eps = net.space.bnEps;
  const plan = subnetPlan(net.space, s.genome, net.numClasses);
  const read = (name: string) => net.param(name).dataSync() as Float32Array;

  const fold = (prefix: string, wName: string, kind: FoldedConv['kind'], k: number, stride: 1 | 2, cIn: number, cOut: number): FoldedConv => {
    const w = read(wName);
    const gamma = read(`${prefix}.bn.gamma`);
    const beta = read(`${prefix}.bn.beta`);
    const st = s.stats.get(prefix);
    if (!st || st.mean.length !== cOut) throw new Error(`the static subnet has no calibrated statistics for '${prefix}' (${cOut} channels)`);
    const scale = new Float64Array(cOut);
    const b = new Float32Array(cOut);
    for (let c = 0; c < cOut; c++) {
      scale[c] = gamma[c] / Math.sqrt(st.variance[c] + eps);
      b[c] = beta[c] - st.mean[c] * scale[c];
    }
    // The output channel is the fastest-varying index except for depthwise [k,k,C,1], where it is C (multiplier 1).
    const wf = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) wf[i] = w[i] * scale[i % cOut];
    return { kind, k, stride, cIn, cOut, w: wf, b };
  };
  const dense = (name: string, cIn: number, cOut: number, bias: boolean): FoldedDense => ({
    cIn,
    cOut,
    w: read(`${name}.w`).slice(),
    ...(bias ? { b: read(`${name}.b`).slice() } : {}),
  });

  const f = plan.first;
  const first = fold('first', 'first.conv.w', 'conv', f.kernel, f.stride, f.cIn, f.cOut);
  const blocks = plan.blocks.map((b): FoldedBlock => {
    const p = `blocks.${b.globalIndex}`;
    return {
      plan: b,
      ...(b.hasExpand ? { expand: fold(`${p}.expand`, `${p}.expand.w`, 'pointwise', 1, 1, b.cIn, b.cMid) } : {}),
      dw: fold(`${p}.dw`, `${p}.dw.w`, 'depthwise', b.kernel, b.stride, b.cMid, b.cMid),
      ...(b.cSe > 0 ? { se: { reduce: dense(`${p}.se.reduce`, b.cMid, b.cSe, true), expand: dense(`${p}.se.expand`, b.cSe, b.cMid, true) } } : {}),
      project: fold(`${p}.project`, `${p}.project.w`, 'pointwise', 1, 1, b.cMid, b.cOut),
      shortcutPool: b.shortcutPool,
      shortcutPoolPad: b.shortcutPool && b.inSize % 2 === 1,
      ...(b.shortcutConv ? { shortcut: { kind: 'pointwise' as const, k: 1, stride: 1 as const, cIn: b.cIn, cOut: b.cOut, w: read(`${p}.shortcut.w`).slice() } } : {}),
    };
  });
  const h = plan.head;
  return {
    resolution: plan.resolution,
    inputChannels: plan.inputChannels,
    numClasses: h.numClasses,
    first,
    blocks,
    head: {
      expand: fold('head.expand', 'head.expand.w', 'pointwise', 1, 1, h.cIn, h.cExpand),
      mix: dense('head.mix', h.cExpand, h.cLast, false),
      classifier: dense('classifier', h.cLast, h.numClasses, true),
    },
  };
}
