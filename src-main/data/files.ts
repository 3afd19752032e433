/** A stored dataset's files: where they live (`<home>/datasets/<id>/`) and reading splits, labels and images back. */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { complement, gather } from './splits';
import { DatasetError, type DatasetInfo, type RawSplit, type SplitName } from './types';

export const datasetsRoot = (home: string): string => join(home, 'datasets');
export const datasetDir = (home: string, id: string): string => join(datasetsRoot(home), id);

function readFile(home: string, info: DatasetInfo, file: string): Buffer {
  const path = join(datasetDir(home, info.id), file);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DatasetError(`dataset '${info.name}' is damaged: cannot read ${path} (${(e as Error).message}); remove it and import it again`);
  }
}

/** Typed view of a Buffer; copies when the Buffer's offset is misaligned for the element size. */
function view<T extends Uint16Array | Uint32Array>(buf: Buffer, Ctor: { new (b: ArrayBufferLike, o: number, l: number): T; new (n: number): T; BYTES_PER_ELEMENT: number }): T {
  const bpe = Ctor.BYTES_PER_ELEMENT;
  if (buf.byteOffset % bpe === 0) return new Ctor(buf.buffer, buf.byteOffset, buf.byteLength / bpe);
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Ctor(copy.buffer, 0, buf.byteLength / bpe);
}

/** The stored source split (`train` includes the validation images). */
export function readStoredSplit(home: string, info: DatasetInfo, which: 'train' | 'test'): RawSplit {
  const imgBuf = readFile(home, info, `${which}.images.u8`);
  const labels = view(readFile(home, info, `${which}.labels.u16`), Uint16Array);
  const images = new Uint8Array(imgBuf.buffer, imgBuf.byteOffset, imgBuf.byteLength);
  const px = info.height * info.width * info.channels;
  if (images.length !== labels.length * px) {
    throw new DatasetError(`dataset '${info.name}' is damaged: ${which}.images.u8 holds ${images.length} bytes for ${labels.length} labels; remove it and import it again`);
  }
  return { images, labels, n: labels.length };
}

export function readValIndices(home: string, info: DatasetInfo): Uint32Array {
  return view(readFile(home, info, 'val.indices.u32'), Uint32Array);
}

/**
 * One split's labels without its pixels, with each image's index in the stored file (`train` and `val` live in the
 * train file): what a caller that needs a few images of a large split (the sample grid) reads first.
 */
export function splitLabels(home: string, info: DatasetInfo, split: SplitName): { labels: Uint16Array; file: 'train' | 'test'; fileIndex: Uint32Array } {
  const file = split === 'test' ? 'test' : 'train';
  const all = view(readFile(home, info, `${file}.labels.u16`), Uint16Array);
  if (split === 'test') return { labels: all, file, fileIndex: Uint32Array.from({ length: all.length }, (_, i) => i) };
  const val = readValIndices(home, info);
  const fileIndex = split === 'val' ? val : complement(all.length, val);
  return { labels: Uint16Array.from(fileIndex, (j) => all[j]), file, fileIndex };
}

/**
 * The pixels (uint8 HWC, one image after another) of the images at `indices` of a stored file, each read at its
 * offset: a few thumbnails of a 224×224 ImageNet split cost kilobytes, not the whole file. Checks the file's size
 * against its labels as `readStoredSplit` does.
 */
export function readStoredImages(home: string, info: DatasetInfo, which: 'train' | 'test', indices: ArrayLike<number>): Uint8Array {
  const px = info.height * info.width * info.channels;
  const dir = datasetDir(home, info.id);
  const path = join(dir, `${which}.images.u8`);
  const damaged = (why: string) => new DatasetError(`dataset '${info.name}' is damaged: ${why}; remove it and import it again`);
  let n: number;
  try {
    n = statSync(join(dir, `${which}.labels.u16`)).size / Uint16Array.BYTES_PER_ELEMENT;
  } catch (e) {
    throw damaged(`cannot read ${join(dir, `${which}.labels.u16`)} (${(e as Error).message})`);
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw damaged(`cannot read ${path} (${(e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size !== n * px) throw damaged(`${which}.images.u8 holds ${size} bytes for ${n} labels`);
    const out = new Uint8Array(indices.length * px);
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i];
      if (!(Number.isInteger(j) && j >= 0 && j < n)) throw new RangeError(`image ${j} is outside ${which} (${n} images)`);
      if (readSync(fd, out, i * px, px, j * px) !== px) throw damaged(`short read of image ${j} in ${path}`);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** One split in memory: uint8 N·H·W·C (HWC), uint16 labels. `train` excludes `val`. */
export function loadSplit(home: string, info: DatasetInfo, split: SplitName): RawSplit {
  if (split === 'test') return readStoredSplit(home, info, 'test');
  const full = readStoredSplit(home, info, 'train');
  const val = readValIndices(home, info);
  const px = info.height * info.width * info.channels;
  return gather(full, px, split === 'val' ? val : complement(full.n, val));
}
