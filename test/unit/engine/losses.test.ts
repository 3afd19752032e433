/**
 * Losses of METHOD.md §1 (src-main/engine/losses.ts).
 *
 * Reference values: test/fixtures/alpha-div-vectors.json (see test/fixtures/README.md). Its float64 values were
 * produced by an independent numpy implementation of facebookresearch/AlphaNet `loss_ops.py`
 * (`f_divergence` + `AdaptiveLossSoft`), whose gradient was checked against finite differences (METHOD.md §1.7). Label
 * smoothing is checked against a value computed by hand below, and gradients that the fixture does not hold against
 * finite differences.
 *
 * Everything runs on the CPU backend in float32. Fixture tolerance (about 1e-5 relative, METHOD.md §1.7):
 * |actual − expected| ≤ max(1e-5·|expected|, 1e-6). Every case passes it with the log-space formulation; no case needs a
 * looser bound (the worst, the gradient of the β = 1e3 case, uses about a tenth of it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  adaptiveAlphaDivergence,
  adaptiveAlphaDivergenceDetail,
  adaptiveAlphaDivergenceWithStats,
  alphaDivergence,
  alphaDivergenceDetail,
  DEFAULT_ADAPTIVE_ALPHA,
  klDivergence,
  labelSmoothedCrossEntropy,
  softCrossEntropy,
  type AdaptiveAlphaOptions,
} from '../../../src-main/engine/losses';
import { Rng } from '../../../src-main/engine/core/rng';

interface Case {
  name: string;
  alpha_min: number;
  alpha_max: number;
  iw_clip: number;
  teacher_logits: number[][];
  student_logits: number[][];
  expected: {
    adaptive_loss_mean: number;
    adaptive_loss_per_sample: number[];
    div_alpha_min_per_sample: number[];
    div_alpha_max_per_sample: number[];
    select_alpha_min: boolean[];
    selected_divergence_mean: number;
    grad_student_logits: number[][];
    kl_teacher_student_per_sample: number[];
    kl_teacher_student_mean: number;
    ce_teacher_student_mean: number;
    grad_kl_mean_student_logits: number[][];
  };
}

const fixture: { cases: Case[] } = JSON.parse(readFileSync(join(__dirname, '../../fixtures/alpha-div-vectors.json'), 'utf8'));

const REL = 1e-5;
const ABS = 1e-6;

/** Largest |a − e| / max(REL·|e|, ABS); ≤ 1 means every entry is within tolerance. */
function tolRatio(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(a)) return Infinity;
    worst = Math.max(worst, Math.abs(a - e) / Math.max(REL * Math.abs(e), ABS));
  }
  return worst;
}

function expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, what: string): void {
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  const r = tolRatio(a, e);
  expect(r, `${what}: worst error is ${r.toFixed(3)}× the tolerance`).toBeLessThanOrEqual(1);
}

const opts = (c: Case): AdaptiveAlphaOptions => ({ alphaMin: c.alpha_min, alphaMax: c.alpha_max, clip: c.iw_clip });

/** Runs `fn` with fresh float32 tensors of the case's logits and disposes them afterwards. */
function withCase<T>(c: Case, fn: (s: tf.Tensor2D, t: tf.Tensor2D) => T): T {
  const s = tf.tensor2d(c.student_logits);
  const t = tf.tensor2d(c.teacher_logits);
  try {
    return fn(s, t);
  } finally {
    s.dispose();
    t.dispose();
  }
}

function gradData(f: (s: tf.Tensor2D) => tf.Scalar, s: tf.Tensor2D): Float32Array {
  return tf.tidy(() => tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D))(s).dataSync() as Float32Array).slice();
}

