/**
 * The `alphanet` command line (commander). Every command has `--help`; output is human-readable by default and JSON
 * with `--json`. The data directory comes from `--home`, else ALPHANET_HOME, else the desktop app's per-user
 * directory. This file builds the program from the command files, each handed the one shared context (context.ts);
 * no command file imports it.
 */
import { Command, Option } from 'commander';
import { BACKENDS, listNamedSubnets, listSpaces, maxGenome, minGenome, resolveGenome, subnetCost, type Genome } from '../engine';
import { archArg, positiveInt, readJson, spaceArg } from './args';
import { createCliContext, type CliIo } from './context';
import { CliError, userMessage } from './errors';
import { fx } from './format';
import { formatParallelReport, parallelReport } from './doctor';
import { escapeControlChars } from '../text';
import { registerTrainCommands } from './train';
import { registerServeCommand } from './serve';
import { registerDatasetCommands } from './datasets';
import { registerSearchCommands } from './search';
import { registerEvaluateCommand } from './evaluate';
import { registerExportCommand } from './export';
import { registerFrontCommand } from './front';
import { registerPredictorCommand } from './predictor';
import { registerLatencyCommand } from './latency';
import { registerForwardCommand } from './forward';
import { formatTorchReport, torchProbeCacheFile, torchReport } from '../jobs/python';
import { registerClusterCommands } from './clusters';

export type { CliIo } from './context';

export function buildProgram(io: CliIo): Command {
  const program = new Command();
  program
    .name('alphanet')
    .description('AlphaNet Workbench: datasets, supernet training, subnet evaluation and search, accuracy predictors, Pareto fronts, latency tables, export, Slurm cluster profiles, and the workbench in a browser (serve).')
    .option('--home <dir>', 'data directory (default: $ALPHANET_HOME, else the desktop app\'s per-user directory)')
    .option('--json', 'print JSON instead of text')
    .addOption(new Option('--backend <name>', 'force a TF.js backend (default: the best that loads; env ALPHANET_BACKEND)').choices(['auto', ...BACKENDS]))
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();

  const ctx = createCliContext(program, io);

  program
    .command('doctor')
    .description('show which TF.js backend the engine uses, its version, SIMD/threads, why higher rungs were skipped, the cores jobs may use, the latest training speed per worker, and the PyTorch engine (python, torch, CUDA or CPU, NCCL/gloo)')
    .action(async () => {
      const r = await ctx.engine('doctor', {});
      const parallel = parallelReport(r.home, r.chosen, io.env);
      // The PyTorch engine (docs/TORCH.md): python, torch, CUDA devices or CPU, NCCL/gloo; probed afresh, and what
      // it finds is what the next torch run uses (the probe's cache).
      const torch = torchReport(io.env, { cache: torchProbeCacheFile(r.home), refresh: true });
      ctx.print({ ...r, parallel, torch }, () => [r.text, ...formatParallelReport(parallel), `home:      ${r.home}`, `node:      ${r.node} (${r.platform})`, formatTorchReport(torch)].join('\n'));
    });

  program
    .command('spaces')
    .description('list the registered search spaces and named subnets')
    .action(() => {
      const rows = listSpaces().map((s) => {
        const lo = subnetCost(s, minGenome(s));
        const hi = subnetCost(s, maxGenome(s));
        return {
          id: s.id,
          description: s.description,
          inputChannels: s.inputChannels,
          resolutions: s.resolutions,
          stages: s.stages.length,
          widthMode: s.widthMode,
          minMflops: Number(fx(lo.mflops, 3)),
          maxMflops: Number(fx(hi.mflops, 3)),
          maxParamsM: Number(fx(hi.mparams, 3)),
          subnets: listNamedSubnets(s.id).map((n) => n.name),
        };
      });
      ctx.print(rows, () =>
        rows
          .map((r) =>
            [
              `${r.id}  (${r.inputChannels === 1 ? 'grayscale' : 'RGB'}, res ${r.resolutions.join('/')}, ${r.stages} stages, ${r.widthMode} widths)`,
              `  ${r.minMflops}–${r.maxMflops} MFLOPs, max ${r.maxParamsM} M params`,
              `  ${r.description}`,
              ...(r.subnets.length ? [`  named subnets: ${r.subnets.join(', ')}`] : []),
            ].join('\n'),
          )
          .join('\n\n'),
      );
    });

  program
    .command('flops')
    .description('MFLOPs (millions of MACs, the paper\'s convention) and parameters of a subnet')
    .requiredOption('--space <id|file.json>', 'search space id (see `alphanet spaces`) or a JSON file')
    .option('--arch <name|file.json>', 'min, max, a named subnet (e.g. alphanet-a0) or a genome JSON file')
    .option('--archs <file.json>', 'a JSON file holding a list of genomes: prints one JSON array of {mflops, params, macs}')
    .option('--classes <n>', 'classifier outputs (default: the space\'s)', positiveInt('--classes'))
    .action((opts: { space: string; arch?: string; archs?: string; classes?: number }) => {
      const space = spaceArg(opts.space);
      const cost = (genome: Genome) => {
        const c = subnetCost(space, genome, opts.classes);
        return { mflops: Number(fx(c.mflops, 4)), params: c.params, macs: c.macs };
      };
      if (opts.archs !== undefined) {
        // Many genomes in one call (the PyTorch engine's parity tests check hundreds against these numbers).
        if (opts.arch !== undefined) throw new CliError('give --arch or --archs, not both');
        const list = readJson(opts.archs, 'architectures');
        if (!Array.isArray(list)) throw new CliError(`${opts.archs}: expected a JSON array of genomes`);
        io.out(`${JSON.stringify(list.map((g) => cost(resolveGenome(space, g))))}\n`);
        return;
      }
      if (opts.arch === undefined) throw new CliError('--arch (or --archs) is required');
      // Always `{mflops, params, macs}` as one JSON line (with or without --json), so scripts can rely on it.
      io.out(`${JSON.stringify(cost(archArg(space, opts.arch)))}\n`);
    });

  registerDatasetCommands(program, ctx);
  registerTrainCommands(program, ctx);
  registerEvaluateCommand(program, ctx);
  registerSearchCommands(program, ctx);
  registerFrontCommand(program, ctx);
  registerPredictorCommand(program, ctx);
  registerExportCommand(program, ctx);
  registerLatencyCommand(program, ctx);
  registerForwardCommand(program, ctx);
  registerClusterCommands(program, ctx);
  registerServeCommand(program, ctx);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: string[], rawIo: CliIo): Promise<number> {
  // Names come from users and files: whatever control characters older data holds are shown escaped, never sent to
  // the terminal raw, where an escape sequence could rewrite the screen (JSON output is unchanged, \uXXXX being
  // JSON's own escape).
  const io: CliIo = { ...rawIo, out: (s) => rawIo.out(escapeControlChars(s)), err: (s) => rawIo.err(escapeControlChars(s)) };
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      // Help and version exit 0; usage errors were already printed by commander.
      return err.exitCode ?? 2;
    }
    const message = userMessage(e);
    if (message !== undefined) {
      io.err(`alphanet: ${message}\n`);
      return 1;
    }
    throw e;
  }
}
