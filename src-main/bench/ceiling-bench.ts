/**
 * What the machine itself gives two busy threads (`npm run bench -- --parts ceiling`): the bound on any data-parallel
 * speed-up, measured with the same work and no shared anything.
 *
 * Per round, in separate processes of this bench (`--parts bare`): the bare 1-worker sandwich step at the full batch
 * alone; at half the batch alone; and at half the batch in **two processes side by side**. Then
 *  - `pair` = the two processes' images/s summed ÷ one alone at the same batch: what two independent busy threads get
 *    on this machine (2× on two idle physical cores; less where the two vCPUs share a core's caches or pipelines,
 *    or the host lends them to other tenants);
 *  - `split` = images/s at half the batch ÷ at the full batch: what cutting the batch into shards costs per image;
 *  - `bound` = pair × split: the most 2 data-parallel workers can gain over 1 on this machine at that moment
 *    (their shards are half batches computed side by side), before any cost of their own.
 * Rounds alternate which measurement goes first (ABBA). Medians over rounds are reported, with the ranges, because a
 * shared VM drifts by ±15 % within minutes (docs/BENCHMARKS.md).
 */
import { spawn } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { Rng, Supernet, createOps, getSpace, initBackend, sandwichGradients, sandwichMembers, type BackendChoice } from '../engine';
import { median } from './stats';

/** The bare 1-worker sandwich step's median images/s over `steps` steps after one warm-up (`--parts bare`). */
export async function runBareSteps(o: { backend?: BackendChoice; space?: string; batch: number; steps: number }): Promise<number> {
  const report = await initBackend({ force: o.backend ?? 'wasm' });
  const space = getSpace(o.space ?? 'alphanet-cifar32');
  const net = new Supernet({ space, ops: createOps(report.opsMode), seed: 0 });
  const res = space.resolutions[space.resolutions.length - 1];
  const x = tf.randomNormal([o.batch, res, res, space.inputChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: o.batch }, (_, i) => i % space.numClasses), 'int32');
  // The same member sequence in every process, whatever its batch.
  const memberRng = new Rng(0);
  const maskRng = new Rng(1);
  const ms: number[] = [];
  for (let i = 0; i <= o.steps; i++) {
    const t0 = performance.now();
    const r = sandwichGradients(net, x, labels, sandwichMembers(space, memberRng, 4, true), {
      distillation: { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5 },
      regularize: { dropout: 0.2, dropConnect: 0.2, rng: maskRng },
    });
    tf.dispose([...r.grads.values()]);
    if (i > 0) ms.push(performance.now() - t0);
  }
  tf.dispose([x, labels]);
  net.dispose();
  return Number((o.batch / (median(ms) / 1000)).toFixed(2));
}

export interface CeilingRound {
  /** Images/s: alone at the full batch, alone at half, and each of the two side by side at half. */
  full: number;
  half: number;
  pair: [number, number];
  pairRatio: number;
  split: number;
  bound: number;
}

export interface CeilingResult {
  batch: number;
  steps: number;
  rounds: CeilingRound[];
  /** Medians over rounds, and [min, max]. */
  pair: { median: number; range: [number, number] };
  split: { median: number; range: [number, number] };
  bound: { median: number; range: [number, number] };
}

/** Runs `--parts bare` in a child process of this bench and reads its images/s. */
function bareChild(batch: number, steps: number, space: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--parts', 'bare', '--batch', String(batch), '--steps', String(steps), '--space', space], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /^bare images\/s (\S+)$/m.exec(out);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`the bare-step child exited with ${code} and printed: ${out.slice(-300)}`));
    });
  });
}

export async function runCeilingBench(o: { space?: string; batch?: number; steps?: number; rounds?: number; verbose?: boolean }): Promise<CeilingResult> {
  const batch = o.batch ?? 64;
  const steps = o.steps ?? 10;
  const space = o.space ?? 'alphanet-cifar32';
  if (batch % 2 !== 0) throw new Error(`the batch (${batch}) must split into two halves`);
  const half = batch / 2;
  const rounds: CeilingRound[] = [];
  for (let i = 0; i < (o.rounds ?? 4); i++) {
    const alone = async () => ({ full: await bareChild(batch, steps, space), half: await bareChild(half, steps, space) });
    const side = async () => (await Promise.all([bareChild(half, steps, space), bareChild(half, steps, space)])) as [number, number];
    let a: { full: number; half: number };
    let pair: [number, number];
    if (i % 2 === 0) {
      a = await alone();
      pair = await side();
    } else {
      pair = await side();
      a = await alone();
    }
    const pairRatio = (pair[0] + pair[1]) / a.half;
    const split = a.half / a.full;
    const round = { ...a, pair, pairRatio: r3(pairRatio), split: r3(split), bound: r3(pairRatio * split) };
    rounds.push(round);
    if (o.verbose) process.stderr.write(`  ceiling round ${i + 1}: ${JSON.stringify(round)}\n`);
  }
  const stat = (f: (r: CeilingRound) => number) => {
    const xs = rounds.map(f);
    return { median: r3(median(xs)), range: [Math.min(...xs), Math.max(...xs)] as [number, number] };
  };
  return { batch, steps, rounds, pair: stat((r) => r.pairRatio), split: stat((r) => r.split), bound: stat((r) => r.bound) };
}

export function formatCeilingBench(r: CeilingResult): string {
  return [
    `${r.rounds.length} rounds, ${r.steps} steps per process, batch ${r.batch} and ${r.batch / 2}`,
    '| round | alone, full batch img/s | alone, half | two side by side, half | pair (sum ÷ alone) | split (half ÷ full) | bound for 2 workers |',
    '|---|---|---|---|---|---|---|',
    ...r.rounds.map((x, i) => `| ${i + 1} | ${x.full} | ${x.half} | ${x.pair.join(' + ')} | ${x.pairRatio}× | ${x.split} | ${x.bound}× |`),
    `medians: pair ${r.pair.median}× (${r.pair.range.join('–')}), split ${r.split.median} (${r.split.range.join('–')}), bound **${r.bound.median}×** (${r.bound.range.join('–')})`,
  ].join('\n');
}

const r3 = (x: number) => Number(x.toFixed(3));
