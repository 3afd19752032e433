/**
 * Training losses (METHOD.md §1): the adaptive α-divergence KD loss of AlphaNet (`AdaptiveLossSoft`, facebookresearch/AlphaNet
 * `loss_ops.py`), its fixed-α building block, and the baselines of METHOD.md §1.6 (label-smoothed cross-entropy for the max
 * subnet, AttentiveNAS soft cross-entropy, plain KL).
 *
 * Conventions shared by every function here:
 * - Logits are `[batch, classes]` float32; softmax is over the class axis with no temperature (METHOD.md §1.1).
 * - The student comes first and the teacher second, as in `AdaptiveLossSoft(output, target)`: q = softmax(student),
 *   p = softmax(teacher) (METHOD.md §1.1).
 * - The teacher is detached (METHOD.md §1.1, §1.5). TF.js has no stop-gradient op, so every KD loss is a `tf.customGrad` op
 *   whose only input is the student; the teacher is captured by closure. The tape therefore has no edge into the
 *   teacher at all: `tf.variableGrads` returns no gradient for variables that only feed the teacher, and no backward
 *   work is spent on the teacher's graph (which, in the sandwich rule, is the whole max subnet).
 * - Everything is computed in log space from `logSoftmax`, which is finite for any finite logits, so logits of ±100
 *   (where float32 softmax underflows to exact zeros) give finite values and gradients (METHOD.md §1.5).
 * - The KD values are reduced with the batch mean (METHOD.md §1.4 step 3).
 */
import * as tf from '@tensorflow/tfjs';

/** |α| below this picks the α→0 branch and |α−1| below it the α→1 branch, as in `f_divergence` (METHOD.md §1.2). */
export const ALPHA_BRANCH_TOLERANCE = 1e-3;

/** Options of the adaptive loss (METHOD.md §1.4). Every field is optional; see {@link DEFAULT_ADAPTIVE_ALPHA}. */
export interface AdaptiveAlphaOptions {
  /** α₋. Default −1 (METHOD.md §1.4). 0 is a legal value here and selects the KL(q‖p) branch (unlike the reference). */
  alphaMin?: number;
  /** α₊. Default +1 (METHOD.md §1.4). */
  alphaMax?: number;
  /** β, the importance-weight clip `iw_clip`. Default 5 (METHOD.md §1.4). Must be > 0; `Infinity` turns clipping off. */
  clip?: number;
}

/** The constructor and training-config defaults: α₋ = −1, α₊ = 1, β = 5 (METHOD.md §1.4). */
export const DEFAULT_ADAPTIVE_ALPHA: Readonly<Required<AdaptiveAlphaOptions>> = Object.freeze({
  alphaMin: -1,
  alphaMax: 1,
  clip: 5,
});

/** What {@link adaptiveAlphaDivergenceWithStats} returns; the caller owns (and must dispose) all three scalars. */
export interface AdaptiveAlphaResult {
  /** mean over the batch of the selected surrogate S (METHOD.md §1.3–1.4): the differentiable training loss. */
  loss: tf.Scalar;
  /** Fraction of samples whose α₋ divergence was strictly larger, i.e. where α₋ was used. Not differentiable. */
  alphaMinShare: tf.Scalar;
  /** Batch mean of the selected (clipped) divergence max(D₋, D₊): the meaningful number to log. Not differentiable. */
  selectedDivergence: tf.Scalar;
}

/** Plain-number view of one adaptive evaluation, for tests and diagnostics. */
export interface AdaptiveAlphaDetail {
  /** The value of {@link adaptiveAlphaDivergence} (averaged here in float64 from the float32 per-sample values). */
  lossMean: number;
  /** Per-sample selected surrogate S. */
  lossPerSample: number[];
  /** Per-sample clipped D_{α₋}. */
  divAlphaMin: number[];
  /** Per-sample clipped D_{α₊} (unclipped when α₊ = 1). */
  divAlphaMax: number[];
  /** Per sample: true where D_{α₋} > D_{α₊} strictly, so α₋'s surrogate was used (ties go to α₊). */
  selectAlphaMin: boolean[];
  /** Batch mean of the selected divergence. */
  selectedDivergenceMean: number;
  /** Fraction of samples with `selectAlphaMin`. */
  alphaMinShare: number;
}

