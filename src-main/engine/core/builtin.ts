/**
 * The built-in search spaces and named subnets. Every entry is plain data checked by the schema at registration.
 *
 * Small-data spaces keep the paper's block design (MB blocks, SE in the later stages, a residual on every block,
 * the v3 head, swish) and change only what small images need:
 * - the first conv has stride 1: a 32×32 image downsampled 2× at the stem and 16× overall would leave 1×1 maps;
 * - four MB stages with three stride-2 stages (32 → 16 → 8 → 4) and one stride-1 stage, like the paper's
 *   mb1…mb7 pattern compressed;
 * - widths, depths and the head are cut so the max subnet is ≈ 25 M MACs at 32×32 (≈ 10 M at 28×28) and the min
 *   subnet is > 5× smaller, so a laptop CPU trains a sandwich step in seconds;
 * - resolutions are the full size and two smaller ones (the paper's 192…288 spans 1.5×; here 24…32 spans 1.33×,
 *   because smaller inputs than that lose the digit or object).
 * The exact MACs of min and max are asserted in `test/unit/engine/spaces.test.ts` and listed by `alphanet spaces`.
 */
import type { Genome, SearchSpaceInput } from './schema';

/** The paper's search space, exactly (spec §3.1; AlphaNet `configs/train_alphanet_models.yml`). */
export const ALPHANET_IMAGENET: SearchSpaceInput = {
  id: 'alphanet-imagenet',
  description:
    'The AlphaNet / AttentiveNAS search space for ImageNet (ICML 2021), 4.4e11 subnets from 203 to 1939 MFLOPs.',
  inputChannels: 3,
  numClasses: 1000,
  resolutions: [192, 224, 256, 288],
  firstConv: { width: [16, 24], kernelSize: 3, stride: 2 },
  stages: [
    { name: 'mb1', width: [16, 24], depth: [1, 2], kernelSize: [3, 5], expandRatio: [1], stride: 1, se: false },
    { name: 'mb2', width: [24, 32], depth: [3, 4, 5], kernelSize: [3, 5], expandRatio: [4, 5, 6], stride: 2, se: false },
    { name: 'mb3', width: [32, 40], depth: [3, 4, 5, 6], kernelSize: [3, 5], expandRatio: [4, 5, 6], stride: 2, se: true },
    { name: 'mb4', width: [64, 72], depth: [3, 4, 5, 6], kernelSize: [3, 5], expandRatio: [4, 5, 6], stride: 2, se: false },
    { name: 'mb5', width: [112, 120, 128], depth: [3, 4, 5, 6, 7, 8], kernelSize: [3, 5], expandRatio: [4, 5, 6], stride: 1, se: true },
    { name: 'mb6', width: [192, 200, 208, 216], depth: [3, 4, 5, 6, 7, 8], kernelSize: [3, 5], expandRatio: [6], stride: 2, se: true },
    { name: 'mb7', width: [216, 224], depth: [1, 2], kernelSize: [3, 5], expandRatio: [6], stride: 1, se: true },
  ],
  lastConv: { width: [1792, 1984] },
  headExpand: 6,
  bnEps: 1e-5,
  widthMode: 'per-stage',
  dropConnectLastStages: 2,
};

