/** A tiny search space for fast tests, with every feature of the real ones. */
import { parseSearchSpace, type SearchSpace } from '../../../src-main/engine/core/schema';

/** Stride 2 on odd sizes (9 → 5, 7 → 4), SE, an expand-1 stage, widening shortcuts, kernels 3/5, two depths. */
export const TINY: SearchSpace = parseSearchSpace({
  id: 'tiny-test',
  inputChannels: 3,
  numClasses: 5,
  resolutions: [7, 9],
  firstConv: { width: [4, 8], kernelSize: 3, stride: 1 },
  stages: [
    { name: 'mb1', width: [4, 8], depth: [1, 2], kernelSize: [3, 5], expandRatio: [1], stride: 1, se: false },
    { name: 'mb2', width: [8, 16], depth: [1, 2], kernelSize: [3, 5], expandRatio: [2, 3], stride: 2, se: true },
    { name: 'mb3', width: [16, 24], depth: [1, 2], kernelSize: [3, 5], expandRatio: [2, 3], stride: 1, se: true },
  ],
  lastConv: { width: [16, 24] },
});
