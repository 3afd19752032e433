/**
 * `alphanet predictor <run> --build [--samples N] | --info`: a run's accuracy predictor (docs/SEARCH.md, "Accuracy
 * predictor"). `--build` trains it on the run's evaluated subnets of its newest checkpoint (evaluating uniform random
 * ones first when there are fewer than `--samples`), stores it and prints its held-out Kendall τ, Spearman ρ and RMSE
 * and the training-size vs τ table; `--info` (the default) prints the stored one and whether it is stale.
 */
import { Option, type Command } from 'commander';
import { evaluationSettings, loadRun } from '../search/run-subnets';
import { buildRunPredictor, predictorProgressLine } from '../search/run-predictor';
import { predictorSummary, type PredictorSummary } from '../search/predictor-views';
import { getRun } from '../store/runs';
import { getRunPredictor } from '../store/predictors';
import { idArg, nonNegInt, positiveInt } from './args';
import type { CliContext } from './context';
import { CliError } from './errors';
import { duration, fx } from './format';

const f3 = (x: number | null) => (x === null ? '–' : x.toFixed(3));

/** The predictor as text: scope, held-out metrics, the size table, the fit. */
export function predictorText(p: PredictorSummary): string {
  const m = p.metrics;
  return [
    `run ${p.runId}: accuracy predictor ${p.id} on ${p.split}, checkpoint step ${p.checkpointStep} (sha256 ${p.checkpointSha256.slice(0, 12)}…), space ${p.spaceId}, built ${p.createdAt}`,
    ...(p.stale ? [`  STALE: the run has a newer checkpoint (sha256 ${p.latestCheckpointSha256?.slice(0, 12) ?? '–'}…); rebuild with \`alphanet predictor ${p.runId} --build\``] : []),
    `  trained on ${p.trainSize} evaluated subnets${p.sampled ? ` (${p.sampled} random ones evaluated for it)` : ''}, ${m.n} held out`,
    `  held out: Kendall τ ${f3(m.kendallTau)}, Spearman ρ ${f3(m.spearmanRho)}, RMSE ${m.rmsePoints === null ? '–' : fx(m.rmsePoints, 2)} points of top-1`,
    '  training subnets → held-out τ / ρ / RMSE:',
    ...p.sizeTable.map((r) => `    ${String(r.trainSize).padStart(6)}   τ ${f3(r.kendallTau)}   ρ ${f3(r.spearmanRho)}   RMSE ${r.rmsePoints === null ? '–' : fx(r.rmsePoints, 2)}`),
    `  MLP ${[p.layout.input, ...p.layout.hidden, 1].join('-')}, ${String(p.fit.epochs)} epochs, batch ${String(p.fit.batchSize)}, Adam ${String(p.fit.learningRate)}, weight decay ${String(p.fit.weightDecay)}, seed ${String(p.fit.seed)}; fitted in ${duration(p.fitMs / 1000)}${p.backend ? ` on ${p.backend}` : ''}`,
  ].join('\n');
}

export function registerPredictorCommand(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('predictor')
    .description('build (--build) or show (--info, default) the accuracy predictor of a run: held-out Kendall τ, Spearman ρ, RMSE, training size vs τ')
    .argument('<run>', 'run id', idArg('run id'))
    .option('--build', 'train it on the run\'s evaluated subnets (evaluating random ones first if there are fewer than --samples) and store it')
    .option('--info', 'print the stored predictor (default)')
    .option('--samples <n>', 'with --build: train on at least N evaluated subnets (default 100)', positiveInt('--samples'))
    .option('--held-out <n>', 'with --build: subnets held out for τ (default min(100, n/5))', positiveInt('--held-out'))
    .option('--epochs <n>', 'with --build: training epochs (default 200)', positiveInt('--epochs'))
    .option('--seed <n>', 'with --build: seed of the random subnets, the split and the fit (default 0)', nonNegInt('--seed'))
    .addOption(new Option('--split <split>', 'val (default) or test').choices(['val', 'test']))
    .addOption(new Option('--checkpoint <which>', 'with --build: checkpoint (default latest)').choices(['latest', 'best']))
    .action(
      async (
        runId: number,
        o: { build?: boolean; info?: boolean; samples?: number; heldOut?: number; epochs?: number; seed?: number; split?: 'val' | 'test'; checkpoint?: 'latest' | 'best' },
      ) =>
        ctx.withDb(async (db, h) => {
          if (o.build && o.info) throw new CliError('give --build or --info, not both');
          getRun(db, runId);
          if (!o.build) {
            const p = predictorSummary(getRunPredictor(db, runId, o.split ?? 'val'));
            ctx.print({ predictor: p }, () => predictorText(p));
            return;
          }
          await ctx.backend(h);
          const run = await loadRun(h, db, runId, { checkpoint: o.checkpoint });
          const stop = new AbortController();
          const onSigint = () => stop.abort();
          process.once('SIGINT', onSigint);
          try {
            const settings = evaluationSettings(run, { split: o.split });
            await buildRunPredictor(run, settings, {
              samples: o.samples ?? 100,
              heldOut: o.heldOut,
              epochs: o.epochs,
              seed: o.seed,
              signal: stop.signal,
              onProgress: (p) => {
                const line = predictorProgressLine(p);
                if (line) io.err(`${line}\n`);
              },
            });
            const p = predictorSummary(getRunPredictor(db, runId, settings.split));
            ctx.print({ predictor: p }, () => predictorText(p));
          } finally {
            process.off('SIGINT', onSigint);
            run.dispose();
          }
        }),
    );
}
