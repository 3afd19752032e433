/**
 * `npm run bench`: every part of the product's benchmark, each selectable with `--parts`:
 * - engine: for each backend that loads, ms per forward+backward of the min and max subnets and of one sandwich step
 *   (max + 2 random + min, summed gradients) on a 32×32 space at batch 64, with images/s and the achieved GFLOP/s;
 * - data: dataset import times and loader throughput (src-main/bench/data-bench.ts);
 * - search: evaluated subnets per minute and the latency table's build time and error (search-bench.ts);
 * - train: images/s of the full trainer (data, logging, checkpoints) against the bare sandwich step (train-bench.ts);
 * - parallel: the same with 1, 2, … data-parallel workers (speed-up, efficiency, trainer share, peak memory per
 *   worker) and a 1,000-step tensor-leak check across the workers (parallel-bench.ts; not in the default parts: long);
 * - ceiling: what this machine gives two busy threads — independent processes alone and side by side — and so the
 *   most 2 data-parallel workers can gain (ceiling-bench.ts; not in the default parts; `bare` is its child);
 * - evaluate: evaluated subnets per minute with 1, 2, … evaluation workers, as a search runs them (evaluate-bench.ts;
 *   not in the default parts);
 * - explorer: the Pareto explorer's hover latency and pan/zoom frame times at 10,000 points in Chromium (explorer-bench.ts);
 * - predictor: on a trained 32×32 run (`--home`/`--run`, or one it trains), the accuracy predictor's held-out τ and
 *   the front hypervolume of plain vs predictor-guided evolution per real evaluation (predictor-bench.ts; not in the
 *   default parts: it evaluates hundreds of subnets);
 * - torch: the overhead of tracking a torch run, against the same command run by hand (torch-bench.ts; not in the
 *   default parts: it needs a Python with torch, and takes a few minutes);
 * - torch-cpu: the torch engine's step on the CPU with glibc's malloc as it comes and as the engine tunes it
 *   (torch-cpu-bench.ts; not in the default parts, for the same reasons).
 * Results go to stdout and, with `--json <file>`, to a file (docs/BENCHMARKS.md quotes them).
 *
 * GFLOP/s convention: a training pass costs ≈ 3× the forward MACs (forward, plus input and weight gradients) and a
 * MAC is 2 FLOPs, so GFLOP/s = 6 · MACs · batch / seconds / 1e9, summed over the subnets of the step.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import {
  BACKENDS,
  Rng,
  Supernet,
  createOps,
  getSpace,
  initBackend,
  labelSmoothedCrossEntropy,
  maxGenome,
  minGenome,
  sandwichGradients,
  sandwichMembers,
  subnetCost,
  type BackendChoice,
  type Genome,
} from '../engine';
import { runDataBench } from './data-bench';
import { formatExplorerBench, runExplorerBench } from './explorer-bench';
import { formatSearchBench, runSearchBench } from './search-bench';
import { benchTrainer } from './train-bench';
import { formatParallelBench, runParallelBench } from './parallel-bench';
import { formatEvaluateBench, runEvaluateBench } from './evaluate-bench';
import { formatCeilingBench, runBareSteps, runCeilingBench } from './ceiling-bench';
import { formatPredictorBench, runPredictorBench } from './predictor-bench';
import { formatTorchBench, runTorchBench } from './torch-bench';
import { formatTorchCpuBench, runTorchCpuBench } from './torch-cpu-bench';

interface Row {
  backend: string;
  opsMode: string;
  batch: number;
  case: string;
  msMedian: number;
  msMin: number;
  imagesPerSec: number;
  gflops: number;
  mflopsForward: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function benchBackend(backend: BackendChoice, spaceId: string, batch: number, reps: number): Promise<Row[]> {
  const report = await initBackend({ force: backend });
  const space = getSpace(spaceId);
  const net = new Supernet({ space, ops: createOps(report.opsMode), seed: 0 });
  const res = space.resolutions[space.resolutions.length - 1];
  const x = tf.randomNormal([batch, res, res, space.inputChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % space.numClasses), 'int32');
  const vars = [...net.params.values()];
  const rng = new Rng(0);
  const rows: Row[] = [];

  const time = (name: string, macs: number, fn: () => void) => {
    fn(); // warm-up: kernel compilation, WASM heap growth
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      fn();
      ms.push(performance.now() - t0);
    }
    const m = median(ms);
    rows.push({
      backend,
      opsMode: report.opsMode,
      batch,
      case: name,
      msMedian: Math.round(m),
      msMin: Math.round(Math.min(...ms)),
      imagesPerSec: Number(((batch * 1000) / m).toFixed(1)),
      gflops: Number(((6 * macs * batch) / (m / 1000) / 1e9).toFixed(2)),
      mflopsForward: Number((macs / 1e6).toFixed(2)),
    });
    process.stderr.write(`  ${backend} ${name}: ${Math.round(m)} ms\n`);
  };
  const single = (g: Genome) => () => {
    const { value, grads } = tf.variableGrads(() => labelSmoothedCrossEntropy(net.forward(x, g), labels, net.numClasses), vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  time('min subnet fwd+bwd', subnetCost(space, minGenome(space)).macs, single(minGenome(space)));
  time('max subnet fwd+bwd', subnetCost(space, maxGenome(space)).macs, single(maxGenome(space)));
  // The sandwich members differ every step, as in training; the MACs are those of the members actually run.
  let sandwichMacs = 0;
  let steps = 0;
  time('sandwich step (max + 2 random + min)', 0, () => {
    const members = sandwichMembers(space, rng, 4, true);
    sandwichMacs += members.reduce((a, m) => a + subnetCost(space, m.genome).macs, 0);
    steps++;
    const r = sandwichGradients(net, x, labels, members, {
      distillation: { kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5 },
      regularize: { dropout: 0.2, dropConnect: 0.2, rng },
    });
    tf.dispose([...r.grads.values()]);
  });
  const last = rows[rows.length - 1];
  const avgMacs = sandwichMacs / steps;
  last.mflopsForward = Number((avgMacs / 1e6).toFixed(2));
  last.gflops = Number(((6 * avgMacs * batch) / (last.msMedian / 1000) / 1e9).toFixed(2));
  tf.dispose([x, labels]);
  net.dispose();
  return rows;
}

async function main() {
  const program = new Command()
    .name('bench')
    .description('AlphaNet Workbench benchmark: engine, data, search, train, parallel, evaluate, explorer, torch, predictor')
    .addOption(new Option('--parts <list>', 'comma-separated parts to run').default('engine,data,search,train,explorer'))
    .addOption(new Option('--backends <list>', 'engine: comma-separated backends to try').default(BACKENDS.join(',')))
    .option('--space <id>', 'engine, torch-cpu: search space', 'alphanet-cifar32')
    .option('--batch <n>', 'engine, torch-cpu: batch size', (v) => Number(v), 64)
    .option('--cpu-batch <n>', 'engine: batch size on the pure-JS cpu backend', (v) => Number(v), 64)
    .option('--reps <n>', 'engine: timed repetitions after one warm-up (median reported; 1 on cpu)', (v) => Number(v), 3)
    .option('--workers <list>', 'parallel, evaluate: comma-separated worker counts (parallel default: 1, 2 and powers of two up to the cores; evaluate: 1,2)')
    .option('--steps <n>', 'parallel: timed steps per measurement after one warm-up (median reported)', (v) => Number(v), 6)
    .option('--interleave', 'parallel: one process alternates 1-worker and N-worker steps on the same members (the speed-up without the machine\'s drift); --steps pairs')
    .option('--rounds <n>', 'ceiling: rounds (alone and side by side, alternating)', (v) => Number(v), 4)
    .option('--leak-steps <n>', 'parallel: steps of the tensor-leak check (0: skip)', (v) => Number(v), 1000)
    .option('--torch-steps <n>', 'torch: training steps of each run', (v) => Number(v), 30)
    .option('--torch-repeats <n>', 'torch: tracked / by-hand pairs (medians reported)', (v) => Number(v), 3)
    .option('--torch-cpu-steps <n>', 'torch-cpu: training steps of each run (the first 2 untimed)', (v) => Number(v), 40)
    .option('--torch-cpu-rounds <n>', 'torch-cpu: runs of each malloc setting, alternating', (v) => Number(v), 3)
    .option('--torch-cpu-val-images <n>', 'torch-cpu: images of the validation that ends each run (0: none)', (v) => Number(v), 2560)
    .option('--home <dir>', 'predictor: data directory of a trained run to reuse (default: a new one, where it trains a run)')
    .option('--run <id>', 'predictor: the finished run of --home to reuse', (v) => Number(v))
    .option('--samples <n>', 'predictor: evaluated subnets the predictor is built on, held-out ones included', (v) => Number(v), 500)
    .option('--held-out <n>', 'predictor: subnets held out for τ', (v) => Number(v), 100)
    .option('--samplers <n>', 'predictor: processes evaluating the predictor\'s random subnets side by side', (v) => Number(v), 1)
    .option('--seeds <list>', 'predictor: comma-separated search seeds, each run plain and guided', '1,2')
    .option('--population <n>', 'predictor: searches\' initial population', (v) => Number(v), 16)
    .option('--mutate <n>', 'predictor: searches\' mutations per generation', (v) => Number(v), 8)
    .option('--crossover <n>', 'predictor: searches\' crossovers per generation', (v) => Number(v), 8)
    .option('--generations <n>', 'predictor: searches\' generations', (v) => Number(v), 10)
    .option('--search-workers <n>', 'predictor: evaluation workers of each search (the results do not depend on it)', (v) => Number(v), 1)
    .option('--screen <n>', 'predictor: candidates the predictor scores per real evaluation', (v) => Number(v), 8)
    .option('--deadline <min>', 'predictor: pause the searches still running after this many minutes and report them as far as they got', (v) => Number(v))
    .option('--side-by-side', 'predictor: plain searches alongside the build, guided ones alongside each other (faster; wall times shared)')
    .option('--json <file>', 'also write all results as JSON')
    .parse(process.argv);
  const o = program.opts<{
    parts: string; backends: string; space: string; batch: number; cpuBatch: number; reps: number; workers?: string; steps: number; leakSteps: number; interleave?: boolean; rounds: number; torchSteps: number; torchRepeats: number; torchCpuSteps: number; torchCpuRounds: number; torchCpuValImages: number; json?: string;
    home?: string; run?: number; samples: number; heldOut: number; samplers: number; seeds: string; population: number; mutate: number; crossover: number; generations: number; screen: number; searchWorkers: number; sideBySide?: boolean; deadline?: number;
  }>();
  const parts = new Set(o.parts.split(','));
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.versions.node}`;
  const out: Record<string, unknown> = { machine, date: new Date().toISOString() };

  if (parts.has('engine')) {
    const rows: Row[] = [];
    const skipped: string[] = [];
    for (const b of o.backends.split(',') as BackendChoice[]) {
      try {
        await initBackend({ force: b });
      } catch (e) {
        skipped.push(`${b}: ${(e as Error).message.split('\n').slice(1).join(' ').trim()}`);
        continue;
      }
      rows.push(...(await benchBackend(b, o.space, b === 'cpu' ? o.cpuBatch : o.batch, b === 'cpu' ? 1 : o.reps)));
    }
    console.log(`\n## engine — ${o.space}, ${machine}`);
    console.table(rows.map((r) => ({ backend: `${r.backend} (${r.opsMode})`, batch: r.batch, case: r.case, 'ms (median)': r.msMedian, 'ms (best)': r.msMin, 'img/s': r.imagesPerSec, 'GFLOP/s': r.gflops, 'fwd MFLOPs': r.mflopsForward })));
    for (const s of skipped) console.log(`skipped ${s}`);
    console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    out.engine = { space: o.space, rows, skipped };
  }
  if (parts.has('data')) {
    await initBackend({ force: 'wasm' });
    const rows = await runDataBench();
    console.log('\n## data');
    console.table(rows.map((r) => ({ case: r.case, value: r.value, unit: r.unit, target: r.target ?? '', ok: r.ok ?? '', note: r.note })));
    out.data = rows;
  }
  if (parts.has('search')) {
    const r = await runSearchBench({ spaceId: o.space });
    console.log(`\n## search\n${formatSearchBench(r)}`);
    out.search = r;
  }
  if (parts.has('train')) {
    const r = await benchTrainer({ space: o.space, batch: o.batch, verbose: false });
    console.log('\n## train');
    console.table([{ 'bare step img/s': r.bareImagesPerSec, 'trainer img/s': r.trainerImagesPerSec, 'trainer / bare': r.ratio, 'in sandwich step': r.sandwichShare, 'persistence share': r.persistShare, 'checkpoint ms': r.checkpointMs, 'checkpoint MiB': r.checkpointMiB }]);
    out.train = r;
  }
  if (parts.has('parallel')) {
    const r = await runParallelBench({ space: o.space, batch: o.batch, workers: o.workers?.split(',').map(Number), steps: o.steps, interleave: o.interleave, leakSteps: o.leakSteps, verbose: true });
    console.log(`\n## parallel — ${o.space}, batch ${o.batch}\n${formatParallelBench(r)}`);
    out.parallel = r;
  }
  if (parts.has('bare')) {
    // The ceiling bench's child: one line it parses.
    console.log(`bare images/s ${await runBareSteps({ space: o.space, batch: o.batch, steps: o.steps })}`);
  }
  if (parts.has('ceiling')) {
    const r = await runCeilingBench({ space: o.space, batch: o.batch, steps: o.steps, rounds: o.rounds, verbose: true });
    console.log(`\n## ceiling — what two busy threads get on this machine\n${formatCeilingBench(r)}`);
    out.ceiling = r;
  }
  if (parts.has('evaluate')) {
    const r = await runEvaluateBench({ space: o.space, workers: o.workers?.split(',').map(Number), verbose: true });
    console.log(`\n## evaluate — evaluated subnets per minute\n${formatEvaluateBench(r)}`);
    out.evaluate = r;
  }
  if (parts.has('explorer')) {
    const r = await runExplorerBench();
    console.log(`\n## explorer\n${formatExplorerBench(r)}`);
    out.explorer = r;
  }
  if (parts.has('torch')) {
    const r = await runTorchBench({ steps: o.torchSteps, repeats: o.torchRepeats });
    if (r) console.log(`\n## torch tracking overhead\n${formatTorchBench(r)}`);
    out.torch = r ?? null;
  }
  if (parts.has('torch-cpu')) {
    const r = await runTorchCpuBench({ space: o.space, batch: o.batch, steps: o.torchCpuSteps, rounds: o.torchCpuRounds, valImages: o.torchCpuValImages });
    if (r) console.log(`\n## torch engine on the CPU: glibc's malloc, default and tuned\n${formatTorchCpuBench(r)}`);
    out.torchCpu = r ?? null;
  }
  if (parts.has('predictor')) {
    const r = await runPredictorBench({
      cli: resolve('out/main/cli.js'),
      home: o.home,
      run: o.run,
      samples: o.samples,
      heldOut: o.heldOut,
      samplers: o.samplers,
      seeds: o.seeds.split(',').map(Number),
      population: o.population,
      mutate: o.mutate,
      crossover: o.crossover,
      generations: o.generations,
      screen: o.screen,
      searchWorkers: o.searchWorkers,
      parallel: o.sideBySide ?? false,
      deadlineMin: o.deadline,
      log: (l) => process.stderr.write(`  ${l}\n`),
    });
    console.log(`\n## predictor\n${formatPredictorBench(r)}`);
    out.predictor = r;
  }
  if (o.json) writeFileSync(o.json, JSON.stringify(out, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
