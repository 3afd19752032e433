/** The part of pngjs 7 (which ships no types) that this module uses. */
declare module 'pngjs' {
  export interface PngMetadata {
    width: number;
    height: number;
    /** 1, 2, 4, 8 or 16 bits per sample in the file; `data` is always 8-bit RGBA after decoding. */
    depth: number;
    colorType: number;
    color: boolean;
    alpha: boolean;
    palette: boolean;
    interlace: boolean;
    data: Buffer;
  }
  export class PNG {
    constructor(opts: { width: number; height: number });
    width: number;
    height: number;
    data: Buffer;
    static sync: {
      read(buffer: Buffer, opts?: { skipRescale?: boolean }): PngMetadata;
      /** colorType 0 grey, 2 RGB, 6 RGBA; inputColorType the layout of `data` (default 6, RGBA). */
      write(png: { width: number; height: number; data: Uint8Array }, opts?: { colorType?: number; inputColorType?: number }): Buffer;
    };
  }
}
