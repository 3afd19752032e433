/**
 * The built-in demo dataset: 10 classes of procedurally drawn 32×32 RGB images, generated deterministically from a
 * seed on first use (no download). Each image draws one class-defining object — a shape or a texture patch — at a
 * random position, size, rotation and colour over a random, smoothly varying background, adds 0–2 small distractor
 * blobs and per-pixel noise. Colour and position carry no class information; the classes differ in shape, some in
 * subtle ways (square vs diamond is a rotation of ±20° vs 45° ± 20°; disk vs ring is a hole; plus vs X is a rotation;
 * horizontal vs vertical stripes), so capacity and receptive field matter, while nothing is unlearnable.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db';
import { Rng } from '../engine/core';
import { datasetDir } from './files';
import { datasetsOfFormat } from '../store/datasets';
import { getDataset, removeDataset, storeDataset } from './files';
import type { DatasetInfo, DecodedDataset, RawSplit } from './types';

export const DEMO_CLASSES = ['disk', 'ring', 'square', 'diamond', 'triangle', 'plus', 'cross', 'h-stripes', 'v-stripes', 'checker'];
export const DEMO_SIZE = 32;
/** Images per split; classes are balanced (train 1000 per class, test 200). */
export const DEMO_COUNTS = { train: 10_000, test: 2_000 };
export const DEMO_SEED = 20_240_401;
/** Bump when the generator changes: it is part of the recorded source, so an old demo set is replaced, not mixed up. */
export const DEMO_VERSION = 1;
export const DEMO_SOURCE = `built-in demo generator v${DEMO_VERSION} (seed ${DEMO_SEED})`;

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const lum = (c: number[]) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

/** Signed distance (pixels, negative inside) of shape `cls` at local rotated coordinates (u, v), scale s. */
function shapeDistance(cls: number, u: number, v: number, s: number, thick: number): number {
  switch (cls) {
    case 0:
      return Math.sqrt(u * u + v * v) - s;
    case 1:
      return Math.abs(Math.sqrt(u * u + v * v) - s * (1 - thick / 2)) - (s * thick) / 2;
    case 2:
    case 3:
      return Math.max(Math.abs(u), Math.abs(v)) - s * 0.85;
    case 4: {
      // Equilateral triangle with circumradius s: the max of three half-plane distances.
      const r = s * 0.5;
      const d1 = v - r;
      const d2 = -0.866 * u - 0.5 * v - r;
      const d3 = 0.866 * u - 0.5 * v - r;
      return Math.max(d1, d2, d3);
    }
    default: {
      // 5 plus, 6 cross (a rotated plus): union of two bars.
      const w = s * 0.3;
      const a = Math.max(Math.abs(u) - s, Math.abs(v) - w);
      const b = Math.max(Math.abs(v) - s, Math.abs(u) - w);
      return Math.min(a, b);
    }
  }
}

