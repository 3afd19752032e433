/**
 * `alphanet search <run> …` and `alphanet search list|show|pause|resume|cancel`: evolutionary (or random) search over
 * a trained run's subnets in a search runner process, with progress and ETA on stderr; Ctrl-C pauses it, `search
 * resume` continues it (also after a crash) from its saved state.
 */
import { jobCores } from '../settings';
import { Option, type Command } from 'commander';
import { type Db } from '../store/db';
import { SEARCH_STATUSES, listSearches, type SearchRow, type SearchStatus } from '../store/searches';
import { findSearchFront } from '../store/fronts';
import { DEFAULT_EVOLUTION_CONFIG, checkBudget, type Budget } from '../search/evolution';
import { findLatencyTable } from '../search/latency-tables';
import { latencyPredictor } from '../search/latency';
import { SearchManager } from '../jobs/search-manager';
import type { SearchRequestInput, SearchRunnerToParent } from '../jobs/search-messages';
import { activeOps, runInfo } from '../search/run-subnets';
import { autoOrPositiveInt, idArg, nonNegInt, number, positiveInt } from './args';
import type { CliContext } from './context';
import { CliError } from './errors';
import { duration, evaluationLine, frontTable, fx, pct } from './format';

function formatSearch(s: SearchRow): string {
  const budget = Object.entries(s.budget as Budget).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `search ${s.id} '${s.name}' (run ${s.runId}, ${s.kind}${s.engine === 'torch' ? ', evaluated on torch' : s.engine === 'slurm' && s.cluster ? `, evaluated on Slurm cluster ${s.cluster.name}` : ''}): ${s.status}, ${s.evaluations}/${s.total} evaluated${s.etaMs && s.status === 'running' ? `, ETA ${duration(s.etaMs / 1000)}` : ''}`,
    `  objective accuracy vs ${s.objective}, budget ${budget}, split ${s.split}, calibration ${s.calibrationBatches} × ${s.calibrationBatchSize} (seed ${s.calibrationSeed}), checkpoint step ${s.checkpointStep}`,
    ...(s.error ? [`  error: ${s.error}`] : []),
  ].join('\n');
}

/** One stderr line per progress / evaluated message. */
export function formatSearchMessage(m: SearchRunnerToParent): string | undefined {
  switch (m.type) {
    case 'evaluated':
      return `  #${m.position + 1} ${m.genomeId} (${m.origin}, gen ${m.generation}) top-1 ${pct(m.accuracy)}${m.predicted !== undefined ? ` (predicted ${pct(m.predicted)})` : ''}, ${fx(m.mflops)} MFLOPs${m.latencyMs !== null ? `, ${fx(m.latencyMs)} ms` : ''}${m.cached ? ' [cached]' : ''}`;
    case 'progress':
      return `search ${m.searchId}: ${m.evaluations}/${m.total} evaluated, generation ${m.generation}, front ${m.frontSize}${m.best ? `, best ${pct(m.best.accuracy)} at ${fx(m.best.cost)}` : ''}, ETA ${m.etaMs === null ? '?' : duration(m.etaMs / 1000)}`;
    case 'event':
      return `${m.kind}: ${m.message}`;
    case 'error':
      return `search runner error: ${m.message}`;
    default:
      return undefined;
  }
}