function scalar(f: () => tf.Scalar): number {
  return tf.tidy(() => f().dataSync()[0]);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('adaptive α-divergence against the fixture (METHOD.md §1.4, §1.7)', () => {
  it('the fixture has the expected layout', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(7);
    for (const c of fixture.cases) {
      expect(c.student_logits.length).toBe(4);
      expect(c.student_logits[0].length).toBe(10);
    }
  });

  for (const c of fixture.cases) {
    describe(c.name, () => {
      const E = c.expected;

      it('value, per-sample surrogate, divergences, selection and selected divergence', () => {
        withCase(c, (s, t) => {
          const d = adaptiveAlphaDivergenceDetail(s, t, opts(c));
          expectClose(d.lossMean, E.adaptive_loss_mean, 'adaptive_loss_mean (detail)');
          expectClose(d.lossPerSample, E.adaptive_loss_per_sample, 'adaptive_loss_per_sample');
          expectClose(d.divAlphaMin, E.div_alpha_min_per_sample, 'div_alpha_min_per_sample');
          expectClose(d.divAlphaMax, E.div_alpha_max_per_sample, 'div_alpha_max_per_sample');
          expect(d.selectAlphaMin).toEqual(E.select_alpha_min);
          expectClose(d.selectedDivergenceMean, E.selected_divergence_mean, 'selected_divergence_mean');
          const share = E.select_alpha_min.filter(Boolean).length / E.select_alpha_min.length;
          expect(d.alphaMinShare).toBe(share);

          expectClose(scalar(() => adaptiveAlphaDivergence(s, t, opts(c))), E.adaptive_loss_mean, 'adaptive_loss_mean');
          const stats = tf.tidy(() => {
            const r = adaptiveAlphaDivergenceWithStats(s, t, opts(c));
            return [r.loss, r.alphaMinShare, r.selectedDivergence].map((x) => x.dataSync()[0]);
          });
          expectClose(stats[0], E.adaptive_loss_mean, 'WithStats.loss');
          expect(stats[1]).toBeCloseTo(share, 7);
          expectClose(stats[2], E.selected_divergence_mean, 'WithStats.selectedDivergence');
        });
      });

      it('gradient with respect to the student logits (tf.grad through the custom gradient)', () => {
        withCase(c, (s, t) => {
          const want = E.grad_student_logits.flat();
          expectClose(gradData((x) => adaptiveAlphaDivergence(x, t, opts(c)), s), want, 'grad_student_logits');
          // The same gradient flows through WithStats' loss slice; the statistics add nothing.
          expectClose(gradData((x) => adaptiveAlphaDivergenceWithStats(x, t, opts(c)).loss, s), want, 'grad via WithStats');
        });
      });

      it('the fixed-α pieces agree with the adaptive per-sample values', () => {
        withCase(c, (s, t) => {
          const lo = alphaDivergenceDetail(s, t, c.alpha_min, c.iw_clip);
          const hi = alphaDivergenceDetail(s, t, c.alpha_max, c.iw_clip);
          expectClose(lo.divergencePerSample, E.div_alpha_min_per_sample, 'fixed α₋ divergence');
          expectClose(hi.divergencePerSample, E.div_alpha_max_per_sample, 'fixed α₊ divergence');
          const picked = E.select_alpha_min.map((m, i) => (m ? lo : hi).surrogatePerSample[i]);
          expectClose(picked, E.adaptive_loss_per_sample, 'selected fixed-α surrogate');
          // Where every sample picks the same α, the adaptive gradient is that α's fixed gradient.
          const all = E.select_alpha_min.every(Boolean) ? c.alpha_min : E.select_alpha_min.some(Boolean) ? null : c.alpha_max;
          if (all !== null) {
            expectClose(gradData((x) => alphaDivergence(x, t, all, c.iw_clip), s), E.grad_student_logits.flat(), 'fixed-α gradient');
          }
        });
      });

      it('KL(p‖q) and soft cross-entropy (METHOD.md §1.6), values and gradient', () => {
        withCase(c, (s, t) => {
          expectClose(scalar(() => klDivergence(s, t)), E.kl_teacher_student_mean, 'kl_teacher_student_mean');
          expectClose(alphaDivergenceDetail(s, t, 1).divergencePerSample, E.kl_teacher_student_per_sample, 'kl per sample (α = 1)');
          expectClose(scalar(() => softCrossEntropy(s, t)), E.ce_teacher_student_mean, 'ce_teacher_student_mean');
          // α = 1: S = −Σ p log q is exactly the soft cross-entropy (METHOD.md §1.3).
          expectClose(scalar(() => alphaDivergence(s, t, 1)), E.ce_teacher_student_mean, 'alphaDivergence(α = 1)');
          const want = E.grad_kl_mean_student_logits.flat();
          expectClose(gradData((x) => klDivergence(x, t), s), want, 'grad KL');
          expectClose(gradData((x) => softCrossEntropy(x, t), s), want, 'grad soft CE');
        });
      });
    });
  }

  it('defaults are α₋ = −1, α₊ = 1, β = 5 (METHOD.md §1.4): no options reproduces the default_scale1 case', () => {
    expect(DEFAULT_ADAPTIVE_ALPHA).toEqual({ alphaMin: -1, alphaMax: 1, clip: 5 });
    const c = fixture.cases.find((x) => x.name === 'default_scale1')!;
    expect([c.alpha_min, c.alpha_max, c.iw_clip]).toEqual([-1, 1, 5]);
    withCase(c, (s, t) => {
      expectClose(scalar(() => adaptiveAlphaDivergence(s, t)), c.expected.adaptive_loss_mean, 'default options');
      expectClose(scalar(() => adaptiveAlphaDivergence(s, t, {})), c.expected.adaptive_loss_mean, 'empty options');
      expectClose(gradData((x) => adaptiveAlphaDivergence(x, t), s), c.expected.grad_student_logits.flat(), 'default gradient');
    });
  });

  it('alphaMin = 0 is honoured, not replaced by the default (unlike the reference, METHOD.md §1.5)', () => {
    const c = fixture.cases.find((x) => x.alpha_min === 0)!;
    withCase(c, (s, t) => {
      const zero = scalar(() => adaptiveAlphaDivergence(s, t, { alphaMin: 0, alphaMax: 1, clip: c.iw_clip }));
      const fallback = scalar(() => adaptiveAlphaDivergence(s, t, { alphaMax: 1, clip: c.iw_clip }));
      expectClose(zero, c.expected.adaptive_loss_mean, 'alphaMin 0');
      expect(Math.abs(zero - fallback)).toBeGreaterThan(0.1);
    });
  });

  it('α within 1e-3 of 0 or 1 takes the limit branch (METHOD.md §1.2)', () => {
    const c = fixture.cases[0];
    withCase(c, (s, t) => {
      for (const [a, limit] of [[5e-4, 0], [-5e-4, 0], [1 + 5e-4, 1], [1 - 5e-4, 1]] as const) {
        const x = alphaDivergenceDetail(s, t, a, 5);
        const y = alphaDivergenceDetail(s, t, limit, 5);
        expect(x.surrogatePerSample).toEqual(y.surrogatePerSample);
        expect(x.divergencePerSample).toEqual(y.divergencePerSample);
      }
    });
  });

  it('rejects bad arguments', () => {
    const s = tf.zeros([2, 3]) as tf.Tensor2D;
    const t = tf.zeros([2, 4]) as tf.Tensor2D;
    const t3 = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => adaptiveAlphaDivergence(s, t)).toThrow(/shape/);
    expect(() => adaptiveAlphaDivergence(s, t3, { clip: 0 })).toThrow(/clip/);
    expect(() => adaptiveAlphaDivergence(s, t3, { alphaMin: Number.NaN })).toThrow(/alphaMin/);
    expect(() => alphaDivergence(s, t3, Infinity)).toThrow(/alpha/);
    expect(() => labelSmoothedCrossEntropy(s, [0, 1], 4)).toThrow(/numClasses/);
    expect(() => labelSmoothedCrossEntropy(s, [0, 3], 3)).toThrow(/label/);
    expect(() => labelSmoothedCrossEntropy(s, [0], 3)).toThrow(/labels/);
    tf.dispose([s, t, t3]);
  });
});

