/**
 * One subnet-evaluation worker (a `worker_threads` thread; entry `eval-worker-main.ts` → out/main/eval-worker.js) of
 * an evaluation pool (eval-pool.ts). It holds its own TF.js backend (its own WASM instance, one thread) and its own
 * copy of the run's supernet, built once from the checkpoint weights the pool shares; the calibration batches and
 * the evaluation split come through SharedArrayBuffers too, once, at `init`. Each `evaluate` then runs the engine's
 * `evaluateSubnet` — its own BN recalibration on the shared calibration batches, then the split — on the genomes
 * given, so the numbers are those the search runner's own thread computes, bit for bit on the same backend.
 *
 * Protocol (worker-thread.ts, typed in eval-pool.ts): `init` → `ready`; `evaluate` → `done` or `failed`.
 */
import * as tf from '@tensorflow/tfjs';
import { Supernet, createOps, evaluateSubnet, initBackend, type LabelledBatch } from '../engine';
import type { EvalWorkerDone, EvalWorkerInit, EvalWorkerRequest, SharedBatches } from './eval-pool';
import { servePoolThread, type ThreadReply } from '../worker-thread';
import { computedOf } from './subnet-compute';

export interface EvalWorkerPort {
  postMessage(m: ThreadReply<EvalWorkerDone>): void;
  on(event: 'message', f: (m: unknown) => void): void;
}

/** Tensors over shared batches (copies: a tensor must not alias memory another thread reads). */
function batchesOf(b: SharedBatches): { x: tf.Tensor4D; labels?: tf.Tensor1D }[] {
  const xs = new Float32Array(b.x);
  const ys = b.labels ? new Int32Array(b.labels) : undefined;
  let fo = 0;
  let lo = 0;
  return b.shapes.map((shape) => {
    const size = shape[0] * shape[1] * shape[2] * shape[3];
    const x = tf.tensor4d(xs.slice(fo, fo + size), shape);
    const labels = ys ? tf.tensor1d(ys.slice(lo, lo + shape[0]), 'int32') : undefined;
    fo += size;
    lo += shape[0];
    return { x, ...(labels ? { labels } : {}) };
  });
}

export function serveEvalWorker(port: EvalWorkerPort): void {
  let net: Supernet | undefined;
  let calibration: tf.Tensor4D[] = [];
  let evaluation: LabelledBatch[] = [];

  const start = async (m: EvalWorkerInit) => {
    await initBackend({ force: m.backend });
    net = new Supernet({ space: m.space, ops: createOps(m.opsMode), numClasses: m.numClasses, seed: 0 });
    const mine = [...net.params].map(([name, v]) => `${name}:${v.shape.join('x')}`);
    const theirs = m.layout.map((p) => `${p.name}:${p.shape.join('x')}`);
    if (mine.join(',') !== theirs.join(',')) throw new Error(`the worker's supernet parameters differ from the run's (${mine.length} vs ${theirs.length})`);
    const weights = new Float32Array(m.weights);
    for (const p of m.layout) {
      const v = net.params.get(p.name)!;
      tf.tidy(() => v.assign(tf.tensor(weights.slice(p.offset, p.offset + p.size), p.shape)));
    }
    calibration = batchesOf(m.calibration).map((b) => b.x);
    evaluation = batchesOf(m.evaluation).map((b) => ({ x: b.x, labels: b.labels! }));
  };

  servePoolThread<EvalWorkerInit, EvalWorkerRequest, EvalWorkerDone>(port, start, (m) => {
    if (!net) throw new Error('evaluate before init');
    const n = net;
    const results = m.genomes.map((g) => computedOf(evaluateSubnet(n, g, { calibration, evaluation })));
    return { type: 'done', id: m.id, results, numTensors: tf.memory().numTensors };
  });
}
