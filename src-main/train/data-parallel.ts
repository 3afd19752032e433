/**
 * Data-parallel sandwich steps (docs/METHOD.md §2): the leader — the trainer's own thread, which keeps the weights, the
 * optimizer, checkpoints and the NaN guard — plus N − 1 worker threads (shard-worker.ts), each with its own TF.js
 * backend and supernet replica. Per step:
 *   1. the leader writes its current weights into a SharedArrayBuffer (when they changed since the last step) and
 *      each worker's shard of the batch into that worker's input buffers;
 *   2. every worker, and the leader on shard 0, runs the same sandwich members (drawn once, by the leader's RNG) on
 *      its shard: per-shard batch-norm statistics, each shard's losses its own batch means (as DDP); drop masks
 *      come from one seed per step drawn from the leader's regularisation stream, mixed with the shard index;
 *   3. workers write their summed gradients into their own slot of shared memory (no tensors are serialised);
 *   4. the leader averages the N shards' gradients in a fixed order (shard 0, 1, …: deterministic) and returns them
 *      to the trainer, which clips them and makes the one optimizer update.
 * Replicas never update weights themselves, so they cannot drift: they load the leader's weights before each step.
 *
 * A worker that dies (terminated, crashed, out of memory) fails the pending step with an error naming it; the pool
 * is then broken and every later step fails too, so the run fails cleanly and can be resumed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { PoolThread, processCpuMs, threadSchedstat } from '../worker-thread';
import * as tf from '@tensorflow/tfjs';
import {
  Rng,
  copyTensorInto,
  sandwichGradients,
  tensorFrom,
  type BackendChoice,
  type Distillation,
  type MemberResult,
  type OpsMode,
  type SandwichMember,
  type SandwichOptions,
  type SandwichResult,
  type SearchSpace,
  type Supernet,
} from '../engine';

/** Where a parameter sits in the shared weight and gradient buffers (float32 elements). */
export interface ParamSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface ShardInit {
  type: 'init';
  shard: number;
  backend: BackendChoice;
  opsMode: OpsMode;
  space: SearchSpace;
  numClasses: number;
  layout: ParamSlot[];
}

export interface ShardStep {
  type: 'step';
  id: number;
  shard: number;
  members: SandwichMember[];
  labelSmoothing?: number;
  distillation: Distillation;
  regularize?: { dropout: number; dropConnect: number; seed: number };
  images: number;
  imageShape: [number, number, number];
  /** Shared buffers: the weights (all parameters, layout order), this shard's images and labels, its gradient slot. */
  weights: SharedArrayBuffer;
  weightsVersion: number;
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  /** One byte per parameter: 1 when the shard has a gradient for it. */
  present: SharedArrayBuffer;
  /** Tests: reply with a hash of the replica's weights. */
  hash?: boolean;
  /** Tests: exit the thread in the middle of this step. */
  crash?: boolean;
}

export interface ShardDone {
  type: 'done';
  id: number;
  members: MemberResult[];
  numTensors: number;
  peakBytes: number;
  hash?: string;
  /**
   * Where the worker's step went, ms: loading the weights, the sandwich computation, writing the gradients; and during
   * the computation, the thread's time on a CPU and waiting for one (Linux; 0 elsewhere).
   */
  timing: ShardTiming;
}

export interface ShardTiming {
  loadMs: number;
  computeMs: number;
  writeMs: number;
  computeCpuMs: number;
  computeWaitMs: number;
}

/**
 * Where the leader's latest step went, ms (the bench reports them): publishing the weights and shards, its own
 * shard's sandwich computation, waiting for the workers after it, averaging; and each worker's own phases.
 */
export interface StepTiming {
  publishMs: number;
  ownMs: number;
  waitMs: number;
  averageMs: number;
  /** The leader's own shard: its thread's time on a CPU and waiting for one (Linux; 0 elsewhere). */
  ownCpuMs: number;
  ownWaitMs: number;
  /** CPU time of the whole process during the step, every thread (V8's GC threads included). */
  processCpuMs: number;
  workers: ShardTiming[];
}