/** Draws image `i` of a split into `out` (HWC uint8) and returns its label. */
function drawImage(rng: Rng, label: number, out: Uint8Array, offset: number): void {
  const S = DEMO_SIZE;
  // Background: a random colour, a linear gradient, and a low-frequency wave.
  const bg = [rng.next(), rng.next(), rng.next()];
  const ga = rng.uniform(0, 2 * Math.PI);
  const gAmp = rng.uniform(0, 0.25);
  const gx = (Math.cos(ga) * gAmp) / S;
  const gy = (Math.sin(ga) * gAmp) / S;
  const wAmp = rng.uniform(0, 0.12);
  const wfx = rng.uniform(-0.3, 0.3);
  const wfy = rng.uniform(-0.3, 0.3);
  const wph = rng.uniform(0, 2 * Math.PI);
  // Foreground: a random colour with enough luminance contrast against the background to be visible.
  let fg = [rng.next(), rng.next(), rng.next()];
  for (let t = 0; t < 8 && Math.abs(lum(fg) - lum(bg)) < 0.18; t++) fg = [rng.next(), rng.next(), rng.next()];
  const cx = rng.uniform(10, 22);
  const cy = rng.uniform(10, 22);
  const scale = rng.uniform(5.5, 10.5);
  const thick = rng.uniform(0.3, 0.55);
  let rot: number;
  if (label === 3 || label === 6) rot = Math.PI / 4 + rng.uniform(-0.35, 0.35);
  else if (label === 4) rot = rng.uniform(0, 2 * Math.PI);
  else if (label === 7) rot = rng.uniform(-0.45, 0.45);
  else if (label === 8) rot = Math.PI / 2 + rng.uniform(-0.45, 0.45);
  else if (label === 9) rot = rng.uniform(0, Math.PI / 2);
  else rot = rng.uniform(-0.35, 0.35);
  const cr = Math.cos(rot);
  const sr = Math.sin(rot);
  const period = rng.uniform(3.2, 5.5);
  const tph = rng.uniform(0, 2 * Math.PI);
  // Distractors: 0–2 small blobs of random colour anywhere.
  const nd = rng.int(3);
  const dist: number[][] = [];
  for (let j = 0; j < nd; j++) dist.push([rng.uniform(2, 30), rng.uniform(2, 30), rng.uniform(1.2, 2.8), rng.next(), rng.next(), rng.next()]);
  const noise = rng.uniform(0.04, 0.1);
  const k = (2 * Math.PI) / period;

  // Every sinusoid below is of the form sin(A·x + B·y + C) = sin(A·x)·cos(B·y + C) + cos(A·x)·sin(B·y + C): tabulated
  // per column and per row, so the per-pixel work is multiply–adds (this keeps generation well under a second).
  const wave = new Float64Array(S * S);
  sinGrid(wave, wfx, wfy, wph, wAmp);
  for (let y = 0, i = 0; y < S; y++) for (let x = 0; x < S; x++, i++) wave[i] += gx * (x - S / 2) + gy * (y - S / 2);
  let tex: Float64Array | null = null;
  if (label > 6) {
    // Stripes along v = −sin·px + cos·py, or the product of two such waves for the checker.
    tex = new Float64Array(S * S);
    if (label === 9) {
      const t2 = new Float64Array(S * S);
      sinGrid(tex, k * cr, k * sr, tph, 1, cx, cy);
      sinGrid(t2, -k * sr, k * cr, 0, 2, cx, cy);
      for (let i = 0; i < tex.length; i++) tex[i] *= t2[i];
    } else {
      sinGrid(tex, -k * sr, k * cr, tph, 1, cx, cy);
    }
  }
  const reach = scale * 1.5 + 1.5;
  let o = offset;
  for (let y = 0, i = 0; y < S; y++) {
    const py = y + 0.5 - cy;
    for (let x = 0; x < S; x++, i++) {
      const px = x + 0.5 - cx;
      let alpha = 0;
      if (Math.abs(px) < reach && Math.abs(py) < reach) {
        if (tex === null) {
          alpha = clamp01(0.5 - shapeDistance(label, cr * px + sr * py, -sr * px + cr * py, scale, thick));
        } else {
          // Texture classes: a square patch filled with the texture.
          const region = clamp01(0.5 - (Math.max(Math.abs(px), Math.abs(py)) - scale));
          alpha = region * clamp01(0.5 + 1.5 * tex[i]);
        }
      }
      const w = wave[i];
      let r = (bg[0] + w) * (1 - alpha) + fg[0] * alpha;
      let g = (bg[1] + w) * (1 - alpha) + fg[1] * alpha;
      let b = (bg[2] + w) * (1 - alpha) + fg[2] * alpha;
      for (let j = 0; j < dist.length; j++) {
        const d = dist[j];
        const dx = x + 0.5 - d[0];
        const dy = y + 0.5 - d[1];
        if (Math.abs(dx) > 4 || Math.abs(dy) > 4) continue;
        const a = clamp01(d[2] + 0.5 - Math.sqrt(dx * dx + dy * dy));
        r = r * (1 - a) + d[3] * a;
        g = g * (1 - a) + d[4] * a;
        b = b * (1 - a) + d[5] * a;
      }
      // Gaussian noise from a fixed table: one 32-bit draw gives three 10-bit indices, one per channel.
      const z = rng.nextUint32();
      out[o++] = Math.round(clamp01(r + noise * GAUSS[z & GAUSS_MASK]) * 255);
      out[o++] = Math.round(clamp01(g + noise * GAUSS[(z >>> 10) & GAUSS_MASK]) * 255);
      out[o++] = Math.round(clamp01(b + noise * GAUSS[(z >>> 20) & GAUSS_MASK]) * 255);
    }
  }
}

