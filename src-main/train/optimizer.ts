/**
 * SGD with (Nesterov) momentum and coupled L2 weight decay, with PyTorch's semantics (METHOD.md §2.1, `torch.optim.SGD`):
 *
 *   d ← g + λ·w                 (λ = 0 for BN parameters and biases: `isNoDecayParam`)
 *   v ← μ·v + d                 (v starts at 0, so the first step has v = d, as PyTorch's clone)
 *   w ← w − lr·(d + μ·v)        with Nesterov,  w ← w − lr·v without
 *
 * `g` is the already value-clipped gradient: weight decay is added after clipping. The momentum buffers are keyed by
 * the parameter's short name, not by its position in a gradient list: the sandwich members differ in depth from step
 * to step, so a positional key (what `tf.train.momentum` uses) would mix up buffers (METHOD.md §2.1). A parameter
 * with no gradient this step is skipped entirely — neither decayed nor moved — as PyTorch skips `grad is None`.
 */
import * as tf from '@tensorflow/tfjs';
import { isNoDecayParam } from '../engine';

export interface SgdOptions {
  /** μ (default 0.9). */
  momentum?: number;
  /** Default true. */
  nesterov?: boolean;
  /** λ (default 0). */
  weightDecay?: number;
  /** Which parameters get no weight decay (default: the engine's `isNoDecayParam`, BN and biases). */
  noDecay?: (name: string) => boolean;
}

/**
 * Clips every gradient entry to [−c, c] in place (the map's tensors are replaced, the old ones disposed); c = 0 is
 * off. The trainer's step 4 (docs/TRAINING.md), before `NesterovSgd.step` adds weight decay.
 */
export function clipGradients(grads: Map<string, tf.Tensor>, clip: number): void {
  if (!(clip > 0)) return;
  for (const [name, g] of grads) {
    grads.set(name, tf.clipByValue(g, -clip, clip));
    g.dispose();
  }
}

/** Momentum buffers by parameter name, as plain arrays (for checkpoints). */
export type OptimizerState = Map<string, { shape: number[]; data: Float32Array }>;

export class NesterovSgd {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private readonly noDecay: (name: string) => boolean;
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(opts: SgdOptions = {}) {
    this.momentum = opts.momentum ?? 0.9;
    this.nesterov = opts.nesterov ?? true;
    this.weightDecay = opts.weightDecay ?? 0;
    this.noDecay = opts.noDecay ?? isNoDecayParam;
  }

  /**
   * How many momentum buffers exist: one per parameter that has had a gradient. A parameter only some subnets use (a
   * shortcut conv the max subnet does not need) gets its buffer at its first step, so the count can grow mid-run.
   */
  get bufferCount(): number {
    return this.buffers.size;
  }

  /** One update of `params` (by name) with `grads` (by the same names) at learning rate `lr`. */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    const mu = this.momentum;
    for (const [name, g] of grads) {
      const w = params.get(name);
      if (!w) throw new Error(`gradient for unknown parameter '${name}'`);
      if (g.shape.join('x') !== w.shape.join('x')) throw new Error(`gradient of '${name}' has shape ${g.shape}, parameter ${w.shape}`);
      const lambda = this.noDecay(name) ? 0 : this.weightDecay;
      let v = this.buffers.get(name);
      tf.tidy(() => {
        const d = lambda > 0 ? tf.add(g, tf.mul(w, lambda)) : g;
        let update: tf.Tensor = d;
        if (mu > 0) {
          const vNew = v ? tf.add(tf.mul(v, mu), d) : d;
          if (v) v.assign(vNew);
          else {
            v = tf.variable(vNew, false);
            this.buffers.set(name, v);
          }
          update = this.nesterov ? tf.add(d, tf.mul(vNew, mu)) : vNew;
        }
        w.assign(tf.sub(w, tf.mul(update, lr)));
      });
    }
  }

  /** A copy of every momentum buffer. */
  async exportState(): Promise<OptimizerState> {
    const out: OptimizerState = new Map();
    for (const [name, v] of this.buffers) out.set(name, { shape: v.shape.slice(), data: (await v.data()) as Float32Array });
    return out;
  }

  /** Replaces all momentum buffers (a parameter absent from `state` starts from zero again, as it had never moved). */
  importState(state: OptimizerState): void {
    this.dispose();
    for (const [name, s] of state) this.buffers.set(name, tf.variable(tf.tensor(s.data, s.shape), false));
  }

  get size(): number {
    return this.buffers.size;
  }

  dispose(): void {
    for (const v of this.buffers.values()) v.dispose();
    this.buffers.clear();
  }
}
