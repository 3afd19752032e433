/**
 * The layer plan of a subnet: every block's channels, kernel, stride and spatial sizes, derived once from a space
 * and a genome by the rules of METHOD.md §3.2. The forward pass, the FLOPs counter, static extraction and export all read
 * this plan, so they cannot disagree about shapes. `supernetShape` gives the maximum (allocated) size of every
 * physical layer, from which every subnet's weights are sliced (METHOD.md §3.4).
 */
import type { Genome, SearchSpace, StageSpec } from './schema';

/** make_divisible(v, 8, min_value=1) of the reference: round to a multiple of 8, never more than 10 % down. */
export function makeDivisible(v: number, divisor = 8, minValue = 1): number {
  let nv = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (nv < 0.9 * v) nv += divisor;
  return nv;
}

/** Output size of a conv with symmetric padding k//2 (PyTorch convention, METHOD.md §3.2). */
export function convOutSize(size: number, kernel: number, stride: number): number {
  const pad = Math.floor(kernel / 2);
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Output size of the shortcut's 2×2/2 average pool (padding 1 when the input is odd, count_include_pad). */
export function poolOutSize(size: number): number {
  const pad = size % 2;
  return Math.floor((size + 2 * pad - 2) / 2) + 1;
}

const maxOf = (xs: number[]) => xs[xs.length - 1];

/** Allocated middle channels of a block whose possible input widths are `ins`. */
function maxMid(st: StageSpec, ins: number[]): number {
  return maxOf(st.expandRatio) > 1 ? makeDivisible(Math.round(maxOf(ins) * maxOf(st.expandRatio)), 8) : maxOf(ins);
}

/** SE middle channels: make_divisible(c_mid // 4, 8) (METHOD.md §3.2). */
const seChannels = (cMid: number) => makeDivisible(Math.floor(cMid / 4), 8);

/**
 * Allocated SE channels: the reference's make_divisible(max_mid // 4, 8) (METHOD.md §3.4) — except that make_divisible is
 * not monotonic below 8 (make_divisible(2) = 9 > make_divisible(6) = 8), so with tiny widths a smaller subnet could
 * ask for more SE channels than that; we allocate the largest any subnet uses (identical for every built-in space).
 */
function maxSe(st: StageSpec, ins: number[]): number {
  if (!st.se) return 0;
  let m = 0;
  for (const cIn of ins) {
    for (const t of st.expandRatio) m = Math.max(m, seChannels(maxOf(st.expandRatio) > 1 ? makeDivisible(Math.round(cIn * t), 8) : cIn));
  }
  return Math.max(m, seChannels(maxMid(st, ins)));
}

export interface BlockPlan {
  /** Stage index (0-based over `space.stages`) and block index inside the stage. */
  stage: number;
  block: number;
  /** Index of this physical block in the full supernet (0 … total max depth − 1). */
  globalIndex: number;
  cIn: number;
  cMid: number;
  cOut: number;
  kernel: number;
  stride: 1 | 2;
  /** False in stages whose largest expand ratio is 1 (no expand conv; METHOD.md §3.2 mb1). */
  hasExpand: boolean;
  /** SE middle channels, 0 when the stage has no SE. */
  cSe: number;
  inSize: number;
  outSize: number;
  /** identity: x; otherwise optional 2×2 avg-pool (stride 2) then optional 1×1 conv (channels differ). */
  shortcutPool: boolean;
  shortcutConv: boolean;
  /**
   * Drop-connect rate relative to the base rate: globalIndex / total blocks on identity blocks of the last
   * `dropConnectLastStages` stages, 0 elsewhere (METHOD.md §2.2: rate = 0.2 · idx / 37 on ImageNet).
   */
  dropConnectScale: number;
}

export interface SubnetPlan {
  resolution: number;
  inputChannels: number;
  first: { cIn: number; cOut: number; kernel: number; stride: 1 | 2; outSize: number };
  blocks: BlockPlan[];
  head: { cIn: number; cExpand: number; cLast: number; numClasses: number; size: number };
}

/** The plan of one subnet. `numClasses` overrides the space's classifier size. */
export function subnetPlan(space: SearchSpace, g: Genome, numClasses = space.numClasses): SubnetPlan {
  const totalBlocks = space.stages.reduce((a, s) => a + s.depth[s.depth.length - 1], 0);
  const dropStages = space.stages.length - space.dropConnectLastStages;
  const firstOut = convOutSize(g.resolution, space.firstConv.kernelSize, space.firstConv.stride);
  let size = firstOut;
  let cIn = g.width[0];

  let globalIndex = 0;
  const blocks: BlockPlan[] = [];
  space.stages.forEach((st, si) => {
    const cOut = g.width[si + 1];
    const hasExpand = st.expandRatio[st.expandRatio.length - 1] > 1;
    for (let b = 0; b < st.depth[st.depth.length - 1]; b++, globalIndex++) {
      if (b >= g.depth[si]) continue;
      const stride = b === 0 ? st.stride : 1;
      // Without an expand conv the depthwise conv runs on the input channels as they are.
      const cMid = hasExpand ? makeDivisible(Math.round(cIn * g.expandRatio[si]), 8) : cIn;
      const outSize = convOutSize(size, g.kernelSize[si], stride);
      const identity = cIn === cOut && stride === 1;
      blocks.push({
        stage: si,
        block: b,
        globalIndex,
        cIn,
        cMid,
        cOut,
        kernel: g.kernelSize[si],
        stride,
        hasExpand,
        cSe: st.se ? seChannels(cMid) : 0,
        inSize: size,
        outSize,
        shortcutPool: stride === 2,
        shortcutConv: cIn !== cOut,
        dropConnectScale: identity && si >= dropStages ? globalIndex / totalBlocks : 0,
      });
      cIn = cOut;
      size = outSize;
    }
  });
  const cLastStage = g.width[space.stages.length];
  return {
    resolution: g.resolution,
    inputChannels: space.inputChannels,
    first: { cIn: space.inputChannels, cOut: g.width[0], kernel: space.firstConv.kernelSize, stride: space.firstConv.stride, outSize: firstOut },
    blocks,
    head: {
      cIn: cLastStage,
      cExpand: cLastStage * space.headExpand,
      cLast: g.width[space.stages.length + 1],
      numClasses,
      size,
    },
  };
}

/** Allocated (maximum) sizes of one physical block. */
export interface BlockShape {
  stage: number;
  block: number;
  globalIndex: number;
  maxIn: number;
  maxMid: number;
  maxOut: number;
  maxKernel: number;
  hasExpand: boolean;
  /** SE middle channels at max size, 0 without SE. */
  maxSe: number;
  /** Whether some subnet needs a shortcut conv here (channels can differ). */
  hasShortcutConv: boolean;
}

export interface SupernetShape {
  first: { cIn: number; maxOut: number; kernel: number };
  blocks: BlockShape[];
  head: { maxIn: number; maxExpand: number; maxLast: number; numClasses: number };
}


/** The maximum size of every physical layer: what the supernet allocates (METHOD.md §3.4). */
export function supernetShape(space: SearchSpace, numClasses = space.numClasses): SupernetShape {
  const blocks: BlockShape[] = [];
  let inChoices = space.firstConv.width;
  let globalIndex = 0;
  space.stages.forEach((st, si) => {
    for (let b = 0; b < maxOf(st.depth); b++, globalIndex++) {
      const ins = b === 0 ? inChoices : st.width;
      blocks.push({
        stage: si,
        block: b,
        globalIndex,
        maxIn: maxOf(ins),
        maxMid: maxMid(st, ins),
        maxOut: maxOf(st.width),
        maxKernel: maxOf(st.kernelSize),
        hasExpand: maxOf(st.expandRatio) > 1,
        maxSe: maxSe(st, ins),
        // Later blocks of a stage always have c_in = c_out (one width per stage).
        hasShortcutConv: b === 0 && ins.some((ci) => st.width.some((co) => ci !== co)),
      });
    }
    inChoices = st.width;
  });
  const lastStage = maxOf(space.stages[space.stages.length - 1].width);
  return {
    first: { cIn: space.inputChannels, maxOut: maxOf(space.firstConv.width), kernel: space.firstConv.kernelSize },
    blocks,
    head: { maxIn: lastStage, maxExpand: lastStage * space.headExpand, maxLast: maxOf(space.lastConv.width), numClasses },
  };
}
