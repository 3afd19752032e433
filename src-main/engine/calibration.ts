/**
 * BN recalibration and static subnet extraction (METHOD.md §4).
 *
 * Calibration resets every BN of a subnet and runs forward passes in training mode over N batches; the running mean
 * is the plain average of the per-batch means and the running variance the plain average of the per-batch
 * *unbiased* variances (n/(n−1), n = B·H·W) — PyTorch's cumulative average (momentum None), not an exponential one.
 *
 * A static subnet holds its own copies of the sliced weights and the calibrated statistics, and runs in eval mode.
 * It is a `Supernet` over the one-point space of its genome, so it shares the forward code (and its tests) and
 * cannot drift from the supernet path.
 */
import * as tf from '@tensorflow/tfjs';
import { Supernet, type BnStats } from './supernet';
import type { Genome, SearchSpace } from './core/schema';
import { subnetPlan } from './core/plan';

export interface CalibrationResult {
  stats: BnStats;
  batches: number;
  images: number;
}

/** Recalibrates the BN statistics of subnet `g` over the given batches (forward only, no gradients). */
export function calibrateBn(net: Supernet, g: Genome, batches: Iterable<tf.Tensor4D>): CalibrationResult {
  const sums = new Map<string, { mean: Float64Array; variance: Float64Array }>();
  let count = 0;
  let images = 0;
  for (const x of batches) {
    tf.tidy(() => {
      net.forward(x, g, {
        bn: {
          kind: 'batch',
          observer: (name, mean, biasedVariance, n) => {
            const m = mean.dataSync();
            const v = biasedVariance.dataSync();
            let acc = sums.get(name);
            if (!acc) {
              acc = { mean: new Float64Array(m.length), variance: new Float64Array(m.length) };
              sums.set(name, acc);
            }
            const unbias = n > 1 ? n / (n - 1) : 1;
            for (let i = 0; i < m.length; i++) {
              acc.mean[i] += m[i];
              acc.variance[i] += v[i] * unbias;
            }
          },
        },
      });
    });
    count++;
    images += x.shape[0];
  }
  if (count === 0) throw new Error('BN calibration needs at least one batch');
  const stats: BnStats = new Map();
  for (const [name, acc] of sums) {
    stats.set(name, {
      mean: Float32Array.from(acc.mean, (s) => s / count),
      variance: Float32Array.from(acc.variance, (s) => s / count),
    });
  }
  return { stats, batches: count, images };
}

/** The space with exactly one choice per gene: the genome's. Its "supernet" is the static subnet. */
export function singletonSpace(space: SearchSpace, g: Genome): SearchSpace {
  return {
    ...space,
    id: `${space.id}-static`,
    resolutions: [g.resolution],
    firstConv: { ...space.firstConv, width: [g.width[0]] },
    stages: space.stages.map((st, i) => ({
      ...st,
      width: [g.width[i + 1]],
      depth: [g.depth[i]],
      kernelSize: [g.kernelSize[i]],
      expandRatio: [g.expandRatio[i]],
    })),
    lastConv: { width: [g.width[space.stages.length + 1]] },
    widthMode: 'per-stage',
  };
}

/** Parameter-name prefixes of the subnet's blocks in the supernet → in the static subnet. */
function blockRenames(superSpace: SearchSpace, staticSpace: SearchSpace, g: Genome, numClasses: number): Map<string, string> {
  const a = subnetPlan(superSpace, g, numClasses).blocks;
  const b = subnetPlan(staticSpace, g, numClasses).blocks;
  return new Map(a.map((blk, i) => [`blocks.${blk.globalIndex}.`, `blocks.${b[i].globalIndex}.`]));
}

function rename(name: string, renames: Map<string, string>): string {
  const m = /^blocks\.\d+\./.exec(name);
  if (!m) return name;
  const to = renames.get(m[0]);
  if (!to) throw new Error(`'${name}' is not part of the subnet`);
  return to + name.slice(m[0].length);
}

export class StaticSubnet {
  readonly genome: Genome;
  readonly net: Supernet;
  readonly stats: BnStats;

  /** The statistics as tensors, uploaded once (not per forward). */
  private readonly statTensors: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>;

  constructor(net: Supernet, genome: Genome, stats: BnStats) {
    this.net = net;
    this.genome = genome;
    this.stats = stats;
    // Kept: a static subnet may be built inside a tidy scope but outlives it (until dispose()).
    this.statTensors = new Map([...stats].map(([name, s]) => [name, { mean: tf.keep(tf.tensor1d(s.mean)), variance: tf.keep(tf.tensor1d(s.variance)) }]));
  }

  /** Eval-mode logits with the calibrated statistics. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return this.net.forward(x, this.genome, { bn: { kind: 'running', stats: this.stats, tensors: this.statTensors } });
  }

  dispose(): void {
    for (const t of this.statTensors.values()) tf.dispose([t.mean, t.variance]);
    this.net.dispose();
  }
}

/**
 * Copies the weights of subnet `g` out of the supernet (first channels, centre-cropped kernels) together with its
 * calibrated BN statistics (names in the supernet's numbering, as `calibrateBn` returns them).
 */
export function extractStatic(net: Supernet, g: Genome, stats: BnStats): StaticSubnet {
  const space = singletonSpace(net.space, g);
  const renames = blockRenames(net.space, space, g, net.numClasses);
  const staticNet = new Supernet({ space, ops: net.ops, numClasses: net.numClasses });
  for (const [name, region] of net.subnetParamRegions(g)) {
    const target = staticNet.param(rename(name, renames));
    tf.tidy(() => target.assign(tf.slice(net.param(name), region.begin, region.size)));
  }
  const staticStats: BnStats = new Map();
  for (const [name, s] of stats) staticStats.set(rename(name, renames), { mean: s.mean.slice(), variance: s.variance.slice() });
  return new StaticSubnet(staticNet, g, staticStats);
}