export class DataParallelError extends Error {
  override name = 'DataParallelError';
}

/** What a worker reported about itself after its latest step. */
export interface WorkerStats {
  shard: number;
  numTensors: number;
  /** High-water mark of its memory (the WASM heap on wasm), bytes. */
  peakBytes: number;
  hash?: string;
}

/**
 * The built worker script: `$ALPHANET_TRAIN_WORKER`, else next to the running bundle (out/main/runner.js) or its
 * chunk folder, else the repository's out/main/ (unit tests run from source). Found here rather than through the job queue's lookup, which
 * belongs to a layer above training.
 */
export function trainWorkerPath(env: NodeJS.ProcessEnv = process.env): string {
  // out/main/ itself, or its chunks/ folder when this module is a chunk shared by several bundles.
  const candidates = [env.ALPHANET_TRAIN_WORKER, join(__dirname, 'train-worker.js'), join(__dirname, '..', 'train-worker.js'), join(__dirname, '..', '..', 'out', 'main', 'train-worker.js')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new DataParallelError(`the training worker (out/main/train-worker.js) is missing; run \`npm run build\` first (looked in: ${candidates.filter(Boolean).join(', ')})`);
}

interface Slot {
  thread: PoolThread<ShardStep, ShardDone>;
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  present: SharedArrayBuffer;
  stats?: WorkerStats;
}

export interface DataParallelOptions {
  /** Total shards, the leader's included (≥ 2). */
  workers: number;
  /** The built worker script (out/main/train-worker.js). */
  workerPath: string;
  net: Supernet;
  space: SearchSpace;
  backend: BackendChoice;
  opsMode: OpsMode;
  /** Reply with replica weight hashes (tests). */
  hashWeights?: boolean;
}

export class DataParallel {
  readonly workers: number;
  private readonly slots: Slot[] = [];
  private readonly layout: ParamSlot[];
  private readonly weights: SharedArrayBuffer;
  private weightsVersion = 0;
  private nextId = 1;
  private broken?: Error;
  private readonly hashWeights: boolean;
  /** The phases of the latest step. */
  lastTiming?: StepTiming;
  /** Test hook (config `debug.workerExitAtSteps`): worker 1 exits in the middle of the next step. */
  crashNextStep = false;

  private constructor(private readonly o: DataParallelOptions) {
    this.workers = o.workers;
    this.hashWeights = o.hashWeights ?? false;
    let offset = 0;
    this.layout = [...o.net.params].map(([name, v]) => {
      const slot = { name, shape: v.shape.slice(), offset, size: v.size };
      offset += v.size;
      return slot;
    });
    this.weights = new SharedArrayBuffer(offset * 4);
  }

  /** Starts the N − 1 worker threads and waits until each has built its replica. */
  static async start(o: DataParallelOptions): Promise<DataParallel> {
    if (!Number.isInteger(o.workers) || o.workers < 2) throw new DataParallelError(`a data-parallel pool needs at least 2 workers, got ${o.workers}`);
    const pool = new DataParallel(o);
    try {
      await Promise.all(Array.from({ length: o.workers - 1 }, (_, i) => pool.spawn(i + 1)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private spawn(shard: number): Promise<void> {
    const params = this.layout.reduce((a, p) => a + p.size, 0);
    const init: ShardInit = { type: 'init', shard, backend: this.o.backend, opsMode: this.o.opsMode, space: this.o.space, numClasses: this.o.net.numClasses, layout: this.layout };
    const { thread, ready } = PoolThread.start<ShardStep, ShardDone>(this.o.workerPath, init, {
      name: `training worker ${shard}`,
      error: (text) => new DataParallelError(text),
      onBroken: (e) => (this.broken ??= e),
    });
    this.slots[shard - 1] = {
      thread,
      x: new SharedArrayBuffer(4),
      y: new SharedArrayBuffer(4),
      grads: new SharedArrayBuffer(params * 4),
      present: new SharedArrayBuffer(this.layout.length),
    };
    return ready;
  }

  /** The worker threads (tests kill one). */
  get threads(): Worker[] {
    return this.slots.map((s) => s.thread.worker);
  }

  /** Each worker's latest report (shard ≥ 1; the leader is shard 0). */
  get stats(): WorkerStats[] {
    return this.slots.flatMap((s) => (s.stats ? [s.stats] : []));
  }

  /**
   * The sandwich gradients of one batch, averaged over N equal shards: the same result type as the engine's
   * `sandwichGradients` on the whole batch (member losses are the mean of the shards' batch means). `regularize.rng`
   * gives one draw per step. The caller disposes the returned gradients.
   */
  async gradients(net: Supernet, x: tf.Tensor4D, labels: tf.Tensor1D, members: SandwichMember[], opts: SandwichOptions): Promise<SandwichResult> {
    if (this.broken) throw this.broken;
    const n = this.workers;
    const batch = x.shape[0];
    if (batch % n !== 0) throw new DataParallelError(`a batch of ${batch} does not split into ${n} equal shards`);
    const per = batch / n;
    const [, h, w, c] = x.shape;
    // Shards draw their own masks from one seed; a replay's given masks (one list for the whole batch) do not split.
    if (opts.regularize && !('rng' in opts.regularize)) throw new DataParallelError('given keep masks run on one thread only');
    const seed = opts.regularize ? opts.regularize.rng.nextUint32() : 0;
    const regularize = opts.regularize ? { dropout: opts.regularize.dropout, dropConnect: opts.regularize.dropConnect, seed } : undefined;

    const t0 = performance.now();
    const p0 = processCpuMs();
    this.publishWeights(net);
    const xs = x.dataSync() as Float32Array;
    const ys = labels.dataSync() as Int32Array;
    const imageFloats = per * h * w * c;
    const replies = this.slots.map((slot, i) => {
      const shard = i + 1;
      if (slot.x.byteLength < imageFloats * 4) slot.x = new SharedArrayBuffer(imageFloats * 4);
      if (slot.y.byteLength < per * 4) slot.y = new SharedArrayBuffer(per * 4);
      new Float32Array(slot.x).set(xs.subarray(shard * imageFloats, (shard + 1) * imageFloats));
      new Int32Array(slot.y).set(ys.subarray(shard * per, (shard + 1) * per));
      const msg: ShardStep = {
        type: 'step',
        id: this.nextId++,
        shard,
        members,
        labelSmoothing: opts.labelSmoothing,
        distillation: opts.distillation,
        regularize,
        images: per,
        imageShape: [h, w, c],
        weights: this.weights,
        weightsVersion: this.weightsVersion,
        x: slot.x,
        y: slot.y,
        grads: slot.grads,
        present: slot.present,
        hash: this.hashWeights,
        crash: this.crashNextStep && shard === 1,
      };
      return slot.thread.request(msg).then((d) => {
        slot.stats = { shard, numTensors: d.numTensors, peakBytes: d.peakBytes, hash: d.hash };
        return d;
      });
    });
    this.crashNextStep = false;
    // Settle every reply before deciding, so no worker is still writing its slot when the step fails.
    const settled = Promise.allSettled(replies);
    const t1 = performance.now();
    const s1 = threadSchedstat();

    // Shard 0 on this thread, while the workers run theirs.
    let own: SandwichResult | undefined;
    let ownError: unknown;
    const x0 = tf.slice(x, 0, per);
    const y0 = tf.slice(labels, 0, per);
    try {
      own = sandwichGradients(net, x0, y0, members, {
        labelSmoothing: opts.labelSmoothing,
        distillation: opts.distillation,
        ...(regularize ? { regularize: { dropout: regularize.dropout, dropConnect: regularize.dropConnect, rng: Rng.fromSeeds(seed, 0) } } : {}),
      });
    } catch (e) {
      ownError = e;
    } finally {
      tf.dispose([x0, y0]);
    }
    const t2 = performance.now();
    const s2 = threadSchedstat();
    const results = await settled;
    const t3 = performance.now();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (ownError || failed) {
      if (own) tf.dispose([...own.grads.values()]);
      throw ownError ?? failed!.reason;
    }
    const done = results.map((r) => (r as PromiseFulfilledResult<ShardDone>).value);
    const grads = this.average(own!, n);
    const t4 = performance.now();
    const p4 = processCpuMs();
    this.lastTiming = {
      publishMs: t1 - t0,
      ownMs: t2 - t1,
      waitMs: t3 - t2,
      averageMs: t4 - t3,
      ownCpuMs: s1 && s2 ? s2.cpuMs - s1.cpuMs : 0,
      ownWaitMs: s1 && s2 ? s2.waitMs - s1.waitMs : 0,
      processCpuMs: p4 - p0,
      workers: done.map((d) => d.timing),
    };
    return { grads, members: averageMembers([own!.members, ...done.map((d) => d.members)]) };
  }

  /** Copies the leader's weights into shared memory. Every step: the optimizer changed them since the last one. */
  private publishWeights(net: Supernet): void {
    const buf = new Float32Array(this.weights);
    for (const p of this.layout) copyTensorInto(net.params.get(p.name)!, buf, p.offset);
    this.weightsVersion++;
  }

  /**
   * Mean of shard 0 (the leader's tensors, disposed here) and every worker's slot: float32 sums in shard order (0, 1,
   * …), then one division by N, each rounded as float32 — deterministic. Computed by the backend's kernels on
   * copies of the slots (no JS arrays per step: see engine/tensor-memory.ts).
   */
  private average(own: SandwichResult, n: number): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    const slots = this.slots.map((s) => ({ grads: new Float32Array(s.grads), present: new Uint8Array(s.present) }));
    try {
      this.layout.forEach((p, i) => {
        const g = own.grads.get(p.name);
        const others = slots.filter((s) => s.present[i] === 1).length;
        // Every shard runs the same members, so each uses the same parameters.
        if ((g ? 1 : 0) !== (others === slots.length ? 1 : 0) || (others !== 0 && others !== slots.length)) {
          throw new DataParallelError(`shards disagree on whether '${p.name}' has a gradient`);
        }
        if (!g) return;
        out.set(
          p.name,
          tf.tidy(() => {
            let sum: tf.Tensor = g;
            for (const s of slots) sum = tf.add(sum, tensorFrom(s.grads.subarray(p.offset, p.offset + p.size), p.shape));
            return tf.div(sum, n);
          }),
        );
      });
    } catch (e) {
      tf.dispose([...out.values()]);
      throw e;
    } finally {
      tf.dispose([...own.grads.values()]);
    }
    return out;
  }

  /** Stops every worker thread. */
  async close(): Promise<void> {
    this.broken ??= new DataParallelError('the data-parallel pool is closed');
    await Promise.all(this.slots.map((s) => s?.thread.terminate()));
  }
}

/** Per member: the mean over shards of each shard's own numbers (every shard has the same members in the same order). */
export function averageMembers(shards: MemberResult[][]): MemberResult[] {
  const n = shards.length;
  const mean = (f: (m: MemberResult) => number | undefined, i: number): number | undefined => {
    const xs = shards.map((s) => f(s[i]));
    return xs.some((v) => v === undefined) ? undefined : xs.reduce((a, b) => a! + b!, 0)! / n;
  };
  return shards[0].map((m, i) => {
    const share = mean((s) => s.alphaMinShare, i);
    const div = mean((s) => s.divergence, i);
    return {
      role: m.role,
      loss: mean((s) => s.loss, i)!,
      ...(share !== undefined ? { alphaMinShare: share } : {}),
      ...(div !== undefined ? { divergence: div } : {}),
    };
  });
}
