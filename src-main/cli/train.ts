/**
 * `alphanet train` and `alphanet runs …`: start a training run in a runner process and watch it, and list, inspect,
 * export the metrics of, pause, resume, cancel and delete runs. Runs live in the home's SQLite database, so the desktop app sees the same
 * runs, and `runs pause|cancel` reach a run trained by another process (through the run's `control` column).
 */
import { jobCores } from '../settings';
import { Option, type Command } from 'commander';
import { RUN_STATUSES, getRun, listCheckpoints, listEpochMetrics, listRunEvents, listRuns, listStepMetrics, type RunRow, type RunStatus } from '../store/runs';
import { RunManager } from '../jobs/run-manager';
import type { RunnerToParent } from '../jobs/run-messages';
import { idArg, nonNegInt, number, positiveInt, readJson, workersArg } from './args';
import type { CliContext } from './context';
import { CliError } from './errors';
import { duration, pct } from './format';
import { writeFileAtomic } from '../atomic-files';
import { describeFsError } from '../fs-errors';
import { metricsExport } from '../service/metrics-export';
import { bestMaxTop1, runMetricsView, runSummary } from '../service/views';
import { torchProbeCacheFile, torchReport, torchRunProblem } from '../jobs/python';

/** One line per progress / epoch / event message. */
export function formatRunnerMessage(m: RunnerToParent): string | undefined {
  switch (m.type) {
    case 'progress': {
      const losses = m.losses.map((l) => `${l.role === 'random' ? 'r' : l.role} ${l.loss === null ? 'nan' : l.loss.toFixed(3)}`).join(' ');
      const alpha = m.alphaMinShare === null ? '' : ` | α₋ ${pct(m.alphaMinShare)}`;
      const bad = m.nonFinite ? ` | non-finite ${m.nonFinite}, rollbacks ${m.rollbacks}` : '';
      const workers = m.workers && m.workers > 1 ? ` (${m.workers} workers, ${(m.imagesPerSec / m.workers).toFixed(1)} each)` : '';
      return `step ${m.step}/${m.totalSteps} ep ${m.epoch + 1} | loss ${losses} | lr ${m.lr.toPrecision(3)} | ${m.imagesPerSec.toFixed(1)} img/s${workers}${alpha} | clip ${pct(m.clippedShare)}${bad} | ETA ${duration(m.etaSec)}`;
    }
    case 'epoch':
      return `epoch ${m.epoch + 1} validation (BN-calibrated top-1): ${m.subnets.map((s) => `${s.subnet} ${pct(s.valTop1)} (${s.mflops.toFixed(2)} MFLOPs)`).join(', ')} [${m.seconds.toFixed(1)} s]`;
    case 'event':
      // Checkpoints are routine, and a validation already has its own `epoch` line.
      return m.kind === 'checkpoint' || m.kind === 'validation' ? undefined : `${m.kind}: ${m.message}`;
    case 'error':
      return `runner error: ${m.message}`;
    default:
      return undefined;
  }
}

/** `--format` of `runs metrics`, refused in one line (commander's `choices` would print the help after it). */
function metricsFormat(v: string): 'csv' | 'json' {
  if (v !== 'csv' && v !== 'json') throw new CliError(`--format must be csv or json, got '${v}'`);
  return v;
}

function summary(db: RunManager['db'], run: RunRow) {
  const epochs = listEpochMetrics(db, run.id);
  const lastEpoch = epochs.length ? Math.max(...epochs.map((e) => e.epoch)) : undefined;
  return {
    run,
    lastValidation: epochs.filter((e) => e.epoch === lastEpoch).map((e) => ({ subnet: e.subnet, mflops: e.mflops, valTop1: e.valTop1, valLoss: e.valLoss })),
  };
}

function formatRun(r: RunRow): string {
  return `run ${r.id} '${r.name}': ${r.status}, step ${r.step}/${r.totalSteps ?? '?'}, epoch ${r.epoch}${r.bestMetric !== null ? `, best ${pct(r.bestMetric)}` : ''}${r.error ? `\n  error: ${r.error}` : ''}`;
}