describe('the teacher is detached (METHOD.md §1.1, §1.5)', () => {
  const c = fixture.cases[0];
  const losses: [string, (s: tf.Tensor2D, t: tf.Tensor2D) => tf.Scalar][] = [
    ['adaptive', (s, t) => adaptiveAlphaDivergence(s, t)],
    ['adaptive (0, 1)', (s, t) => adaptiveAlphaDivergence(s, t, { alphaMin: 0, alphaMax: 1 })],
    ['adaptive WithStats', (s, t) => adaptiveAlphaDivergenceWithStats(s, t).loss],
    ['fixed α = −1', (s, t) => alphaDivergence(s, t, -1)],
    ['fixed α = 0', (s, t) => alphaDivergence(s, t, 0)],
    ['fixed α = 0.5', (s, t) => alphaDivergence(s, t, 0.5)],
    ['fixed α = 1', (s, t) => alphaDivergence(s, t, 1)],
    ['soft CE', softCrossEntropy],
    ['KL', klDivergence],
  ];

  for (const [name, loss] of losses) {
    it(`${name}: no gradient reaches the teacher`, () => {
      // (a) Teacher logits as a variable: variableGrads returns no entry for it.
      const sv = tf.variable(tf.tensor2d(c.student_logits));
      const tv = tf.variable(tf.tensor2d(c.teacher_logits));
      const { value, grads } = tf.variableGrads(() => loss(sv, tv), [sv, tv]);
      expect(Object.keys(grads)).toEqual([sv.name]);
      expect(grads[tv.name]).toBeUndefined();
      // (b) Through the loss path, the teacher's gradient is exactly zero.
      const gt = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.add(loss(sv, x as tf.Tensor2D), tf.mul(tf.sum(x), 0)))(tv).dataSync().slice());
      expect(Array.from(gt).every((v) => v === 0)).toBe(true);
      // (c) The trainer's situation: teacher and student both computed from weights in the same tape. Only the
      //     student's weights get a gradient, and it is the chain rule through the student logits alone.
      const x = tf.tensor2d([[0.5, -1, 2], [1, 0.25, -0.5], [-2, 1, 0], [0.3, 0.3, 1]]);
      const wS = tf.variable(tf.tensor2d(Array.from({ length: 3 }, (_, i) => c.student_logits[i].slice())));
      const wT = tf.variable(tf.tensor2d(Array.from({ length: 3 }, (_, i) => c.teacher_logits[i].slice())));
      const r = tf.variableGrads(() => loss(tf.matMul(x, wS), tf.matMul(x, wT)), [wS, wT]);
      expect(Object.keys(r.grads)).toEqual([wS.name]);
      const want = tf.tidy(() => {
        const zs: tf.Tensor2D = tf.matMul(x, wS);
        const zt: tf.Tensor2D = tf.matMul(x, wT);
        const gz = tf.grad((z: tf.Tensor) => loss(z as tf.Tensor2D, zt))(zs);
        return tf.matMul(x, gz, true, false).dataSync().slice();
      });
      const got = r.grads[wS.name].dataSync();
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 6);
      tf.dispose([sv, tv, value, grads, x, wS, wT, r.value, r.grads]);
    });
  }
});

