/**
 * The accuracy predictor's core: the encoding round-trips every genome of every registered space, the rank metrics
 * match scipy, the plain-JS forward pass matches TF.js, the MLP learns a synthetic space whose accuracy is a known
 * function of the genes (held-out Kendall τ ≥ 0.9), and gene importance recovers exact variance shares.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Rng,
  genomeId,
  maxGenome,
  minGenome,
  randomGenome,
  getSpace,
  listNamedSubnets,
  listSpaces,
  type Genome,
  type SearchSpace,
} from '../../../src-main/engine/core';
import { buildPredictor, sizeSteps } from '../../../src-main/search/predictor/build';
import { fitMlp, initMlp } from '../../../src-main/search/predictor/fit';
import {
  EncodingError,
  averageRanks,
  geneImportance,
  genomeEncoder,
  genomeScorer,
  kendallTau,
  mlpPredict,
  rankMetrics,
  spaceGenes,
  spearmanRho,
} from '../../../src-main/search/predictor';

beforeAll(async () => {
  // WASM where it loads (5× faster than plain JS for these small matmuls), else the JS backend.
  await import('@tensorflow/tfjs-backend-wasm').catch(() => undefined);
  if (!(await tf.setBackend('wasm').catch(() => false))) await tf.setBackend('cpu');
});

/** Genomes that together exercise every value of every encoding block of a space (the blocks are independent). */
function blockCover(space: SearchSpace, rng: Rng): Genome[] {
  const out: Genome[] = [minGenome(space), maxGenome(space)];
  for (const gene of spaceGenes(space)) {
    gene.values.forEach((_, k) => out.push(gene.with(randomGenome(space, rng), k)));
  }
  // Per stage every (depth, kernel, expand) combination: the per-layer slots depend on all three.
  space.stages.forEach((st, s) => {
    for (const d of st.depth) for (const k of st.kernelSize) for (const e of st.expandRatio) {
      const g = randomGenome(space, rng);
      out.push({ ...g, depth: g.depth.map((x, i) => (i === s ? d : x)), kernelSize: g.kernelSize.map((x, i) => (i === s ? k : x)), expandRatio: g.expandRatio.map((x, i) => (i === s ? e : x)) });
    }
  });
  for (let i = 0; i < 300; i++) out.push(randomGenome(space, rng));
  return out;
}

/** Every genome of a space, when there are at most `limit`. */
function allGenomes(space: SearchSpace, limit: number): Genome[] | null {
  const genes = spaceGenes(space);
  const total = genes.reduce((p, g) => p * g.values.length, 1);
  if (total > limit) return null;
  let gs = [minGenome(space)];
  for (const gene of genes) gs = gs.flatMap((g) => gene.values.map((_, k) => gene.with(g, k)));
  return gs;
}

