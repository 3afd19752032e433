/**
 * A fixed-length encoding of a space's genomes for the accuracy predictor (Once-for-All's `ArchEncoder` idea, for
 * AlphaNet's per-stage genes):
 *
 *   [resolution one-hot] [one-hot per width gene] then per stage: [depth one-hot]
 *     [kernel one-hot][expand one-hot] for each layer slot 0 … maxDepth−1, all zeros for a slot the depth leaves out.
 *
 * Kernel and expand are chosen per stage (METHOD.md §3.1), but repeating them per *active layer* lets the regressor see
 * that a stage's kernel matters more when the stage is deeper (OFA encodes per layer too). The length depends only
 * on the space, so one model serves every genome of it. `decode` inverts `encode` exactly and refuses a vector
 * that no genome encodes to (tested over every space in the registry).
 */
import { widthChoices, type Genome, type SearchSpace } from '../../engine/core';

export interface GenomeEncoder {
  spaceId: string;
  /** Features per genome. */
  length: number;
  /** One name per feature, e.g. `res=32`, `w mb2=32`, `d mb3=2`, `k mb3#1=5` (slot 1), `e mb3#0=6`. */
  featureNames: string[];
  encode(g: Genome): Float32Array;
  /** Row-major n × length. */
  encodeMany(gs: readonly Genome[]): Float32Array;
  /** The genome a vector encodes; throws naming the first inconsistent block. */
  decode(v: ArrayLike<number>): Genome;
}

export class EncodingError extends Error {
  override name = 'EncodingError';
}

/** Reads a one-hot block: the index of its single 1. */
function oneHotIndex(v: ArrayLike<number>, at: number, n: number, what: string): number {
  let idx = -1;
  for (let i = 0; i < n; i++) {
    const x = v[at + i];
    if (x === 1) {
      if (idx >= 0) throw new EncodingError(`${what}: more than one choice set`);
      idx = i;
    } else if (x !== 0) throw new EncodingError(`${what}: ${x} is neither 0 nor 1`);
  }
  if (idx < 0) throw new EncodingError(`${what}: no choice set`);
  return idx;
}

function allZero(v: ArrayLike<number>, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (v[at + i] !== 0) return false;
  return true;
}

export function genomeEncoder(space: SearchSpace): GenomeEncoder {
  const wc = widthChoices(space);
  const multiplier = space.widthMode === 'multiplier';
  const widthLists = multiplier ? [wc[0]] : wc;
  const n = space.stages.length;
  const widthName = (i: number) => (multiplier ? '×' : i === 0 ? 'first' : i === n + 1 ? 'last' : space.stages[i - 1].name);
  const names: string[] = [];
  for (const r of space.resolutions) names.push(`res=${r}`);
  widthLists.forEach((l, i) => l.forEach((w) => names.push(`w ${widthName(i)}=${w}`)));
  const maxDepth = space.stages.map((s) => s.depth[s.depth.length - 1]);
  space.stages.forEach((st, s) => {
    for (const d of st.depth) names.push(`d ${st.name}=${d}`);
    for (let l = 0; l < maxDepth[s]; l++) {
      for (const k of st.kernelSize) names.push(`k ${st.name}#${l}=${k}`);
      for (const e of st.expandRatio) names.push(`e ${st.name}#${l}=${e}`);
    }
  });
  const length = names.length;

  const write = (g: Genome, out: Float32Array, base: number) => {
    let at = base;
    const hot = (choices: number[], value: number, what: string) => {
      const i = choices.indexOf(value);
      if (i < 0) throw new EncodingError(`${what}: ${value} is not one of [${choices.join(', ')}] in space '${space.id}'`);
      out[at + i] = 1;
      at += choices.length;
    };
    hot(space.resolutions, g.resolution, 'resolution');
    widthLists.forEach((l, i) => hot(l, g.width[i], `width[${i}]`));
    space.stages.forEach((st, s) => {
      const d = g.depth[s];
      hot(st.depth, d, `depth[${s}]`);
      for (let l = 0; l < maxDepth[s]; l++) {
        if (l < d) {
          hot(st.kernelSize, g.kernelSize[s], `kernelSize[${s}]`);
          hot(st.expandRatio, g.expandRatio[s], `expandRatio[${s}]`);
        } else at += st.kernelSize.length + st.expandRatio.length;
      }
    });
  };

  const encode = (g: Genome) => {
    const out = new Float32Array(length);
    write(g, out, 0);
    return out;
  };

  const encodeMany = (gs: readonly Genome[]) => {
    const out = new Float32Array(gs.length * length);
    gs.forEach((g, i) => write(g, out, i * length));
    return out;
  };

  const decode = (v: ArrayLike<number>): Genome => {
    if (v.length !== length) throw new EncodingError(`expected ${length} features for space '${space.id}', got ${v.length}`);
    let at = 0;
    const read = (choices: number[], what: string) => {
      const i = oneHotIndex(v, at, choices.length, what);
      at += choices.length;
      return choices[i];
    };
    const resolution = read(space.resolutions, 'resolution');
    let width: number[];
    if (multiplier) {
      const i = oneHotIndex(v, at, wc[0].length, 'width');
      at += wc[0].length;
      width = wc.map((c) => c[i]);
    } else width = wc.map((c, i) => read(c, `width[${i}]`));
    const depth: number[] = [];
    const kernelSize: number[] = [];
    const expandRatio: number[] = [];
    space.stages.forEach((st, s) => {
      const d = read(st.depth, `depth[${s}]`);
      depth.push(d);
      for (let l = 0; l < maxDepth[s]; l++) {
        const slot = st.kernelSize.length + st.expandRatio.length;
        if (l >= d) {
          if (!allZero(v, at, slot)) throw new EncodingError(`stage ${st.name} layer ${l}: set, but the depth is ${d}`);
          at += slot;
          continue;
        }
        const k = read(st.kernelSize, `kernelSize[${s}] layer ${l}`);
        const e = read(st.expandRatio, `expandRatio[${s}] layer ${l}`);
        if (l === 0) {
          kernelSize.push(k);
          expandRatio.push(e);
        } else if (k !== kernelSize[s] || e !== expandRatio[s]) {
          throw new EncodingError(`stage ${st.name} layer ${l}: kernel/expand differ from layer 0 (chosen per stage)`);
        }
      }
    });
    return { resolution, width, depth, kernelSize, expandRatio };
  };

  return { spaceId: space.id, length, featureNames: names, encode, encodeMany, decode };
}
