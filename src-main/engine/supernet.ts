/**
 * The weight-sharing supernet in TF.js (METHOD.md §3.2–3.4).
 *
 * Every weight is allocated once at its maximum size; a subnet's forward slices the first channels of each tensor
 * and centre-crops depthwise kernels, inside the gradient tape, so gradients reach exactly the sliced parts. The layer
 * shapes come from `subnetPlan`, the same plan the FLOPs counter reads.
 *
 * Batch norm: during training every BN normalises with the batch statistics of the sliced channels (the reference's
 * DynamicBatchNorm2d is always in training mode and its running buffers are never updated, METHOD.md §3.4). For evaluation,
 * statistics are recalibrated per subnet (`calibration.ts`) and passed in as `bn: { kind: 'running', stats }`.
 *
 * Deviation from the reference: inputs are resized to the subnet's resolution with bilinear interpolation
 * (half-pixel centres, like PyTorch's align_corners=False) instead of bicubic — TF.js has no bicubic resize
 * (tensorflow/tfjs#1668). It matters only when a subnet's resolution differs from the data's.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './core/rng';
import type { SupernetOps } from './ops';
import type { Genome, SearchSpace } from './core/schema';
import { subnetPlan, supernetShape, type BlockPlan, type SubnetPlan, type SupernetShape } from './core/plan';
import { canonicalGenomeJson, validateGenome } from './core/genome';

/** Per-BN statistics of one subnet, sliced to its channels: name → mean and (unbiased, calibrated) variance. */
export type BnStats = Map<string, { mean: Float32Array; variance: Float32Array }>;

/** Receives the batch statistics of every BN in a training-mode forward (BN calibration listens here). */
export type BnObserver = (name: string, mean: tf.Tensor1D, biasedVariance: tf.Tensor1D, count: number) => void;

/** Called after every conv and linear layer with the shapes that actually ran (like the reference's FLOPs hooks). */
export type LayerHook = (layer: { name: string; kind: 'conv' | 'depthwise' | 'pointwise' | 'linear'; input: number[]; weight: number[]; output: number[] }) => void;

export interface ForwardOptions {
  /** `batch` (default): batch statistics, as in training. `running`: calibrated statistics of this subnet. */
  bn?:
    | { kind: 'batch'; observer?: BnObserver }
    /** `tensors`: the same statistics already on the backend (a static subnet keeps them), skipping the upload. */
    | { kind: 'running'; stats: BnStats; tensors?: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }> };
  /** Regularisation of the max subnet (METHOD.md §2.2); off when absent. */
  regularize?: Regularize;
  hook?: LayerHook;
}

/**
 * Dropout before the classifier and drop-connect on identity blocks of the last stages, at base rates `dropout` and
 * `dropConnect`. A run's masks come from `rng` (it draws each mask's seed, so a seeded run repeats). A replay gives
 * them instead: `masks(shape, keep)` returns each keep mask (0/1, float32, of `shape`) in the order the forward needs
 * them — drop-connect's [N,1,1,1] per regularised block in block order, then dropout's [N, features] — so another
 * engine can be handed the same masks (`alphanet forward`'s `train`).
 */
export type Regularize = { dropout: number; dropConnect: number } & ({ rng: Rng } | { masks: (shape: number[], keep: number) => tf.Tensor });

/** A keep mask of `shape` (1 with probability `keep`), from the regulariser's RNG or its given masks. */
function keepMask(reg: Regularize, shape: number[], keep: number): tf.Tensor {
  if ('masks' in reg) return reg.masks(shape, keep);
  // floor(U[0,1) + keep), as tf.dropout draws it.
  return tf.floor(tf.add(tf.randomUniform(shape, 0, 1, 'float32', reg.rng.nextUint32()), keep));
}

export interface SupernetOptions {
  space: SearchSpace;
  ops: SupernetOps;
  /** Classifier outputs; default: the space's. */
  numClasses?: number;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
}

/** h-sigmoid(x) = relu6(x + 3) / 6 (METHOD.md §3.2, SE gate). */
const hsigmoid = (x: tf.Tensor) => tf.div(tf.relu6(tf.add(x, 3)), 6);

