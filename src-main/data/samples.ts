/** What the UI and `alphanet datasets show` display about a dataset: sample thumbnails per class and a histogram. */
import { PNG } from 'pngjs';
import { Rng } from '../engine/core';
import { readStoredImages, splitLabels } from './files';
import { SPLITS, type DatasetInfo, type SplitName } from './types';

export interface SampleGrid {
  split: SplitName;
  /** Thumbnail side in pixels (the stored image size). */
  size: number;
  classes: { index: number; name: string; count: number; /** `data:image/png;base64,…` URLs, at most `perClass`. */ thumbnails: string[] }[];
  /** Images per class in each split, indexed like `classNames`. */
  histogram: Record<SplitName, number[]>;
}

/** PNG data URL of one stored image (greyscale or RGB PNG, as stored). */
export function imageDataUrl(images: Uint8Array, index: number, info: Pick<DatasetInfo, 'height' | 'width' | 'channels'>): string {
  const { height: h, width: w, channels: c } = info;
  const data = images.subarray(index * h * w * c, (index + 1) * h * w * c);
  const colorType = c === 1 ? 0 : 2;
  const png = PNG.sync.write({ width: w, height: h, data }, { colorType, inputColorType: colorType });
  return `data:image/png;base64,${png.toString('base64')}`;
}

/**
 * Up to `perClass` (default 8) images of each class from `split` (default `train`), picked by a fixed seed so the
 * grid is the same every time, as PNG data URLs (the renderer's CSP allows `data:` images), plus the histogram.
 */
export function sampleGrid(home: string, info: DatasetInfo, opts: { perClass?: number; split?: SplitName } = {}): SampleGrid {
  const split = opts.split ?? 'train';
  const perClass = opts.perClass ?? 8;
  // Labels first, then only the chosen images' pixels (a large split is never read whole).
  const { labels, file, fileIndex } = splitLabels(home, info, split);
  const byClass: number[][] = info.classNames.map(() => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const rng = Rng.fromSeeds(0x5a3b1e);
  const picked = byClass.map((members) => rng.shuffle(members).slice(0, perClass).sort((a, b) => a - b));
  const images = readStoredImages(home, info, file, picked.flat().map((i) => fileIndex[i]));
  let next = 0;
  return {
    split,
    size: info.height,
    classes: info.classNames.map((name, k) => ({
      index: k,
      name,
      count: byClass[k].length,
      thumbnails: picked[k].map(() => imageDataUrl(images, next++, info)),
    })),
    histogram: Object.fromEntries(SPLITS.map((s) => [s, info.splits[s].classCounts])) as Record<SplitName, number[]>,
  };
}
