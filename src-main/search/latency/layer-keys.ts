/** Layer keys: what determines a layer's cost, the layers of a plan and of a space, and genomes that cover every key. Part of the latency module (index.ts has the overview). */
import {
  Rng,
  randomGenome,
  convOutSize,
  makeDivisible,
  subnetPlan,
  type BlockPlan,
  type SubnetPlan,
  type Genome,
  type SearchSpace,
} from '../../engine';

// ---- layer keys ----

type FirstSpec = { kind: 'first'; cIn: number; cOut: number; k: number; stride: 1 | 2; inSize: number };
type BlockSpec = { kind: 'block'; cIn: number; cMid: number; cOut: number; k: number; stride: 1 | 2; cSe: number; inSize: number; hasExpand: boolean; pool: boolean; conv: boolean };
type HeadSpec = { kind: 'head'; cIn: number; cExpand: number; cLast: number; numClasses: number; size: number };
export type LayerSpec = FirstSpec | BlockSpec | HeadSpec;

export function layerKey(s: LayerSpec): string {
  switch (s.kind) {
    case 'first':
      return `first:${s.cIn}>${s.cOut} k${s.k} s${s.stride} @${s.inSize}`;
    case 'block':
      return `mb:${s.cIn}>${s.cMid}>${s.cOut} k${s.k} s${s.stride} se${s.cSe} @${s.inSize}${s.hasExpand ? '' : ' noexp'}${s.pool ? ' pool' : ''}${s.conv ? ' sc' : ''}`;
    case 'head':
      return `head:${s.cIn}>${s.cExpand}>${s.cLast}>${s.numClasses} @${s.size}`;
  }
}

const blockSpec = (b: BlockPlan): BlockSpec => ({
  kind: 'block', cIn: b.cIn, cMid: b.cMid, cOut: b.cOut, k: b.kernel, stride: b.stride, cSe: b.cSe, inSize: b.inSize, hasExpand: b.hasExpand, pool: b.shortcutPool, conv: b.shortcutConv,
});

/** The layers of one subnet, in order. */
export function planLayers(plan: SubnetPlan): LayerSpec[] {
  const f = plan.first;
  return [
    { kind: 'first', cIn: f.cIn, cOut: f.cOut, k: f.kernel, stride: f.stride, inSize: plan.resolution },
    ...plan.blocks.map(blockSpec),
    { kind: 'head', cIn: plan.head.cIn, cExpand: plan.head.cExpand, cLast: plan.head.cLast, numClasses: plan.head.numClasses, size: plan.head.size },
  ];
}

/**
 * Every layer any subnet of the space can contain (a superset in `multiplier` width mode, where widths are coupled).
 * Spatial sizes depend only on the resolution (symmetric padding k//2 keeps sizes independent of odd kernels).
 */
export function enumerateLayers(space: SearchSpace, numClasses = space.numClasses): Map<string, LayerSpec> {
  const out = new Map<string, LayerSpec>();
  const add = (s: LayerSpec) => out.set(layerKey(s), s);
  const se = (cMid: number) => makeDivisible(Math.floor(cMid / 4), 8);
  const last = (xs: number[]) => xs[xs.length - 1];
  for (const r of space.resolutions) {
    const fc = space.firstConv;
    let size = convOutSize(r, fc.kernelSize, fc.stride);
    for (const w of fc.width) add({ kind: 'first', cIn: space.inputChannels, cOut: w, k: fc.kernelSize, stride: fc.stride, inSize: r });
    let prevWidths = fc.width;
    for (const st of space.stages) {
      const hasExpand = last(st.expandRatio) > 1;
      const outSize = convOutSize(size, 3, st.stride);
      for (let b = 0; b < Math.min(2, last(st.depth)); b++) {
        // Blocks after the second of a stage repeat the second's shapes.
        const stride = b === 0 ? st.stride : 1;
        const inSize = b === 0 ? size : outSize;
        const ins = b === 0 ? prevWidths : st.width;
        for (const cIn of ins)
          for (const cOut of st.width) {
            if (b > 0 && cIn !== cOut) continue;
            for (const t of st.expandRatio)
              for (const k of st.kernelSize) {
                const cMid = hasExpand ? makeDivisible(Math.round(cIn * t), 8) : cIn;
                add({ kind: 'block', cIn, cMid, cOut, k, stride, cSe: st.se ? se(cMid) : 0, inSize, hasExpand, pool: stride === 2, conv: cIn !== cOut });
              }
          }
      }
      prevWidths = st.width;
      size = outSize;
    }
    for (const cIn of prevWidths) for (const cLast of space.lastConv.width) add({ kind: 'head', cIn, cExpand: cIn * space.headExpand, cLast, numClasses, size });
  }
  return out;
}

/** The layer keys of a subnet, in forward order: first conv, blocks, head. */
export function subnetKeys(space: SearchSpace, g: Genome, numClasses = space.numClasses): string[] {
  return planLayers(subnetPlan(space, g, numClasses)).map(layerKey);
}

/**
 * Genomes that together contain every layer key of the space at least `perKey` times: greedy, each step taking of
 * `candidates` random genomes the one that adds the most missing samples; it stops when every key is covered or
 * `patience` steps in a row found nothing to add (keys no subnet can use, in `multiplier` width mode).
 */
export function coverGenomes(space: SearchSpace, opts: { perKey?: number; seed?: number; candidates?: number; patience?: number; numClasses?: number } = {}): Genome[] {
  const perKey = opts.perKey ?? 2;
  const candidates = opts.candidates ?? 128;
  const targets = new Set(enumerateLayers(space, opts.numClasses).keys());
  const count = new Map<string, number>();
  const missing = () => [...targets].reduce((a, k) => a + Math.max(0, perKey - (count.get(k) ?? 0)), 0);
  const rng = new Rng(opts.seed ?? 1);
  const chosen: Genome[] = [];
  let idle = 0;
  let left = missing();
  while (left > 0 && idle < (opts.patience ?? 3)) {
    let best: { g: Genome; keys: string[]; gain: number } | undefined;
    for (let c = 0; c < candidates; c++) {
      const g = randomGenome(space, rng);
      const keys = subnetKeys(space, g, opts.numClasses);
      const seen = new Map<string, number>();
      let gain = 0;
      for (const k of keys) {
        const n = (count.get(k) ?? 0) + (seen.get(k) ?? 0);
        if (targets.has(k) && n < perKey) gain++;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      if (gain > (best?.gain ?? 0)) best = { g, keys, gain };
    }
    if (!best) {
      idle++;
      continue;
    }
    idle = 0;
    chosen.push(best.g);
    for (const k of best.keys) count.set(k, (count.get(k) ?? 0) + 1);
    left -= best.gain;
  }
  return chosen;
}
