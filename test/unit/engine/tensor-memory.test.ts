/**
 * engine/tensor-memory.ts: the WASM fast path (straight to and from the module's memory) and the plain path of other
 * backends give exactly what `dataSync` / `assign` give, never alias the caller's array, and leave no tensor behind.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { copyTensorInto, initBackend, tensorFrom, writeVariable } from '../../../src-main/engine';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 0.37) * 3);

afterAll(async () => {
  await initBackend({ force: 'wasm' });
});

describe.each(['wasm', 'cpu'] as const)('on the %s backend', (backend) => {
  it('copyTensorInto writes exactly dataSync()\'s values at the offset and nothing else', async () => {
    await initBackend({ force: backend });
    expect(tf.getBackend()).toBe(backend);
    const t = tf.tensor(values(37, 1), [37]);
    const dst = new Float32Array(new SharedArrayBuffer(50 * 4)).fill(-7);
    const read = vi.spyOn(t, 'dataSync');
    copyTensorInto(t, dst, 5);
    // The fast path reads the module's memory, not a copy.
    expect(read).toHaveBeenCalledTimes(backend === 'wasm' ? 0 : 1);
    read.mockRestore();
    expect(Array.from(dst.subarray(5, 42))).toEqual(Array.from(t.dataSync()));
    expect(Array.from(dst.subarray(0, 5))).toEqual([-7, -7, -7, -7, -7]);
    expect(Array.from(dst.subarray(42))).toEqual(Array(8).fill(-7));
    expect(() => copyTensorInto(t, dst, 20)).toThrow(RangeError);
    t.dispose();
  });

  it('writeVariable sets the values in place, and the variable never aliases the source', async () => {
    await initBackend({ force: backend });
    const zeros = tf.zeros([4, 5]);
    const v = tf.variable(zeros);
    zeros.dispose(); // the variable's memory is now its own
    const before = tf.memory().numTensors;
    const src = new Float32Array(new SharedArrayBuffer(20 * 4));
    src.set(values(20, 2));
    const dataId = v.dataId;
    writeVariable(v, src);
    // In place on wasm (the same storage), a new tensor elsewhere.
    expect(v.dataId === dataId).toBe(backend === 'wasm');
    expect(Array.from(v.dataSync())).toEqual(Array.from(src));
    src.fill(9); // the leader rewrites its buffer
    expect(Array.from(v.dataSync())).toEqual(Array.from(values(20, 2)));
    // What the variable computes with is the new value (the kernels read the same memory).
    expect(tf.tidy(() => tf.sum(v).dataSync()[0])).toBeCloseTo(values(20, 2).reduce((a, b) => a + b, 0), 4);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => writeVariable(v, new Float32Array(3))).toThrow(RangeError);
    v.dispose();
  });

  it('writeVariable does not change a tensor that shares the variable\'s memory', async () => {
    await initBackend({ force: backend });
    const init = tf.tensor(values(6, 3), [6]);
    const v = tf.variable(init); // shares init's data until init is disposed
    writeVariable(v, values(6, 4));
    expect(Array.from(init.dataSync())).toEqual(Array.from(values(6, 3)));
    expect(Array.from(v.dataSync())).toEqual(Array.from(values(6, 4)));
    tf.dispose([init, v]);
  });

  it('tensorFrom copies: rewriting the source later does not change the tensor', async () => {
    await initBackend({ force: backend });
    const src = values(12, 5);
    const t = tensorFrom(src, [3, 4]);
    src.fill(0);
    expect(Array.from(t.dataSync())).toEqual(Array.from(values(12, 5)));
    t.dispose();
  });
});
