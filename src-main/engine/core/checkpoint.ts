/**
 * Checkpoint files: everything needed to continue a run exactly — every supernet parameter, the optimizer's momentum
 * buffers, the RNG states, the position (step, epoch, batch), the LR scale left by NaN rollbacks, and the config.
 *
 * Format (one file, little-endian):
 *   8 bytes   magic `ANCKPT01`
 *   4 bytes   u32 header length H
 *   H bytes   UTF-8 JSON header ({@link CheckpointHeader}): tensor directory (name, group, shape, offset) and state
 *   rest      float32 data of every tensor, back to back
 * The header carries the sha256 of the data section, so a file can be checked on its own; the store records the
 * sha256 of the whole file, and loading compares both. A file is written to a temporary name in the same directory,
 * fsynced, renamed over the final name, and the directory fsynced: a crash leaves the old file or the new one,
 * never half of one.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RngState } from '.';
import type { TrainConfig } from './train-config';

const MAGIC = Buffer.from('ANCKPT01', 'ascii');

export type TensorGroup = 'weight' | 'momentum';
export type NamedArrays = Map<string, { shape: number[]; data: Float32Array }>;

/** Where training stands, and what is needed to continue from there. */
export interface TrainState {
  /** Optimizer steps done. */
  step: number;
  /** The epoch (0-based) and batch within it that the next step trains on. */
  epoch: number;
  batch: number;
  /** RNG states: sandwich sampling and drop masks. */
  rng: { sampling: RngState; regularize: RngState };
  /** Product of the NaN guard's LR factors so far (1 = none). */
  lrScale: number;
  rollbacks: number;
  /** Validation score (mean top-1 of min and max) at this point, when validated here. */
  metric?: number;
}

export interface CheckpointHeader {
  format: 1;
  runId: number;
  createdAt: string;
  state: TrainState;
  config: TrainConfig;
  tensors: { name: string; group: TensorGroup; shape: number[]; offset: number; length: number }[];
  /** sha256 (hex) of the data section. */
  dataSha256: string;
}

export interface Checkpoint {
  header: CheckpointHeader;
  weights: NamedArrays;
  momentum: NamedArrays;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** The bytes of a checkpoint. */
export function encodeCheckpoint(c: { runId: number; state: TrainState; config: TrainConfig; weights: NamedArrays; momentum: NamedArrays }): Buffer {
  const tensors: CheckpointHeader['tensors'] = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [group, arrays] of [['weight', c.weights], ['momentum', c.momentum]] as const) {
    for (const [name, a] of arrays) {
      const n = a.shape.reduce((x, y) => x * y, 1);
      if (n !== a.data.length) throw new CheckpointError(`'${name}' has ${a.data.length} values for shape ${a.shape.join('x')}`);
      tensors.push({ name, group, shape: a.shape, offset, length: n });
      parts.push(a.data);
      offset += n;
    }
  }
  const data = Buffer.alloc(offset * 4);
  let at = 0;
  for (const p of parts) {
    // Buffer.from(arrayBuffer, …) views the floats' bytes; little-endian on every platform Node runs on.
    data.set(Buffer.from(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  const header: CheckpointHeader = {
    format: 1,
    runId: c.runId,
    createdAt: new Date().toISOString(),
    state: c.state,
    config: c.config,
    tensors,
    dataSha256: sha256(data),
  };
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length, 0);
  return Buffer.concat([MAGIC, len, h, data]);
}

/** Parses checkpoint bytes; checks the magic, the directory and the data hash. `what` names the file in errors. */
export function decodeCheckpoint(buf: Buffer, what = 'checkpoint'): Checkpoint {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw new CheckpointError(`${what} is not an AlphaNet checkpoint (bad magic)`);
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) throw new CheckpointError(`${what} is truncated (header of ${hlen} bytes, file of ${buf.length})`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8')) as CheckpointHeader;
  } catch (e) {
    throw new CheckpointError(`${what} has a corrupt header: ${(e as Error).message}`);
  }
  if (header.format !== 1) throw new CheckpointError(`${what} has format ${String(header.format)}; this version reads format 1`);
  const data = buf.subarray(12 + hlen);
  const got = sha256(data);
  if (got !== header.dataSha256) throw new CheckpointError(`${what} failed its hash check: data sha256 ${got.slice(0, 12)}…, header says ${header.dataSha256.slice(0, 12)}…`);
  // Copy into an aligned buffer: a Float32Array view needs a 4-byte-aligned offset.
  const floats = new Float32Array(data.length / 4);
  new Uint8Array(floats.buffer).set(data);
  const weights: NamedArrays = new Map();
  const momentum: NamedArrays = new Map();
  for (const t of header.tensors) {
    if (t.offset + t.length > floats.length) throw new CheckpointError(`${what}: tensor '${t.name}' lies outside the data`);
    (t.group === 'weight' ? weights : momentum).set(t.name, { shape: t.shape, data: floats.subarray(t.offset, t.offset + t.length) });
  }
  return { header, weights, momentum };
}

/** Writes bytes durably: temp name, fsync, rename, fsync of the directory. */
export function writeFileDurable(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      let at = 0;
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  // The rename itself is durable only once the directory entry is; not possible on Windows (EPERM/EISDIR), skip there.
  if (process.platform !== 'win32') {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}

/** Writes a checkpoint file durably; returns its sha256 and size. */
export function writeCheckpointFile(path: string, c: Parameters<typeof encodeCheckpoint>[0]): { sha256: string; bytes: number } {
  const buf = encodeCheckpoint(c);
  writeFileDurable(path, buf);
  return { sha256: sha256(buf), bytes: buf.length };
}

/** Reads a checkpoint file; with `expectedSha256` (from the store), a file whose hash differs is refused. */
export function readCheckpointFile(path: string, expectedSha256?: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  if (expectedSha256 !== undefined) {
    const got = sha256(buf);
    if (got !== expectedSha256) {
      throw new CheckpointError(`checkpoint ${path} failed its hash check (sha256 ${got.slice(0, 12)}…, recorded ${expectedSha256.slice(0, 12)}…): refusing it`);
    }
  }
  return decodeCheckpoint(buf, `checkpoint ${path}`);
}
