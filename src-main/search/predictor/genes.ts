/**
 * The genes of a search space as a flat list, in the reference predictor's feature order (METHOD.md §3.1: resolution,
 * widths, then per stage depth, kernel, expand — AttentiveNAS#6 asks for that order to be fixed and documented).
 *
 * A gene is one free choice: resolution, one width entry (or, in `multiplier` width mode, the one shared width
 * index), one stage's depth, kernel or expand ratio. Each gene's value is a choice *index*, so a gene reads and
 * writes a genome without knowing what the values mean. The encoding, gene importance and the explorer's parallel
 * coordinates all use this list, so their axes agree.
 */
import { widthChoices, type Genome, type SearchSpace } from '../../engine/core';

export type GeneKind = 'resolution' | 'width' | 'depth' | 'kernelSize' | 'expandRatio';

export interface Gene {
  /** Stable key, e.g. `resolution`, `width[0]`, `depth[2]`, `width` (multiplier mode). */
  key: string;
  /** Short human label, e.g. `res`, `w first`, `d mb3`, `k mb3`, `e mb3`, `w ×`. */
  label: string;
  kind: GeneKind;
  /** Stage index for depth/kernel/expand (and stage widths); absent for resolution, first/last conv, multiplier. */
  stage?: number;
  /** The choice values, increasing (in multiplier mode: the first conv's widths, standing for the index). */
  values: number[];
  /** The genome's choice index of this gene (-1 when the value is not a choice). */
  get(g: Genome): number;
  /** A copy of the genome with this gene set to choice `index`. */
  with(g: Genome, index: number): Genome;
}

const replaceAt = (xs: number[], i: number, v: number) => xs.map((x, j) => (j === i ? v : x));

/** Every gene of the space, in the fixed order; genes with a single choice are included (they never vary). */
export function spaceGenes(space: SearchSpace): Gene[] {
  const genes: Gene[] = [];
  genes.push({
    key: 'resolution',
    label: 'res',
    kind: 'resolution',
    values: space.resolutions,
    get: (g) => space.resolutions.indexOf(g.resolution),
    with: (g, i) => ({ ...g, resolution: space.resolutions[i] }),
  });
  const wc = widthChoices(space);
  const n = space.stages.length;
  const widthName = (i: number) => (i === 0 ? 'first' : i === n + 1 ? 'last' : space.stages[i - 1].name);
  if (space.widthMode === 'multiplier') {
    genes.push({
      key: 'width',
      label: 'w ×',
      kind: 'width',
      values: wc[0],
      get: (g) => wc[0].indexOf(g.width[0]),
      with: (g, i) => ({ ...g, width: wc.map((c) => c[i]) }),
    });
  } else {
    wc.forEach((choices, i) => {
      genes.push({
        key: `width[${i}]`,
        label: `w ${widthName(i)}`,
        kind: 'width',
        ...(i >= 1 && i <= n ? { stage: i - 1 } : {}),
        values: choices,
        get: (g) => choices.indexOf(g.width[i]),
        with: (g, k) => ({ ...g, width: replaceAt(g.width, i, choices[k]) }),
      });
    });
  }
  const perStage = (kind: 'depth' | 'kernelSize' | 'expandRatio', short: string) =>
    space.stages.forEach((st, s) => {
      const choices = st[kind];
      genes.push({
        key: `${kind}[${s}]`,
        label: `${short} ${st.name}`,
        kind,
        stage: s,
        values: choices,
        get: (g) => choices.indexOf(g[kind][s]),
        with: (g, k) => ({ ...g, [kind]: replaceAt(g[kind], s, choices[k]) }),
      });
    });
  perStage('depth', 'd');
  perStage('kernelSize', 'k');
  perStage('expandRatio', 'e');
  return genes;
}
