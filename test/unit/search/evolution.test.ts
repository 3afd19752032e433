/**
 * The evolutionary search's mechanics with a synthetic evaluator (no network): every candidate evaluated, the last
 * generation too, budgets held, clear errors for impossible budgets, gene operators, exact resume, the random
 * baseline, the latency objective and progress.
 */
import { describe, expect, it } from 'vitest';
import {
  Rng,
  getSpace,
  genomeId,
  maxGenome,
  minGenome,
  validateGenome,
  widthChoices,
  subnetCost,
  parseSearchSpace,
  type Genome,
} from '../../../src-main/engine/core';
import {
  BudgetError,
  crossoverGenomes,
  mutateGenome,
  runEvolutionSearch,
  runRandomSearch,
  type SearchState,
} from '../../../src-main/search/evolution';
import { ParetoFront } from '../../../src-main/search/pareto';

const space = getSpace('alphanet-cifar32');
const slim = getSpace('slimmable-cifar32');

/** Accuracy grows with log MFLOPs, plus a deterministic genome-dependent term (kernel 5 helps in stage 3). */
const synthetic = async (g: Genome) => {
  const m = subnetCost(space, g).mflops;
  const id = genomeId(space.id, g);
  const jitter = (parseInt(id.slice(0, 6), 16) / 0xffffff - 0.5) * 0.02;
  return { accuracy: 0.5 + 0.1 * Math.log(m) + (g.kernelSize[2] === 5 ? 0.03 : 0) + jitter, loss: 1 - m / 100 };
};

const small = { populationSize: 6, mutateSize: 4, crossoverSize: 3, generations: 4, seed: 11 };

