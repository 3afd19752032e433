/**
 * `alphanet latency <run|space>`: latency on this machine and backend.
 * - `--subnet <spec>`: measure one subnet (batch 1, and `--batch N` too): median of the timed runs after warm-up,
 *   with the lookup table's prediction next to it when there is one;
 * - `--build-table`: build this machine's per-layer lookup table for the space (saved under `<home>/latency/`,
 *   tagged with the device fingerprint); print its held-out error (20 random subnets measured during the build),
 *   then re-measure those subnets now;
 * - `--info`: the table's summary (or that there is none), measuring nothing — what the app shows;
 * - neither: load the table, print its held-out error and re-measure (the machine's drift since the build shows
 *   as the `speed` factor).
 * A run target uses the run's space and classifier size (the weights do not change latency).
 */
import { Option, type Command } from 'commander';
import type { ErrorStats, LatencyErrorReport } from '../search/latency';
import { positiveInt } from './args';
import type { CliContext } from './context';
import { pct } from './format';

const pctErr = (x: number) => `${(100 * x).toFixed(1)} %`;

const errLine = (r: ErrorStats) => `median ${pctErr(r.medianRelError)}, p90 ${pctErr(r.p90RelError)}, mean ${pctErr(r.meanRelError)}, max ${pctErr(r.maxRelError)}`;

function heldOutLine(h: (ErrorStats & { subnets: number }) | null): string {
  if (!h) return 'held-out error: not recorded (the table predates it; --build-table records it)';
  return `held-out error (${h.subnets} random subnets measured whole during the build, used for neither entries nor fit): ${errLine(h)} (goal: median ≤ 10 %)`;
}

function reportLines(r: LatencyErrorReport): string[] {
  return [
    `re-measured now, the same way, on ${r.rows.length} random subnets: ${errLine(r)}`,
    ...(r.speed
      ? [
          `machine speed now vs when the table was built: ${r.speed.factor.toFixed(3)}× (over ${r.speed.subnets} reference subnets); ` +
            `error with that drift taken out: median ${pctErr(r.speed.adjusted.medianRelError)}, p90 ${pctErr(r.speed.adjusted.p90RelError)}`,
        ]
      : []),
    ...r.rows.map((x) => `  ${x.id}  measured ${x.measuredMs.toFixed(2).padStart(8)} ms  predicted ${x.predictedMs.toFixed(2).padStart(8)} ms  error ${pctErr(x.relError).padStart(7)}`),
  ];
}

export function registerLatencyCommand(program: Command, ctx: CliContext): void {
  program
    .command('latency')
    .description('measure subnet latency on this machine; build and check the per-machine latency lookup table')
    .argument('<run|space>', 'a run id, a registered space id, or a space JSON file')
    .option('--build-table', 'build (or rebuild) this machine\'s lookup table for the space, then report its error')
    .option('--info', 'print the table\'s summary (or that there is none) without measuring anything')
    .option('--subnet <spec>', 'measure this subnet: min, max, a named subnet, random[:seed], a genome (JSON text or file); with a run, also an evaluation id')
    .option('--batch <n>', 'batch size besides 1 for --subnet; the table\'s batch for --build-table (default 1)', positiveInt('--batch'))
    .option('--warmup <n>', 'untimed runs first (default 3 for --subnet; 1 per visit for --build-table)', positiveInt('--warmup'))
    .option('--repeats <n>', 'timed runs (default 10 for --subnet, median kept; 24 per subnet over 8 rounds for --build-table, see --statistic)', positiveInt('--repeats'))
    .option('--report-subnets <n>', 'random subnets held out at --build-table and re-measured in the error report (default 20)', positiveInt('--report-subnets'))
    .addOption(new Option('--statistic <s>', 'table: min (default: the least-disturbed run) or median of the timed runs').choices(['median', 'min']))
    .addOption(new Option('--clock <c>', 'table: wall (default) or cpu (process CPU time; single-threaded backends)').choices(['wall', 'cpu']))
    .action(
      async (
        target: string,
        o: { buildTable?: boolean; info?: boolean; subnet?: string; batch?: number; warmup?: number; repeats?: number; reportSubnets?: number; statistic?: 'median' | 'min'; clock?: 'wall' | 'cpu' },
      ) => {
        const timing = { warmup: o.warmup, repeats: o.repeats };
        if (o.subnet !== undefined) {
          const r = await ctx.engine('latency.measure', { target, subnet: o.subnet, batch: o.batch, ...timing });
          ctx.print(r, () =>
            [
              `subnet ${r.genomeId} of ${r.space} on ${r.device}:`,
              ...r.measurements.map((m) => `  batch ${String(m.batch).padStart(3)}: median ${m.medianMs.toFixed(2)} ms (min ${m.minMs.toFixed(2)}, max ${m.maxMs.toFixed(2)}, ${m.repeats} runs)`),
              r.predictedMs !== null ? `  lookup table predicts ${r.predictedMs.toFixed(2)} ms at batch ${r.tableBatch}` : '  no lookup table for this machine yet (--build-table)',
            ].join('\n'),
          );
          return;
        }
        if (o.info && !o.buildTable) {
          const r = await ctx.engine('latency.info', { target, batch: o.batch });
          const info = r.info;
          ctx.print(r, () =>
            info
              ? [`latency table for ${r.space} on ${info.device}, built ${info.createdAt} in ${info.buildSeconds.toFixed(1)} s: ${info.entries} entries`, `  ${info.path}`, heldOutLine(r.heldOut)].join('\n')
              : `no latency table for space '${r.space}' on this machine and backend (${r.device}) yet`,
          );
          return;
        }
        const r = await ctx.engine('latency.check', { target, build: Boolean(o.buildTable), batch: o.batch, ...timing, reportSubnets: o.reportSubnets, statistic: o.statistic, clock: o.clock });
        const h = r.heldOut;
        ctx.print(r, () =>
          [
            `latency table for ${r.space} (${r.numClasses} classes, batch ${r.batch}) on ${r.info.device}${r.built ? ', just built' : ''}`,
            `  ${r.path}`,
            `  ${r.entries} entries, ${r.statistic} of ${r.repeats} runs, ${r.clock} clock, built in ${(r.buildMs / 1000).toFixed(1)} s; prediction = ${r.scale.toFixed(3)} · Σ entries ${r.overheadMs >= 0 ? '+' : '−'} ${Math.abs(r.overheadMs).toFixed(2)} ms; max subnet ${r.maxMs.toFixed(2)} ms`,
            heldOutLine(h ? { ...h, subnets: h.rows.length } : null),
            ...reportLines(r.report),
            `  re-measured within 10 %: ${pct(r.report.rows.filter((x) => x.relError <= 0.1).length / r.report.rows.length)} of the subnets`,
          ].join('\n'),
        );
      },
    );
}