/**
 * Parameter names. BN parameters contain `.bn.`, biases end in `.b`; training applies no weight decay to either
 * (METHOD.md §2.1).
 */
export function isNoDecayParam(name: string): boolean {
  return name.includes('.bn.') || name.endsWith('.b');
}

let instances = 0;
const nextInstance = () => ++instances;

export class Supernet {
  readonly space: SearchSpace;
  readonly shape: SupernetShape;
  readonly numClasses: number;
  readonly ops: SupernetOps;
  /** Every trainable weight at its maximum size, by name. */
  readonly params = new Map<string, tf.Variable>();
  /**
   * TF.js variable names are global to the engine, so each supernet prefixes its own (`sn3/blocks.0.dw.w`);
   * `params` and everything else here use the short names.
   */
  readonly varPrefix = `sn${nextInstance()}/`;

  constructor(opts: SupernetOptions) {
    this.space = opts.space;
    this.ops = opts.ops;
    this.numClasses = opts.numClasses ?? opts.space.numClasses;
    this.shape = supernetShape(this.space, this.numClasses);
    this.allocate(new Rng(opts.seed ?? 0));
  }

  /**
   * PyTorch's default init (METHOD.md §2.1): weights and biases U(±1/√fan_in) with fan_in of the *max* weight
   * (kaiming-uniform with a = √5), BN γ = 1 and β = 0, then the last BN γ of every block set to 0.
   */
  private allocate(rng: Rng): void {
    const uniform = (name: string, shape: number[], fanIn: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = (2 * rng.next() - 1) * bound;
      this.params.set(name, tf.tidy(() => tf.variable(tf.tensor(v, shape), true, this.varPrefix + name)));
    };
    // In a tidy: a variable shares its initial tensor's data, and that tensor would otherwise stay counted forever.
    const constant = (name: string, shape: number[], value: number) => {
      this.params.set(name, tf.tidy(() => tf.variable(tf.fill(shape, value), true, this.varPrefix + name)));
    };
    const bn = (prefix: string, c: number, gamma = 1) => {
      constant(`${prefix}.bn.gamma`, [c], gamma);
      constant(`${prefix}.bn.beta`, [c], 0);
    };
    const { first, blocks, head } = this.shape;
    uniform('first.conv.w', [first.kernel, first.kernel, first.cIn, first.maxOut], first.cIn * first.kernel ** 2);
    bn('first', first.maxOut);
    for (const b of blocks) {
      const p = `blocks.${b.globalIndex}`;
      if (b.hasExpand) {
        uniform(`${p}.expand.w`, [b.maxIn, b.maxMid], b.maxIn);
        bn(`${p}.expand`, b.maxMid);
      }
      uniform(`${p}.dw.w`, [b.maxKernel, b.maxKernel, b.maxMid, 1], b.maxKernel ** 2);
      bn(`${p}.dw`, b.maxMid);
      if (b.maxSe > 0) {
        uniform(`${p}.se.reduce.w`, [b.maxMid, b.maxSe], b.maxMid);
        uniform(`${p}.se.reduce.b`, [b.maxSe], b.maxMid);
        uniform(`${p}.se.expand.w`, [b.maxSe, b.maxMid], b.maxSe);
        uniform(`${p}.se.expand.b`, [b.maxMid], b.maxSe);
      }
      uniform(`${p}.project.w`, [b.maxMid, b.maxOut], b.maxMid);
      bn(`${p}.project`, b.maxOut, 0); // zero-init of the residual branch's last BN γ
      if (b.hasShortcutConv) uniform(`${p}.shortcut.w`, [b.maxIn, b.maxOut], b.maxIn);
    }
    uniform('head.expand.w', [head.maxIn, head.maxExpand], head.maxIn);
    bn('head.expand', head.maxExpand);
    uniform('head.mix.w', [head.maxExpand, head.maxLast], head.maxExpand);
    uniform('classifier.w', [head.maxLast, head.numClasses], head.maxLast);
    uniform('classifier.b', [head.numClasses], head.maxLast);
  }