describe('evolutionary search', () => {
  it('evaluates every candidate, the last generation too, within the budget, min subnet first', async () => {
    const budget = { mflopsMin: 2, mflopsMax: 12, mparamsMax: 0.5 };
    const seen: string[] = [];
    const out = await runEvolutionSearch({ space, evaluate: synthetic, config: small, budget, onEvaluated: (e) => void seen.push(e.id) });
    expect(out.done).toBe(true);
    expect(out.archive.length).toBe(6 + 4 * 7);
    expect(new Set(out.archive.map((e) => e.id)).size).toBe(out.archive.length);
    expect(seen).toEqual(out.archive.map((e) => e.id));
    expect(out.archive[0].origin).toBe('min');
    expect(out.archive[0].id).toBe(genomeId(space.id, minGenome(space)));
    expect(out.archive.filter((e) => e.generation === 4).length).toBe(7);
    for (const e of out.archive) {
      expect(e.mflops).toBeGreaterThanOrEqual(2);
      expect(e.mflops).toBeLessThanOrEqual(12);
      expect(e.mparams).toBeLessThanOrEqual(0.5);
      expect(e.cost).toBe(e.mflops);
      validateGenome(space, e.genome);
      if (e.origin === 'mutate') expect(e.parents).toHaveLength(1);
      if (e.origin === 'crossover') expect(e.parents).toHaveLength(2);
    }
    expect(out.front.points().map((p) => p.id)).toEqual(ParetoFront.of(out.archive.map((e) => ({ id: e.id, accuracy: e.accuracy, cost: e.cost }))).points().map((p) => p.id));
    expect(out.archive.filter((e) => e.origin === 'mutate').length).toBeGreaterThan(0);
  });

  it('a killed search resumes where it stopped and ends exactly as an uninterrupted one', async () => {
    const full = await runEvolutionSearch({ space, evaluate: synthetic, config: small });
    for (const k of [1, 6, 13]) {
      const ac = new AbortController();
      let saved: SearchState | undefined;
      let calls = 0;
      const part = await runEvolutionSearch({
        space,
        evaluate: async (g) => {
          calls++;
          return synthetic(g);
        },
        config: small,
        signal: ac.signal,
        onEvaluated: (_e, st) => {
          saved = JSON.parse(JSON.stringify(st)) as SearchState;
          if (st.archive.length === k) ac.abort();
        },
      });
      expect(part.done).toBe(false);
      expect(calls).toBe(k);
      const rest = await runEvolutionSearch({ space, evaluate: synthetic, resume: saved });
      expect(rest.done).toBe(true);
      expect(rest.archive.map((e) => [e.id, e.generation, e.origin])).toEqual(full.archive.map((e) => [e.id, e.generation, e.origin]));
      expect(rest.front.points().map((p) => p.id)).toEqual(full.front.points().map((p) => p.id));
    }
  });

  it('evaluated in batches (a pool), it records in candidate order: same archive, states and front; a pause waits for one batch', async () => {
    const strip = (st: SearchState) => ({ ...st, elapsedMs: 0, archive: st.archive.map((e) => ({ ...e, ms: 0 })) });
    const states1: SearchState[] = [];
    const one = await runEvolutionSearch({ space, evaluate: synthetic, config: small, onEvaluated: (_e, st) => void states1.push(strip(st)) });
    for (const k of [2, 3, 7]) {
      const batches: number[][] = [];
      const states: SearchState[] = [];
      // Results come back in reverse completion order, as a pool's may; only the order given counts.
      const evaluateMany = async (items: { genome: Genome; index: number }[]) => {
        batches.push(items.map((i) => i.index));
        const rs = [];
        for (const it of [...items].reverse()) rs.unshift(await synthetic(it.genome));
        return rs;
      };
      const out = await runEvolutionSearch({ space, evaluate: () => Promise.reject(new Error('not called')), evaluateMany, concurrency: k, config: small, onEvaluated: (_e, st) => void states.push(strip(st)) });
      expect(states).toEqual(states1);
      expect(out.front.points().map((p) => p.id)).toEqual(one.front.points().map((p) => p.id));
      expect(batches.flat()).toEqual(one.archive.map((e) => e.index));
      expect(Math.max(...batches.map((b) => b.length))).toBe(k);
      // A generation's candidates only: no batch spans two generations (the next one is drawn from this one's results).
      for (const b of batches) expect(new Set(b.map((i) => one.archive[i].generation)).size).toBe(1);

      // Stopped after the first batch: every result of that batch is recorded, nothing more is asked, and the
      // saved state resumes (one by one) to the same archive.
      const ac = new AbortController();
      let saved: SearchState | undefined;
      let asked = 0;
      const part = await runEvolutionSearch({
        space, evaluate: synthetic, config: small, concurrency: k, signal: ac.signal,
        evaluateMany: (items) => {
          asked += items.length;
          return Promise.all(items.map((i) => synthetic(i.genome)));
        },
        onEvaluated: (_e, st) => {
          saved = st;
          ac.abort();
        },
      });
      expect(part.done).toBe(false);
      const first = Math.min(k, small.populationSize);
      expect([asked, saved!.archive.length]).toEqual([first, first]);
      const rest = await runEvolutionSearch({ space, evaluate: synthetic, resume: saved });
      expect(rest.archive.map((e) => e.id)).toEqual(one.archive.map((e) => e.id));
    }
    await expect(runEvolutionSearch({ space, evaluate: synthetic, config: small, concurrency: 2, evaluateMany: async () => [] })).rejects.toThrow(/returned 0 results for 2 subnets/);
    await expect(runEvolutionSearch({ space, evaluate: synthetic, config: small, concurrency: 0 })).rejects.toThrow(/concurrency must be an integer ≥ 1/);
  });

  it('same seed, same search; another seed, another search', async () => {
    const a = await runEvolutionSearch({ space, evaluate: synthetic, config: small });
    const b = await runEvolutionSearch({ space, evaluate: synthetic, config: small });
    const c = await runEvolutionSearch({ space, evaluate: synthetic, config: { ...small, seed: 12 } });
    expect(b.archive.map((e) => e.id)).toEqual(a.archive.map((e) => e.id));
    expect(c.archive.map((e) => e.id)).not.toEqual(a.archive.map((e) => e.id));
  });

  it('impossible budgets fail up front and name the space range', async () => {
    const min = subnetCost(space, minGenome(space)).mflops;
    const run = (budget: object) => runEvolutionSearch({ space, evaluate: synthetic, config: small, budget });
    await expect(run({ mflopsMax: 1 })).rejects.toThrow(BudgetError);
    await expect(run({ mflopsMax: 1 })).rejects.toThrow(new RegExp(`MFLOPs max 1\\.000 is below the min subnet's ${min.toPrecision(4)} MFLOPs.*spans`));
    await expect(run({ mflopsMin: 1000 })).rejects.toThrow(/above the max subnet/);
    await expect(run({ mflopsMin: 10, mflopsMax: 5 })).rejects.toThrow(/above MFLOPs max/);
    await expect(run({ mparamsMax: 0.001 })).rejects.toThrow(/params max/);
    await expect(run({ latencyMaxMs: 3 })).rejects.toThrow(/latency predictor/);
    // Feasible on paper but (nearly) empty: the exact cost of one odd subnet.
    const g = maxGenome(space);
    const m = subnetCost(space, g).mflops;
    await expect(runEvolutionSearch({ space, evaluate: synthetic, config: { ...small, maxTries: 50 }, budget: { mflopsMin: m - 1e-9, mflopsMax: m - 1e-10 } })).rejects.toThrow(/in 50 tries.*widen the budget/);
  });

  it('latency objective and budget through a predictor', async () => {
    const predictor = (g: Genome) => 0.2 * subnetCost(space, g).mflops + g.depth.reduce((a, b) => a + b, 0) * 0.1;
    const out = await runEvolutionSearch({ space, evaluate: synthetic, config: small, objective: 'latency', latencyPredictor: predictor, budget: { latencyMaxMs: 3 } });
    for (const e of out.archive) {
      expect(e.latencyMs).toBeCloseTo(predictor(e.genome), 9);
      expect(e.cost).toBe(e.latencyMs);
      expect(e.latencyMs!).toBeLessThanOrEqual(3);
    }
    await expect(runEvolutionSearch({ space, evaluate: synthetic, config: small, objective: 'latency' })).rejects.toThrow(/latency predictor/);
  });

  it('progress reports an ETA that reaches zero', async () => {
    const ps: { evaluations: number; total: number; etaMs: number | null }[] = [];
    await runEvolutionSearch({ space, evaluate: synthetic, config: small, onProgress: (p) => ps.push(p) });
    expect(ps[0].total).toBe(34);
    expect(ps[ps.length - 1].evaluations).toBe(34);
    expect(ps[ps.length - 1].etaMs).toBe(0);
    expect(ps.every((p) => p.etaMs !== null && p.etaMs >= 0)).toBe(true);
  });
});