/**
 * out[y·S + x] = amp · sin(ax·(x + 0.5 − ox) + ay·(y + 0.5 − oy) + c), by the angle-sum identity over per-column and
 * per-row tables. (ox, oy) default to (0.5, 0.5), i.e. plain pixel indices.
 */
function sinGrid(out: Float64Array, ax: number, ay: number, c: number, amp: number, ox = 0.5, oy = 0.5): void {
  const S = DEMO_SIZE;
  const sx = new Float64Array(S);
  const cxs = new Float64Array(S);
  for (let x = 0; x < S; x++) {
    const t = ax * (x + 0.5 - ox);
    sx[x] = Math.sin(t);
    cxs[x] = Math.cos(t);
  }
  for (let y = 0, i = 0; y < S; y++) {
    const t = ay * (y + 0.5 - oy) + c;
    const sy = Math.sin(t) * amp;
    const cy = Math.cos(t) * amp;
    for (let x = 0; x < S; x++, i++) out[i] = sx[x] * cy + cxs[x] * sy;
  }
}

const GAUSS_MASK = 1023;
/** 1024 standard-normal quantiles (deterministic, no PRNG): the noise table. */
const GAUSS = (() => {
  const t = new Float64Array(GAUSS_MASK + 1);
  // Inverse normal CDF by bisection on erf's series-free approximation (Abramowitz–Stegun 7.1.26), precise to ~1e-4.
  const cdf = (z: number) => {
    const x = Math.abs(z) / Math.SQRT2;
    const tt = 1 / (1 + 0.3275911 * x);
    const erf = 1 - ((((1.061405429 * tt - 1.453152027) * tt + 1.421413741) * tt - 0.284496736) * tt + 0.254829592) * tt * Math.exp(-x * x);
    return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
  };
  for (let i = 0; i < t.length; i++) {
    const p = (i + 0.5) / t.length;
    let lo = -6;
    let hi = 6;
    for (let it = 0; it < 40; it++) {
      const mid = (lo + hi) / 2;
      if (cdf(mid) < p) lo = mid;
      else hi = mid;
    }
    t[i] = (lo + hi) / 2;
  }
  return t;
})();

function generateSplit(split: 0 | 1, n: number): RawSplit {
  const px = DEMO_SIZE * DEMO_SIZE * 3;
  const images = new Uint8Array(n * px);
  const labels = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % DEMO_CLASSES.length;
    labels[i] = label;
    drawImage(Rng.fromSeeds(DEMO_SEED, split, i), label, images, i * px);
  }
  return { images, labels, n };
}

/** Generates the demo set in memory (≈ 0.5–1 s). */
export function generateDemo(counts: { train: number; test: number } = DEMO_COUNTS): DecodedDataset {
  return {
    format: 'demo',
    source: DEMO_SOURCE,
    height: DEMO_SIZE,
    width: DEMO_SIZE,
    channels: 3,
    classNames: [...DEMO_CLASSES],
    train: generateSplit(0, counts.train),
    test: generateSplit(1, counts.test),
    flip: true,
    defaultName: 'demo',
  };
}

/**
 * The demo dataset of this data directory, generated and stored on first use. Idempotent: later calls return the
 * stored one; a stored demo whose files went missing, or that an older generator made, is regenerated.
 */
export async function ensureDemoDataset(home: string, db: Db): Promise<DatasetInfo> {
  for (const r of datasetsOfFormat(db, 'demo')) {
    const intact = existsSync(join(datasetDir(home, r.id), 'val.indices.u32'));
    if (intact && r.source === DEMO_SOURCE) return getDataset(db, r.id);
    try {
      removeDataset(home, db, r.id);
    } catch (e) {
      // An older demo still used by runs stays (and is used) until those runs are deleted.
      if (intact) return getDataset(db, r.id);
      throw e;
    }
  }
  return storeDataset(home, db, generateDemo()).info;
}
