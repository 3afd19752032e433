/**
 * Per-image CPU work of the loaders, on uint8 in plain typed-array loops (no tensors): random crop with zero padding,
 * horizontal flip, bilinear resize and normalisation, fused into one pass that writes the float32 batch directly.
 */

/** 256 normalised values per channel: (v / 255 − mean[c]) / std[c], so normalisation is one lookup per pixel. */
export function normLut(mean: number[], std: number[]): Float32Array {
  const lut = new Float32Array(256 * mean.length);
  for (let c = 0; c < mean.length; c++) for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - mean[c]) / std[c];
  return lut;
}

export interface Geometry {
  /** Crop offset relative to the unpadded image, in [−padding, padding]: output (y, x) reads input (y + dy, x + dx). */
  dy: number;
  dx: number;
  flip: boolean;
}

export const IDENTITY: Geometry = { dy: 0, dx: 0, flip: false };

/**
 * Writes image `src[srcOff…]` (h×w×c uint8) into `dst[dstOff…]` as res×res×c float32: first the crop/flip of
 * `g` (pixels outside the source are zero, i.e. the zero padding), then a bilinear resize from h×w to res×res
 * (half-pixel centres, as tf.image.resizeBilinear with halfPixelCenters) when the sizes differ, then `lut`.
 */
export function transformInto(
  src: Uint8Array,
  srcOff: number,
  h: number,
  w: number,
  c: number,
  g: Geometry,
  res: number,
  lut: Float32Array,
  dst: Float32Array,
  dstOff: number,
): void {
  const { dy, dx, flip } = g;
  if (res === h && res === w) {
    let o = dstOff;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      const rowIn = sy >= 0 && sy < h;
      for (let x = 0; x < w; x++) {
        const sx = (flip ? w - 1 - x : x) + dx;
        if (rowIn && sx >= 0 && sx < w) {
          let i = srcOff + (sy * w + sx) * c;
          for (let k = 0; k < c; k++) dst[o++] = lut[k * 256 + src[i++]];
        } else {
          for (let k = 0; k < c; k++) dst[o++] = lut[k * 256];
        }
      }
    }
    return;
  }
  // Resize path: sample the cropped/flipped image F at fractional coordinates; F(y, x) = I(y + dy, x' + dx), zero
  // outside I, where x' is x mirrored when flipping.
  const fetch = (y: number, x: number, k: number): number => {
    const sy = y + dy;
    const sx = (flip ? w - 1 - x : x) + dx;
    return sy >= 0 && sy < h && sx >= 0 && sx < w ? src[srcOff + (sy * w + sx) * c + k] : 0;
  };
  const syScale = h / res;
  const sxScale = w / res;
  let o = dstOff;
  for (let oy = 0; oy < res; oy++) {
    const fy = Math.min(Math.max((oy + 0.5) * syScale - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    for (let ox = 0; ox < res; ox++) {
      const fx = Math.min(Math.max((ox + 0.5) * sxScale - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const top = fetch(y0, x0, k) * (1 - wx) + fetch(y0, x1, k) * wx;
        const bot = fetch(y1, x0, k) * (1 - wx) + fetch(y1, x1, k) * wx;
        const v = top * (1 - wy) + bot * wy;
        // Interpolate in the normalised domain: normalisation is affine, so lerping the LUT's ends is exact.
        const lo = lut[k * 256];
        const hi = lut[k * 256 + 255];
        dst[o++] = lo + (hi - lo) * (v / 255);
      }
    }
  }
}

/**
 * Resizes an h×w×c uint8 image to size×size (uint8), used once at import for image folders: centre-crops to a
 * square first (so aspect ratios are not distorted), then averages over each output pixel's footprint when shrinking
 * (no aliasing) or interpolates bilinearly when enlarging.
 */
export function resizeSquareU8(src: Uint8Array, h: number, w: number, c: number, size: number, dst: Uint8Array, dstOff: number): void {
  const side = Math.min(h, w);
  const oy = Math.floor((h - side) / 2);
  const ox = Math.floor((w - side) / 2);
  const scale = side / size;
  let o = dstOff;
  if (scale >= 1) {
    // Box filter over [y·scale, (y+1)·scale) with fractional edge weights.
    const acc = new Float64Array(c);
    for (let y = 0; y < size; y++) {
      const ya = y * scale;
      const yb = ya + scale;
      for (let x = 0; x < size; x++) {
        const xa = x * scale;
        const xb = xa + scale;
        acc.fill(0);
        let wsum = 0;
        for (let sy = Math.floor(ya); sy < Math.min(Math.ceil(yb), side); sy++) {
          const wy = Math.min(yb, sy + 1) - Math.max(ya, sy);
          for (let sx = Math.floor(xa); sx < Math.min(Math.ceil(xb), side); sx++) {
            const wgt = wy * (Math.min(xb, sx + 1) - Math.max(xa, sx));
            const i = ((oy + sy) * w + ox + sx) * c;
            for (let k = 0; k < c; k++) acc[k] += src[i + k] * wgt;
            wsum += wgt;
          }
        }
        for (let k = 0; k < c; k++) dst[o++] = Math.round(acc[k] / wsum);
      }
    }
    return;
  }
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * scale - 0.5, 0), side - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, side - 1);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), side - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, side - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const p = (yy: number, xx: number) => src[((oy + yy) * w + ox + xx) * c + k];
        const v = (p(y0, x0) * (1 - wx) + p(y0, x1) * wx) * (1 - wy) + (p(y1, x0) * (1 - wx) + p(y1, x1) * wx) * wy;
        dst[o++] = Math.round(v);
      }
    }
  }
}