  /** The short parameter name of a TF.js variable name (as `tf.variableGrads` keys its result). */
  shortName(varName: string): string {
    return varName.startsWith(this.varPrefix) ? varName.slice(this.varPrefix.length) : varName;
  }

  param(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`no parameter '${name}'`);
    return v;
  }

  /** The first rows/columns of a parameter: W[:a, :b, …]. */
  sliceParam(name: string, size: number[]): tf.Tensor {
    const v = this.param(name);
    if (size.every((s, i) => s === v.shape[i])) return v;
    return tf.slice(v, new Array(size.length).fill(0), size);
  }

  /** The centre k×k crop of a depthwise kernel, first c channels (METHOD.md §3.4). */
  sliceKernel(name: string, k: number, c: number): tf.Tensor4D {
    const v = this.param(name);
    const off = (v.shape[0] - k) / 2;
    if (off === 0 && c === v.shape[2]) return v as tf.Tensor4D;
    return tf.slice(v, [off, off, 0, 0], [k, k, c, 1]) as tf.Tensor4D;
  }

  /**
   * The region of every parameter that a subnet uses (`begin`, `size`), by name: exactly what receives gradients.
   * Parameters not in the map are not used by the subnet.
   */
  subnetParamRegions(g: Genome): Map<string, { begin: number[]; size: number[] }> {
    const plan = subnetPlan(this.space, g, this.numClasses);
    const regions = new Map<string, { begin: number[]; size: number[] }>();
    const m = { set: (name: string, size: number[], begin = size.map(() => 0)) => regions.set(name, { begin, size }) };
    const bn = (p: string, c: number) => {
      m.set(`${p}.bn.gamma`, [c]);
      m.set(`${p}.bn.beta`, [c]);
    };
    const f = plan.first;
    m.set('first.conv.w', [f.kernel, f.kernel, f.cIn, f.cOut]);
    bn('first', f.cOut);
    for (const b of plan.blocks) {
      const p = `blocks.${b.globalIndex}`;
      const K = this.shape.blocks[b.globalIndex].maxKernel;
      const off = (K - b.kernel) / 2;
      if (b.hasExpand) {
        m.set(`${p}.expand.w`, [b.cIn, b.cMid]);
        bn(`${p}.expand`, b.cMid);
      }
      m.set(`${p}.dw.w`, [b.kernel, b.kernel, b.cMid, 1], [off, off, 0, 0]);
      bn(`${p}.dw`, b.cMid);
      if (b.cSe > 0) {
        m.set(`${p}.se.reduce.w`, [b.cMid, b.cSe]);
        m.set(`${p}.se.reduce.b`, [b.cSe]);
        m.set(`${p}.se.expand.w`, [b.cSe, b.cMid]);
        m.set(`${p}.se.expand.b`, [b.cMid]);
      }
      m.set(`${p}.project.w`, [b.cMid, b.cOut]);
      bn(`${p}.project`, b.cOut);
      if (b.shortcutConv) m.set(`${p}.shortcut.w`, [b.cIn, b.cOut]);
    }
    const h = plan.head;
    m.set('head.expand.w', [h.cIn, h.cExpand]);
    bn('head.expand', h.cExpand);
    m.set('head.mix.w', [h.cExpand, h.cLast]);
    m.set('classifier.w', [h.cLast, h.numClasses]);
    m.set('classifier.b', [h.numClasses]);
    return regions;
  }

  /**
   * The validated plan of a genome, cached by canonical JSON: validation and planning cost ~0.3 ms, a noticeable
   * share of a batch-1 forward (latency measurement, evaluation).
   */
  plan(g: Genome): SubnetPlan {
    const key = canonicalGenomeJson(g);
    let p = this.plans.get(key);
    if (!p) {
      p = subnetPlan(this.space, validateGenome(this.space, g), this.numClasses);
      if (this.plans.size >= 256) this.plans.clear();
      this.plans.set(key, p);
    }
    return p;
  }

  private readonly plans = new Map<string, SubnetPlan>();

  /**
   * Logits of one subnet for a batch x [N,H,W,C] (any H = W; resized to the genome's resolution). Call inside
   * `tf.tidy` / a gradient function; intermediate tensors are not disposed here.
   */
  forward(x: tf.Tensor4D, g: Genome, opts: ForwardOptions = {}): tf.Tensor2D {
    const plan = this.plan(g);
    const ops = this.ops;
    const eps = this.space.bnEps;
    const bnMode = opts.bn ?? { kind: 'batch' as const };
    const hook = opts.hook;
    const reg = opts.regularize;

    const batchNorm = (name: string, h: tf.Tensor4D, c: number): tf.Tensor4D => {
      const gamma = this.sliceParam(`${name}.bn.gamma`, [c]) as tf.Tensor1D;
      const beta = this.sliceParam(`${name}.bn.beta`, [c]) as tf.Tensor1D;
      if (bnMode.kind === 'running') {
        const t = bnMode.tensors?.get(name);
        if (t) return ops.batchNormEval(h, t.mean, t.variance, gamma, beta, eps);
        const s = bnMode.stats.get(name);
        if (!s || s.mean.length !== c) throw new Error(`no calibrated BN statistics for '${name}' with ${c} channels`);
        return ops.batchNormEval(h, tf.tensor1d(s.mean), tf.tensor1d(s.variance), gamma, beta, eps);
      }
      const r = ops.batchNormTrain(h, gamma, beta, eps);
      bnMode.observer?.(name, r.mean, r.variance, h.shape[0] * h.shape[1] * h.shape[2]);
      return r.y;
    };
    const pointwise = (name: string, h: tf.Tensor4D, cIn: number, cOut: number): tf.Tensor4D => {
      const w = this.sliceParam(`${name}.w`, [cIn, cOut]) as tf.Tensor2D;
      const y = ops.pointwise(h, w);
      hook?.({ name, kind: 'pointwise', input: h.shape, weight: w.shape, output: y.shape });
      return y;
    };
    const linear = (name: string, h: tf.Tensor2D, cIn: number, cOut: number, bias: boolean): tf.Tensor2D => {
      const w = this.sliceParam(`${name}.w`, [cIn, cOut]) as tf.Tensor2D;
      let y = ops.matMul(h, w);
      if (bias) y = tf.add(y, this.sliceParam(`${name}.b`, [cOut])) as tf.Tensor2D;
      hook?.({ name, kind: 'linear', input: h.shape, weight: w.shape, output: y.shape });
      return y;
    };

    let h: tf.Tensor4D = x;
    if (x.shape[1] !== plan.resolution || x.shape[2] !== plan.resolution) {
      h = tf.image.resizeBilinear(x, [plan.resolution, plan.resolution], false, true);
    }
    if (h.shape[3] !== plan.inputChannels) {
      throw new Error(`input has ${h.shape[3]} channels, space '${this.space.id}' expects ${plan.inputChannels}`);
    }

    // first conv → BN → swish
    const fw = this.sliceParam('first.conv.w', [plan.first.kernel, plan.first.kernel, plan.first.cIn, plan.first.cOut]) as tf.Tensor4D;
    const stem = ops.conv(h, fw, plan.first.stride);
    hook?.({ name: 'first.conv', kind: 'conv', input: h.shape, weight: fw.shape, output: stem.shape });
    h = ops.swish(batchNorm('first', stem, plan.first.cOut));

    for (const b of plan.blocks) h = this.block(h, b, { batchNorm, pointwise, linear, hook, reg });

    // v3 head: 1×1 expand → BN → swish → pool → 1×1 feature mix (no BN, no bias) → swish → dropout → linear
    const hd = plan.head;
    h = ops.swish(batchNorm('head.expand', pointwise('head.expand', h, hd.cIn, hd.cExpand), hd.cExpand));
    let f: tf.Tensor2D = ops.globalAvgPool(h);
    f = ops.swish(linear('head.mix', f, hd.cExpand, hd.cLast, false));
    if (reg && reg.dropout > 0) {
      // A run keeps tf.dropout (its masks, hence seeded runs, unchanged); a replay's masks scale the same way.
      if ('rng' in reg) f = tf.dropout(f, reg.dropout, undefined, reg.rng.nextUint32()) as tf.Tensor2D;
      else f = tf.mul(f, tf.div(keepMask(reg, f.shape, 1 - reg.dropout), 1 - reg.dropout)) as tf.Tensor2D;
    }
    return linear('classifier', f, hd.cLast, hd.numClasses, true);
  }

  private block(
    x: tf.Tensor4D,
    b: BlockPlan,
    l: {
      batchNorm: (name: string, h: tf.Tensor4D, c: number) => tf.Tensor4D;
      pointwise: (name: string, h: tf.Tensor4D, cIn: number, cOut: number) => tf.Tensor4D;
      linear: (name: string, h: tf.Tensor2D, cIn: number, cOut: number, bias: boolean) => tf.Tensor2D;
      hook?: LayerHook;
      reg?: ForwardOptions['regularize'];
    },
  ): tf.Tensor4D {
    const p = `blocks.${b.globalIndex}`;
    let h = x;
    if (b.hasExpand) h = this.ops.swish(l.batchNorm(`${p}.expand`, l.pointwise(`${p}.expand`, h, b.cIn, b.cMid), b.cMid));
    const dw = this.sliceKernel(`${p}.dw.w`, b.kernel, b.cMid);
    const hdw = this.ops.depthwise(h, dw, b.stride);
    l.hook?.({ name: `${p}.dw`, kind: 'depthwise', input: h.shape, weight: dw.shape, output: hdw.shape });
    h = this.ops.swish(l.batchNorm(`${p}.dw`, hdw, b.cMid));
    if (b.cSe > 0) {
      const pooled = this.ops.globalAvgPool(h);
      const s = tf.relu(l.linear(`${p}.se.reduce`, pooled, b.cMid, b.cSe, true)) as tf.Tensor2D;
      const gate = hsigmoid(l.linear(`${p}.se.expand`, s, b.cSe, b.cMid, true)) as tf.Tensor2D;
      h = this.ops.scaleChannels(h, gate);
    }
    h = l.batchNorm(`${p}.project`, l.pointwise(`${p}.project`, h, b.cMid, b.cOut), b.cOut);

    let shortcut = x;
    if (b.shortcutPool) shortcut = this.ops.shortcutPool(shortcut);
    if (b.shortcutConv) shortcut = l.pointwise(`${p}.shortcut`, shortcut, b.cIn, b.cOut);
    if (l.reg && l.reg.dropConnect > 0 && b.dropConnectScale > 0) {
      // Drop-connect (stochastic depth) per sample on identity blocks: branch · Bernoulli(keep) / keep.
      const keep = 1 - l.reg.dropConnect * b.dropConnectScale;
      const mask = keepMask(l.reg, [h.shape[0], 1, 1, 1], keep);
      h = tf.mul(h, tf.div(mask, keep)) as tf.Tensor4D;
    }
    return tf.add(h, shortcut) as tf.Tensor4D;
  }

  /** Every parameter's values, by name (copies; for checkpoints and tests). */
  async exportWeights(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, v] of this.params) out.set(name, { shape: v.shape.slice(), data: (await v.data()) as Float32Array });
    return out;
  }

  /** Replaces every parameter's values; shapes must match. */
  importWeights(weights: Map<string, { shape: number[]; data: Float32Array }>): void {
    for (const [name, v] of this.params) {
      const w = weights.get(name);
      if (!w) throw new Error(`weights lack '${name}'`);
      if (w.shape.join('x') !== v.shape.join('x')) throw new Error(`'${name}' has shape ${w.shape.join('x')}, expected ${v.shape.join('x')}`);
      tf.tidy(() => v.assign(tf.tensor(w.data, w.shape)));
    }
  }

  /** Total allocated parameters (the supernet's size, not a subnet's). */
  allocatedParams(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
