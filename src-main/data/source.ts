/**
 * The files of an import source — a folder, or a .tar / .tar.gz / .tgz archive — as one list, so that every format
 * parser reads both the same way. Archives are read whole into memory (the CIFAR archives are ~170 MB), which is
 * simpler and faster here than streaming, and are parsed by the small ustar reader below (ustar, GNU long names and
 * pax `path` records; that covers the archives of the datasets this app imports).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isInside, realPathOfPrefix } from '../path-within';
import { DatasetError } from './types';

export interface SourceFile {
  /** Path relative to the source root, '/'-separated. */
  rel: string;
  size: number;
  /** How errors name it: an absolute path, or `archive.tar.gz:inner/path`. */
  display: string;
  read(): Buffer;
}

export interface Source {
  /** Absolute path of the folder or archive. */
  path: string;
  kind: 'folder' | 'archive';
  files: SourceFile[];
  /** A name for the dataset derived from the path. */
  stem: string;
}

const ARCHIVE_RE = /\.(tar\.gz|tgz|tar)$/i;
/** Files that operating systems and tools leave in folders; never data. */
export const isJunk = (rel: string): boolean => rel.split('/').some((p) => p.startsWith('.') || p === '__MACOSX' || /^(thumbs\.db|desktop\.ini)$/i.test(p));

export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Largest file or archive an import reads, and largest a gzip file may unpack to (bytes): 1 GiB is six times the
 * biggest dataset archive this app imports (CIFAR-100, ~170 MB unpacked; EMNIST's largest IDX file is ~550 MB), and
 * small enough that a hostile file (a gzip bomb unpacks ~1000× its size) cannot exhaust memory.
 */
export const MAX_UNPACKED_BYTES = 1 << 30;

const mib = (n: number) => `${Math.round(n / (1 << 20))} MiB`;

/** Gunzips `b` when it is gzip data, naming `display` if it is corrupt, cut short, or unpacks to over `maxBytes`. */
export function maybeGunzip(b: Buffer, display: string, maxBytes = MAX_UNPACKED_BYTES): Buffer {
  if (!isGzip(b)) return b;
  try {
    // zlib stops inflating at the cap (ERR_BUFFER_TOO_LARGE) instead of allocating whatever the stream asks for.
    return gunzipSync(b, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new DatasetError(`${display}: unpacks to more than ${mib(maxBytes)}, the most an import reads; not a dataset this app can import`);
    }
    throw new DatasetError(`${display}: cannot decompress (${(e as Error).message}); the file is damaged or truncated`);
  }
}

/** Refuses a file over {@link MAX_UNPACKED_BYTES} before reading it. */
function checkSize(size: number, display: string): void {
  if (size > MAX_UNPACKED_BYTES) throw new DatasetError(`${display}: ${mib(size)} is more than ${mib(MAX_UNPACKED_BYTES)}, the most an import reads`);
}

function walk(root: string, dir: string, out: SourceFile[], depth: number, within?: readonly string[]): void {
  if (depth > 8) return;
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch (e) {
    throw new DatasetError(`cannot read folder ${join(root, dir)}: ${(e as Error).message}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (isJunk(rel)) continue;
    const abs = join(root, rel);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      // Confined (the served mode's allowed folders): a link out of them is refused, naming only the link.
      if (within && !within.some((w) => isInside(realPathOfPrefix(abs), w))) {
        throw new DatasetError(`${rel} in the folder being imported is a symbolic link that leads outside the folders this workbench may read; remove it, or import the folder it points to`);
      }
      try {
        const st = statSync(abs);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch (err) {
        throw new DatasetError(`cannot read ${abs}: ${(err as Error).message}`);
      }
    }
    if (isDir) walk(root, rel, out, depth + 1, within);
    else if (isFile) {
      const size = statSync(abs).size;
      out.push({
        rel,
        size,
        display: abs,
        read() {
          checkSize(size, abs);
          try {
            return readFileSync(abs);
          } catch (err) {
            throw new DatasetError(`cannot read ${abs}: ${(err as Error).message}`);
          }
        },
      });
    }
  }
}

function octal(b: Buffer, off: number, len: number): number {
  // GNU base-256 for sizes ≥ 8 GiB: high bit of the first byte set.
  if (b[off] & 0x80) {
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  const s = b.toString('latin1', off, off + len).replace(/\0.*$/s, '').trim();
  return s ? parseInt(s, 8) : 0;
}

const cstr = (b: Buffer, off: number, len: number) => {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
};

/** Parses a tar archive held in memory. */
export function parseTar(tar: Buffer, display: string): { name: string; data: Buffer }[] {
  const out: { name: string; data: Buffer }[] = [];
  let off = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) return out;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== octal(h, 148, 8)) throw new DatasetError(`${display}: not a tar archive, or damaged (bad header checksum at byte ${off})`);
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const start = off + 512;
    if (start + size > tar.length) throw new DatasetError(`${display}: truncated archive (an entry needs ${size} bytes at byte ${start}, the archive ends at ${tar.length})`);
    const data = tar.subarray(start, start + size);
    off = start + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cstr(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) paxPath = m[1];
      continue;
    }
    if (type === 'g') continue;
    let name = paxPath ?? longName;
    if (name === null) {
      name = cstr(h, 0, 100);
      if (h.toString('latin1', 257, 262) === 'ustar') {
        const prefix = cstr(h, 345, 155);
        if (prefix) name = `${prefix}/${name}`;
      }
    }
    longName = null;
    paxPath = null;
    if (type === '0' || type === '7') out.push({ name: name.replace(/^\.\//, ''), data });
  }
  throw new DatasetError(`${display}: truncated archive (no end-of-archive marker)`);
}

/**
 * Opens a folder or archive as a {@link Source}. With `within` (resolved folders), symbolic links inside a folder
 * that lead outside all of them are refused.
 */
export function openSource(path: string, opts: { within?: readonly string[] } = {}): Source {
  const abs = resolve(path);
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(code === 'ENOENT' ? `${abs}: no such file or folder` : `cannot read ${abs}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) {
    const files: SourceFile[] = [];
    walk(abs, '', files, 0, opts.within?.map((w) => realPathOfPrefix(w)));
    return { path: abs, kind: 'folder', files, stem: basename(abs) };
  }
  if (!ARCHIVE_RE.test(abs)) throw new DatasetError(`${abs}: expected a folder or a .tar.gz / .tgz / .tar archive`);
  checkSize(st.size, abs);
  let raw: Buffer;
  try {
    raw = readFileSync(abs);
  } catch (e) {
    throw new DatasetError(`cannot read ${abs}: ${(e as Error).message}`);
  }
  const entries = parseTar(maybeGunzip(raw, abs), abs).filter((e) => !isJunk(e.name));
  // Archives usually wrap everything in one top folder (cifar-10-batches-bin/…); drop it so layouts match folders.
  let names = entries.map((e) => e.name);
  while (names.length && names.every((n) => n.includes('/')) && new Set(names.map((n) => n.split('/')[0])).size === 1) {
    names = names.map((n) => n.slice(n.indexOf('/') + 1));
  }
  const files = entries.map((e, i) => ({ rel: names[i], size: e.data.length, display: `${abs}:${e.name}`, read: () => e.data }));
  return { path: abs, kind: 'archive', files, stem: basename(abs).replace(ARCHIVE_RE, '') };
}
