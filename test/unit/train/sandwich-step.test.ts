/**
 * One sandwich step (docs/METHOD.md §2), checked against computations made here independently of
 * `sandwichGradients`:
 * - the members: max, then random subnets drawn from the step's RNG, then min (or random without the sandwich rule);
 * - the max subnet's loss is label-smoothed CE on the labels, written here with plain TF.js ops;
 * - every other member's distillation target is the teacher's logits *as numbers* (a constant tensor built from the
 *   max subnet's output), and the adaptive / fixed-α weights c = q·ρ are computed here in float64 from the logits
 *   (METHOD.md §1.2–1.4), so the expected gradient of each member is plain autodiff of −mean Σ c·log softmax(z);
 * - the step's gradients must be the *sum* of the members' gradients, and the reported per-member losses and
 *   adaptive statistics must be those values.
 * Tiny space, CPU backend, portable ops; float32 against float64 references.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  createOps,
  Rng,
  Supernet,
  sandwichGradients,
  sandwichMembers,
  randomGenome,
  validateGenome,
  type Distillation,
  type SandwichMember,
  type Genome,
} from '../../../src-main/engine';
import { TINY } from '../engine/tiny-space';

const K = TINY.numClasses;
const EPS = 0.1;
const BATCH = 6;

// The extreme subnets of the tiny space, written out from its choice lists (not computed by the code under test).
const MAX: Genome = { resolution: 9, width: [8, 8, 16, 24, 24], depth: [2, 2, 2], kernelSize: [5, 5, 5], expandRatio: [1, 3, 3] };
const MIN: Genome = { resolution: 7, width: [4, 4, 8, 16, 16], depth: [1, 1, 1], kernelSize: [3, 3, 3], expandRatio: [1, 2, 2] };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sandwich members (METHOD.md §2 step 1)', () => {
  it('max, then n − 2 random subnets drawn from the step RNG in order, then min', () => {
    const rng = new Rng(42);
    const members = sandwichMembers(TINY, rng, 4);
    expect(members.map((m) => m.role)).toEqual(['max', 'random', 'random', 'min']);
    expect(members[0].genome).toEqual(MAX);
    expect(members[3].genome).toEqual(MIN);
    // The random members are the next two draws of the same stream, and nothing else is drawn from it.
    const copy = new Rng(42);
    const r1 = randomGenome(TINY, copy);
    const r2 = randomGenome(TINY, copy);
    expect(members[1].genome).toEqual(r1);
    expect(members[2].genome).toEqual(r2);
    expect(rng.state()).toEqual(copy.state());
    for (const m of members) expect(() => validateGenome(TINY, m.genome)).not.toThrow();
    // A different seed gives different random members (the tiny space has 16 384 subnets).
    const other = sandwichMembers(TINY, new Rng(43), 4);
    expect([other[1].genome, other[2].genome]).not.toEqual([r1, r2]);
  });

  it('n = 2 is max and min only; without the sandwich rule the last member is random; n < 2 is refused', () => {
    const rng = new Rng(5);
    expect(sandwichMembers(TINY, rng, 2).map((m) => [m.role, m.genome])).toEqual([['max', MAX], ['min', MIN]]);
    expect(rng.state()).toEqual(new Rng(5).state()); // no random member, no draw

    const members = sandwichMembers(TINY, new Rng(6), 3, false);
    const copy = new Rng(6);
    expect(members.map((m) => m.role)).toEqual(['max', 'random', 'random']);
    expect(members.slice(1).map((m) => m.genome)).toEqual([randomGenome(TINY, copy), randomGenome(TINY, copy)]);

    expect(() => sandwichMembers(TINY, new Rng(0), 1)).toThrow(/≥ 2/);
    expect(() => sandwichMembers(TINY, new Rng(0), 2.5)).toThrow(/≥ 2/);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Independent references.

/** log softmax of one row, float64. */
function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

function rows(t: tf.Tensor2D): number[][] {
  const d = t.dataSync();
  const [b, k] = t.shape;
  return Array.from({ length: b }, (_, i) => Array.from(d.subarray(i * k, (i + 1) * k)));
}

