/**
 * The built-in search spaces and named subnets. Every entry is plain data checked by the schema at registration.
 *
 * The data lives in `resources/spaces/*.json` (one file per space, plus `named-subnets.json`): the one source of truth
 * that the PyTorch engine (`engines/torch/alphanet_torch/spaces.py`) reads too, so the two engines cannot disagree
 * about a space. The JSON is bundled at build time; nothing is read from disk at run time.
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
import alphanetImagenet from '../../../resources/spaces/alphanet-imagenet.json';
import alphanetCifar32 from '../../../resources/spaces/alphanet-cifar32.json';
import alphanetMnist28 from '../../../resources/spaces/alphanet-mnist28.json';
import slimmableCifar32 from '../../../resources/spaces/slimmable-cifar32.json';
import namedSubnets from '../../../resources/spaces/named-subnets.json';

/**
 * The paper's search space, exactly (METHOD.md §3.1; AlphaNet `configs/train_alphanet_models.yml`): 4.4e11 subnets from
 * 203 to 1939 MFLOPs.
 */
export const ALPHANET_IMAGENET = alphanetImagenet as SearchSpaceInput;

/** 32×32 RGB (CIFAR-10/100, the demo set). Max subnet 25.3 M MACs, min 2.9 M (8.6× smaller). */
export const ALPHANET_CIFAR32 = alphanetCifar32 as SearchSpaceInput;

/** 28×28 grayscale (the MNIST family). Max subnet 10.1 M MACs, min 0.93 M (10.8× smaller). */
export const ALPHANET_MNIST28 = alphanetMnist28 as SearchSpaceInput;

/**
 * A slimmable (width-only) space as in the paper's slimmable-network experiments: depth, kernel and expand are fixed;
 * one width multiplier (0.5×, 0.75×, 1.0× of every layer) is the only gene besides resolution, which is fixed too.
 */
export const SLIMMABLE_CIFAR32 = slimmableCifar32 as SearchSpaceInput;

export interface NamedSubnet {
  /** Registry name, e.g. `alphanet-a0`. */
  name: string;
  space: string;
  title: string;
  genome: Genome;
  /** Published numbers, where there are any. */
  published?: { mflops: number; top1: number; source: string };
}

/**
 * The published AlphaNet models (METHOD.md §7): facebookresearch/AlphaNet README.md, archs from
 * configs/eval_alphanet_models.yml.
 */
export const NAMED_SUBNETS: NamedSubnet[] = namedSubnets;

export const BUILTIN_SPACES: SearchSpaceInput[] = [ALPHANET_IMAGENET, ALPHANET_CIFAR32, ALPHANET_MNIST28, SLIMMABLE_CIFAR32];