describe('genome encoding', () => {
  it.each(listSpaces().map((s) => [s.id, s] as const))('round-trips the genomes of %s with a fixed length', (_id, space) => {
    const enc = genomeEncoder(space);
    const rng = new Rng(7);
    const named = listNamedSubnets(space.id).map((n) => n.genome);
    const genomes = [...blockCover(space, rng), ...named, ...(allGenomes(space, 5000) ?? [])];
    const seen = new Map<string, string>();
    for (const g of genomes) {
      const v = enc.encode(g);
      expect(v.length).toBe(enc.length);
      expect(enc.decode(v)).toEqual(g);
      // Injective: two genomes never share a code.
      const key = Array.from(v).join('');
      const id = genomeId(space.id, g);
      expect(seen.get(key) ?? id).toBe(id);
      seen.set(key, id);
    }
    expect(enc.featureNames).toHaveLength(enc.length);
    const many = enc.encodeMany(genomes.slice(0, 5));
    genomes.slice(0, 5).forEach((g, i) => expect(Array.from(many.subarray(i * enc.length, (i + 1) * enc.length))).toEqual(Array.from(enc.encode(g))));
  });

  it('enumerates the tiny spaces completely (slimmable: every genome)', () => {
    const slim = getSpace('slimmable-cifar32');
    const all = allGenomes(slim, 5000)!;
    expect(all).toHaveLength(3);
    const enc = genomeEncoder(slim);
    for (const g of all) expect(enc.decode(enc.encode(g))).toEqual(g);
  });

  it('refuses vectors no genome encodes to, naming the block', () => {
    const space = getSpace('alphanet-cifar32');
    const enc = genomeEncoder(space);
    const g = minGenome(space); // depth 1 everywhere: layer slot 1 of every stage is empty
    const v = enc.encode(g);
    expect(() => enc.decode(v.subarray(1))).toThrow(/expected \d+ features/);
    const twoRes = Float32Array.from(v);
    twoRes[1] = 1;
    expect(() => enc.decode(twoRes)).toThrow(EncodingError);
    expect(() => enc.decode(twoRes)).toThrow(/resolution: more than one choice set/);
    const ghost = Float32Array.from(v);
    ghost[enc.featureNames.indexOf('k mb3#1=5')] = 1;
    expect(() => enc.decode(ghost)).toThrow(/stage mb3 layer 1: set, but the depth is 1/);
    expect(() => enc.encode({ ...g, resolution: 30 })).toThrow(/resolution: 30 is not one of \[24, 28, 32\]/);
  });

  it('keeps the reference feature order: resolution, widths, then per stage depth, kernel, expand', () => {
    const space = getSpace('alphanet-cifar32');
    expect(spaceGenes(space).map((g) => g.key).slice(0, 9)).toEqual(['resolution', 'width[0]', 'width[1]', 'width[2]', 'width[3]', 'width[4]', 'width[5]', 'width[6]', 'depth[0]']);
    expect(genomeEncoder(space).featureNames.slice(0, 6)).toEqual(['res=24', 'res=28', 'res=32', 'w first=16', 'w first=24', 'w mb1=16']);
    expect(spaceGenes(getSpace('slimmable-cifar32')).filter((g) => g.values.length > 1).map((g) => g.key)).toEqual(['width']);
  });
});

describe('rank metrics', () => {
  // Reference values: scipy 1.17.1, stats.kendalltau / stats.spearmanr (both tie-corrected), numpy RMSE.
  const x = [0.71, 0.65, 0.65, 0.8, 0.52, 0.77, 0.71, 0.6, 0.69, 0.74];
  const y = [0.7, 0.66, 0.61, 0.79, 0.55, 0.75, 0.73, 0.6, 0.6, 0.78];

  it('match scipy on tied data', () => {
    expect(kendallTau(x, y)).toBeCloseTo(0.8276408817690653, 12);
    expect(spearmanRho(x, y)).toBeCloseTo(0.929667955700181, 12);
    const m = rankMetrics(x, y);
    expect(m.rmsePoints).toBeCloseTo(3.646916505762095, 10);
    expect(m.n).toBe(10);
  });

  it('are ±1 for monotone data and NaN for a constant side', () => {
    const a = [1, 2, 3, 4, 5];
    expect(kendallTau(a, a.map((v) => v * v))).toBe(1);
    expect(kendallTau(a, a.map((v) => -v))).toBe(-1);
    expect(spearmanRho(a, a.map((v) => Math.exp(v)))).toBeCloseTo(1, 12);
    expect(kendallTau(a, [1, 1, 1, 1, 1])).toBeNaN();
    expect(Array.from(averageRanks([3, 1, 3, 2]))).toEqual([3.5, 1, 3.5, 2]);
    expect(() => kendallTau([1, 2], [1])).toThrow(/2 vs 1 values/);
    expect(() => spearmanRho([1, NaN], [1, 2])).toThrow(/not a finite number/);
  });
});