describe('random-search baseline', () => {
  it('makes exactly the requested number of distinct in-budget evaluations and resumes exactly', async () => {
    const budget = { mflopsMax: 10 };
    const full = await runRandomSearch({ space, evaluate: synthetic, evaluations: 23, budget, config: { seed: 5, populationSize: 8 } });
    expect(full.archive.length).toBe(23);
    expect(new Set(full.archive.map((e) => e.id)).size).toBe(23);
    expect(full.archive.every((e) => e.mflops <= 10 && e.origin === 'random')).toBe(true);
    const ac = new AbortController();
    let saved: SearchState | undefined;
    await runRandomSearch({
      space, evaluate: synthetic, evaluations: 23, budget, config: { seed: 5, populationSize: 8 }, signal: ac.signal,
      onEvaluated: (_e, st) => {
        saved = st;
        if (st.archive.length === 10) ac.abort();
      },
    });
    const rest = await runRandomSearch({ space, evaluate: synthetic, evaluations: 0, resume: saved });
    expect(rest.archive.map((e) => e.id)).toEqual(full.archive.map((e) => e.id));
    await expect(runEvolutionSearch({ space, evaluate: synthetic, resume: saved })).rejects.toThrow(/cannot resume a random search/);
  });

  it('stops when a tiny space is exhausted instead of looping', async () => {
    // Two subnets in all (only the resolution varies).
    const two = parseSearchSpace({
      id: 'two-subnets', inputChannels: 3, numClasses: 4, resolutions: [8, 12],
      firstConv: { width: [8], kernelSize: 3, stride: 1 },
      stages: [{ name: 'mb1', width: [8], depth: [1], kernelSize: [3], expandRatio: [2], stride: 2, se: true }],
      lastConv: { width: [16] },
    });
    const evaluate = async (g: Genome) => ({ accuracy: g.resolution / 100 });
    const out = await runRandomSearch({ space: two, evaluate, evaluations: 5, config: { maxTries: 50 } });
    expect(out.done).toBe(true);
    expect(out.archive.map((e) => e.genome.resolution).sort()).toEqual([12, 8]);
    const evo = await runEvolutionSearch({ space: two, evaluate, config: { populationSize: 4, generations: 2, maxTries: 50 } });
    expect(evo.done).toBe(true);
    expect(evo.archive.length).toBe(2);
    expect(evo.state.reused).toBeGreaterThan(0);
  });
});

