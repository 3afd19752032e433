/**
 * Micro-benchmark of the supernet ops at batch-64 shapes of a 32×32 supernet: forward, and forward + backward
 * (for a given dy, gradients wrt every argument except the stem's image), median of `--reps` runs after one warm-up.
 *
 *   npx jiti bench/ops.bench.ts [--backend wasm|cpu] [--mode portable|native] [--kernels on|off] [--reps 5]
 *                               [--batch 64] [--filter depthwise]
 *
 * Defaults: backend wasm, mode portable, kernels on (the WASM SIMD kernels; off = the tf-op formulations), reps 5,
 * batch 64 (the leading dim of every case; the pure-JS cpu backend wants ~8 and --reps 1), no filter. Prints the
 * median and, in brackets, the fastest run (the machine may be shared). jiti comes with vite; any TS runner works.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createOps, type OpsMode, type SupernetOps } from '../src-main/engine/ops';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

interface Case {
  name: string;
  shapes: number[][];
  run: (o: SupernetOps, ...a: tf.Tensor[]) => tf.Tensor;
  /** Arguments whose gradients the backward computes; default all. */
  gradOf?: number[];
}

const cases: Case[] = [];
for (const [n, h, w, cin, cout] of [
  [64, 32, 32, 24, 144],
  [64, 32, 32, 144, 24],
  [64, 16, 16, 40, 240],
  [64, 8, 8, 80, 480],
  [64, 4, 4, 480, 96],
])
  cases.push({ name: `pointwise [${n},${h},${w},${cin}]→${cout}`, shapes: [[n, h, w, cin], [cin, cout]], run: (o, x, wt) => o.pointwise(x as tf.Tensor4D, wt as tf.Tensor2D) });
for (const [n, h, w, c, k, s] of [
  [64, 32, 32, 24, 5, 1],
  [64, 32, 32, 24, 3, 1],
  [64, 32, 32, 144, 5, 2],
  [64, 16, 16, 128, 5, 1],
  [64, 16, 16, 128, 5, 2],
  [64, 8, 8, 288, 5, 1],
  [64, 4, 4, 480, 5, 1],
] as const)
  cases.push({ name: `depthwise [${n},${h},${w},${c}] k${k} s${s}`, shapes: [[n, h, w, c], [k, k, c, 1]], run: (o, x, wt) => o.depthwise(x as tf.Tensor4D, wt as tf.Tensor4D, s) });
// The stem's input is the image: like training, only the weight gradient is asked for.
for (const s of [1, 2] as const)
  cases.push({ name: `conv (stem) [64,32,32,3] k3 s${s} →16`, shapes: [[64, 32, 32, 3], [3, 3, 3, 16]], run: (o, x, wt) => o.conv(x as tf.Tensor4D, wt as tf.Tensor4D, s), gradOf: [1] });
for (const [n, h, w, c] of [
  [64, 32, 32, 24],
  [64, 32, 32, 144],
  [64, 16, 16, 128],
  [64, 8, 8, 288],
  [64, 4, 4, 480],
])
  cases.push({
    name: `batchNormTrain [${n},${h},${w},${c}]`,
    shapes: [[n, h, w, c], [c], [c]],
    run: (o, x, g, b) => o.batchNormTrain(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y,
  });
for (const [n, h, w, c] of [
  [64, 32, 32, 24],
  [64, 16, 16, 40],
  [64, 9, 9, 80],
])
  cases.push({ name: `shortcutPool [${n},${h},${w},${c}]`, shapes: [[n, h, w, c]], run: (o, x) => o.shortcutPool(x as tf.Tensor4D) });
cases.push({ name: 'globalAvgPool [64,4,4,480]', shapes: [[64, 4, 4, 480]], run: (o, x) => o.globalAvgPool(x as tf.Tensor4D) });
for (const [n, h, w, c] of [
  [64, 32, 32, 96],
  [64, 8, 8, 288],
])
  cases.push({ name: `swish [${n},${h},${w},${c}]`, shapes: [[n, h, w, c]], run: (o, x) => o.swish(x) });
cases.push({ name: 'scaleChannels [64,8,8,288]', shapes: [[64, 8, 8, 288], [64, 288]], run: (o, x, s) => o.scaleChannels(x as tf.Tensor4D, s as tf.Tensor2D) });
cases.push({ name: 'matMul [64,576]×[576,640]', shapes: [[64, 576], [576, 640]], run: (o, a, b) => o.matMul(a as tf.Tensor2D, b as tf.Tensor2D) });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function timeIt(reps: number, f: () => void): [number, number] {
  f(); // warm-up: the WASM heap grows once, kernels set up
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return [median(ts), Math.min(...ts)];
}

const fmt = ([med, min]: [number, number]) => `${med.toFixed(1)} (${min.toFixed(1)})`.padStart(16);

async function main() {
  const backend = arg('backend', 'wasm');
  const mode = arg('mode', 'portable') as OpsMode;
  const reps = Number(arg('reps', '5'));
  const filter = arg('filter', '');
  const batch = Number(arg('batch', '64'));
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  const kernels = arg('kernels', 'on') !== 'off';
  const ops = createOps(mode, { wasmKernels: kernels });
  console.log(`backend ${tf.getBackend()}, mode ${mode}, kernels ${kernels ? 'on' : 'off'}, batch ${batch}; ms, median (min) of ${reps}`);
  console.log(`${'op'.padEnd(44)} ${'fwd'.padStart(16)} ${'fwd+bwd'.padStart(16)}`);
  let totFwd = 0;
  let totBoth = 0;
  for (const c of cases) {
    if (filter && !c.name.includes(filter)) continue;
    // Every case's batch dimension is its first, written as 64 above.
    const args = c.shapes.map((s) => tf.randomNormal(s[0] === 64 ? [batch, ...s.slice(1)] : s));
    const gradOf = c.gradOf ?? args.map((_, i) => i);
    const f = (...a: tf.Tensor[]) => c.run(ops, ...a);
    // The function differentiated: the arguments in gradOf vary, the others are held fixed.
    const fg = (...g: tf.Tensor[]) => f(...args.map((t, i) => (gradOf.includes(i) ? g[gradOf.indexOf(i)] : t)));
    const yShape = tf.tidy(() => f(...args).shape);
    const dy = tf.randomNormal(yShape);
    // wasm and cpu run kernels synchronously; elsewhere read back a scalar to wait for the work. (Not a 1-element
    // tf.slice: on wasm, Slice copies its whole input out to JS first.)
    const sync = ['wasm', 'cpu'].includes(tf.getBackend()) ? () => {} : (t: tf.Tensor) => void tf.sum(t).dataSync();
    const fwd = timeIt(reps, () => tf.tidy(() => void sync(f(...args))));
    const both = timeIt(reps, () =>
      tf.tidy(() => {
        const gs = tf.grads(fg)(gradOf.map((i) => args[i]), dy);
        gs.forEach((g) => sync(g));
      }),
    );
    totFwd += fwd[0];
    totBoth += both[0];
    console.log(`${c.name.replace(/\[64,/g, `[${batch},`).padEnd(44)} ${fmt(fwd)} ${fmt(both)}`);
    tf.dispose([...args, dy]);
  }
  console.log(`${'total of medians'.padEnd(44)} ${totFwd.toFixed(1).padStart(16)} ${totBoth.toFixed(1).padStart(16)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