describe('MLP', () => {
  it('the plain-JS forward pass equals the same network in TF.js', () => {
    const layout = { input: 13, hidden: [9, 7] };
    const mlp = initMlp(layout, new Rng(3), 0.6);
    const rng = new Rng(4);
    const n = 17;
    // Dense and one-hot-like rows (the forward pass skips zeros).
    const x = Float32Array.from({ length: n * 13 }, (_, i) => (i % 3 === 0 ? 0 : rng.uniform(-1, 1)));
    const ours = mlpPredict(mlp, x, n);
    const ref = tf.tidy(() => {
      let a: tf.Tensor = tf.tensor2d(x, [n, 13]);
      let off = 0;
      const sizes = [13, 9, 7, 1];
      for (let l = 0; l < 3; l++) {
        const [i, o] = [sizes[l], sizes[l + 1]];
        a = tf.add(tf.matMul(a, tf.tensor2d(mlp.params.subarray(off, off + i * o), [i, o])), tf.tensor1d(mlp.params.subarray(off + i * o, off + i * o + o)));
        if (l < 2) a = tf.relu(a);
        off += i * o + o;
      }
      return Array.from(a.dataSync());
    });
    ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 5));
    // The output bias starts at the given mean (OFA's base_acc).
    expect(mlp.params[mlp.params.length - 1]).toBeCloseTo(0.6, 6);
    expect(() => mlpPredict(mlp, x.subarray(1), n)).toThrow(/expected 17 × 13 inputs/);
  });

  it('is deterministic for a seed and refits from given weights', async () => {
    const x = Float32Array.from({ length: 40 * 4 }, (_, i) => (i * 7) % 5 === 0 ? 1 : 0);
    const y = Array.from({ length: 40 }, (_, i) => 0.5 + 0.01 * (i % 7));
    const a = await fitMlp(x, y, 4, { hidden: [8], epochs: 5, batchSize: 8, seed: 1 });
    const b = await fitMlp(x, y, 4, { hidden: [8], epochs: 5, batchSize: 8, seed: 1 });
    expect(Array.from(a.mlp.params)).toEqual(Array.from(b.mlp.params));
    const c = await fitMlp(x, y, 4, { epochs: 5, batchSize: 8, seed: 1, init: a.mlp });
    expect(c.mlp.layout).toEqual(a.mlp.layout);
    expect(c.loss).toBeLessThan(a.loss);
    await expect(fitMlp(x.subarray(0, 4), [0.5], 4)).rejects.toThrow(/at least 2 evaluated subnets/);
  });
});

/**
 * A synthetic space: accuracy is a known function of the genes — additive effects of resolution, depth, width and
 * kernel, and one interaction (a larger kernel helps stage mb3 more when it is deeper) — so the predictor's ranking
 * can be checked against the truth.
 */
function syntheticAccuracy(space: SearchSpace) {
  const genes = spaceGenes(space);
  const at = (key: string) => genes.find((g) => g.key === key)!;
  const norm = (key: string, g: Genome) => at(key).get(g) / (at(key).values.length - 1);
  return (g: Genome) =>
    0.45 +
    0.08 * norm('resolution', g) +
    0.06 * norm('depth[2]', g) +
    0.03 * norm('depth[3]', g) +
    0.02 * norm('width[3]', g) +
    0.015 * norm('expandRatio[3]', g) +
    0.01 * norm('kernelSize[2]', g) * (1 + norm('depth[2]', g));
}

