/**
 * `npm run study -- <name>`: reproducible studies whose numbers the docs quote. Today one, `fidelity`
 * (docs/FIDELITY.md): KL vs adaptive α and controls over datasets, schedules and seeds, on each engine.
 */
import { Command } from 'commander';
import { fidelityDefaults, readResults, runFidelityStudy, STUDY_LOSSES } from './fidelity';
import { formatStudy } from './fidelity-summary';

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const ints = (s: string) =>
  list(s).map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0) throw new Error(`expected whole numbers, got '${x}'`);
    return n;
  });

const d = fidelityDefaults();
const program = new Command('study').description('reproducible studies (numbers recorded in docs/)');
program
  .command('fidelity')
  .description('KL vs adaptive α (and fixed α = −1, +1, none) over datasets, schedules, seeds and engines; resumable')
  .option('--datasets <list>', `demo, fashion-mnist (default ${d.datasets.join(',')})`, list, d.datasets)
  .option('--epochs <list>', `schedule lengths (default ${d.epochs.join(',')})`, ints, d.epochs)
  .option('--seeds <list>', `seeds (default ${d.seeds.join(',')})`, ints, d.seeds)
  .option('--losses <list>', `of ${Object.keys(STUDY_LOSSES).join(', ')} (default all)`, list, d.losses)
  .option('--engines <list>', 'local, torch (default local)', list, d.engines)
  .option('--steps-per-epoch <n>', 'cap on steps per epoch (shorter, cheaper schedules)', (s) => ints(s)[0])
  .option('--batch-size <n>', 'images per step (default: the product default, 64)', (s) => ints(s)[0])
  .option('--workers <n>', 'cores per run: data-parallel workers of local runs, threads of the torch engine\'s one rank (default 1, so two studies, one per engine, share a 2-core machine)', (s) => ints(s)[0])
  .option('--parallel <n>', 'cells trained at once, each its own run (default 1; with --workers 1, one per core)', (s) => ints(s)[0])
  .option('--set <path=value>', 'diagnosis: a run-config setting for every cell, e.g. optimizer.gradClipValue=5 (repeatable; named in the loss label)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--home <dir>', `data directory for the study's runs (default ${d.home})`, d.home)
  .option('--out <file>', `results file, appended after every run (default ${d.out})`, d.out)
  .option('--summary-only', 'print the tables of the results file without training')
  .action(async (o: { datasets: string[]; epochs: number[]; seeds: number[]; losses: string[]; engines: string[]; stepsPerEpoch?: number; batchSize?: number; workers?: number; parallel?: number; set: string[]; home: string; out: string; summaryOnly?: boolean }) => {
    // SIGTERM stops the study: no further cell starts, the running ones pause with a checkpoint, and the study exits once
    // they have. Ctrl-C (SIGINT to the whole process group) reaches those runs itself, so it only stops further cells.
    // A second signal leaves at once.
    const stop = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (stop.signal.aborted) process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
      stop.abort(sig);
      process.exitCode = 128 + (sig === 'SIGINT' ? 2 : 15);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const records = o.summaryOnly ? readResults(o.out) : await runFidelityStudy({ ...d, ...o, signal: stop.signal });
    process.stdout.write(`${formatStudy(records)}\n`);
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`study: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
