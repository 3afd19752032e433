/**
 * `alphanet evaluate <run> <subnet>`: one subnet of a trained run, BN-recalibrated, on the search-validation split
 * (or the test split): accuracy before and after calibration, loss, MFLOPs, params, latency. Answers are cached per
 * run in SQLite; asking again reuses the stored evaluation and says so.
 */
import { Option, type Command } from 'commander';
import { idArg, nonNegInt, positiveInt } from './args';
import type { CliContext } from './context';
import { evaluationLine } from './format';

export function registerEvaluateCommand(program: Command, ctx: CliContext): void {
  program
    .command('evaluate')
    .description('evaluate a subnet of a trained run with BN recalibration (cached per run: asked again, the stored answer is reused)')
    .argument('<run>', 'run id', idArg('run id'))
    .argument('<subnet>', 'min, max, a named subnet (alphanet-a0 …), random[:seed], a genome (JSON text or .json file), or an evaluation id / subnet ID of the run')
    .addOption(new Option('--split <split>', 'val (default: the search-validation split) or test').choices(['val', 'test']))
    .option('--calibration-batches <n>', 'BN calibration batches (default: the run\'s validation setting)', positiveInt('--calibration-batches'))
    .option('--seed <n>', 'seed of the calibration images (default: the run\'s seed)', nonNegInt('--seed'))
    .addOption(new Option('--checkpoint <which>', 'checkpoint (default latest)').choices(['latest', 'best']))
    .addOption(new Option('--latency <how>', 'latency: lut (this machine\'s table), measure (batch 1, on this backend) or none; default lut when a table exists, else measure').choices(['lut', 'measure', 'none']))
    .addOption(new Option('--engine <engine>', 'who computes an evaluation not in the cache: local (TF.js, default) or torch (the PyTorch engine, on a GPU when it sees one)').choices(['local', 'torch']))
    .action(async (runId: number, subnet: string, o: { split?: 'val' | 'test'; calibrationBatches?: number; seed?: number; checkpoint?: 'latest' | 'best'; latency?: 'lut' | 'measure' | 'none'; engine?: 'local' | 'torch' }) => {
      const r = await ctx.engine('evaluate', { runId, subnet, ...o });
      const row = r.evaluation;
      ctx.print(r, () =>
        [
          `run ${runId}, subnet ${r.subnet.label} (${row.genomeId}): evaluation ${row.id}${r.cached ? `, reused from the cache (evaluated ${row.createdAt})` : ', new'}`,
          `  ${evaluationLine(row)}`,
          `  BN calibration: ${row.calibrationBatches} × ${row.calibrationBatchSize} augmented train images (seed ${row.calibrationSeed}); checkpoint step ${row.checkpointStep} (sha256 ${row.checkpointSha256.slice(0, 12)}…)`,
          ...r.skipped.map((m) => `  note: skipped a checkpoint: ${m}`),
        ].join('\n'),
      );
    });
}
