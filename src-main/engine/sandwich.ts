/**
 * One sandwich-rule step's gradients (METHOD.md §2, AlphaNet `train_alphanet.py` `train_epoch`):
 *   1. the max subnet, with dropout and drop-connect on, against the labels (label-smoothed CE, ε = 0.1);
 *   2. its logits, detached, are the teacher;
 *   3. the other subnets (uniform random ones, then the min subnet last) without regularisation, distilled from the
 *      teacher — by default with the adaptive α-divergence (α₋ = −1, α₊ = 1, β = 5);
 *   4. gradients are *summed* over subnets (not averaged).
 * Clipping, weight decay and the optimizer step belong to the trainer.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from './core/rng';
import type { Regularize, Supernet } from './supernet';
import type { Genome, SearchSpace } from './core/schema';
import { maxGenome, minGenome, randomGenome } from './core/genome';
import {
  adaptiveAlphaDivergenceWithStats,
  alphaDivergence,
  alphaDivergenceDetail,
  klDivergence,
  labelSmoothedCrossEntropy,
  softCrossEntropy,
} from './losses';

/** How the non-max subnets learn (METHOD.md §1.4, §1.6). */
export type Distillation =
  /** AlphaNet (default): per-sample max of D_{α₋}, D_{α₊} with clipping β. */
  | { kind: 'adaptive-alpha'; alphaMin: number; alphaMax: number; clip: number }
  /** AttentiveNAS / BigNAS inplace distillation: soft cross-entropy −Σ p log q (same gradient as KL). */
  | { kind: 'kl' }
  /** One fixed α, clipped at β. */
  | { kind: 'alpha'; alpha: number; clip: number }
  /** No distillation: every subnet trains on the labels. */
  | { kind: 'none' };

export type SandwichRole = 'max' | 'random' | 'min';

export interface SandwichMember {
  role: SandwichRole;
  genome: Genome;
}

/**
 * The subnets of one step: max, then `n − 2` uniform random subnets, then min (METHOD.md §2 step 1; n ≥ 2, default 4).
 * Without the sandwich rule the last one is random too.
 */
export function sandwichMembers(space: SearchSpace, rng: Rng, n = 4, sandwichRule = true): SandwichMember[] {
  if (!Number.isInteger(n) || n < 2) throw new Error(`subnets per step must be an integer ≥ 2, got ${n}`);
  const members: SandwichMember[] = [{ role: 'max', genome: maxGenome(space) }];
  for (let k = 1; k < n; k++) {
    if (k === n - 1 && sandwichRule) members.push({ role: 'min', genome: minGenome(space) });
    else members.push({ role: 'random', genome: randomGenome(space, rng) });
  }
  return members;
}

export interface SandwichOptions {
  /** Label smoothing ε of the max subnet's loss (default 0.1, METHOD.md §2.1). */
  labelSmoothing?: number;
  distillation: Distillation;
  /** Regularisation of the max subnet: dropout and drop-connect base rates (the paper: 0.2 and 0.2), and the RNG. */
  regularize?: Regularize;
}

export interface MemberResult {
  role: SandwichRole;
  /** The loss this member contributed (the surrogate S for α losses, METHOD.md §1.5). */
  loss: number;
  /** Adaptive α only: share of samples where α₋ won. */
  alphaMinShare?: number;
  /**
   * Distilled members of a KD loss: the batch-mean divergence to the teacher that the loss drives down, never negative
   * (unlike the α surrogate in `loss`): the selected clipped D for adaptive α (METHOD.md §1.4), the clipped D_α for a
   * fixed α, KL(p‖q) for KL. Absent for the teacher and for `none`.
   */
  divergence?: number;
}

export interface SandwichResult {
  /** Summed gradients by short parameter name. Parameters no member used are absent. The caller disposes them. */
  grads: Map<string, tf.Tensor>;
  members: MemberResult[];
}

/** Forward + backward of every member on one batch; see the module comment. `members[0]` must be the teacher. */
export function sandwichGradients(
  net: Supernet,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  members: SandwichMember[],
  opts: SandwichOptions,
): SandwichResult {
  const eps = opts.labelSmoothing ?? 0.1;
  const grads = new Map<string, tf.Tensor>();
  const scalars: { role: SandwichRole; loss: tf.Scalar; share?: tf.Scalar; div?: tf.Scalar | number }[] = [];
  let teacher: tf.Tensor2D | undefined;
  const vars = [...net.params.values()];

  const accumulate = (g: tf.NamedTensorMap) => {
    for (const [varName, t] of Object.entries(g)) {
      const name = net.shortName(varName);
      const prev = grads.get(name);
      if (prev) {
        grads.set(name, tf.add(prev, t));
        prev.dispose();
        t.dispose();
      } else {
        grads.set(name, t);
      }
    }
  };

  try {
    members.forEach((m, i) => {
      const isTeacher = i === 0;
      let share: tf.Scalar | undefined;
      let div: tf.Scalar | number | undefined;
      let student: tf.Tensor2D | undefined;
      const { value, grads: g } = tf.variableGrads(() => {
        const logits = net.forward(x, m.genome, isTeacher && opts.regularize ? { regularize: opts.regularize } : {});
        if (isTeacher) {
          // The losses' custom gradients never differentiate through the teacher, so keeping the tensor detaches it.
          teacher = tf.keep(logits);
          return labelSmoothedCrossEntropy(logits, labels, net.numClasses, eps);
        }
        const d = opts.distillation;
        switch (d.kind) {
          case 'adaptive-alpha': {
            const r = adaptiveAlphaDivergenceWithStats(logits, teacher!, d);
            share = tf.keep(r.alphaMinShare);
            div = tf.keep(r.selectedDivergence);
            return r.loss;
          }
          case 'kl':
            student = tf.keep(logits);
            return softCrossEntropy(logits, teacher!);
          case 'alpha':
            student = tf.keep(logits);
            return alphaDivergence(logits, teacher!, d.alpha, d.clip);
          case 'none':
            return labelSmoothedCrossEntropy(logits, labels, net.numClasses, eps);
        }
      }, vars);
      accumulate(g);
      if (student) {
        // Off the tape: the logged divergence of KL and fixed-α losses, whose training value is not that number.
        const d = opts.distillation;
        div = d.kind === 'alpha' ? alphaDivergenceDetail(student, teacher!, d.alpha, d.clip).divergenceMean : klDivergence(student, teacher!).dataSync()[0];
        student.dispose();
      }
      scalars.push({ role: m.role, loss: value, share, div });
    });
    const members_ = scalars.map((s) => ({
      role: s.role,
      loss: s.loss.dataSync()[0],
      ...(s.share ? { alphaMinShare: s.share.dataSync()[0] } : {}),
      ...(s.div === undefined ? {} : { divergence: typeof s.div === 'number' ? s.div : s.div.dataSync()[0] }),
    }));
    return { grads, members: members_ };
  } catch (e) {
    for (const t of grads.values()) t.dispose();
    throw e;
  } finally {
    teacher?.dispose();
    for (const s of scalars) tf.dispose([s.loss, s.share, s.div].filter((t): t is tf.Scalar => t instanceof tf.Tensor));
  }
}