/** Logits for the stress test: random signs at ±scale, peaked rows (one class at +scale, the rest at −scale or 0). */
function extremeLogits(rng: Rng, batch: number, classes: number, scale: number, kind: 'uniform' | 'signs' | 'peaked'): number[][] {
  return Array.from({ length: batch }, () => {
    if (kind === 'uniform') return Array.from({ length: classes }, () => (2 * rng.next() - 1) * scale);
    if (kind === 'signs') return Array.from({ length: classes }, () => (rng.next() < 0.5 ? -scale : scale));
    const hot = rng.int(classes);
    const floor = rng.next() < 0.5 ? -scale : 0;
    return Array.from({ length: classes }, (_, k) => (k === hot ? scale : floor));
  });
}

describe('no NaN or Inf at extreme logits (METHOD.md §1.5)', () => {
  const kinds = ['uniform', 'signs', 'peaked'] as const;
  const pairs: [number, number, number][] = [
    [-1, 1, 5], [0, 1, 5], [-1, 0.5, 5], [-0.5, 0.5, 5], [-0.5, 1, 5], [-1, 2, 5], [-1, 1, 1e3], [0, 2, 1e3], [-1, 1, 1],
  ];
  const fixedAlphas = [-2, -1, -0.5, 0, 0.5, 1, 2];

  for (const scale of [30, 100]) {
    it(`±${scale}: values and gradients of every loss are finite`, () => {
      const rng = new Rng(scale);
      let checked = 0;
      for (const sk of kinds) {
        for (const tk of kinds) {
          const s = tf.tensor2d(extremeLogits(rng, 8, 10, scale, sk));
          const t = tf.tensor2d(extremeLogits(rng, 8, 10, scale, tk));
          const fns: [string, (x: tf.Tensor2D) => tf.Scalar][] = [
            ...pairs.map(([a, b, clip]) => [`adaptive(${a}, ${b}, β=${clip})`, (x: tf.Tensor2D) => adaptiveAlphaDivergence(x, t, { alphaMin: a, alphaMax: b, clip })] as [string, (x: tf.Tensor2D) => tf.Scalar]),
            ...fixedAlphas.map((a) => [`alpha(${a})`, (x: tf.Tensor2D) => alphaDivergence(x, t, a)] as [string, (x: tf.Tensor2D) => tf.Scalar]),
            ['softCE', (x) => softCrossEntropy(x, t)],
            ['KL', (x) => klDivergence(x, t)],
            ['labelSmoothedCE', (x) => labelSmoothedCrossEntropy(x, [0, 1, 2, 3, 4, 5, 6, 9], 10)],
          ];
          for (const [name, f] of fns) {
            const [v, g] = tf.tidy(() => {
              const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => f(x as tf.Tensor2D))(s);
              return [value.dataSync()[0], Array.from(grad.dataSync())];
            });
            const where = `${name}, student ${sk}, teacher ${tk}, ±${scale}`;
            expect(Number.isFinite(v), `${where}: value ${v}`).toBe(true);
            expect(g.every(Number.isFinite), `${where}: gradient`).toBe(true);
            checked++;
          }
          for (const [a, b, clip] of pairs) {
            const d = adaptiveAlphaDivergenceDetail(s, t, { alphaMin: a, alphaMax: b, clip });
            const all = [d.lossMean, d.selectedDivergenceMean, ...d.lossPerSample, ...d.divAlphaMin, ...d.divAlphaMax];
            expect(all.every(Number.isFinite), `detail(${a}, ${b}, ${clip}), ${sk}/${tk} ±${scale}`).toBe(true);
            // Lower bounds of the clipped divergence, up to float32 rounding: for α ∈ [0, 1] clipping only lowers w
            // (or r), which raises D, so D ≥ 0; for α < 0 or α > 1, w ≥ 0 gives D ≥ −1/(α(α−1)) (e.g. −½ for α = −1
            // with β = 1, where w ≤ 1 everywhere). Anything far below would mean lost precision.
            const floor = (alpha: number) => (alpha >= 0 && alpha <= 1 ? 0 : -1 / (alpha * (alpha - 1)));
            expect(Math.min(...d.divAlphaMin)).toBeGreaterThan(floor(a) - 1e-4 * scale);
            expect(Math.min(...d.divAlphaMax)).toBeGreaterThan(floor(b) - 1e-4 * scale);
          }
          tf.dispose([s, t]);
        }
      }
      expect(checked).toBe(9 * (pairs.length + fixedAlphas.length + 3));
    });
  }
});

