/**
 * Unbounded inputs: a gzip stream unpacks to at most a cap, a file or archive over the cap is refused
 * before it is read, and a PNG's declared size is checked before it is decoded — each with one clear error.
 */
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../../src-main/data/formats/folder';
import { MAX_UNPACKED_BYTES, maybeGunzip, openSource } from '../../../src-main/data/source';
import { tempDir } from '../../../src-main/data/synthetic';
import { DatasetError } from '../../../src-main/data/types';

/** CRC-32 of PNG chunks (type + data). */
function crc32(b: Buffer): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('bombs and caps', () => {
  it('stops unpacking a gzip stream at the cap (a gzip bomb: 1 MiB of members unpacking to 16 MiB)', () => {
    const member = gzipSync(Buffer.alloc(4 << 20), { level: 9 });
    const bomb = Buffer.concat([member, member, member, member]);
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => maybeGunzip(bomb, 'bomb.gz', 1 << 20)).toThrow(DatasetError);
    expect(() => maybeGunzip(bomb, 'bomb.gz', 1 << 20)).toThrow(/^bomb\.gz: unpacks to more than 1 MiB, the most an import reads/);
    expect(maybeGunzip(member, 'ok.gz', 8 << 20).length).toBe(4 << 20);
  });

  it('refuses an archive over the cap before reading it', () => {
    const big = join(tempDir(), 'huge.tar');
    writeFileSync(big, '');
    truncateSync(big, MAX_UNPACKED_BYTES + 4096); // sparse: costs no disk
    const t0 = performance.now();
    expect(() => openSource(big)).toThrow(/huge\.tar: 1024 MiB is more than 1024 MiB, the most an import reads/);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('checks the size a PNG header declares before decoding it', () => {
    const small = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 255) }));
    // The same file with IHDR patched to 20000×20000 (and its CRC fixed): a few bytes declaring 1.6 GB of pixels.
    const bomb = Buffer.from(small);
    bomb.writeUInt32BE(20000, 16);
    bomb.writeUInt32BE(20000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    expect(() => decodeImage(bomb, 'bomb.png')).toThrow(/^bomb\.png: its header declares 20000×20000 pixels, more than 64 megapixels$/);
    expect(decodeImage(small, 'ok.png')).toMatchObject({ width: 2, height: 2 });
  });
});