/** Plain-number view of one fixed-α evaluation. */
export interface AlphaDivergenceDetail {
  /** The value of {@link alphaDivergence}: batch mean of S_α (averaged in float64 from the float32 per-sample values). */
  surrogateMean: number;
  /** Per-sample surrogate S_α. */
  surrogatePerSample: number[];
  /** Per-sample clipped divergence D_α. */
  divergencePerSample: number[];
  /** Batch mean of D_α. */
  divergenceMean: number;
}

// ---------------------------------------------------------------------------------------------------------------------
// Shared forward math (plain ops; callers run it inside a customGrad forward or a tidy, so nothing here is taped).

interface LogProbs {
  /** log q = logSoftmax(student). */
  logq: tf.Tensor2D;
  /** q = exp(log q): may underflow to 0, which is harmless because q only ever multiplies finite numbers. */
  q: tf.Tensor2D;
  /** p = exp(log p). */
  p: tf.Tensor2D;
  /** log r = log p − log q, the log importance ratio (METHOD.md §1.5), never the literal p/q that can be 0/0. */
  logr: tf.Tensor2D;
}

function logProbs(student: tf.Tensor2D, teacher: tf.Tensor2D): LogProbs {
  const logq = tf.logSoftmax(student);
  const logp = tf.logSoftmax(teacher);
  return { logq, q: tf.exp(logq), p: tf.exp(logp), logr: tf.sub(logp, logq) };
}

interface AlphaTerms {
  /** Per-sample D_α [B] with the clipped weight, used only for the selection (METHOD.md §1.3). */
  div: tf.Tensor1D;
  /** c = q·ρ [B, K], the frozen weight of the surrogate S_α = −Σ c log q (METHOD.md §1.3). */
  c: tf.Tensor2D;
}

/** D_α and c = q·ρ for one α, with the three branches of the table in METHOD.md §1.2, computed in log space (METHOD.md §1.5). */
function alphaTerms(lp: LogProbs, alpha: number, logBeta: number): AlphaTerms {
  if (Math.abs(alpha) < ALPHA_BRANCH_TOLERANCE) {
    // α→0: KL(q‖p). r is clipped at β, so log r_c = min(log r, log β); f = −log r_c, ρ = log r_c − 1.
    const logrc = tf.minimum(lp.logr, logBeta);
    return {
      div: tf.neg(tf.sum(tf.mul(lp.q, logrc), 1)),
      c: tf.mul(lp.q, tf.sub(logrc, 1)),
    };
  }
  if (Math.abs(alpha - 1) < ALPHA_BRANCH_TOLERANCE) {
    // α→1: KL(p‖q), never clipped (METHOD.md §1.2). D = Σ p(log p − log q) is 0 where p underflows (p = 0, log r finite),
    // where the literal p·log(p/q) would be 0·log 0 = NaN. ρ = r, so c = q·r = p exactly.
    return { div: tf.sum(tf.mul(lp.p, lp.logr), 1), c: lp.p };
  }
  // General α: w = min(r^α, β) = exp(min(α log r, log β)). Clipping before exp means exp never overflows.
  const k = 1 / (alpha * (alpha - 1)); // f_base
  const t = tf.minimum(tf.mul(lp.logr, alpha), logBeta);
  // D = k Σ q (w − 1), written with expm1 so that w ≈ 1 (p ≈ q) does not cancel: for p = q exactly this gives exactly
  // 0 where k(Σ q w − 1) gives ±k·ulp, which could break the tie D₋ = D₊ = 0 the wrong way (METHOD.md §1.4: ties → α₊).
  const div: tf.Tensor1D = tf.mul(tf.sum(tf.mul(lp.q, tf.expm1(t)), 1), k);
  // ρ = w/α + f_base.
  const c: tf.Tensor2D = tf.mul(lp.q, tf.add(tf.div(tf.exp(t), alpha), k));
  return { div, c };
}