/**
 * Central five-point difference (f(x−2h) − 8f(x−h) + 8f(x+h) − f(x+2h)) / 12h of a float32 function of the logits.
 * Truncation is O(h⁴) (≈ 1e-8 at h = 0.02 for these smooth functions of O(1) logits), so the error is dominated by the
 * float32 rounding of f: about 1.2e-7·|f|·18/(12h) ≈ 1e-5·|f|. The tolerance {@link fdTol} is five times that, with
 * |f| floored at 1.
 */
function finiteDiff(f: (z: number[][]) => number, z: number[][], h = 0.02): number[] {
  const out: number[] = [];
  for (let i = 0; i < z.length; i++) {
    for (let j = 0; j < z[i].length; j++) {
      const at = (d: number) => {
        const zz = z.map((row) => row.slice());
        zz[i][j] += d;
        return f(zz);
      };
      out.push((at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h));
    }
  }
  return out;
}

/** Allowed |analytic − finite difference| for a function whose value is f0 (see {@link finiteDiff}). */
const fdTol = (f0: number) => 5e-5 * Math.max(1, Math.abs(f0));

describe('gradients against finite differences', () => {
  const rng = new Rng(7);
  const small = (scale: number) => Array.from({ length: 3 }, () => Array.from({ length: 6 }, () => rng.normal() * scale));
  const student = small(1.5);
  const teacher = small(1.5);

  for (const alpha of [-2, -1, -0.5, 0, 0.5, 1, 2]) {
    it(`fixed α = ${alpha}, clip off (β = 1e30): ∇ mean S_α = ∇ mean D_α (METHOD.md §1.3)`, () => {
      const t = tf.tensor2d(teacher);
      const meanD = (z: number[][]) => tf.tidy(() => alphaDivergenceDetail(tf.tensor2d(z), t, alpha, 1e30).divergenceMean);
      const fd = finiteDiff(meanD, student);
      const s = tf.tensor2d(student);
      const g = gradData((x) => alphaDivergence(x, t, alpha, 1e30), s);
      const tol = fdTol(meanD(student));
      for (let k = 0; k < fd.length; k++) expect(Math.abs(g[k] - fd[k]), `entry ${k}`).toBeLessThan(tol);
      tf.dispose([s, t]);
    });
  }

  it('adaptive, clip off: ∇ mean S = ∇ mean max(D₋, D₊) where the selection is stable (the third check of METHOD.md §1.7)', () => {
    const t = tf.tensor2d(teacher);
    const o = { alphaMin: -1, alphaMax: 1, clip: 1e30 };
    const s = tf.tensor2d(student);
    const base = adaptiveAlphaDivergenceDetail(s, t, o);
    // The rule must not flip within the stencil, else max(D₋, D₊) has a kink there.
    const margins = base.divAlphaMin.map((d, i) => Math.abs(d - base.divAlphaMax[i]));
    expect(Math.min(...margins)).toBeGreaterThan(0.05);
    const fd = finiteDiff((z) => tf.tidy(() => adaptiveAlphaDivergenceDetail(tf.tensor2d(z), t, o).selectedDivergenceMean), student);
    const g = gradData((x) => adaptiveAlphaDivergence(x, t, o), s);
    const tol = fdTol(base.selectedDivergenceMean);
    for (let k = 0; k < fd.length; k++) expect(Math.abs(g[k] - fd[k]), `entry ${k}`).toBeLessThan(tol);
    tf.dispose([s, t]);
  });

  it('label-smoothed cross-entropy', () => {
    const labels = [4, 0, 5];
    const f = (z: number[][]) => scalar(() => labelSmoothedCrossEntropy(tf.tensor2d(z), labels, 6));
    const fd = finiteDiff(f, student);
    const s = tf.tensor2d(student);
    const g = gradData((x) => labelSmoothedCrossEntropy(x, labels, 6), s);
    const tol = fdTol(f(student));
    for (let k = 0; k < fd.length; k++) expect(Math.abs(g[k] - fd[k]), `entry ${k}`).toBeLessThan(tol);
    s.dispose();
  });
});

