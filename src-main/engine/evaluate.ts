/**
 * Evaluation of one subnet of a trained supernet (METHOD.md §4): BN recalibration on the given calibration batches, then
 * accuracy and cross-entropy on the given evaluation batches in eval mode with the calibrated running statistics,
 * plus analytic MFLOPs and parameters (METHOD.md §6).
 *
 * The accuracy *before* calibration is measured as well, so a user sees what calibration buys. "Before" is, by
 * default, eval mode with the reset statistics (mean 0, variance 1): exactly what the reference's static subnet
 * computes after `reset_running_stats` if nobody calibrates it (its supernet BN buffers are never updated in
 * training, METHOD.md §3.4). `before: 'batch'` instead normalises every eval batch with its own statistics (the training
 * forward), which depends on the eval batch size.
 *
 * Deterministic: given the same weights and batches, the results repeat bit for bit on one backend (no random ops).
 * Batches are read, never disposed: the caller owns them (a data loader may reuse them across subnets).
 */
import * as tf from '@tensorflow/tfjs';
import { calibrateBn } from './calibration';
import { subnetCost } from './core/flops';
import { labelSmoothedCrossEntropy } from './losses';
import type { BnStats, ForwardOptions, Supernet } from './supernet';
import { genomeId, validateGenome } from './core/genome';
import type { Genome } from './core/schema';

export interface LabelledBatch {
  /** [N,H,W,C] images (any H = W; resized to the subnet's resolution by the forward). */
  x: tf.Tensor4D;
  /** N integer class ids. */
  labels: tf.Tensor1D | Int32Array | number[];
}

export interface EvaluateOptions {
  /** Calibration batches: the first N batches of the (augmented) training loader in the reference (METHOD.md §4). */
  calibration: Iterable<tf.Tensor4D>;
  /** Evaluation batches (the search-validation split, or the test split on request). */
  evaluation: Iterable<LabelledBatch>;
  /** How to measure the accuracy before calibration; default `'reset'` (see the module comment). */
  before?: 'reset' | 'batch' | 'none';
}

export interface Metrics {
  /** Top-1 accuracy in [0, 1]. */
  accuracy: number;
  /** Mean cross-entropy (no label smoothing) over every image. */
  loss: number;
}

export interface SubnetEvaluation extends Metrics {
  genomeId: string;
  genome: Genome;
  mflops: number;
  mparams: number;
  /** Images in the evaluation batches. */
  images: number;
  /** Metrics before calibration; absent with `before: 'none'`. */
  beforeCalibration?: Metrics & { method: 'reset' | 'batch' };
  calibration: { batches: number; images: number };
  /** The calibrated statistics (for `extractStatic`, export, or a cache). */
  stats: BnStats;
  ms: number;
}

function labelArray(l: LabelledBatch['labels']): Int32Array {
  if (Array.isArray(l) || l instanceof Int32Array) return Int32Array.from(l);
  return Int32Array.from(l.dataSync());
}

/**
 * Correct predictions and summed cross-entropy (no label smoothing) of subnet `g` on one batch with the given BN mode:
 * the per-batch step of `measureMetrics`, also used by the trainer's validation.
 */
export function batchMetrics(net: Supernet, g: Genome, x: tf.Tensor4D, labels: Int32Array, bn: ForwardOptions['bn']): { correct: number; lossSum: number } {
  const n = x.shape[0];
  if (labels.length !== n) throw new Error(`a batch of ${n} images has ${labels.length} labels`);
  const [pred, loss] = tf.tidy(() => {
    const logits = net.forward(x, g, { bn });
    const ce = labelSmoothedCrossEntropy(logits, tf.tensor1d(labels, 'int32'), net.numClasses, 0);
    return [tf.argMax(logits, 1).dataSync(), ce.dataSync()[0]] as const;
  });
  let correct = 0;
  for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct++;
  return { correct, lossSum: loss * n };
}

/** Accuracy and mean cross-entropy of subnet `g` over labelled batches with the given BN mode. */
export function measureMetrics(net: Supernet, g: Genome, batches: Iterable<LabelledBatch>, bn: ForwardOptions['bn']): Metrics & { images: number } {
  let correct = 0;
  let lossSum = 0;
  let images = 0;
  for (const b of batches) {
    const m = batchMetrics(net, g, b.x, labelArray(b.labels), bn);
    correct += m.correct;
    lossSum += m.lossSum;
    images += b.x.shape[0];
  }
  if (images === 0) throw new Error('evaluation needs at least one labelled batch');
  return { accuracy: correct / images, loss: lossSum / images, images };
}

/** The statistics of a freshly reset BN (mean 0, variance 1) for every BN of the subnet. */
export function resetStats(net: Supernet, g: Genome): BnStats {
  const stats: BnStats = new Map();
  for (const [name, r] of net.subnetParamRegions(g)) {
    if (!name.endsWith('.bn.gamma')) continue;
    const c = r.size[0];
    stats.set(name.slice(0, -'.bn.gamma'.length), { mean: new Float32Array(c), variance: new Float32Array(c).fill(1) });
  }
  return stats;
}

/** Calibrate, then evaluate; see the module comment. Batch iterables are read once each (twice for evaluation). */
export function evaluateSubnet(net: Supernet, genome: Genome, opts: EvaluateOptions): SubnetEvaluation {
  const t0 = performance.now();
  const g = validateGenome(net.space, genome);
  const evalBatches = [...opts.evaluation];
  const before = opts.before ?? 'reset';
  let beforeCalibration: SubnetEvaluation['beforeCalibration'];
  if (before !== 'none') {
    const bn: ForwardOptions['bn'] = before === 'reset' ? { kind: 'running', stats: resetStats(net, g) } : { kind: 'batch' };
    const m = measureMetrics(net, g, evalBatches, bn);
    beforeCalibration = { accuracy: m.accuracy, loss: m.loss, method: before };
  }
  const cal = calibrateBn(net, g, opts.calibration);
  const after = measureMetrics(net, g, evalBatches, { kind: 'running', stats: cal.stats });
  const cost = subnetCost(net.space, g, net.numClasses);
  return {
    genomeId: genomeId(net.space.id, g),
    genome: g,
    accuracy: after.accuracy,
    loss: after.loss,
    mflops: cost.mflops,
    mparams: cost.mparams,
    images: after.images,
    ...(beforeCalibration ? { beforeCalibration } : {}),
    calibration: { batches: cal.batches, images: cal.images },
    stats: cal.stats,
    ms: performance.now() - t0,
  };
}
