/**
 * `alphanet export <run> <subnet|evaluation id> --format tfjs|onnx|both --out <dir>`: a subnet of a trained run as a
 * TF.js LayersModel and/or an ONNX model, with arch.json and provenance.json (run, checkpoint path and sha256,
 * dataset and split of the accuracy, calibration settings, seed, latency with its device, app version). An
 * evaluation id exports exactly what was evaluated: its checkpoint, split and calibration settings.
 */
import { Option, type Command } from 'commander';
import type { ExportFormat } from '../export';
import { idArg, nonNegInt, positiveInt } from './args';
import type { CliContext } from './context';
import { evaluationLine } from './format';

export function registerExportCommand(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('export a subnet of a trained run to TF.js and/or ONNX, with arch.json and provenance.json')
    .argument('<run>', 'run id', idArg('run id'))
    .argument('<subnet>', 'an evaluation id of the run, or min, max, a named subnet, random[:seed], a genome (JSON text or .json file)')
    .addOption(new Option('--format <format>', 'tfjs, onnx or both').choices(['tfjs', 'onnx', 'both']).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output folder (created; files in it are replaced)')
    .addOption(new Option('--split <split>', 'split of the recorded accuracy (default val; an evaluation id keeps its own)').choices(['val', 'test']))
    .option('--calibration-batches <n>', 'BN calibration batches (default: the run\'s validation setting)', positiveInt('--calibration-batches'))
    .option('--seed <n>', 'seed of the calibration images (default: the run\'s seed)', nonNegInt('--seed'))
    .addOption(new Option('--checkpoint <which>', 'checkpoint (default latest; an evaluation id keeps its own)').choices(['latest', 'best']))
    .action(async (runId: number, subnet: string, o: { format: ExportFormat; out: string; split?: 'val' | 'test'; calibrationBatches?: number; seed?: number; checkpoint?: 'latest' | 'best' }) => {
      const res = await ctx.engine('export', { runId, subnet, ...o });
      ctx.print(res, () =>
        [
          `run ${runId}, subnet ${res.subnet.label} (${res.arch.genomeId}) exported to ${res.outDir}:`,
          ...res.files.map((f) => `  ${f}`),
          `  evaluation ${res.evaluation.id}${res.cached ? ' (from the cache)' : ''}: ${evaluationLine(res.evaluation)}`,
        ].join('\n'),
      );
    });
}