describe('accuracy predictor on a synthetic space', () => {
  const space = getSpace('alphanet-cifar32');
  const truth = syntheticAccuracy(space);

  it('ranks 100 held-out subnets with Kendall τ ≥ 0.9 and finds the genes that matter', async () => {
    const rng = new Rng(21);
    const samples = Array.from({ length: 300 }, (_, i) => {
      const genome = randomGenome(space, rng);
      return { genome, accuracy: truth(genome), ref: i };
    });
    const progress: number[] = [];
    const built = await buildPredictor(space, samples, { heldOut: 100, seed: 5, epochs: 120, onProgress: (p) => progress.push(p.fit) });
    expect(built.trainSize).toBe(200);
    expect(built.heldOut).toHaveLength(100);
    expect(built.metrics.kendallTau).toBeGreaterThanOrEqual(0.9);
    expect(built.metrics.spearmanRho).toBeGreaterThanOrEqual(0.97);
    expect(built.metrics.rmsePoints).toBeLessThan(1);
    // The size table ends with the returned model, and more training data ranks better.
    expect(built.sizeTable.map((r) => r.trainSize)).toEqual(sizeSteps(200));
    expect(built.sizeTable.at(-1)!.kendallTau).toBe(built.metrics.kendallTau);
    expect(built.sizeTable.at(-1)!.kendallTau).toBeGreaterThan(built.sizeTable[0].kendallTau);
    expect(Math.max(...progress)).toBe(sizeSteps(200).length);
    // Held-out points are exactly the ones not trained on, with their measured accuracy.
    for (const h of built.heldOut) expect(h.measured).toBe(samples[h.ref as number].accuracy);
    const scorer = genomeScorer(space, built.model);
    const held = built.heldOut.map((h) => samples[h.ref as number].genome);
    Array.from(scorer(held)).forEach((p, i) => expect(p).toBeCloseTo(built.heldOut[i].predicted, 12));

    // Importance from the fitted model: the two largest effects come first, in order.
    const imp = geneImportance(space, scorer, { samples: 256, seed: 1 });
    expect(imp.genes.slice(0, 2).map((g) => g.key)).toEqual(['resolution', 'depth[2]']);
    expect(imp.mainEffects).toBeGreaterThan(0.8);
    expect(() => genomeScorer(getSpace('alphanet-mnist28'), built.model)).toThrow(/trained on space 'alphanet-cifar32'/);
  });

  it('refuses too little data', async () => {
    const rng = new Rng(1);
    const few = Array.from({ length: 11 }, () => ({ genome: randomGenome(space, rng), accuracy: 0.5 }));
    await expect(buildPredictor(space, few)).rejects.toThrow(/need at least 12 evaluated subnets \(2 held out \+ 10 to train on\), got 11/);
    await expect(buildPredictor(space, few, { heldOut: 1 })).rejects.toThrow(/need at least 2 held-out subnets, got 1/);
  });
});

describe('gene importance', () => {
  const space = getSpace('alphanet-cifar32');
  const genes = spaceGenes(space);
  const idx = (key: string, g: Genome) => genes.find((x) => x.key === key)!.get(g);

  it('recovers the exact variance shares of an additive function', () => {
    // f = 3·i(res) + 2·i(depth[2]) + 1·i(width[0]); a gene with K uniform choices times a has variance a²(K²−1)/12.
    const f = (gs: Genome[]) => gs.map((g) => 3 * idx('resolution', g) + 2 * idx('depth[2]', g) + idx('width[0]', g));
    const exact = { resolution: (9 * 8) / 12, 'depth[2]': (4 * 8) / 12, 'width[0]': 3 / 12 };
    const total = exact.resolution + exact['depth[2]'] + exact['width[0]'];
    const r = geneImportance(space, f, { samples: 3000, seed: 2 });
    expect(r.genes.slice(0, 3).map((g) => g.key)).toEqual(['resolution', 'depth[2]', 'width[0]']);
    // The marginals of an additive function are exact, so ratios are exact; only V carries sampling error.
    expect(r.genes[0].importance / r.genes[1].importance).toBeCloseTo(exact.resolution / exact['depth[2]'], 9);
    expect(r.genes[1].importance / r.genes[2].importance).toBeCloseTo(exact['depth[2]'] / exact['width[0]'], 9);
    expect(r.genes[0].importance).toBeCloseTo(exact.resolution / total, 1);
    expect(r.mainEffects).toBeCloseTo(1, 1);
    for (const g of r.genes.slice(3)) expect(g.importance).toBe(0);
    expect(r.genes[0].marginal.map((m) => m.value)).toEqual([24, 28, 32]);
    expect(r.genes[0].marginal[2].mean - r.genes[0].marginal[0].mean).toBeCloseTo(6, 9);
    // Genes with one choice (mb1's expand ratio) are left out.
    expect(r.genes.some((g) => g.key === 'expandRatio[0]')).toBe(false);
  });

  it('gives a pure interaction no main effect', () => {
    const f = (gs: Genome[]) => gs.map((g) => (idx('kernelSize[0]', g) === idx('kernelSize[1]', g) ? 1 : 0));
    const r = geneImportance(space, f, { samples: 4000, seed: 3 });
    expect(r.variance).toBeGreaterThan(0.2);
    expect(r.mainEffects).toBeLessThan(0.01);
    expect(() => geneImportance(space, f, { samples: 1 })).toThrow(/integer ≥ 2/);
  });
});