/** 32×32 RGB (CIFAR-10/100, the demo set). Max subnet 25.3 M MACs, min 2.9 M (8.6× smaller). */
export const ALPHANET_CIFAR32: SearchSpaceInput = {
  id: 'alphanet-cifar32',
  description:
    'AlphaNet blocks sized for 32×32 RGB images on a laptop CPU: stride-1 stem, 4 MB stages (strides 1/2/2/2 then 1), SE in the last three, v3 head.',
  inputChannels: 3,
  numClasses: 10,
  resolutions: [24, 28, 32],
  firstConv: { width: [16, 24], kernelSize: 3, stride: 1 },
  stages: [
    { name: 'mb1', width: [16, 24], depth: [1, 2], kernelSize: [3, 5], expandRatio: [1], stride: 1, se: false },
    { name: 'mb2', width: [24, 32], depth: [1, 2], kernelSize: [3, 5], expandRatio: [3, 4], stride: 2, se: false },
    { name: 'mb3', width: [40, 48], depth: [1, 2, 3], kernelSize: [3, 5], expandRatio: [3, 4, 6], stride: 2, se: true },
    { name: 'mb4', width: [64, 80], depth: [1, 2], kernelSize: [3, 5], expandRatio: [3, 4, 6], stride: 2, se: true },
    { name: 'mb5', width: [80, 96], depth: [1, 2], kernelSize: [3, 5], expandRatio: [4, 6], stride: 1, se: true },
  ],
  lastConv: { width: [512, 640] },
  headExpand: 6,
  bnEps: 1e-5,
  widthMode: 'per-stage',
  dropConnectLastStages: 2,
};

/** 28×28 grayscale (the MNIST family). Max subnet 10.1 M MACs, min 0.93 M (10.8× smaller). */
export const ALPHANET_MNIST28: SearchSpaceInput = {
  id: 'alphanet-mnist28',
  description:
    'AlphaNet blocks sized for 28×28 grayscale images: stride-1 stem, 4 MB stages (28 → 14 → 7 → 4), SE in the last three, v3 head.',
  inputChannels: 1,
  numClasses: 10,
  resolutions: [20, 24, 28],
  firstConv: { width: [8, 16], kernelSize: 3, stride: 1 },
  stages: [
    { name: 'mb1', width: [8, 16], depth: [1, 2], kernelSize: [3, 5], expandRatio: [1], stride: 1, se: false },
    { name: 'mb2', width: [16, 24], depth: [1, 2], kernelSize: [3, 5], expandRatio: [3, 4], stride: 2, se: false },
    { name: 'mb3', width: [24, 32], depth: [1, 2], kernelSize: [3, 5], expandRatio: [3, 4, 6], stride: 2, se: true },
    { name: 'mb4', width: [40, 48], depth: [1, 2, 3], kernelSize: [3, 5], expandRatio: [3, 4, 6], stride: 2, se: true },
    { name: 'mb5', width: [56, 64], depth: [1, 2], kernelSize: [3, 5], expandRatio: [4, 6], stride: 1, se: true },
  ],
  lastConv: { width: [384, 512] },
  headExpand: 6,
  bnEps: 1e-5,
  widthMode: 'per-stage',
  dropConnectLastStages: 2,
};

/**
 * A slimmable (width-only) space as in the paper's slimmable-network experiments: depth, kernel and expand are fixed;
 * one width multiplier (0.5×, 0.75×, 1.0× of every layer) is the only gene besides resolution, which is fixed too.
 */
export const SLIMMABLE_CIFAR32: SearchSpaceInput = {
  id: 'slimmable-cifar32',
  description:
    'Width-only supernet for 32×32 RGB: fixed depth 2/2/3/3/2, kernel 3, expand 1/6/6/6/6; one width multiplier 0.5×/0.75×/1.0× shared by all layers.',
  inputChannels: 3,
  numClasses: 10,
  resolutions: [32],
  firstConv: { width: [8, 12, 16], kernelSize: 3, stride: 1 },
  stages: [
    { name: 'mb1', width: [8, 12, 16], depth: [2], kernelSize: [3], expandRatio: [1], stride: 1, se: false },
    { name: 'mb2', width: [12, 18, 24], depth: [2], kernelSize: [3], expandRatio: [6], stride: 2, se: false },
    { name: 'mb3', width: [20, 30, 40], depth: [3], kernelSize: [3], expandRatio: [6], stride: 2, se: true },
    { name: 'mb4', width: [40, 60, 80], depth: [3], kernelSize: [3], expandRatio: [6], stride: 2, se: true },
    { name: 'mb5', width: [48, 72, 96], depth: [2], kernelSize: [3], expandRatio: [6], stride: 1, se: true },
  ],
  lastConv: { width: [320, 480, 640] },
  headExpand: 6,
  bnEps: 1e-5,
  widthMode: 'multiplier',
  dropConnectLastStages: 2,
};

