/** What the UI and `alphanet datasets show` display about a dataset: sample thumbnails per class and a histogram. */
import { PNG } from 'pngjs';
import { Rng } from '../engine/rng';
import { loadSplit } from './store';
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
  const data = loadSplit(home, info, split);
  const byClass: number[][] = info.classNames.map(() => []);
  for (let i = 0; i < data.n; i++) byClass[data.labels[i]].push(i);
  const rng = Rng.fromSeeds(0x5a3b1e);
  return {
    split,
    size: info.height,
    classes: info.classNames.map((name, k) => {
      const idx = rng.shuffle(byClass[k]).slice(0, perClass).sort((a, b) => a - b);
      return { index: k, name, count: byClass[k].length, thumbnails: idx.map((i) => imageDataUrl(data.images, i, info)) };
    }),
    histogram: Object.fromEntries(SPLITS.map((s) => [s, info.splits[s].classCounts])) as Record<SplitName, number[]>,
  };
}