export function registerSearchCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  /** A SearchManager over the home's database for one command (no runner of its own is started). */
  const withManager = <T>(fn: (m: SearchManager, db: Db) => T | Promise<T>): Promise<T> =>
    ctx.withDb(async (db, h) => {
      const m = new SearchManager({ home: h, db, cores: jobCores(h, io.env) });
      try {
        return await fn(m, db);
      } finally {
        m.close();
      }
    });

  /** Runs `searchId` in the foreground: progress on stderr until it stops; Ctrl-C pauses it. Then the summary. */
  const watch = async (m: SearchManager, searchId: number): Promise<void> => {
    m.on('message', (id, msg) => {
      if (id !== searchId) return;
      const line = formatSearchMessage(msg);
      if (line) io.err(`${line}\n`);
    });
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      try {
        if (m.get(searchId).status === 'queued') m.cancel(searchId);
        else {
          io.err('pausing before the next evaluation (Ctrl-C again to leave at once)…\n');
          m.pause(searchId);
        }
      } catch {
        // Already stopping.
      }
    };
    process.on('SIGINT', onSigint);
    let s: SearchRow;
    try {
      s = await m.waitFor(searchId);
    } finally {
      process.off('SIGINT', onSigint);
    }
    const front = findSearchFront(m.db, searchId);
    ctx.print({ search: s, front: front ?? null }, () => [formatSearch(s), ...(front ? [frontTable(m.db, front)] : [])].join('\n'));
    if (s.status === 'failed') throw new CliError(`search ${s.id} failed: ${s.error ?? 'unknown error'}`);
  };

  const search = program
    .command('search')
    .description('search a trained run for the best subnets under budgets (evolutionary or random), in a runner process; Ctrl-C pauses')
    .argument('<run>', 'run id', idArg('run id'))
    .addOption(new Option('--kind <kind>', 'evolution (default) or random (the baseline)').choices(['evolution', 'random']))
    .option('--population <n>', `initial population (default ${DEFAULT_EVOLUTION_CONFIG.populationSize})`, positiveInt('--population'))
    .option('--mutate <n>', `mutated children per generation (default ${DEFAULT_EVOLUTION_CONFIG.mutateSize})`, nonNegInt('--mutate'))
    .option('--crossover <n>', `crossed-over children per generation (default ${DEFAULT_EVOLUTION_CONFIG.crossoverSize})`, nonNegInt('--crossover'))
    .option('--mutate-prob <p>', `per-gene mutation probability (default ${DEFAULT_EVOLUTION_CONFIG.mutateProb})`, number('--mutate-prob'))
    .option('--crossover-prob <p>', `per-gene crossover probability (default ${DEFAULT_EVOLUTION_CONFIG.crossoverProb})`, number('--crossover-prob'))
    .option('--generations <n>', `generations after the initial population (default ${DEFAULT_EVOLUTION_CONFIG.generations})`, nonNegInt('--generations'))
    .option('--evaluations <n>', 'random search: evaluations (default: what the evolutionary search would make)', positiveInt('--evaluations'))
    .option('--seed <n>', `seed of the search (default ${DEFAULT_EVOLUTION_CONFIG.seed})`, nonNegInt('--seed'))
    .option('--mflops-min <x>', 'budget: at least this many MFLOPs', number('--mflops-min'))
    .option('--mflops-max <x>', 'budget: at most this many MFLOPs', number('--mflops-max'))
    .option('--params-max <x>', 'budget: at most this many million parameters', number('--params-max'))
    .option('--latency-max <ms>', 'budget: at most this predicted latency (needs `alphanet latency <run> --build-table`)', number('--latency-max'))
    .addOption(new Option('--objective <o>', 'accuracy against mflops (default) or latency').choices(['mflops', 'latency']))
    .addOption(new Option('--split <split>', 'split the accuracy is measured on (default val; test leaks into the choice)').choices(['val', 'test']))
    .option('--calibration-batches <n>', 'BN calibration batches (default: the run\'s validation setting)', positiveInt('--calibration-batches'))
    .addOption(new Option('--checkpoint <which>', 'checkpoint to search (default latest)').choices(['latest', 'best']))
    .option('--predictor', 'predictor-guided: score --screen × the candidates per generation with the run\'s accuracy predictor (`alphanet predictor <run> --build`) and evaluate the most promising; refitted after every generation')
    .option('--screen <n>', 'with --predictor: candidates scored per real evaluation (default 8)', positiveInt('--screen'))
    .addOption(
      new Option('--engine <engine>', 'what computes the candidates\' accuracy: local (TF.js, default), torch (the PyTorch engine; same numbers, same cache) or slurm (the torch evaluator in one cluster job per generation)').choices(['local', 'torch', 'slurm']),
    )
    .option('--cluster <name>', 'slurm engine: the cluster profile (`alphanet clusters add`); implies --engine slurm')
    .option('--nodes <n>', 'slurm engine: nodes per evaluation job (default 1)', positiveInt('--nodes'))
    .option('--ranks-per-node <n>', 'slurm engine: CPU ranks per node, each taking every N-th candidate (default 1)', positiveInt('--ranks-per-node'))
    .option('--gpus-per-node <n>', 'slurm engine: GPUs per node, one rank each (default: the profile\'s)', nonNegInt('--gpus-per-node'))
    .option('--workers <n>', 'evaluation workers: auto (default: the cores the job queue gives the search) or N; the results do not depend on it', autoOrPositiveInt('--workers'))
    .option('--name <name>', 'search name')
    .action(
      async (
        runId: number,
        o: {
          kind?: 'evolution' | 'random';
          population?: number;
          mutate?: number;
          crossover?: number;
          mutateProb?: number;
          crossoverProb?: number;
          generations?: number;
          evaluations?: number;
          seed?: number;
          mflopsMin?: number;
          mflopsMax?: number;
          paramsMax?: number;
          latencyMax?: number;
          objective?: 'mflops' | 'latency';
          split?: 'val' | 'test';
          calibrationBatches?: number;
          checkpoint?: 'latest' | 'best';
          name?: string;
          engine?: 'local' | 'torch' | 'slurm';
          cluster?: string;
          nodes?: number;
          ranksPerNode?: number;
          gpusPerNode?: number;
          predictor?: boolean;
          screen?: number;
          workers?: number | 'auto';
        },
      ) => {
        const h = ctx.home();
        if (o.screen !== undefined && !o.predictor) throw new CliError('--screen goes with --predictor');
        if (o.predictor && o.kind === 'random') throw new CliError('--predictor guides the evolutionary search, not --kind random');
        if ((o.nodes !== undefined || o.ranksPerNode !== undefined || o.gpusPerNode !== undefined) && o.cluster === undefined) throw new CliError('--nodes, --ranks-per-node and --gpus-per-node go with --engine slurm --cluster NAME');
        if (o.evaluations !== undefined && o.kind !== 'random') throw new CliError('--evaluations goes with --kind random (an evolutionary search makes P + G·(M + C) evaluations)');
        const budget: Budget = { mflopsMin: o.mflopsMin, mflopsMax: o.mflopsMax, mparamsMax: o.paramsMax, latencyMaxMs: o.latencyMax };
        const request: SearchRequestInput = {
          runId,
          kind: o.kind,
          name: o.name,
          config: { populationSize: o.population, mutateSize: o.mutate, crossoverSize: o.crossover, mutateProb: o.mutateProb, crossoverProb: o.crossoverProb, generations: o.generations, seed: o.seed, ...(o.predictor ? { screen: o.screen ?? 8 } : {}) },
          evaluations: o.evaluations,
          budget: Object.fromEntries(Object.entries(budget).filter(([, v]) => v !== undefined)),
          objective: o.objective,
          split: o.split,
          calibrationBatches: o.calibrationBatches,
          checkpoint: o.checkpoint,
          backend: ctx.backendRequest(h) ?? 'auto',
          engine: o.engine ?? (o.cluster !== undefined ? 'slurm' : undefined),
          workers: o.workers,
          ...(o.cluster !== undefined ? { cluster: o.cluster } : {}),
          nodes: o.nodes,
          ranksPerNode: o.ranksPerNode,
          gpusPerNode: o.gpusPerNode,
        };
        const m = new SearchManager({ home: h, cores: jobCores(h, io.env) });
        try {
          if (o.objective === 'latency' || o.latencyMax !== undefined) {
            // Checked here, before queueing, so a missing table or an impossible latency budget is one clear line.
            const info = await runInfo(h, m.db, runId);
            await ctx.backend(h);
            const lut = findLatencyTable(h, info.space, info.numClasses, activeOps());
            if (!lut) throw new CliError(`no latency table for space '${info.space.id}' on this machine and backend yet; build it with \`alphanet latency ${runId} --build-table\``);
            checkBudget(info.space, request.budget as Budget, info.numClasses, latencyPredictor(lut.table, info.space));
          }
          const s = await m.enqueue(request);
          io.err(`search ${s.id} '${s.name}' queued: ${s.total} evaluations on run ${runId} (home ${h})\n`);
          await watch(m, s.id);
        } finally {
          m.close();
        }
      },
    );

  search
    .command('list')
    .description('all searches, oldest first')
    .option('--run <id>', 'only searches of this run', idArg('--run'))
    .addOption(new Option('--status <status>', 'only searches with this status').choices(SEARCH_STATUSES))
    .action(async (o: { run?: number; status?: SearchStatus }) =>
      ctx.withDb(async (db) => {
        const rows = listSearches(db, { runId: o.run, status: o.status ? [o.status] : undefined });
        ctx.print(rows, () =>
          rows.length
            ? [
                `${'id'.padStart(4)}  ${'run'.padStart(4)}  ${'kind'.padEnd(9)}  ${'status'.padEnd(9)}  ${'evaluated'.padStart(9)}  ${'objective'.padEnd(9)}  name`,
                ...rows.map((s) => `${String(s.id).padStart(4)}  ${String(s.runId).padStart(4)}  ${s.kind.padEnd(9)}  ${s.status.padEnd(9)}  ${`${s.evaluations}/${s.total}`.padStart(9)}  ${s.objective.padEnd(9)}  ${s.name}`),
              ].join('\n')
            : 'no searches yet (start one with `alphanet search <run>`)',
        );
      }),
    );

  search
    .command('show')
    .description('a search: settings, status, its front and its last evaluations')
    .argument('<id>', 'search id', idArg('search id'))
    .action(async (id: number) =>
      withManager((m, db) => {
        const s = m.get(id);
        const members = m.members(id);
        const front = m.front(id);
        ctx.print({ search: s, members, front: front ?? null }, () =>
          [
            formatSearch(s),
            ...(front ? ['front:', frontTable(db, front)] : ['front: none yet']),
            `last evaluations (of ${members.length}):`,
            ...members.slice(-10).map((x) => `  #${x.position + 1} eval ${x.evaluationId} ${x.evaluation.genomeId} (${x.origin}, gen ${x.generation})${x.cached ? ' [cached]' : ''}: ${evaluationLine(x.evaluation)}`),
          ].join('\n'),
        );
      }),
    );

  search
    .command('pause')
    .description('ask a running search to stop before its next evaluation (it becomes paused)')
    .argument('<id>', 'search id', idArg('search id'))
    .action(async (id: number) =>
      withManager((m) => {
        m.pause(id);
        ctx.print({ id, requested: 'pause' }, () => `search ${id}: pause requested; it stops before its next evaluation`);
      }),
    );

  search
    .command('cancel')
    .description('cancel a queued, paused or running search')
    .argument('<id>', 'search id', idArg('search id'))
    .action(async (id: number) =>
      withManager((m) => {
        const s = m.cancel(id);
        ctx.print(s, () => (s.status === 'cancelled' ? `search ${id}: cancelled` : `search ${id}: cancel requested; it stops before its next evaluation`));
      }),
    );

  search
    .command('resume')
    .description('continue a paused or failed search from its saved state, in the foreground')
    .argument('<id>', 'search id', idArg('search id'))
    .action(async (id: number) => {
      const m = new SearchManager({ home: ctx.home(), cores: jobCores(ctx.home(), io.env) });
      try {
        const s = m.resume(id);
        io.err(`search ${id} '${s.name}' resuming at ${s.evaluations}/${s.total}\n`);
        await watch(m, id);
      } finally {
        m.close();
      }
    });
}
