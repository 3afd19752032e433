/** Checkpoint files: round trip, refusal of a file that fails its hash, durable writes. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError,
  readCheckpointFile,
  writeCheckpointFile,
  type TrainState,
  parseTrainConfig,
} from '../../../src-main/engine/core';

const state: TrainState = { step: 12, epoch: 1, batch: 3, rng: { sampling: [1, 2, 3, 4], regularize: [5, 6, 7, 8] }, lrScale: 0.5, rollbacks: 1, metric: 0.75 };
const arrays = (seed: number) =>
  new Map([
    ['first.conv.w', { shape: [3, 3, 1, 2], data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(seed + i)) }],
    ['classifier.b', { shape: [5], data: Float32Array.from([1, -2, 3.5, NaN, Infinity]) }],
  ]);

describe('checkpoint files', () => {
  it('round-trips weights, momentum, state and config exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const config = parseTrainConfig({ epochs: 3 });
    const path = join(dir, 'a.ckpt');
    const { sha256, bytes } = writeCheckpointFile(path, { runId: 7, state, config, weights: arrays(1), momentum: arrays(2) });
    expect(bytes).toBe(readFileSync(path).length);
    const ck = readCheckpointFile(path, sha256);
    expect(ck.header.runId).toBe(7);
    expect(ck.header.state).toEqual(state);
    expect(ck.header.config).toEqual(config);
    for (const [name, a] of arrays(1)) expect(Array.from(ck.weights.get(name)!.data)).toEqual(Array.from(a.data));
    for (const [name, a] of arrays(2)) {
      expect(ck.momentum.get(name)!.shape).toEqual(a.shape);
      expect(Array.from(ck.momentum.get(name)!.data)).toEqual(Array.from(a.data));
    }
    // No temporary file is left behind.
    expect(readdirSync(dir)).toEqual(['a.ckpt']);
  });

  it('refuses a file whose bytes changed, naming the file and the hash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = join(dir, 'b.ckpt');
    const { sha256 } = writeCheckpointFile(path, { runId: 1, state, config: parseTrainConfig({}), weights: arrays(1), momentum: new Map() });
    const buf = readFileSync(path);
    buf[buf.length - 3] ^= 0xff; // one flipped byte in the data
    writeFileSync(path, buf);
    expect(() => readCheckpointFile(path, sha256)).toThrow(CheckpointError);
    expect(() => readCheckpointFile(path, sha256)).toThrow(/b\.ckpt failed its hash check .*refusing it/);
    // Without the recorded hash the header's own data hash still catches it.
    expect(() => readCheckpointFile(path)).toThrow(/failed its hash check/);
    writeFileSync(path, buf.subarray(0, 20));
    expect(() => readCheckpointFile(path)).toThrow(/truncated|corrupt header/);
    writeFileSync(path, 'hello');
    expect(() => readCheckpointFile(path)).toThrow(/not an AlphaNet checkpoint/);
  });
});