describe('gene operators', () => {
  it('mutation with p = 1 changes every gene to a different value; p = 0 changes nothing', () => {
    const rng = new Rng(1);
    const g = maxGenome(space);
    const m = mutateGenome(space, g, 1, rng);
    expect(m.resolution).not.toBe(g.resolution);
    m.width.forEach((w, i) => expect(w).not.toBe(g.width[i]));
    m.depth.forEach((d, i) => expect(d).not.toBe(g.depth[i]));
    m.kernelSize.forEach((k, i) => expect(k).not.toBe(g.kernelSize[i]));
    m.expandRatio.forEach((e, i) => {
      if (space.stages[i].expandRatio.length > 1) expect(e).not.toBe(g.expandRatio[i]);
    });
    validateGenome(space, m);
    expect(mutateGenome(space, g, 0, rng)).toEqual(g);
    expect(g).toEqual(maxGenome(space)); // the parent is not modified
  });

  it('mutation rate per gene is p', () => {
    const rng = new Rng(2);
    const g = minGenome(space);
    let changed = 0;
    let genes = 0;
    for (let t = 0; t < 400; t++) {
      const m = mutateGenome(space, g, 0.2, rng);
      const a = [m.resolution, ...m.width, ...m.depth, ...m.kernelSize, ...m.expandRatio];
      const b = [g.resolution, ...g.width, ...g.depth, ...g.kernelSize, ...g.expandRatio];
      const mutable = [space.resolutions, ...widthChoices(space), ...space.stages.map((s) => s.depth), ...space.stages.map((s) => s.kernelSize), ...space.stages.map((s) => s.expandRatio)];
      a.forEach((v, i) => {
        if (mutable[i].length > 1) {
          genes++;
          if (v !== b[i]) changed++;
        }
      });
    }
    expect(changed / genes).toBeGreaterThan(0.17);
    expect(changed / genes).toBeLessThan(0.23);
  });

  it('multiplier mode mutates and crosses the shared width index', () => {
    const rng = new Rng(3);
    const wc = widthChoices(slim);
    for (let t = 0; t < 50; t++) {
      const a = mutateGenome(slim, minGenome(slim), 0.5, rng);
      const b = crossoverGenomes(slim, a, maxGenome(slim), 0.5, rng);
      for (const g of [a, b]) {
        validateGenome(slim, g); // throws if the width indices differ
        const idx = g.width.map((w, i) => wc[i].indexOf(w));
        expect(new Set(idx).size).toBe(1);
      }
    }
    // p = 1 must move the shared index away from the min's (index 0) for every width gene at once.
    const moved = mutateGenome(slim, minGenome(slim), 1, rng);
    moved.width.forEach((w, i) => expect(w).not.toBe(minGenome(slim).width[i]));
  });

  it('crossover takes each gene from one parent (p = 0 → first, p = 1 → second)', () => {
    const rng = new Rng(4);
    const a = minGenome(space);
    const b = maxGenome(space);
    expect(crossoverGenomes(space, a, b, 0, rng)).toEqual(a);
    expect(crossoverGenomes(space, a, b, 1, rng)).toEqual(b);
    const c = crossoverGenomes(space, a, b, 0.5, rng);
    const flat = (g: Genome) => [g.resolution, ...g.width, ...g.depth, ...g.kernelSize, ...g.expandRatio];
    flat(c).forEach((v, i) => expect([flat(a)[i], flat(b)[i]]).toContain(v));
  });
});