describe('label-smoothed cross-entropy (METHOD.md §1.6)', () => {
  const z = [
    [2.0, -1.0, 0.5, 0.0],
    [-0.3, 0.8, 1.7, -2.2],
  ];
  const labels = [0, 2];
  const K = 4;

  /**
   * By hand, in float64: log_softmax(z)_k = z_k − log Σ_j exp(z_j); target t = one_hot·(1 − ε) + ε/K;
   * loss = (1/B) Σ_b −Σ_k t_bk · log_softmax(z_b)_k; gradient (softmax(z) − t)/B.
   */
  function byHand(eps: number): { loss: number; grad: number[] } {
    let loss = 0;
    const grad: number[] = [];
    for (let b = 0; b < z.length; b++) {
      const lse = Math.log(z[b].reduce((acc, v) => acc + Math.exp(v), 0));
      for (let k = 0; k < K; k++) {
        const target = (k === labels[b] ? 1 - eps : 0) + eps / K;
        const ls = z[b][k] - lse;
        loss -= target * ls;
        grad.push((Math.exp(ls) - target) / z.length);
      }
    }
    return { loss: loss / z.length, grad };
  }

  it('matches the hand computation for ε = 0.1 (the default), ε = 0 and ε = 0.5', () => {
    const s = tf.tensor2d(z);
    for (const eps of [0.1, 0, 0.5]) {
      const want = byHand(eps);
      expectClose(scalar(() => labelSmoothedCrossEntropy(s, labels, K, eps)), want.loss, `loss ε=${eps}`);
      expectClose(gradData((x) => labelSmoothedCrossEntropy(x, labels, K, eps), s), want.grad, `grad ε=${eps}`);
    }
    // The same formula evaluated independently (Python, float64) at ε = 0.1: 0.5604553231520734.
    expect(byHand(0.1).loss).toBeCloseTo(0.5604553, 6);
    expectClose(scalar(() => labelSmoothedCrossEntropy(s, labels, K)), byHand(0.1).loss, 'default ε');
    // Labels as an int32 tensor give the same value.
    const lt = tf.tensor1d(labels, 'int32');
    expectClose(scalar(() => labelSmoothedCrossEntropy(s, lt, K)), byHand(0.1).loss, 'tensor labels');
    tf.dispose([s, lt]);
  });
});