/** D_α and c = q·ρ of one sample for α ∉ {0} (α = 1 exactly: KL(p‖q), unclipped), straight from METHOD.md §1.2. */
function alphaTerms(student: number[], teacher: number[], alpha: number, beta: number): { d: number; c: number[] } {
  const lq = logSoftmax(student);
  const lp = logSoftmax(teacher);
  const q = lq.map(Math.exp);
  const p = lp.map(Math.exp);
  if (alpha === 1) return { d: p.reduce((a, pi, i) => a + pi * (lp[i] - lq[i]), 0), c: p };
  const k = 1 / (alpha * (alpha - 1));
  const w = q.map((_, i) => Math.min(Math.exp(alpha * (lp[i] - lq[i])), beta));
  return { d: k * q.reduce((a, qi, i) => a + qi * (w[i] - 1), 0), c: q.map((qi, i) => qi * (w[i] / alpha + k)) };
}

interface Target {
  /** Per-sample frozen weights c [B][K]: the member's loss is −mean Σ c·log softmax(z). */
  c: number[][];
  alphaMinShare?: number;
  /** Mean divergence to the teacher: selected D (adaptive), clipped D_α (fixed α), KL(p‖q) (KL). */
  divergence?: number;
}

/** The distillation target of one member from its own logits and the teacher's, as numbers. */
function distillTarget(d: Distillation, student: number[][], teacher: number[][]): Target {
  switch (d.kind) {
    case 'kl':
      return {
        c: teacher.map((t) => logSoftmax(t).map(Math.exp)),
        divergence: student.reduce((a, s, i) => a + alphaTerms(s, teacher[i], 1, Infinity).d, 0) / student.length,
      };
    case 'alpha': {
      const per = student.map((s, i) => alphaTerms(s, teacher[i], d.alpha, d.clip));
      return { c: per.map((x) => x.c), divergence: per.reduce((a, x) => a + x.d, 0) / per.length };
    }
    case 'adaptive-alpha': {
      const per = student.map((s, i) => {
        const lo = alphaTerms(s, teacher[i], d.alphaMin, d.clip);
        const hi = alphaTerms(s, teacher[i], d.alphaMax, d.clip);
        return lo.d > hi.d ? { ...lo, min: true } : { ...hi, min: false };
      });
      return {
        c: per.map((x) => x.c),
        alphaMinShare: per.filter((x) => x.min).length / per.length,
        divergence: per.reduce((a, x) => a + x.d, 0) / per.length,
      };
    }
    case 'none':
      throw new Error('no distillation target');
  }
}

/** Label-smoothed CE, plain ops: −mean Σ (one_hot·(1 − ε) + ε/K)·log softmax(z). */
function smoothedCe(logits: tf.Tensor2D, labels: number[]): tf.Scalar {
  const target = tf.add(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), K), 1 - EPS), EPS / K);
  return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1)));
}

type Grads = Map<string, Float64Array>;

