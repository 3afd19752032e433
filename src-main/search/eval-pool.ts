/**
 * A pool of subnet-evaluation workers: a `SubnetCompute` (subnet-compute.ts) that evaluates up to N genomes at once,
 * one per worker. Worker 0 is the calling thread itself (the search runner's, with the run's supernet and the data
 * it loaded); workers 1…N − 1 are `worker_threads` (eval-worker.ts), each with its own TF.js backend and supernet
 * copy. The checkpoint weights, the calibration batches and the evaluation split are written once into
 * SharedArrayBuffers that every worker reads at start; an evaluation request then carries only genomes. Every
 * worker recalibrates BN itself on the same calibration batches, and evaluation is deterministic on one backend, so
 * a genome's numbers do not depend on which worker computed it: the same as `localSubnetCompute`, bit for bit.
 *
 * A call's genomes are shared out by their cost before anything runs (`assignByCost`: the most MFLOPs first, each to
 * the worker with the least work so far), so one call's workers finish close together; random subnets differ
 * several-fold in cost, and a worker that finishes early idles until the call ends. For the same reason the pool asks
 * for calls of `batch` = 3 × N genomes (the search hands over that many): with more genomes than workers the shares
 * even out. The results come back in the order given. A worker that dies
 * (terminated, crashed, out of memory) fails the call in flight, or the next one, with an error naming it; the
 * pool then stays broken, so a search fails cleanly (its state is saved after every recorded evaluation) and a
 * resume starts a fresh pool.
 */
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { evaluateSubnet, subnetCost, type BackendChoice, type Genome, type OpsMode, type SearchSpace } from '../engine';
import type { EvaluationData, LoadedRun } from './run-subnets';
import { computedOf, type ComputedEvaluation, type SubnetCompute } from './subnet-compute';
import { PoolThread } from '../worker-thread';

/** Where a parameter sits in the shared weights (float32 elements, the supernet's parameter order). */
export interface ParamSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Batches laid end to end in shared memory: images (float32, NHWC) and, for labelled ones, int32 labels. */
export interface SharedBatches {
  shapes: [number, number, number, number][];
  x: SharedArrayBuffer;
  labels?: SharedArrayBuffer;
}

export interface EvalWorkerInit {
  type: 'init';
  worker: number;
  backend: BackendChoice;
  opsMode: OpsMode;
  space: SearchSpace;
  numClasses: number;
  layout: ParamSlot[];
  weights: SharedArrayBuffer;
  calibration: SharedBatches;
  evaluation: SharedBatches;
}

export interface EvalWorkerRequest {
  type: 'evaluate';
  id: number;
  genomes: Genome[];
}

export interface EvalWorkerDone {
  type: 'done';
  id: number;
  results: ComputedEvaluation[];
  numTensors: number;
}

export class EvalPoolError extends Error {
  override name = 'EvalPoolError';
}

export interface EvalPoolOptions {
  /** Workers in all, the calling thread included (≥ 1; 1 = no threads). */
  workers: number;
  /** The built worker script (out/main/eval-worker.js). */
  workerPath: string;
  /** The loaded run: its supernet (worker 0's, and the weights every worker copies), space and ops. */
  run: Pick<LoadedRun, 'net' | 'space' | 'ops'>;
  /** The calibration batches and evaluation split (the pool owns them from now on: `dispose` frees them). */
  data: EvaluationData;
}

interface Slot {
  thread: PoolThread<EvalWorkerRequest, EvalWorkerDone>;
  numTensors?: number;
}

/** Batches as one shared buffer of images (and one of labels), with their shapes. */
function share(batches: { x: tf.Tensor4D; labels?: tf.Tensor1D | Int32Array | number[] }[], labelled: boolean): SharedBatches {
  const shapes = batches.map((b) => b.x.shape as [number, number, number, number]);
  const floats = batches.reduce((a, b) => a + b.x.size, 0);
  const images = batches.reduce((a, b) => a + b.x.shape[0], 0);
  const x = new SharedArrayBuffer(floats * 4);
  const xs = new Float32Array(x);
  const labels = labelled ? new SharedArrayBuffer(images * 4) : undefined;
  const ys = labels ? new Int32Array(labels) : undefined;
  let fo = 0;
  let lo = 0;
  for (const b of batches) {
    xs.set(b.x.dataSync() as Float32Array, fo);
    fo += b.x.size;
    if (ys) {
      const l = b.labels!;
      ys.set(Array.isArray(l) || l instanceof Int32Array ? l : (l.dataSync() as Int32Array), lo);
      lo += b.x.shape[0];
    }
  }
  return { shapes, x, ...(labels ? { labels } : {}) };
}

/**
 * Which genomes each of `workers` workers computes: indices into `costs`, longest-processing-time first (the largest
 * cost goes to the worker with the least cost so far; ties to the lower index, both for costs and workers), each
 * worker's list in the order it received them. Deterministic for the same costs.
 */