describe('memory', () => {
  const c = fixture.cases[1];

  it('no tensor leaks: each loss + its gradient inside tf.tidy, repeatedly', () => {
    const s = tf.tensor2d(c.student_logits);
    const t = tf.tensor2d(c.teacher_logits);
    const sv = tf.variable(s.clone());
    const fns: ((x: tf.Tensor2D) => tf.Scalar)[] = [
      (x) => adaptiveAlphaDivergence(x, t),
      (x) => adaptiveAlphaDivergence(x, t, { alphaMin: 0, alphaMax: 2, clip: 1e3 }),
      (x) => {
        const r = adaptiveAlphaDivergenceWithStats(x, t);
        return tf.addN([r.loss, tf.mul(r.alphaMinShare, 0), tf.mul(r.selectedDivergence, 0)]) as tf.Scalar;
      },
      (x) => alphaDivergence(x, t, -0.5, 2),
      (x) => alphaDivergence(x, t, 0),
      (x) => alphaDivergence(x, t, 1),
      (x) => softCrossEntropy(x, t),
      (x) => klDivergence(x, t),
      (x) => labelSmoothedCrossEntropy(x, [1, 2, 3, 4], 10),
      (x) => labelSmoothedCrossEntropy(x, tf.tensor1d([1, 2, 3, 4], 'int32'), 10),
    ];
    // Warm-up once, so lazily created backend state is not counted.
    tf.tidy(() => fns.forEach((f) => tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D))(s)));
    const before = tf.memory().numTensors;
    for (let rep = 0; rep < 3; rep++) {
      for (const f of fns) {
        tf.tidy(() => {
          f(s);
          tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D))(s);
          tf.valueAndGrad((x: tf.Tensor) => f(x as tf.Tensor2D))(s);
          tf.variableGrads(() => f(sv), [sv]);
        });
        expect(tf.memory().numTensors).toBe(before);
      }
      adaptiveAlphaDivergenceDetail(s, t);
      alphaDivergenceDetail(s, t, -1);
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([s, t, sv]);
  });

  it('outside tf.tidy the functions create exactly the tensors they return', () => {
    const s = tf.tensor2d(c.student_logits);
    const t = tf.tensor2d(c.teacher_logits);
    const before = tf.memory().numTensors;
    const one = [adaptiveAlphaDivergence(s, t), alphaDivergence(s, t, 0.5), softCrossEntropy(s, t), klDivergence(s, t), labelSmoothedCrossEntropy(s, [0, 1, 2, 3], 10)];
    expect(tf.memory().numTensors).toBe(before + one.length);
    const r = adaptiveAlphaDivergenceWithStats(s, t);
    expect(tf.memory().numTensors).toBe(before + one.length + 3);
    const g = tf.grad((x: tf.Tensor) => adaptiveAlphaDivergenceWithStats(x as tf.Tensor2D, t).loss)(s);
    expect(tf.memory().numTensors).toBe(before + one.length + 4);
    tf.dispose([...one, r.loss, r.alphaMinShare, r.selectedDivergence, g]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, t]);
  });
});
