/**
 * Which genes drive accuracy: an fANOVA-style variance decomposition over a fitted model (Hutter, Hoos &
 * Leyton-Brown 2014, "An efficient approach for assessing hyperparameter importance"), computed by Monte Carlo.
 *
 * Under the uniform distribution over the space (every gene drawn independently, as `randomGenome` does), the
 * model's prediction f has variance V. A gene's main effect is its marginal m(v) = E[f | gene = v], averaged over all
 * other genes; its importance is Var_v m(v) / V, the share of V it explains alone (the first-order Sobol index that
 * fANOVA reports). The shares sum to at most 1 (up to sampling error); the rest is interactions. Each marginal uses the same base sample
 * with only the gene changed (common random numbers), so differences between a gene's values are not sampling
 * noise between samples. fANOVA itself fits a random forest; here the model is the accuracy predictor (or any
 * function of genomes, which the tests use to check against exact indices).
 */
import { Rng, randomGenome, type Genome, type SearchSpace } from '../../engine/core';
import { spaceGenes, type GeneKind } from './genes';

export interface GeneImportance {
  key: string;
  label: string;
  kind: GeneKind;
  stage?: number;
  /** Share of the predictions' variance this gene explains alone (0…1). */
  importance: number;
  /** Mean prediction with the gene fixed to each of its values (the main effect), in the model's unit. */
  marginal: { value: number; mean: number }[];
}

export interface ImportanceReport {
  /** Every gene with more than one choice, most important first. */
  genes: GeneImportance[];
  /** Variance of the predictions over uniform random subnets. */
  variance: number;
  /** Σ importance: how much of the variance main effects explain (the rest: interactions). */
  mainEffects: number;
  samples: number;
}

export interface ImportanceOptions {
  /** Base genomes drawn uniformly (default 256). */
  samples?: number;
  seed?: number;
}

/** `predict` scores a batch of genomes (e.g. the predictor's `predictGenomes`). */
export function geneImportance(space: SearchSpace, predict: (gs: Genome[]) => ArrayLike<number>, opts: ImportanceOptions = {}): ImportanceReport {
  const samples = opts.samples ?? 256;
  if (!Number.isInteger(samples) || samples < 2) throw new RangeError(`importance samples must be an integer ≥ 2, got ${samples}`);
  const rng = new Rng(opts.seed ?? 0);
  const base = Array.from({ length: samples }, () => randomGenome(space, rng));
  const mean = (xs: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i];
    return s / xs.length;
  };
  // V from its own, larger uniform sample (16× the base, at least 4,096): a marginal's error is a difference over the
  // same base and stays small, but V from the base alone would carry that sample's ~9 % error (at 256) into every share.
  const vs = predict(Array.from({ length: Math.max(4096, 16 * samples) }, () => randomGenome(space, rng)));
  const vm = mean(vs);
  let variance = 0;
  for (let i = 0; i < vs.length; i++) variance += (vs[i] - vm) ** 2;
  variance /= vs.length;
  const raw: { gene: ReturnType<typeof spaceGenes>[number]; marginal: { value: number; mean: number }[] }[] = [];
  for (const gene of spaceGenes(space)) {
    if (gene.values.length < 2) continue;
    raw.push({ gene, marginal: gene.values.map((value, k) => ({ value, mean: mean(predict(base.map((g) => gene.with(g, k)))) })) });
  }
  const genes: GeneImportance[] = raw.map(({ gene, marginal }) => {
    const mm = mean(marginal.map((m) => m.mean));
    const v = marginal.reduce((s, m) => s + (m.mean - mm) ** 2, 0) / marginal.length;
    return {
      key: gene.key,
      label: gene.label,
      kind: gene.kind,
      ...(gene.stage !== undefined ? { stage: gene.stage } : {}),
      importance: variance > 0 ? v / variance : 0,
      marginal,
    };
  });
  genes.sort((a, b) => b.importance - a.importance);
  return { genes, variance, mainEffects: genes.reduce((s, g) => s + g.importance, 0), samples };
}
