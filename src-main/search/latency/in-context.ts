/** The in-context timer: a layer timed inside a whole subnet's forward, so the dispatch between layers is counted. Part of the latency module (index.ts has the overview). */
import * as tf from '@tensorflow/tfjs';
import { extractStatic, type StaticSubnet, Supernet, type Genome, resetStats } from '../../engine';
import { type LatencyClock, clockFn, forcedRun, inputFor, median } from './timing';
import { subnetKeys } from './layer-keys';

/** A static subnet with random weights and reset statistics: latency does not depend on the values. */
export function timingSubnet(net: Supernet, g: Genome): StaticSubnet {
  return extractStatic(net, g, resetStats(net, g));
}

/**
 * A static subnet instrumented for in-context timing: `run()` does one forced forward and returns the time charged
 * to each layer slot (first conv, blocks…, head: `keys`), which sum to the whole forward. Made by `inContextTimer`.
 */
export class InContextTimer {
  readonly keys: string[];
  private readonly x: tf.Tensor4D;
  private readonly slotOf = new Map<string, number>();
  private readonly tensors: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>;

  constructor(
    readonly subnet: StaticSubnet,
    keys: string[],
    batch: number,
    private readonly now: () => number,
  ) {
    this.keys = keys;
    // Static numbering of the blocks (`blocks.<i>.…` in the static subnet's parameter names) → slot.
    const plan = subnet.net.plan(subnet.genome);
    if (plan.blocks.length + 2 !== keys.length) throw new Error('layer keys do not match the static subnet');
    plan.blocks.forEach((b, i) => this.slotOf.set(`blocks.${b.globalIndex}`, i + 1));
    this.x = inputFor(subnet, batch, 1);
    // The statistics on the backend once, as StaticSubnet.forward has them (no per-forward upload).
    this.tensors = new Map([...subnet.stats].map(([name, s]) => [name, { mean: tf.keep(tf.tensor1d(s.mean)), variance: tf.keep(tf.tensor1d(s.variance)) }]));
  }

  private slot(layer: string): number {
    if (layer === 'first.conv') return 0;
    if (!layer.startsWith('blocks.')) return this.keys.length - 1;
    const i = this.slotOf.get(layer.slice(0, layer.indexOf('.', 'blocks.'.length)));
    if (i === undefined) throw new Error(`layer '${layer}' is not a block of the static subnet`);
    return i;
  }

  /** One forward; per-slot ms and the number of clock readings charged to each slot. */
  run(): { ms: number[]; reads: number[] } {
    const ms = new Array<number>(this.keys.length).fill(0);
    const reads = new Array<number>(this.keys.length).fill(0);
    const head = this.keys.length - 1;
    const s = this.subnet;
    let last = this.now();
    const hook = ({ name }: { name: string }) => {
      const t = this.now();
      const i = this.slot(name);
      ms[i] += t - last;
      reads[i]++;
      last = t;
    };
    forcedRun(() => s.net.forward(this.x, s.genome, { bn: { kind: 'running', stats: s.stats, tensors: this.tensors }, hook }));
    ms[head] += this.now() - last;
    reads[head]++;
    return { ms, reads };
  }

  dispose(): void {
    for (const t of this.tensors.values()) tf.dispose([t.mean, t.variance]);
    this.x.dispose();
    this.subnet.dispose();
  }
}

/** An in-context timer for subnet `g` of `net` (random weights, reset statistics); batch default 1, clock 'wall'. */
export function inContextTimer(net: Supernet, g: Genome, opts: { batch?: number; clock?: LatencyClock } = {}): InContextTimer {
  return new InContextTimer(timingSubnet(net, g), subnetKeys(net.space, g, net.numClasses), opts.batch ?? 1, clockFn(opts.clock));
}

/** The cost of one clock reading (ms): the median gap between consecutive readings. */
export function clockCost(now: () => number): number {
  const gaps: number[] = [];
  for (let i = 0; i < 2001; i++) {
    const a = now();
    gaps.push(now() - a);
  }
  return median(gaps);
}