/** Per-sample surrogate S = −Σ_i c_i log q_i [B]. */
function surrogate(c: tf.Tensor2D, logq: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(c, logq), 1));
}

/**
 * ∂(mean S)/∂z for frozen c: per sample −(c − q Σc) (METHOD.md §1.3), divided by B for the batch mean, times the upstream
 * gradient `dyScale` (a scalar or a one-element tensor).
 */
function surrogateGrad(c: tf.Tensor2D, q: tf.Tensor2D, dyScale: tf.Tensor): tf.Tensor2D {
  const batch = c.shape[0];
  const g = tf.sub(tf.mul(q, tf.sum(c, 1, true)), c);
  return tf.mul(g, tf.div(dyScale, batch));
}

interface AdaptiveForward {
  q: tf.Tensor2D;
  logq: tf.Tensor2D;
  divMin: tf.Tensor1D;
  divMax: tf.Tensor1D;
  /** [B] bool: D₋ > D₊ strictly. */
  selMin: tf.Tensor1D;
  /** Selected c [B, K]. */
  c: tf.Tensor2D;
  /** Selected S [B]. */
  s: tf.Tensor1D;
  /** Selected D [B]. */
  div: tf.Tensor1D;
}

function adaptiveForward(student: tf.Tensor2D, teacher: tf.Tensor2D, o: Required<AdaptiveAlphaOptions>): AdaptiveForward {
  const lp = logProbs(student, teacher);
  const logBeta = Math.log(o.clip);
  const lo = alphaTerms(lp, o.alphaMin, logBeta);
  const hi = alphaTerms(lp, o.alphaMax, logBeta);
  // Strictly greater picks α₋; a tie (e.g. identical teacher and student, both 0) goes to α₊ (METHOD.md §1.4 step 2).
  const selMin = tf.greater(lo.div, hi.div) as tf.Tensor1D;
  // Select c before forming S, so only the selected surrogate is reduced; `where` broadcasts the [B,1] condition.
  const c = tf.where(tf.expandDims(selMin, 1), lo.c, hi.c) as tf.Tensor2D;
  return {
    q: lp.q,
    logq: lp.logq,
    divMin: lo.div,
    divMax: hi.div,
    selMin,
    c,
    s: surrogate(c, lp.logq),
    div: tf.where(selMin, lo.div, hi.div) as tf.Tensor1D,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Validation.

function checkPair(student: tf.Tensor, teacher: tf.Tensor, fn: string): void {
  if (student.rank !== 2 || teacher.rank !== 2) {
    throw new Error(`${fn}: logits must be [batch, classes]; got student ${JSON.stringify(student.shape)} and teacher ${JSON.stringify(teacher.shape)}`);
  }
  if (student.shape[0] !== teacher.shape[0] || student.shape[1] !== teacher.shape[1]) {
    throw new Error(`${fn}: student ${JSON.stringify(student.shape)} and teacher ${JSON.stringify(teacher.shape)} differ in shape`);
  }
  if (student.shape[0] === 0) throw new Error(`${fn}: empty batch`);
}

function checkAlpha(alpha: number, what: string, fn: string): void {
  if (!Number.isFinite(alpha)) throw new Error(`${fn}: ${what} must be a finite number, got ${alpha}`);
}

function checkClip(clip: number, fn: string): void {
  // β = Infinity is allowed (no clipping: log β = Infinity and min(x, Infinity) = x), but NaN and β ≤ 0 are not.
  if (!(clip > 0)) throw new Error(`${fn}: clip (β) must be > 0, got ${clip}`);
}

function resolveAdaptive(opts: AdaptiveAlphaOptions | undefined, fn: string): Required<AdaptiveAlphaOptions> {
  // Explicit `undefined` fields fall back to the default; an explicit 0 does not (unlike `alpha_min or
  // self.alpha_min` in the reference, METHOD.md §1.5, which silently replaces 0.0).
  const o: Required<AdaptiveAlphaOptions> = {
    alphaMin: opts?.alphaMin ?? DEFAULT_ADAPTIVE_ALPHA.alphaMin,
    alphaMax: opts?.alphaMax ?? DEFAULT_ADAPTIVE_ALPHA.alphaMax,
    clip: opts?.clip ?? DEFAULT_ADAPTIVE_ALPHA.clip,
  };
  checkAlpha(o.alphaMin, 'alphaMin', fn);
  checkAlpha(o.alphaMax, 'alphaMax', fn);
  checkClip(o.clip, fn);
  return o;
}

/** Reads a float tensor to a plain array (call inside tidy; the number[] outlives it, unlike a typed-array view). */
function toArray(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

// ---------------------------------------------------------------------------------------------------------------------
// Adaptive α-divergence (METHOD.md §1.4).

/**
 * The adaptive α-divergence loss with its statistics, in one pass (METHOD.md §1.4).
 *
 * `loss` is the value `AdaptiveLossSoft` returns: the batch mean of the selected surrogate
 * S = −Σ sg(q·ρ) log q (METHOD.md §1.3), which can be negative and is not a divergence (METHOD.md §1.5). Its gradient with respect
 * to the student logits is dy·(−(c − q·Σc))/B with c = q·ρ of the α picked per sample; the teacher gets no gradient.
 * `alphaMinShare` and `selectedDivergence` come from the same forward computation and are constants to autodiff.
 *
 * Implementation: one customGrad op returns the vector [mean S, share, mean D_sel]; its backward uses only the first
 * component's upstream gradient. The three scalars are slices of that vector, so the trainer can log the statistics
 * without a second pass.
 *
 * @param studentLogits z_s [B, K] (q = softmax).
 * @param teacherLogits z_t [B, K] (p = softmax); detached.
 * @param opts α₋ (default −1), α₊ (default 1), β (default 5), METHOD.md §1.4.
 * @returns three scalars the caller owns.
 */
export function adaptiveAlphaDivergenceWithStats(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  opts?: AdaptiveAlphaOptions,
): AdaptiveAlphaResult {
  const fn = 'adaptiveAlphaDivergence';
  checkPair(studentLogits, teacherLogits, fn);
  const o = resolveAdaptive(opts, fn);
  return tf.tidy(() => {
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const student = args[0] as tf.Tensor2D;
      const save = args[1] as tf.GradSaveFunc;
      const f = adaptiveForward(student, teacherLogits, o);
      // Only c and q are needed backward; the gradient itself is formed lazily, so forward-only calls (evaluation,
      // logging) never pay for it. `save` is a no-op when no tape is recording.
      save([f.c, f.q]);
      const value = tf.stack([tf.mean(f.s), tf.mean(tf.cast(f.selMin, 'float32')), tf.mean(f.div)]) as tf.Tensor1D;
      return {
        value,
        gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) =>
          surrogateGrad(saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, tf.slice(dy, [0], [1])),
      };
    });
    const out = op(studentLogits) as tf.Tensor1D;
    const [loss, alphaMinShare, selectedDivergence] = tf.unstack(out) as tf.Scalar[];
    return { loss, alphaMinShare, selectedDivergence };
  });
}