/** Value and gradients (by short name) of one loss; parameters it does not reach are absent. */
function gradsOf(net: Supernet, f: () => tf.Scalar): { loss: number; grads: Grads } {
  const { value, grads } = tf.variableGrads(f, [...net.params.values()]);
  const out: Grads = new Map();
  for (const [name, g] of Object.entries(grads)) out.set(net.shortName(name), Float64Array.from(g.dataSync()));
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

function addInto(sum: Grads, g: Grads): void {
  for (const [name, v] of g) {
    const s = sum.get(name);
    if (!s) sum.set(name, Float64Array.from(v));
    else for (let i = 0; i < v.length; i++) s[i] += v[i];
  }
}

interface Expected {
  losses: number[];
  stats: (Target | undefined)[];
  perMember: Grads[];
  sum: Grads;
}

/**
 * The step recomputed member by member. The max subnet runs with its own copy of the regularisation RNG (same seed),
 * so its dropout and drop-connect masks are the ones the step draws; its logits become plain numbers.
 */
function expectedStep(net: Supernet, x: tf.Tensor4D, labels: number[], members: SandwichMember[], d: Distillation, regSeed: number): Expected {
  const reg = { dropout: 0.3, dropConnect: 0.3, rng: new Rng(regSeed) };
  let teacher: number[][] = [];
  const max = gradsOf(net, () => {
    const logits = net.forward(x, members[0].genome, { regularize: reg });
    teacher = rows(logits);
    return smoothedCe(logits, labels);
  });
  const out: Expected = { losses: [max.loss], stats: [undefined], perMember: [max.grads], sum: new Map() };
  addInto(out.sum, max.grads);
  for (const m of members.slice(1)) {
    let r: { loss: number; grads: Grads };
    let target: Target | undefined;
    if (d.kind === 'none') {
      r = gradsOf(net, () => smoothedCe(net.forward(x, m.genome), labels));
    } else {
      const student = tf.tidy(() => rows(net.forward(x, m.genome)));
      target = distillTarget(d, student, teacher);
      const c = tf.tensor2d(target.c);
      r = gradsOf(net, () => tf.neg(tf.mean(tf.sum(tf.mul(c, tf.logSoftmax(net.forward(x, m.genome))), 1))));
      c.dispose();
    }
    out.losses.push(r.loss);
    out.stats.push(target);
    out.perMember.push(r.grads);
    addInto(out.sum, r.grads);
  }
  return out;
}

/** Random BN γ/β and biases instead of the zero init of the residual BNs, so every branch carries gradient. */
function perturb(net: Supernet, rng: Rng): void {
  for (const [name, v] of net.params) {
    if (name.endsWith('.bn.gamma') || name.endsWith('.bn.beta') || name.endsWith('.b')) {
      const vals = Float32Array.from({ length: v.size }, () => (name.endsWith('gamma') ? 0.5 + rng.next() : 0.2 + 0.3 * rng.next()));
      tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
    }
  }
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst, `${what}: max |Δ| ${worst} against max |expected| ${scale}`).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
}