export interface NamedSubnet {
  /** Registry name, e.g. `alphanet-a0`. */
  name: string;
  space: string;
  title: string;
  genome: Genome;
  /** Published numbers, where there are any. */
  published?: { mflops: number; top1: number; source: string };
}

const AN_README = 'facebookresearch/AlphaNet README.md; archs from configs/eval_alphanet_models.yml';

function an(name: string, title: string, resolution: number, width: number[], depth: number[], kernelSize: number[], expandRatio: number[], mflops: number, top1: number): NamedSubnet {
  return { name, space: 'alphanet-imagenet', title, genome: { resolution, width, depth, kernelSize, expandRatio }, published: { mflops, top1, source: AN_README } };
}

/** The published AlphaNet models (spec §7). */
export const NAMED_SUBNETS: NamedSubnet[] = [
  an('alphanet-a0', 'AlphaNet-A0', 192, [16, 16, 24, 32, 64, 112, 192, 216, 1792], [1, 3, 3, 3, 3, 3, 1], [3, 3, 3, 3, 3, 3, 3], [1, 4, 4, 4, 4, 6, 6], 203, 77.87),
  an('alphanet-a1', 'AlphaNet-A1', 224, [16, 16, 24, 32, 64, 112, 192, 216, 1984], [1, 3, 3, 3, 3, 3, 1], [3, 3, 3, 5, 3, 5, 3], [1, 4, 4, 4, 4, 6, 6], 279, 78.94),
  an('alphanet-a2', 'AlphaNet-A2', 224, [16, 16, 24, 32, 64, 112, 200, 224, 1984], [1, 3, 3, 3, 3, 4, 1], [3, 3, 3, 3, 3, 5, 3], [1, 4, 5, 4, 4, 6, 6], 317, 79.2),
  an('alphanet-a3', 'AlphaNet-A3', 224, [16, 16, 24, 32, 64, 112, 208, 224, 1984], [2, 3, 3, 4, 3, 5, 1], [3, 3, 3, 5, 3, 3, 3], [1, 4, 4, 4, 4, 6, 6], 357, 79.41),
  an('alphanet-a4', 'AlphaNet-A4', 256, [16, 16, 24, 32, 64, 112, 192, 216, 1984], [1, 3, 3, 4, 3, 5, 1], [3, 3, 3, 5, 3, 5, 3], [1, 4, 4, 5, 4, 6, 6], 444, 80.01),
  an('alphanet-a5', 'AlphaNet-A5 (small)', 256, [16, 16, 24, 32, 64, 112, 208, 216, 1984], [1, 3, 3, 4, 4, 5, 1], [3, 3, 3, 3, 3, 5, 3], [1, 4, 4, 5, 4, 6, 6], 491, 80.29),
  an('alphanet-a5-base', 'AlphaNet-A5 (base)', 288, [16, 16, 24, 32, 64, 112, 200, 216, 1984], [2, 3, 4, 3, 3, 5, 1], [3, 3, 5, 5, 3, 3, 3], [1, 4, 4, 4, 5, 6, 6], 596, 80.62),
  an('alphanet-a6', 'AlphaNet-A6', 288, [16, 16, 24, 32, 64, 112, 216, 224, 1984], [1, 3, 3, 4, 4, 6, 1], [3, 3, 3, 3, 3, 5, 3], [1, 4, 6, 5, 4, 6, 6], 709, 80.78),
];

export const BUILTIN_SPACES: SearchSpaceInput[] = [ALPHANET_IMAGENET, ALPHANET_CIFAR32, ALPHANET_MNIST28, SLIMMABLE_CIFAR32];
