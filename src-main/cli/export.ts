/**
 * `alphanet export <run> <subnet|evaluation id> --format tfjs|onnx|both --out <dir>`: a subnet of a trained run as a
 * TF.js LayersModel and/or an ONNX model, with arch.json and provenance.json (run, checkpoint path and sha256,
 * dataset and split of the accuracy, calibration settings, seed, latency with its device, app version). An
 * evaluation id exports exactly what was evaluated: its checkpoint, split and calibration settings.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { getRun, listCheckpoints } from '../store/runs';
import { findLatencyTable } from '../search/latency-tables';
import { evaluationBySpec, exportRunSubnet, evaluationSettings, loadRun, lutSource, resolveSubnet, RunSubnetError, type CheckpointChoice } from '../search/run-subnets';
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
    .action(async (runId: number, spec: string, o: { format: ExportFormat; out: string; split?: 'val' | 'test'; calibrationBatches?: number; seed?: number; checkpoint?: 'latest' | 'best' }) =>
      ctx.withDb(async (db, h) => {
        await ctx.backend(h);
        // An evaluation id names a checkpoint and settings too: load exactly those.
        let checkpoint: CheckpointChoice = o.checkpoint ?? 'latest';
        getRun(db, runId);
        const ev = evaluationBySpec(db, runId, spec);
        if (ev) {
          const ck = listCheckpoints(db, runId).find((c) => c.sha256 === ev.checkpointSha256);
          if (!ck) throw new RunSubnetError(`the checkpoint evaluation ${ev.id} was made on (step ${ev.checkpointStep}) is no longer kept; export by genome instead`);
          checkpoint = { path: ck.path, sha256: ck.sha256, step: ck.step };
        }
        const run = await loadRun(h, db, runId, { checkpoint });
        try {
          const subnet = resolveSubnet(run, spec);
          const settings = ev
            ? evaluationSettings(run, { split: ev.split, calibrationBatches: ev.calibrationBatches, calibrationBatchSize: ev.calibrationBatchSize, calibrationSeed: ev.calibrationSeed })
            : evaluationSettings(run, { split: o.split, calibrationBatches: o.calibrationBatches, calibrationSeed: o.seed });
          const lut = findLatencyTable(h, run.space, run.numClasses, run.ops);
          const res = await exportRunSubnet(run, subnet.genome, {
            outDir: resolve(o.out),
            format: o.format,
            settings,
            latency: lut ? lutSource(db, lut.table) : undefined,
            extra: { subnet: subnet.label },
          });
          ctx.print(res, () =>
            [
              `run ${runId}, subnet ${subnet.label} (${res.arch.genomeId}) exported to ${res.outDir}:`,
              ...res.files.map((f) => `  ${f}`),
              `  evaluation ${res.evaluation.id}${res.cached ? ' (from the cache)' : ''}: ${evaluationLine(res.evaluation)}`,
            ].join('\n'),
          );
        } finally {
          run.dispose();
        }
      }),
    );
}
