/**
 * Genomes: sampling (min, max, uniform random with a seeded RNG — METHOD.md §3.3), validation against a space, the
 * canonical JSON form and a stable short ID.
 */
import { createHash } from 'node:crypto';
import type { Rng } from './rng';
import { GenomeSchema, SpaceError, formatIssues, type Genome, type SearchSpace } from './schema';

/** The choice list of every width gene, in gene order: [first_conv, stages…, last_conv]. */
export function widthChoices(space: SearchSpace): number[][] {
  return [space.firstConv.width, ...space.stages.map((s) => s.width), space.lastConv.width];
}

const first = (xs: number[]) => xs[0];
const last = (xs: number[]) => xs[xs.length - 1];

function pick(space: SearchSpace, f: (xs: number[]) => number): Genome {
  return {
    resolution: f(space.resolutions),
    width: widthChoices(space).map(f),
    depth: space.stages.map((s) => f(s.depth)),
    kernelSize: space.stages.map((s) => f(s.kernelSize)),
    expandRatio: space.stages.map((s) => f(s.expandRatio)),
  };
}

/** The smallest value of every gene (choice lists are increasing). */
export function minGenome(space: SearchSpace): Genome {
  return pick(space, first);
}

/** The largest value of every gene. */
export function maxGenome(space: SearchSpace): Genome {
  return pick(space, last);
}

/**
 * Draws every gene independently and uniformly, in the reference's order (resolution, widths, then per stage depth,
 * kernel, expand). In `multiplier` width mode one index is drawn for all widths.
 */
export function randomGenome(space: SearchSpace, rng: Rng): Genome {
  const resolution = rng.choice(space.resolutions);
  const wc = widthChoices(space);
  let width: number[];
  if (space.widthMode === 'multiplier') {
    const idx = rng.int(wc[0].length);
    width = wc.map((c) => c[idx]);
  } else {
    width = wc.map((c) => rng.choice(c));
  }
  const depth: number[] = [];
  const kernelSize: number[] = [];
  const expandRatio: number[] = [];
  for (const s of space.stages) {
    depth.push(rng.choice(s.depth));
    kernelSize.push(rng.choice(s.kernelSize));
    expandRatio.push(rng.choice(s.expandRatio));
  }
  return { resolution, width, depth, kernelSize, expandRatio };
}

/** Every reason a genome does not belong to a space; empty when it does. Each names the gene. */
export function genomeErrors(space: SearchSpace, g: unknown): string[] {
  const parsed = GenomeSchema.safeParse(g);
  if (!parsed.success) return formatIssues(parsed.error).split('\n');
  const genome = parsed.data;
  const errs: string[] = [];
  const n = space.stages.length;
  if (!space.resolutions.includes(genome.resolution)) {
    errs.push(`resolution: ${genome.resolution} is not one of [${space.resolutions.join(', ')}]`);
  }
  const check = (gene: string, values: number[], lists: number[][]) => {
    if (values.length !== lists.length) {
      errs.push(`${gene}: expected ${lists.length} entries, got ${values.length}`);
      return;
    }
    values.forEach((v, i) => {
      if (!lists[i].includes(v)) errs.push(`${gene}[${i}]: ${v} is not one of [${lists[i].join(', ')}]`);
    });
  };
  const wc = widthChoices(space);
  check('width', genome.width, wc);
  check('depth', genome.depth, space.stages.map((s) => s.depth));
  check('kernelSize', genome.kernelSize, space.stages.map((s) => s.kernelSize));
  check('expandRatio', genome.expandRatio, space.stages.map((s) => s.expandRatio));
  if (space.widthMode === 'multiplier' && genome.width.length === n + 2 && errs.length === 0) {
    const idx = genome.width.map((w, i) => wc[i].indexOf(w));
    if (idx.some((k) => k !== idx[0])) errs.push(`width: widthMode 'multiplier' needs the same choice index for every width, got indices [${idx.join(', ')}]`);
  }
  return errs;
}

/** Validates and returns a genome; the error lists every bad gene. */
export function validateGenome(space: SearchSpace, g: unknown): Genome {
  const errs = genomeErrors(space, g);
  if (errs.length) throw new SpaceError(`genome is not in space '${space.id}':\n${errs.join('\n')}`);
  return GenomeSchema.parse(g);
}

/** Accepts the reference's snake_case layout (`kernel_size`, `expand_ratio`) as well as ours. */
export function normalizeGenomeInput(g: unknown): unknown {
  if (g === null || typeof g !== 'object' || Array.isArray(g)) return g;
  const o = g as Record<string, unknown>;
  if (!('kernel_size' in o) && !('expand_ratio' in o)) return g;
  const { kernel_size, expand_ratio, ...rest } = o;
  return { ...rest, kernelSize: rest.kernelSize ?? kernel_size, expandRatio: rest.expandRatio ?? expand_ratio };
}

/** The canonical JSON form: fixed key order, no whitespace. Equal genomes give equal strings. */
export function canonicalGenomeJson(g: Genome): string {
  return JSON.stringify({
    resolution: g.resolution,
    width: g.width,
    depth: g.depth,
    kernelSize: g.kernelSize,
    expandRatio: g.expandRatio,
  });
}

/**
 * A stable short ID: the first 12 hex digits of SHA-256 over the space id and the canonical genome. The same
 * subnet in the same space always gets the same ID, on every machine and version.
 */
export function genomeId(spaceId: string, g: Genome): string {
  return createHash('sha256').update(`${spaceId}\n${canonicalGenomeJson(g)}`).digest('hex').slice(0, 12);
}

export function genomesEqual(a: Genome, b: Genome): boolean {
  return canonicalGenomeJson(a) === canonicalGenomeJson(b);
}