function setup(seed: number) {
  const net = new Supernet({ space: TINY, ops: createOps('portable'), seed });
  perturb(net, new Rng(seed + 100));
  const x = tf.randomNormal([BATCH, 9, 9, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
  const labelRng = new Rng(seed + 200);
  const labels = Array.from({ length: BATCH }, () => labelRng.int(K));
  return { net, x, labels };
}

const KINDS: Distillation[] = [
  { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5 },
  { kind: 'kl' },
  { kind: 'alpha', alpha: 0.5, clip: 5 },
  { kind: 'none' },
];

describe('sandwichGradients (METHOD.md §2)', () => {
  for (const d of KINDS) {
    it(`${d.kind}: gradients are the sum of the members' gradients; per-member losses as computed independently`, () => {
      const { net, x, labels } = setup(3);
      const members = sandwichMembers(TINY, new Rng(9), 4);
      const exp = expectedStep(net, x, labels, members, d, 77);
      const y = tf.tensor1d(labels, 'int32');
      const r = sandwichGradients(net, x, y, members, {
        labelSmoothing: EPS,
        distillation: d,
        regularize: { dropout: 0.3, dropConnect: 0.3, rng: new Rng(77) },
      });
      try {
        expect(r.members.map((m) => m.role)).toEqual(['max', 'random', 'random', 'min']);
        r.members.forEach((m, i) => {
          expect(Math.abs(m.loss - exp.losses[i]), `loss of member ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(exp.losses[i]) + 1e-6);
          const s = exp.stats[i];
          if (d.kind === 'adaptive-alpha' && i > 0) expect(m.alphaMinShare).toBeCloseTo(s!.alphaMinShare!, 6);
          else expect(m.alphaMinShare).toBeUndefined();
          if (d.kind !== 'none' && i > 0) {
            // The logged divergence, never negative, whatever the surrogate loss is.
            expect(m.divergence).toBeGreaterThanOrEqual(0);
            expect(Math.abs(m.divergence! - s!.divergence!), `divergence of member ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(s!.divergence!) + 1e-6);
          } else {
            expect(m.divergence).toBeUndefined();
          }
        });
        // The adaptive case must actually exercise both branches somewhere, or the selection is not tested.
        if (d.kind === 'adaptive-alpha') {
          const shares = exp.stats.slice(1).map((s) => s!.alphaMinShare!);
          expect(shares.some((v) => v > 0) && shares.some((v) => v < 1)).toBe(true);
        }
        expect([...r.grads.keys()].sort()).toEqual([...exp.sum.keys()].sort());
        for (const [name, g] of r.grads) expectClose(g.dataSync(), exp.sum.get(name)!, name);
      } finally {
        for (const g of r.grads.values()) g.dispose();
        tf.dispose([x, y]);
        net.dispose();
      }
    });
  }

  it('a member listed twice contributes its gradient twice', () => {
    const { net, x, labels } = setup(4);
    const d: Distillation = { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5 };
    const members: SandwichMember[] = [{ role: 'max', genome: MAX }, { role: 'min', genome: MIN }, { role: 'min', genome: MIN }];
    const once = expectedStep(net, x, labels, members.slice(0, 2), d, 5);
    const y = tf.tensor1d(labels, 'int32');
    const r = sandwichGradients(net, x, y, members, { labelSmoothing: EPS, distillation: d, regularize: { dropout: 0.3, dropConnect: 0.3, rng: new Rng(5) } });
    try {
      expect(r.members[1].loss).toBe(r.members[2].loss);
      for (const [name, g] of r.grads) {
        const want = Float64Array.from(once.perMember[0].get(name) ?? new Float64Array(g.size));
        const min = once.perMember[1].get(name);
        if (min) for (let i = 0; i < want.length; i++) want[i] += 2 * min[i];
        expectClose(g.dataSync(), want, name);
      }
    } finally {
      for (const g of r.grads.values()) g.dispose();
      tf.dispose([x, y]);
      net.dispose();
    }
  });

  it('the teacher is detached: parameters only the max subnet uses get exactly its label-loss gradient', () => {
    const { net, x, labels } = setup(5);
    const members: SandwichMember[] = [{ role: 'max', genome: MAX }, { role: 'min', genome: MIN }];
    const y = tf.tensor1d(labels, 'int32');
    // Without regularisation: the max subnet's gradient is then the plain autodiff of its CE, recomputed here.
    const maxOnly = gradsOf(net, () => smoothedCe(net.forward(x, MAX), labels)).grads;
    const minRegions = net.subnetParamRegions(MIN);
    for (const d of KINDS.filter((k) => k.kind !== 'none')) {
      const r = sandwichGradients(net, x, y, members, { labelSmoothing: EPS, distillation: d });
      try {
        // The min subnet does not run mb1's second block (depth 1 of 2), nor any other block beyond its depth.
        const exclusive = [...r.grads.keys()].filter((n) => !minRegions.has(n));
        expect(exclusive).toContain('blocks.1.dw.w');
        for (const name of exclusive) {
          const g = r.grads.get(name)!.dataSync();
          const want = maxOnly.get(name)!;
          // Had distillation reached the teacher's graph, the min member's loss would add to these gradients.
          expectClose(g, want, `${d.kind}: ${name}`);
        }
        // The first conv's channels 4…7 feed only the max subnet (min has width 4): likewise untouched by distillation.
        const first = r.grads.get('first.conv.w')!;
        const [k1, k2, cin, cout] = first.shape;
        const want = maxOnly.get('first.conv.w')!;
        const got = first.dataSync();
        const idx: number[] = [];
        for (let a = 0; a < k1 * k2 * cin; a++) for (let o = 4; o < cout; o++) idx.push(a * cout + o);
        expectClose(idx.map((i) => got[i]), idx.map((i) => want[i]), `${d.kind}: first.conv.w channels 4–7`);
      } finally {
        for (const g of r.grads.values()) g.dispose();
      }
    }
    tf.dispose([x, y]);
    net.dispose();
  });
});
