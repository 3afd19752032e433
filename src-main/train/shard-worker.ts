/**
 * One data-parallel training worker (a `worker_threads` thread; entry `shard-worker-main.ts` → out/main/train-worker.js).
 * It holds its own TF.js backend (its own WASM instance: one WASM thread each, threads being unsupported in Node, so
 * N workers on N cores do not oversubscribe) and a replica of the supernet, and computes the sandwich gradients of
 * its shard of each batch. It keeps no training state of its own: before every step it loads the leader's current
 * weights from shared memory (when they changed), so replicas cannot drift and a checkpoint taken with N workers
 * resumes with any M. The leader (data-parallel.ts) owns the optimizer, checkpoints and everything else.
 *
 * Protocol (worker-thread.ts, typed in data-parallel.ts): `init` → `ready`; `step` → `done` (gradients written into the worker's
 * shared slot, not sent) or `failed`. Everything bulky travels through SharedArrayBuffers named in the messages.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { Rng, Supernet, copyTensorInto, createOps, initBackend, sandwichGradients, tensorFrom, writeVariable } from '../engine';
import type { ShardDone, ShardInit, ShardStep } from './data-parallel';
import { servePoolThread, threadSchedstat, type ThreadReply } from '../worker-thread';

export interface ShardPort {
  postMessage(m: ThreadReply<ShardDone>): void;
  on(event: 'message', f: (m: unknown) => void): void;
}

/** SHA-256 of the parameters' float32 bytes in layout order: how tests check that replicas hold the same weights. */
export function weightsHash(arrays: Iterable<Float32Array>): string {
  const h = createHash('sha256');
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}

export function serveShardWorker(port: ShardPort): void {
  let net: Supernet | undefined;
  let init: ShardInit | undefined;
  let weightsVersion = -1;
  let peakBytes = 0;

  const start = async (m: ShardInit) => {
    await initBackend({ force: m.backend });
    init = m;
    net = new Supernet({ space: m.space, ops: createOps(m.opsMode), numClasses: m.numClasses, seed: 0 });
    // The layout is the leader's parameter order; a replica built differently would mix up every gradient.
    const mine = [...net.params].map(([name, v]) => `${name}:${v.shape.join('x')}`);
    const theirs = m.layout.map((p) => `${p.name}:${p.shape.join('x')}`);
    if (mine.join(',') !== theirs.join(',')) throw new Error(`replica parameters differ from the leader's (${mine.length} vs ${theirs.length})`);
  };

  const step = (m: ShardStep): ShardDone => {
    if (!net || !init) throw new Error('step before init');
    const layout = init.layout;
    const t0 = performance.now();
    const weights = new Float32Array(m.weights);
    if (m.weightsVersion !== weightsVersion) {
      // Straight from shared memory into the replica's own (writeVariable copies; nothing aliases the leader's buffer).
      for (const p of layout) writeVariable(net.params.get(p.name)!, weights.subarray(p.offset, p.offset + p.size));
      weightsVersion = m.weightsVersion;
    }
    const [h, w, c] = m.imageShape;
    const n = m.images;
    const x = tensorFrom(new Float32Array(m.x, 0, n * h * w * c), [n, h, w, c]) as tf.Tensor4D;
    const y = tf.tensor1d(new Int32Array(m.y, 0, n).slice(), 'int32');
    let r;
    const t1 = performance.now();
    const s1 = threadSchedstat();
    try {
      r = sandwichGradients(net, x, y, m.members, {
        labelSmoothing: m.labelSmoothing,
        distillation: m.distillation,
        ...(m.regularize ? { regularize: { dropout: m.regularize.dropout, dropConnect: m.regularize.dropConnect, rng: Rng.fromSeeds(m.regularize.seed, m.shard) } } : {}),
      });
    } finally {
      tf.dispose([x, y]);
    }
    if (m.crash) process.exit(70); // test hook: in a worker thread this ends the thread, mid-step
    const t2 = performance.now();
    const s2 = threadSchedstat();
    const grads = new Float32Array(m.grads);
    const present = new Uint8Array(m.present);
    try {
      layout.forEach((p, i) => {
        const g = r.grads.get(p.name);
        present[i] = g ? 1 : 0;
        if (g) copyTensorInto(g, grads, p.offset);
      });
    } finally {
      tf.dispose([...r.grads.values()]);
    }
    const t3 = performance.now();
    const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
    // The WASM heap only grows; its size is this worker's high-water mark (tf.memory() counts live tensor bytes).
    const heap = wasmHeapBytes();
    peakBytes = Math.max(peakBytes, heap ?? mem.numBytes);
    return {
      type: 'done',
      id: m.id,
      members: r.members,
      numTensors: mem.numTensors,
      peakBytes,
      timing: { loadMs: t1 - t0, computeMs: t2 - t1, writeMs: t3 - t2, computeCpuMs: s1 && s2 ? s2.cpuMs - s1.cpuMs : 0, computeWaitMs: s1 && s2 ? s2.waitMs - s1.waitMs : 0 },
      // The weights this replica trained the step with, read back from its own variables.
      ...(m.hash ? { hash: weightsHash(layout.map((p) => net!.params.get(p.name)!.dataSync() as Float32Array)) } : {}),
    };
  };

  servePoolThread<ShardInit, ShardStep, ShardDone>(port, start, step);
}

/** Size of the WASM backend's memory, when that is the backend (its high-water mark: WASM memory never shrinks). */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.byteLength;
}
