/**
 * The new-run form's starting points (`runs.presets`). Each is a complete config (every default of the training
 * schema filled in) on a built-in space, with the dataset chosen among those imported here when one fits, else a
 * name the form's check will flag until such a dataset is imported.
 */
import type { DatasetInfo } from '../data/types';
import type { RunPreset } from '../ipc/api-types';
import { TrainConfigSchema, type TrainConfigInput } from '../engine/core';
import { presetDistillation } from '../train/distillation-evidence';

/** The first imported dataset matching `fits` (newest first: the one just imported is the likely choice), else `fallback`. */
function pick(datasets: readonly DatasetInfo[], fits: (d: DatasetInfo) => boolean, fallback: string): string {
  return [...datasets].reverse().find((d) => d.format !== 'demo' && fits(d))?.name ?? fallback;
}

/**
 * A preset trains with the distillation the fidelity study (docs/FIDELITY.md) shows best for its schedule, and its
 * description ends with the sentence that says why (train/distillation-evidence.ts, also shown by the form).
 */
const preset = (id: RunPreset['id'], label: string, description: string, schedule: 'short' | 'long', input: TrainConfigInput): RunPreset => {
  const config = TrainConfigSchema.parse(input);
  const d = presetDistillation(schedule, undefined, undefined, { epochs: config.epochs });
  return {
    id,
    label,
    description: `${description} ${d.why}`,
    config: TrainConfigSchema.parse({ ...input, distillation: { kind: d.kind, ...(d.klWarmupEpochs ? { klWarmupEpochs: d.klWarmupEpochs } : {}) } }) as Record<string, unknown>,
  };
};

/** The five presets; `datasets` are the imported ones (any order). */
export function runPresets(datasets: readonly DatasetInfo[]): RunPreset[] {
  const rgb32 = pick(datasets, (d) => d.channels === 3 && d.height === 32 && d.width === 32, 'demo');
  const gray28 = pick(datasets, (d) => d.channels === 1 && d.height === 28 && d.width === 28, pick(datasets, (d) => d.channels === 1, 'mnist'));
  const large = pick(datasets, (d) => d.channels === 3 && Math.min(d.height, d.width) >= 192, 'imagenet');
  return [
    preset('demo', 'Demo quick-start', 'One short epoch on the built-in demo set (generated on first use): about a minute on a laptop CPU, to see the whole pipeline work.', 'short', {
      name: 'demo quick-start',
      space: 'alphanet-cifar32',
      dataset: 'demo',
      epochs: 1,
      // 20 steps of 32 images: long enough for a live chart, short enough to finish in about a minute on WASM.
      batchSize: 32,
      stepsPerEpoch: 20,
      optimizer: { warmupEpochs: 0.25 },
      validation: { calibrationBatches: 4, calibrationBatchSize: 32, randomSubnets: 0, maxImages: 256 },
      checkpoint: { everySteps: 10, keepLast: 2 },
      progressEverySteps: 1,
      metrics: { flushEverySteps: 5, flushEverySeconds: 2 },
    }),
    preset('small-28', 'Small 28×28 (grayscale)', 'The MNIST-sized space (alphanet-mnist28) on a 28×28 grayscale dataset such as MNIST or Fashion-MNIST; import one first.', 'long', {
      space: 'alphanet-mnist28',
      dataset: gray28,
      epochs: 10,
    }),
    preset('small-32', 'Small 32×32 (RGB)', 'The CIFAR-sized AlphaNet space (alphanet-cifar32) with the workbench defaults, on CIFAR-10 if imported, else the demo set.', 'long', {
      space: 'alphanet-cifar32',
      dataset: rgb32,
    }),
    preset('slimmable', 'Slimmable 32×32', 'A slimmable network (slimmable-cifar32): one width multiplier shared by every layer, trained with the same sandwich rule and distillation.', 'long', {
      space: 'slimmable-cifar32',
      dataset: rgb32,
    }),
    preset(
      'imagenet',
      'AlphaNet ImageNet (paper)',
      "The paper's space and schedule (alphanet-imagenet, resolutions 192–288, 360 epochs, 5 warmup epochs, weight decay 1e-5, 64 calibration batches) on an RGB dataset of at least 192×192 images (import image folders with `alphanet datasets import --size 224`); batch 64 on one machine instead of 2048 on 64 GPUs.",
      'long',
      {
        space: 'alphanet-imagenet',
        dataset: large,
        epochs: 360,
        batchSize: 64,
        optimizer: { warmupEpochs: 5, weightDecay: 1e-5 },
        validation: { calibrationBatches: 64, calibrationBatchSize: 32, batchSize: 64 },
      },
    ),
  ];
}