/**
 * The adaptive α-divergence KD loss of AlphaNet (METHOD.md §1.4): per sample, the surrogate of α₋ where the clipped D_{α₋}
 * is strictly greater than D_{α₊}, else that of α₊; batch mean. Value and gradient as in
 * {@link adaptiveAlphaDivergenceWithStats}, whose `loss` this is.
 *
 * @param studentLogits z_s [B, K].
 * @param teacherLogits z_t [B, K]; detached (no gradient).
 * @param opts α₋ (default −1), α₊ (default 1), β (default 5), METHOD.md §1.4. An explicit alphaMin of 0 is honoured.
 */
export function adaptiveAlphaDivergence(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  opts?: AdaptiveAlphaOptions,
): tf.Scalar {
  return tf.tidy(() => adaptiveAlphaDivergenceWithStats(studentLogits, teacherLogits, opts).loss);
}

/**
 * Everything about one adaptive evaluation as plain numbers (METHOD.md §1.4, §1.7): per-sample divergences, the selection
 * and the surrogate. Not differentiable; synchronously downloads (`dataSync`).
 *
 * @param opts α₋ (default −1), α₊ (default 1), β (default 5).
 */
export function adaptiveAlphaDivergenceDetail(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  opts?: AdaptiveAlphaOptions,
): AdaptiveAlphaDetail {
  const fn = 'adaptiveAlphaDivergenceDetail';
  checkPair(studentLogits, teacherLogits, fn);
  const o = resolveAdaptive(opts, fn);
  return tf.tidy(() => {
    const f = adaptiveForward(studentLogits, teacherLogits, o);
    const lossPerSample = toArray(f.s);
    const selectAlphaMin = Array.from(f.selMin.dataSync(), (v) => v !== 0);
    const div = toArray(f.div);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    return {
      lossMean: mean(lossPerSample),
      lossPerSample,
      divAlphaMin: toArray(f.divMin),
      divAlphaMax: toArray(f.divMax),
      selectAlphaMin,
      selectedDivergenceMean: mean(div),
      alphaMinShare: selectAlphaMin.filter(Boolean).length / selectAlphaMin.length,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Fixed α (METHOD.md §1.2–1.3).

/**
 * The fixed-α surrogate loss: batch mean of S_α = −Σ sg(q·ρ) log q (METHOD.md §1.3), whose gradient −(c − qΣc)/B is the
 * gradient of mean D_α with the importance weight clipped at β (with β = ∞ it is exactly ∇ mean D_α). The branch
 * follows METHOD.md §1.2: |α| < 1e-3 → KL(q‖p) with r clipped, |α−1| < 1e-3 → KL(p‖q) unclipped, else the clipped power.
 * The teacher is detached.
 *
 * @param alpha α, any finite number (0 and 1 select the limit branches).
 * @param clip β, default 5 (`AdaptiveLossSoft`'s default, METHOD.md §1.4; `f_divergence` alone defaults to 1e3). `Infinity`
 *   disables clipping, in which case very unequal logits can overflow r^α.
 */
export function alphaDivergence(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  alpha: number,
  clip = 5,
): tf.Scalar {
  const fn = 'alphaDivergence';
  checkPair(studentLogits, teacherLogits, fn);
  checkAlpha(alpha, 'alpha', fn);
  checkClip(clip, fn);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const student = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const lp = logProbs(student, teacherLogits);
    const { c } = alphaTerms(lp, alpha, Math.log(clip));
    save([c, lp.q]);
    return {
      value: tf.mean(surrogate(c, lp.logq)) as tf.Scalar,
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => surrogateGrad(saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, dy),
    };
  });
  return op(studentLogits) as tf.Scalar;
}

/**
 * Fixed-α values as plain numbers: per-sample surrogate S_α and clipped divergence D_α (METHOD.md §1.2–1.3). Not
 * differentiable; synchronously downloads.
 *
 * @param clip β, default 5.
 */
export function alphaDivergenceDetail(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  alpha: number,
  clip = 5,
): AlphaDivergenceDetail {
  const fn = 'alphaDivergenceDetail';
  checkPair(studentLogits, teacherLogits, fn);
  checkAlpha(alpha, 'alpha', fn);
  checkClip(clip, fn);
  return tf.tidy(() => {
    const lp = logProbs(studentLogits, teacherLogits);
    const { div, c } = alphaTerms(lp, alpha, Math.log(clip));
    const surrogatePerSample = toArray(surrogate(c, lp.logq));
    const divergencePerSample = toArray(div);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    return {
      surrogateMean: mean(surrogatePerSample),
      surrogatePerSample,
      divergencePerSample,
      divergenceMean: mean(divergencePerSample),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Baselines (METHOD.md §1.6).

/** A KD loss whose gradient with respect to the student logits is (q − p)/B · dy and whose teacher is detached. */
function softTargetLoss(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  perSample: (logq: tf.Tensor2D, logp: tf.Tensor2D, p: tf.Tensor2D) => tf.Tensor1D,
): tf.Scalar {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const student = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const logq = tf.logSoftmax(student);
    const logp = tf.logSoftmax(teacherLogits);
    const p = tf.exp(logp);
    save([tf.exp(logq), p]);
    return {
      value: tf.mean(perSample(logq, logp, p)) as tf.Scalar,
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) =>
        tf.mul(tf.sub(saved[0], saved[1]), tf.div(dy, studentLogits.shape[0])),
    };
  });
  return op(studentLogits) as tf.Scalar;
}

/**
 * AttentiveNAS KD (`KLLossSoft` with T = 1, METHOD.md §1.6): batch mean of −Σ p log q, cross-entropy with the teacher's
 * soft targets. Gradient (q − p)/B; the teacher is detached.
 */
export function softCrossEntropy(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D): tf.Scalar {
  checkPair(studentLogits, teacherLogits, 'softCrossEntropy');
  return softTargetLoss(studentLogits, teacherLogits, (logq, _logp, p) => tf.neg(tf.sum(tf.mul(p, logq), 1)));
}

/**
 * KL(p‖q) = Σ p (log p − log q), batch mean (METHOD.md §1.2 α→1, §1.6). Same gradient as {@link softCrossEntropy}
 * ((q − p)/B; they differ by the constant H(p)); the teacher is detached. Computed as p·(log p − log q) with both logs
 * from logSoftmax, so p = 0 contributes 0 rather than 0·log 0 = NaN.
 */
export function klDivergence(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D): tf.Scalar {
  checkPair(studentLogits, teacherLogits, 'klDivergence');
  return softTargetLoss(studentLogits, teacherLogits, (logq, logp, p) => tf.sum(tf.mul(p, tf.sub(logp, logq)), 1));
}

/**
 * Label-smoothed cross-entropy, the max subnet's loss (the reference's `CrossEntropyLossSmooth`, METHOD.md §1.6): batch mean of
 * −Σ_k t_k log_softmax(z)_k with t = one_hot·(1−ε) + ε/K. Differentiated by ordinary autodiff.
 *
 * @param logits [B, K].
 * @param labels [B] integer class ids in [0, K) (int32 tensor or array). Array labels are range-checked; a tensor's
 *   are not (that would need a synchronous download), and an out-of-range id gives an all-ε/K target.
 * @param numClasses K; must equal the logits' class axis.
 * @param epsilon ε, default 0.1 (METHOD.md §1.6).
 */
export function labelSmoothedCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D | number[],
  numClasses: number,
  epsilon = 0.1,
): tf.Scalar {
  const fn = 'labelSmoothedCrossEntropy';
  if (logits.rank !== 2) throw new Error(`${fn}: logits must be [batch, classes], got ${JSON.stringify(logits.shape)}`);
  const [batch, k] = logits.shape;
  if (k !== numClasses) throw new Error(`${fn}: logits have ${k} classes but numClasses is ${numClasses}`);
  if (!(epsilon >= 0 && epsilon <= 1)) throw new Error(`${fn}: epsilon must be in [0, 1], got ${epsilon}`);
  const nLabels = Array.isArray(labels) ? labels.length : labels.shape[0];
  if (nLabels !== batch) throw new Error(`${fn}: ${nLabels} labels for a batch of ${batch}`);
  if (Array.isArray(labels)) {
    for (const l of labels) {
      if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new Error(`${fn}: label ${l} is not in [0, ${numClasses})`);
    }
  }
  return tf.tidy(() => {
    const ids = Array.isArray(labels) ? tf.tensor1d(labels, 'int32') : tf.cast(labels, 'int32');
    const target = tf.add(tf.mul(tf.oneHot(ids, numClasses), 1 - epsilon), epsilon / numClasses);
    return tf.mean(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}