export function assignByCost(costs: readonly number[], workers: number): number[][] {
  const order = costs.map((c, i) => ({ c, i })).sort((a, b) => b.c - a.c || a.i - b.i);
  const out: number[][] = Array.from({ length: workers }, () => []);
  const load = new Array<number>(workers).fill(0);
  for (const { c, i } of order) {
    let w = 0;
    for (let k = 1; k < workers; k++) if (load[k] < load[w]) w = k;
    out[w].push(i);
    load[w] += c;
  }
  return out;
}

/** Genomes per call a pool of `workers` asks for (1 without threads; see the module comment). */
export function poolBatch(workers: number): number {
  return workers === 1 ? 1 : 3 * workers;
}

export class EvalPool implements SubnetCompute {
  readonly backend: string;
  readonly concurrency: number;
  readonly batch: number;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private broken?: Error;
  private closing = false;

  private constructor(private readonly o: EvalPoolOptions) {
    this.backend = tf.getBackend();
    this.concurrency = o.workers;
    this.batch = poolBatch(o.workers);
  }

  /** Starts the N − 1 worker threads and waits until each has its supernet and data. */
  static async start(o: EvalPoolOptions): Promise<EvalPool> {
    if (!Number.isInteger(o.workers) || o.workers < 1) throw new EvalPoolError(`an evaluation pool needs at least 1 worker, got ${o.workers}`);
    const pool = new EvalPool(o);
    if (o.workers > 1) {
      try {
        await pool.spawnAll();
      } catch (e) {
        await pool.dispose();
        throw e;
      }
    }
    return pool;
  }

  private async spawnAll(): Promise<void> {
    const net = this.o.run.net;
    let offset = 0;
    const layout: ParamSlot[] = [...net.params].map(([name, v]) => {
      const slot = { name, shape: v.shape.slice(), offset, size: v.size };
      offset += v.size;
      return slot;
    });
    const weights = new SharedArrayBuffer(offset * 4);
    const w = new Float32Array(weights);
    for (const p of layout) w.set(net.params.get(p.name)!.dataSync() as Float32Array, p.offset);
    const base = {
      type: 'init' as const,
      backend: this.backend as BackendChoice,
      opsMode: this.o.run.ops.mode,
      space: this.o.run.space,
      numClasses: net.numClasses,
      layout,
      weights,
      calibration: share(this.o.data.calibration.map((x) => ({ x })), false),
      evaluation: share(this.o.data.evaluation, true),
    };
    await Promise.all(Array.from({ length: this.o.workers - 1 }, (_, i) => this.spawn(i + 1, { ...base, worker: i + 1 })));
  }

  private spawn(index: number, init: EvalWorkerInit): Promise<void> {
    const { thread, ready } = PoolThread.start<EvalWorkerRequest, EvalWorkerDone>(this.o.workerPath, init, {
      name: `evaluation worker ${index}`,
      error: (text) => new EvalPoolError(text),
      onBroken: (e) => (this.broken ??= e),
    });
    this.slots[index - 1] = { thread };
    return ready;
  }

  /** The worker threads (workers 1…N − 1; tests terminate one). */
  get threads(): Worker[] {
    return this.slots.map((s) => s.thread.worker);
  }

  /** Live tensors in each worker thread after its latest request (a leak shows as growth). */
  get workerTensors(): (number | undefined)[] {
    return this.slots.map((s) => s.numTensors);
  }

  async evaluateMany(genomes: readonly Genome[]): Promise<ComputedEvaluation[]> {
    if (this.broken) throw this.broken;
    const n = this.o.workers;
    const { space, net } = this.o.run;
    const plan = assignByCost(genomes.map((g) => subnetCost(space, g, net.numClasses).mflops), n);
    const share = (w: number) => plan[w].map((i) => genomes[i]);
    // Every thread's request first, so they compute while this thread does worker 0's share.
    const replies = this.slots.map((slot, i) => {
      const genomesOf = share(i + 1);
      if (!genomesOf.length) return Promise.resolve([]);
      const req: EvalWorkerRequest = { type: 'evaluate', id: this.nextId++, genomes: genomesOf.map((g) => structuredClone(g)) };
      return slot.thread.request(req).then((d) => {
        slot.numTensors = d.numTensors;
        return d.results;
      });
    });
    // Settle every reply before deciding, so a failure never leaves a request of this call running behind it.
    const settled = Promise.allSettled(replies);
    let own: ComputedEvaluation[] = [];
    let ownError: unknown;
    try {
      const { net } = this.o.run;
      const { calibration, evaluation } = this.o.data;
      own = share(0).map((g) => computedOf(evaluateSubnet(net, g, { calibration, evaluation })));
    } catch (e) {
      ownError = e;
    }
    const results = await settled;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (ownError || failed) throw ownError ?? failed!.reason;
    const byWorker = [own, ...results.map((r) => (r as PromiseFulfilledResult<ComputedEvaluation[]>).value)];
    const out = new Array<ComputedEvaluation>(genomes.length);
    plan.forEach((indices, w) => indices.forEach((i, k) => (out[i] = byWorker[w][k])));
    return out;
  }

  /** Stops the worker threads and frees the data. */
  async dispose(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.broken ??= new EvalPoolError('the evaluation pool is closed');
    this.o.data.dispose();
    await Promise.all(this.slots.map((s) => s?.thread.terminate()));
  }
}