export function registerTrainCommands(program: Command, ctx: CliContext): void {
  const { io, print } = ctx;
  /** Runs `fn` with a RunManager over the home's database (it starts no runner unless asked to). */
  const withRuns = async <T>(fn: (m: RunManager) => T | Promise<T>): Promise<T> => {
    const m = new RunManager({ home: ctx.home(), cores: jobCores(ctx.home(), ctx.io.env) });
    try {
      return await fn(m);
    } finally {
      m.close();
    }
  };

  /** Trains `runId` in the foreground: progress lines until it stops; Ctrl-C pauses it with a checkpoint. */
  const watch = async (m: RunManager, runId: number): Promise<RunRow> => {
    const quiet = ctx.json();
    m.on('message', (id, msg) => {
      if (id !== runId || quiet) return;
      const line = formatRunnerMessage(msg);
      if (line) io.out(`${line}\n`);
    });
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130); // a second Ctrl-C: leave now (the runner pauses on its own SIGINT)
      interrupted = true;
      try {
        if (getRun(m.db, runId).status === 'queued') {
          io.err('cancelling the run, which had not started…\n');
          m.cancel(runId);
        } else {
          io.err('pausing (checkpoint after the current step; Ctrl-C again to leave at once)…\n');
          m.pause(runId);
        }
      } catch {
        // Already stopping or stopped: nothing to do.
      }
    };
    process.on('SIGINT', onSigint);
    try {
      return await m.waitFor(runId);
    } finally {
      process.off('SIGINT', onSigint);
    }
  };

  const finish = (m: RunManager, r: RunRow) => {
    const s = summary(m.db, r);
    print(s, () =>
      [formatRun(r), ...s.lastValidation.map((v) => `  ${v.subnet.padEnd(9)} ${v.mflops.toFixed(2).padStart(7)} MFLOPs  val top-1 ${pct(v.valTop1)}  loss ${v.valLoss.toFixed(3)}`)].join('\n'),
    );
    if (r.status === 'failed') throw new CliError(`run ${r.id} failed: ${r.error ?? 'unknown error'}`);
  };

  program
    .command('train')
    .description('train a supernet (sandwich rule, in a runner process) and watch its progress; Ctrl-C pauses it')
    .argument('[config]', 'run config JSON file (see docs/TRAINING.md); flags override its fields')
    .option('--space <id|file.json>', 'search space id or JSON file (default alphanet-cifar32)')
    .option('--dataset <id|name>', 'dataset (default demo, the built-in demo set)')
    .option('--epochs <n>', 'epochs (default 20)', positiveInt('--epochs'))
    .option('--batch-size <n>', 'images per step (default 64)', positiveInt('--batch-size'))
    .option('--steps-per-epoch <n>', 'at most this many steps per epoch (default: the whole training split)', positiveInt('--steps-per-epoch'))
    .option('--seed <n>', 'seed (default 0)', nonNegInt('--seed'))
    .option('--distillation <kind>', 'adaptive-alpha (default), kl, alpha or none')
    .option('--alpha <a>', 'the fixed α of --distillation alpha', number('--alpha'))
    .option('--lr <x>', 'base learning rate (default 0.1·max(1, ⌊batch/256⌋))', number('--lr'))
    .option('--name <name>', 'run name')
    .option('--workers <auto|n>', "local engine: data-parallel worker threads; torch engine: the cores its ranks' threads share (default auto: every core the run may use); only the speed depends on it", workersArg)
    .addOption(new Option('--engine <engine>', 'local (TF.js in a runner process, default), torch (the PyTorch engine through torchrun; docs/TORCH.md) or slurm (the PyTorch engine in a Slurm job; docs/CLUSTER.md)').choices(['local', 'torch', 'slurm']))
    .option('--gpus <n>', 'torch engine: GPUs, one rank each (default 0: the CPU)', nonNegInt('--gpus'))
    .option('--ranks <n>', 'torch engine on the CPU: data-parallel ranks (default 1); slurm: CPU ranks per node', positiveInt('--ranks'))
    .option('--cluster <name>', 'slurm engine: the cluster profile (alphanet clusters list)')
    .option('--nodes <n>', 'slurm engine: nodes (default 1)', positiveInt('--nodes'))
    .option('--gpus-per-node <n>', 'slurm engine: GPUs per node, one rank each (default: the profile\'s)', nonNegInt('--gpus-per-node'))
    .action(async (file: string | undefined, o: { space?: string; dataset?: string; epochs?: number; batchSize?: number; stepsPerEpoch?: number; seed?: number; distillation?: string; alpha?: number; lr?: number; name?: string; engine?: 'local' | 'torch' | 'slurm'; workers?: 'auto' | number; gpus?: number; ranks?: number; cluster?: string; nodes?: number; gpusPerNode?: number }) => {
      const cfg = (file ? readJson(file, 'config') : {}) as Record<string, unknown>;
      if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new CliError(`config ${file} must be a JSON object`);
      if (o.space) cfg.space = o.space.endsWith('.json') ? readJson(o.space, 'search space') : o.space;
      if (o.dataset) cfg.dataset = o.dataset;
      if (o.epochs !== undefined) cfg.epochs = o.epochs;
      if (o.batchSize !== undefined) cfg.batchSize = o.batchSize;
      if (o.stepsPerEpoch !== undefined) cfg.stepsPerEpoch = o.stepsPerEpoch;
      if (o.seed !== undefined) cfg.seed = o.seed;
      if (o.name) cfg.name = o.name;
      if (o.distillation) cfg.distillation = o.distillation === 'alpha' ? { kind: 'alpha', alpha: o.alpha } : { kind: o.distillation };
      else if (o.alpha !== undefined) throw new CliError('--alpha goes with --distillation alpha');
      if (o.lr !== undefined) cfg.optimizer = { ...((cfg.optimizer as object) ?? {}), lr: o.lr };
      if (o.engine) cfg.engine = o.engine;
      if (o.workers !== undefined) cfg.workers = o.workers;
      if (o.gpus !== undefined) cfg.gpus = o.gpus;
      if (o.ranks !== undefined) cfg.ranks = o.ranks;
      if (o.cluster !== undefined) cfg.cluster = o.cluster;
      if (o.nodes !== undefined) cfg.nodes = o.nodes;
      if (o.gpusPerNode !== undefined) cfg.gpus = o.gpusPerNode;
      if ((o.cluster !== undefined || o.nodes !== undefined || o.gpusPerNode !== undefined) && cfg.engine === undefined) cfg.engine = 'slurm';
      if ((o.gpus !== undefined || o.ranks !== undefined) && cfg.engine === undefined) cfg.engine = 'torch';
      const h = ctx.home();
      if (cfg.engine === 'torch') {
        // One clear line before anything is queued: no python, no torch, no CUDA when GPUs were asked for. The answer
        // is cached in the home, so the run's runner does not import torch once more just to learn the same.
        const problem = torchRunProblem(torchReport(io.env, { cache: torchProbeCacheFile(h) }), typeof cfg.gpus === 'number' ? cfg.gpus : 0);
        if (problem) throw new CliError(`torch engine: ${problem}`);
      }
      const backend = ctx.backendRequest(h);
      if (backend) cfg.backend = backend;
      await withRuns(async (m) => {
        const run = await m.enqueue(cfg);
        if (!ctx.json()) io.out(`run ${run.id} '${run.name}' queued: ${run.totalSteps} steps (home ${h})\n`);
        finish(m, await watch(m, run.id));
      });
    });

  const runs = program.command('runs').description('list, inspect, pause, resume, cancel and delete training runs');

  runs
    .command('list')
    .description('all runs, oldest first')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .action(async (o: { status?: RunStatus }) =>
      withRuns(async (m) => {
        const rows = listRuns(m.db, o.status ? { status: [o.status] } : {});
        print(rows, () =>
          rows.length
            ? [
                `${'id'.padStart(4)}  ${'status'.padEnd(9)}  ${'step'.padStart(11)}  ${'workers'.padStart(7)}  ${'best'.padStart(6)}  ${'created'.padEnd(19)}  name`,
                // Workers: the cores the run holds while running, what it last trained with otherwise.
                ...rows.map(
                  (r) =>
                    `${String(r.id).padStart(4)}  ${r.status.padEnd(9)}  ${`${r.step}/${r.totalSteps ?? '?'}`.padStart(11)}  ${String(r.cores ?? '-').padStart(7)}  ${pct(r.bestMetric).padStart(6)}  ${r.createdAt.slice(0, 19).replace('T', ' ')}  ${r.name}`,
                ),
              ].join('\n')
            : 'no runs yet (start one with `alphanet train`)',
        );
      }),
    );

  runs
    .command('show')
    .description('a run: config, status, validation per epoch, recent events and checkpoints')
    .argument('<id>', 'run id', idArg('run id'))
    .action(async (id: number) =>
      withRuns(async (m) => {
        const r = getRun(m.db, id);
        const epochs = listEpochMetrics(m.db, id);
        const events = listRunEvents(m.db, id);
        const checkpoints = listCheckpoints(m.db, id);
        const steps = listStepMetrics(m.db, id);
        const last = steps.at(-1);
        print({ run: r, epochs, events, checkpoints, lastStep: last ?? null }, () => {
          const byEpoch = new Map<number, string[]>();
          for (const e of epochs) byEpoch.set(e.epoch, [...(byEpoch.get(e.epoch) ?? []), `${e.subnet} ${pct(e.valTop1)}`]);
          return [
            formatRun(r),
            `  space ${r.spaceId}, dataset ${r.datasetName}, seed ${r.seed}, backend ${r.backend ?? '–'}, app ${r.appVersion}`,
            `  created ${r.createdAt}${r.startedAt ? `, started ${r.startedAt}` : ''}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}`,
            ...(last ? [`  last step ${last.step}: loss ${last.loss?.toFixed(3)}, lr ${last.lr.toPrecision(3)}, ${last.imagesPerSec?.toFixed(1)} img/s`] : []),
            'validation (BN-calibrated top-1):',
            ...(byEpoch.size ? [...byEpoch].map(([e, xs]) => `  epoch ${e + 1}: ${xs.join(', ')}`) : ['  none yet']),
            'checkpoints:',
            ...(checkpoints.length ? checkpoints.map((c) => `  step ${c.step} (epoch ${c.epoch})${c.isBest ? ' best' : ''}  ${(c.bytes / 2 ** 20).toFixed(1)} MiB  ${c.path}`) : ['  none']),
            'events (last 10):',
            ...events.slice(-10).map((e) => `  ${e.time.slice(0, 19).replace('T', ' ')}  ${e.kind.padEnd(10)} ${e.message}`),
            `config: ${JSON.stringify(r.config)}`,
          ].join('\n');
        });
      }),
    );

  runs
    .command('metrics')
    .description("a run's recorded metrics as CSV (one row per step, or with --epochs per epoch) or JSON (both), for pandas or a spreadsheet (docs/TRAINING.md)")
    .argument('<id>', 'run id', idArg('run id'))
    .option('--format <format>', 'csv (default) or json', metricsFormat, 'csv')
    .option('--epochs', 'csv: the validation per epoch instead of the steps')
    .option('-o, --output <file>', 'write to this file (written whole, then renamed into place) instead of stdout')
    .action(async (id: number, o: { format: 'csv' | 'json'; epochs?: boolean; output?: string }) =>
      ctx.withDb((db) => {
        if (o.epochs && o.format === 'json') throw new CliError('--epochs goes with --format csv (the JSON document holds steps and epochs)');
        const r = getRun(db, id);
        const epochs = listEpochMetrics(db, id);
        const metrics = runMetricsView(listStepMetrics(db, id), epochs);
        const run = { ...runSummary(r, bestMaxTop1(epochs), null), seed: r.seed, config: r.config as Record<string, unknown> };
        const { text } = metricsExport(o.format === 'json' ? 'json' : o.epochs ? 'epochs' : 'steps', run, metrics);
        if (!o.output) return io.out(text);
        try {
          writeFileAtomic(o.output, text);
        } catch (e) {
          throw new CliError(`cannot write ${o.output}: ${describeFsError(e)?.message ?? (e as Error).message}`);
        }
        // A note on stderr, so that `--json` or a pipe never mixes it into data.
        io.err(`run ${id}: ${metrics.steps.length} steps, ${new Set(metrics.epochs.map((p) => p.epoch)).size} validated epochs written to ${o.output}\n`);
      }),
    );

  runs
    .command('pause')
    .description('ask a running run to checkpoint and stop (it becomes paused)')
    .argument('<id>', 'run id', idArg('run id'))
    .action(async (id: number) =>
      withRuns(async (m) => {
        m.pause(id);
        print({ id, requested: 'pause' }, () => `run ${id}: pause requested; it checkpoints and stops after its current step`);
      }),
    );

  runs
    .command('cancel')
    .description('cancel a queued, paused or running run')
    .argument('<id>', 'run id', idArg('run id'))
    .action(async (id: number) =>
      withRuns(async (m) => {
        const r = m.cancel(id);
        print(r, () => (r.status === 'cancelled' ? `run ${id}: cancelled` : `run ${id}: cancel requested; it stops after its current step`));
      }),
    );

  runs
    .command('resume')
    .description('continue a paused or failed run from its newest good checkpoint, in the foreground')
    .argument('<id>', 'run id', idArg('run id'))
    .action(async (id: number) =>
      withRuns(async (m) => {
        const r = m.resume(id);
        // Where it resumes is the runner's to say (its `resume` event): the newest good checkpoint, which after a
        // crash is behind the step the run had reached.
        if (!ctx.json()) io.out(`run ${id} '${r.name}': resuming from its newest good checkpoint\n`);
        finish(m, await watch(m, id));
      }),
    );

  runs
    .command('delete')
    .description('delete a run that is not running, with its metrics, events and checkpoint files')
    .argument('<id>', 'run id', idArg('run id'))
    .action(async (id: number) =>
      withRuns(async (m) => {
        m.delete(id);
        print({ id, deleted: true }, () => `run ${id}: deleted`);
      }),
    );
}
