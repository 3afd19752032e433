/**
 * The `alphanet` command line (commander). Every command has `--help`; output is human-readable by default and JSON
 * with `--json`. The data directory comes from `--home`, else ALPHANET_HOME, else the desktop app's per-user
 * directory. Later issues add commands here (train, datasets, search, export).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import {
  BACKENDS,
  BackendError,
  parseBackendChoice,
  formatBackendReport,
  getSpace,
  initBackend,
  listNamedSubnets,
  listSpaces,
  loadSpaceFile,
  maxGenome,
  minGenome,
  resolveGenome,
  subnetCost,
  SpaceError,
  type BackendChoice,
  type SearchSpace,
} from '../engine';
import { resolveHomeDir } from '../app-paths';
import { SettingsError, readSettings } from '../settings';
import { registerTrainCommands } from './train';
import { registerServeCommand } from './serve';
import { registerDatasetCommands } from './datasets';
import { registerSearchCommands } from './search';
import { registerEvaluateCommand } from './evaluate';
import { registerExportCommand } from './export';
import { registerFrontCommand } from './front';
import { registerLatencyCommand } from './latency';
import { registerClusterCommands } from './clusters';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

/** An error meant for the user: printed without a stack, exit code 1 (2 for usage errors, by commander). */
export class CliError extends Error {
  override name = 'CliError';
}

const fmt = (n: number, d = 2) => n.toFixed(d);

/** A space by registry id, or a user-defined space from a JSON file. */
function spaceArg(idOrFile: string): SearchSpace {
  return idOrFile.endsWith('.json') ? loadSpaceFile(idOrFile) : getSpace(idOrFile);
}

function readJsonFile(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** An architecture: `min`, `max`, a registered name, or a JSON file holding a genome. */
function archArg(space: SearchSpace, arch: string): ReturnType<typeof resolveGenome> {
  if (arch.endsWith('.json')) return resolveGenome(space, readJsonFile(arch, 'architecture'));
  return resolveGenome(space, arch);
}

/** The forced backend, if any: the --backend flag, else ALPHANET_BACKEND, else `backend` in settings.json. */
function backendChoice(flag: string | undefined, env: NodeJS.ProcessEnv, home: string): BackendChoice | undefined {
  const value = flag || env.ALPHANET_BACKEND || readSettings(home).backend;
  return parseBackendChoice(value);
}

export function buildProgram(io: CliIo): Command {
  const program = new Command();
  program
    .name('alphanet')
    .description('AlphaNet Workbench: datasets, supernet training, subnet search under FLOPs/latency budgets, Pareto fronts, export.')
    .option('--home <dir>', 'data directory (default: $ALPHANET_HOME, else the desktop app\'s per-user directory)')
    .option('--json', 'print JSON instead of text')
    .addOption(new Option('--backend <name>', 'force a TF.js backend (default: the best that loads; env ALPHANET_BACKEND)').choices(['auto', ...BACKENDS]))
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();

  const globals = () => program.opts<{ home?: string; json?: boolean; backend?: string }>();
  const print = (json: unknown, text: () => string) => io.out(globals().json ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`);

  program
    .command('doctor')
    .description('show which TF.js backend the engine uses, its version, SIMD/threads, and why higher rungs were skipped')
    .action(async () => {
      const g = globals();
      const home = resolveHomeDir({ home: g.home }, io.env);
      const report = await initBackend({ force: backendChoice(g.backend, io.env, home), env: io.env });
      print({ ...report, home, node: process.versions.node, platform: `${process.platform}-${process.arch}` }, () =>
        [formatBackendReport(report), `home:      ${home}`, `node:      ${process.versions.node} (${process.platform}-${process.arch})`].join('\n'),
      );
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
          minMflops: Number(fmt(lo.mflops, 3)),
          maxMflops: Number(fmt(hi.mflops, 3)),
          maxParamsM: Number(fmt(hi.mparams, 3)),
          subnets: listNamedSubnets(s.id).map((n) => n.name),
        };
      });
      print(rows, () =>
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
    .option('--classes <n>', 'classifier outputs (default: the space\'s)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new CliError(`--classes must be a positive integer, got '${v}'`);
      return n;
    })
    .action((opts: { space: string; arch?: string; archs?: string; classes?: number }) => {
      const space = spaceArg(opts.space);
      const cost = (genome: ReturnType<typeof resolveGenome>) => {
        const c = subnetCost(space, genome, opts.classes);
        return { mflops: Number(fmt(c.mflops, 4)), params: c.params, macs: c.macs };
      };
      if (opts.archs !== undefined) {
        // Many genomes in one call (the PyTorch engine's parity tests check hundreds against these numbers).
        if (opts.arch !== undefined) throw new CliError('give --arch or --archs, not both');
        const list = readJsonFile(opts.archs, 'architectures');
        if (!Array.isArray(list)) throw new CliError(`${opts.archs}: expected a JSON array of genomes`);
        io.out(`${JSON.stringify(list.map((g) => cost(resolveGenome(space, g))))}\n`);
        return;
      }
      if (opts.arch === undefined) throw new CliError('--arch (or --archs) is required');
      // Always `{mflops, params, macs}` as one JSON line (with or without --json), so scripts can rely on it.
      io.out(`${JSON.stringify(cost(archArg(space, opts.arch)))}\n`);
    });

  registerDatasetCommands(program, { io, globals });
  registerTrainCommands(program, io);
  registerEvaluateCommand(program, io);
  registerSearchCommands(program, io);
  registerFrontCommand(program, io);
  registerExportCommand(program, io);
  registerLatencyCommand(program, io);
  registerClusterCommands(program, io);
  registerServeCommand(program, io);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
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
    if (e instanceof SpaceError || e instanceof CliError || e instanceof BackendError || e instanceof SettingsError) {
      io.err(`alphanet: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}
