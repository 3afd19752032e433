/**
 * Predictor-guided evolution (config.screen) with a synthetic evaluator: it evaluates exactly as many subnets as the
 * plain search, every reported accuracy is the evaluator's (a deliberately wrong predictor's numbers appear only as
 * `predicted`), the predictor is refitted before every later generation with the real evaluations so far, a stopped
 * search resumes to the same archive, a good predictor reaches a better front with the same real evaluations, and
 * misuse is refused.
 */
import { describe, expect, it } from 'vitest';
import { genomeId, getSpace, subnetCost, type Genome } from '../../../src-main/engine/core';
import {
  evolutionEvaluations,
  runEvolutionSearch,
  runRandomSearch,
  type AccuracyScreen,
  type SearchState,
} from '../../../src-main/search/evolution';
import { hypervolume } from '../../../src-main/search/pareto';

const space = getSpace('alphanet-cifar32');

/** Accuracy rises with log MFLOPs; a per-genome jitter and a kernel-5 bonus in stage 3 make the genome matter. */
const truth = (g: Genome) => {
  const m = subnetCost(space, g).mflops;
  const jitter = (parseInt(genomeId(space.id, g).slice(0, 6), 16) / 0xffffff - 0.5) * 0.04;
  return 0.4 + 0.08 * Math.log(m) + (g.kernelSize[2] === 5 ? 0.03 : 0) + (g.depth[2] === 3 ? 0.02 : 0) + jitter;
};

const config = { populationSize: 8, mutateSize: 4, crossoverSize: 4, generations: 4, seed: 3 };

function recordingEvaluator() {
  const answers = new Map<string, number>();
  let calls = 0;
  return {
    answers,
    calls: () => calls,
    evaluate: async (g: Genome) => {
      calls++;
      const a = truth(g);
      answers.set(genomeId(space.id, g), a);
      return { accuracy: a };
    },
  };
}

describe('predictor-guided evolution', () => {
  it('evaluates as many subnets as plain evolution and never reports a predicted accuracy as measured', async () => {
    const ev = recordingEvaluator();
    const refits: number[] = [];
    // A wrong predictor: half a point of accuracy too optimistic, and upside down in ranking.
    const predictor: AccuracyScreen = {
      predict: (gs) => gs.map((g) => 1.5 - truth(g)),
      refit: async (archive) => void refits.push(archive.length),
    };
    const out = await runEvolutionSearch({ space, evaluate: ev.evaluate, config: { ...config, screen: 6 }, predictor });
    expect(out.done).toBe(true);
    expect(out.archive).toHaveLength(evolutionEvaluations(config));
    expect(ev.calls()).toBe(out.archive.length);
    // Refitted before each of the 4 later generations, with every real evaluation so far.
    expect(refits).toEqual([8, 16, 24, 32]);
    for (const e of out.archive) {
      expect(e.accuracy).toBe(ev.answers.get(e.id));
      expect(e.result.accuracy).toBe(e.accuracy);
      if (e.origin === 'min') expect(e.predicted).toBeUndefined();
      else {
        expect(e.predicted).toBeCloseTo(1.5 - e.accuracy, 12);
        expect(e.predicted).not.toBe(e.accuracy);
      }
    }
    for (const p of out.front.points()) expect(p.accuracy).toBe(ev.answers.get(p.id));
    // The state (what the runner stores and resumes from) keeps the two apart too.
    for (const e of out.state.archive) expect(e.accuracy).toBe(ev.answers.get(e.id));
  });

  it('with a good predictor reaches a larger hypervolume than plain evolution at equal real evaluations', async () => {
    const ref = { costRef: subnetCost(space, { resolution: 32, width: [24, 24, 32, 48, 80, 96, 640], depth: [2, 2, 3, 2, 2], kernelSize: [5, 5, 5, 5, 5], expandRatio: [1, 4, 6, 6, 6] }).mflops, accRef: 0 };
    const hvOf = (archive: { accuracy: number; cost: number }[]) => hypervolume(archive, ref);
    let plainSum = 0;
    let guidedSum = 0;
    for (const seed of [1, 2, 3]) {
      const plain = await runEvolutionSearch({ space, evaluate: async (g) => ({ accuracy: truth(g) }), config: { ...config, seed } });
      const guided = await runEvolutionSearch({
        space,
        evaluate: async (g) => ({ accuracy: truth(g) }),
        config: { ...config, seed, screen: 8 },
        predictor: { predict: (gs) => gs.map(truth) },
      });
      expect(guided.archive).toHaveLength(plain.archive.length);
      plainSum += hvOf(plain.archive);
      guidedSum += hvOf(guided.archive);
    }
    expect(guidedSum).toBeGreaterThan(plainSum);
  });

  it('resumes a stopped guided search to the same archive', async () => {
    const predictor = { predict: (gs: Genome[]) => gs.map((g) => truth(g) + 0.01 * g.depth[1]), refit: async () => undefined };
    const full = await runEvolutionSearch({ space, evaluate: async (g) => ({ accuracy: truth(g) }), config: { ...config, screen: 4 }, predictor });
    for (const stopAfter of [3, 13]) {
      let saved: SearchState | undefined;
      const ac = new AbortController();
      const part = await runEvolutionSearch({
        space,
        evaluate: async (g) => ({ accuracy: truth(g) }),
        config: { ...config, screen: 4 },
        predictor,
        signal: ac.signal,
        onEvaluated: (_e, st) => {
          saved = st;
          if (st.archive.length === stopAfter) ac.abort();
        },
      });
      expect(part.done).toBe(false);
      const rest = await runEvolutionSearch({ space, evaluate: async (g) => ({ accuracy: truth(g) }), predictor, resume: saved });
      expect(rest.archive.map((e) => [e.id, e.origin, e.predicted])).toEqual(full.archive.map((e) => [e.id, e.origin, e.predicted]));
    }
  });

  it('refuses screening without a predictor, on random search, and a screen below 2', async () => {
    const evaluate = async (g: Genome) => ({ accuracy: truth(g) });
    await expect(runEvolutionSearch({ space, evaluate, config: { ...config, screen: 4 } })).rejects.toThrow(/needs an accuracy predictor/);
    await expect(runRandomSearch({ space, evaluate, evaluations: 4, config: { screen: 4 }, predictor: { predict: (gs) => gs.map(truth) } })).rejects.toThrow(/for the evolutionary search/);
    await expect(runEvolutionSearch({ space, evaluate, config: { ...config, screen: 1 }, predictor: { predict: (gs) => gs.map(truth) } })).rejects.toThrow(/screen must be an integer ≥ 2, got 1/);
    await expect(runEvolutionSearch({ space, evaluate, config: { ...config, screen: 4 }, predictor: { predict: () => [0.5] } })).rejects.toThrow(/returned 1 predictions for 28 candidates/);
  });
});
