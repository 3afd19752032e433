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
import {
  maxGenome,
  resolveGenome,
  type Genome,
  type SearchSpace,
  extractStatic,
  Rng,
  randomGenome,
  genomeId,
  Supernet,
  resetStats,
} from '../engine';
import { latencyErrorReport, measureLatency, predictLatency, type ErrorStats, type LatencyErrorReport, type LatencyTable } from '../search/latency';
import { buildAndSaveLatencyTable, findLatencyTable } from '../search/latency-tables';
import { activeOps, resolveSubnet, runInfo } from '../search/run-subnets';
import { positiveInt, spaceArg } from './args';
import type { CliContext } from './context';
import { CliError } from './errors';
import { pct } from './format';
import type { LatencyTableInfo } from '../ipc/api-types';

const pctErr = (x: number) => `${(100 * x).toFixed(1)} %`;

const errLine = (r: ErrorStats) => `median ${pctErr(r.medianRelError)}, p90 ${pctErr(r.p90RelError)}, mean ${pctErr(r.meanRelError)}, max ${pctErr(r.maxRelError)}`;

function heldOutLine(t: LatencyTable): string {
  if (!t.heldOut) return 'held-out error: not recorded (the table predates it; --build-table records it)';
  return `held-out error (${t.heldOut.rows.length} random subnets measured whole during the build, used for neither entries nor fit): ${errLine(t.heldOut)} (goal: median ≤ 10 %)`;
}

/** The table's summary as the app shows it (`LatencyTableInfo` in ipc/api-types.ts). */
function tableInfo(t: LatencyTable, path: string): LatencyTableInfo {
  return {
    path,
    device: `${t.device.cpuModel} ×${t.device.cpuCount}, ${t.device.backend} (${t.device.opsMode}), tfjs ${t.device.tfjsVersion}`,
    createdAt: t.createdAt,
    buildSeconds: t.buildMs / 1000,
    entries: Object.keys(t.entries).length,
    heldOut: t.heldOut ? { subnets: t.heldOut.rows.length, medianRelError: t.heldOut.medianRelError, p90RelError: t.heldOut.p90RelError, maxRelError: t.heldOut.maxRelError } : null,
  };
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
  const { io } = ctx;
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
      ) =>
        ctx.withDb(async (db, h) => {
          const backend = await ctx.backend(h);
          const ops = activeOps();
          let space: SearchSpace;
          let numClasses: number;
          let named: (spec: string) => Genome;
          if (/^\d+$/.test(target)) {
            const info = await runInfo(h, db, Number(target));
            space = info.space;
            numClasses = info.numClasses;
            named = (spec) => resolveSubnet({ db, run: info.run, space }, spec).genome;
          } else {
            space = spaceArg(target);
            numClasses = space.numClasses;
            named = (spec) => {
              const m = /^random(?::(\d+))?$/.exec(spec.trim());
              if (m) return randomGenome(space, new Rng(Number(m[1] ?? 0)));
              if (!spec.trim().startsWith('{')) return resolveGenome(space, spec);
              try {
                return resolveGenome(space, JSON.parse(spec));
              } catch (e) {
                throw new CliError(`--subnet: ${(e as Error).message}`);
              }
            };
          }
          const timing = { warmup: o.warmup, repeats: o.repeats };
          const device = `${backend.chosen} (${ops.mode} ops)`;

          if (o.subnet !== undefined) {
            const g = named(o.subnet);
            const net = new Supernet({ space, ops, numClasses });
            const s = extractStatic(net, g, resetStats(net, g));
            net.dispose();
            try {
              const batches = o.batch && o.batch > 1 ? [1, o.batch] : [1];
              const rows = measureLatency(s, { batchSizes: batches, ...timing });
              const lut = findLatencyTable(h, space, numClasses, ops);
              const predicted = lut ? predictLatency(lut.table, space, g) : null;
              ctx.print({ space: space.id, genomeId: genomeId(space.id, g), backend: backend.chosen, measurements: rows, predictedMs: predicted, table: lut?.path ?? null }, () =>
                [
                  `subnet ${genomeId(space.id, g)} of ${space.id} on ${device}:`,
                  ...rows.map((r) => `  batch ${String(r.batch).padStart(3)}: median ${r.medianMs.toFixed(2)} ms (min ${r.minMs.toFixed(2)}, max ${r.maxMs.toFixed(2)}, ${r.repeats} runs)`),
                  predicted !== null ? `  lookup table predicts ${predicted.toFixed(2)} ms at batch ${lut!.table.batch}` : '  no lookup table for this machine yet (--build-table)',
                ].join('\n'),
              );
            } finally {
              s.dispose();
            }
            return;
          }

          let built = false;
          let lut = findLatencyTable(h, space, numClasses, ops, o.batch ?? 1);
          if (o.info && !o.buildTable) {
            const info = lut ? tableInfo(lut.table, lut.path) : null;
            ctx.print({ info }, () =>
              info
                ? [`latency table for ${space.id} on ${info.device}, built ${info.createdAt} in ${info.buildSeconds.toFixed(1)} s: ${info.entries} entries`, `  ${info.path}`, heldOutLine(lut!.table)].join('\n')
                : `no latency table for space '${space.id}' on this machine and backend (${device}) yet`,
            );
            return;
          }
          if (o.buildTable) {
            const t0 = performance.now();
            let lastPct = -1;
            lut = buildAndSaveLatencyTable(h, space, ops, {
              numClasses,
              batch: o.batch ?? 1,
              ...timing,
              statistic: o.statistic,
              clock: o.clock,
              heldOutSubnets: o.reportSubnets ?? 20,
              onProgress: (done, total) => {
                const p = Math.floor((100 * done) / total / 10) * 10;
                if (p !== lastPct) io.err(`latency table: round ${done}/${total}\n`);
                lastPct = p;
              },
            });
            built = true;
            io.err(`latency table built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${lut.path}\n`);
          }
          if (!lut) throw new CliError(`no latency table for space '${space.id}' on this machine and backend (${device}) yet; build it with \`alphanet latency ${target} --build-table\``);
          const report = latencyErrorReport(lut.table, space, ops, { subnets: o.reportSubnets ?? 20, ...timing });
          const t = lut.table;
          const maxMs = predictLatency(t, space, maxGenome(space));
          const info = tableInfo(t, lut.path);
          ctx.print({ built, path: lut.path, device: t.device, entries: info.entries, buildMs: t.buildMs, scale: t.scale, overheadMs: t.overheadMs, heldOut: t.heldOut ?? null, info, report }, () =>
            [
              `latency table for ${space.id} (${numClasses} classes, batch ${t.batch}) on ${info.device}${built ? ', just built' : ''}`,
              `  ${lut!.path}`,
              `  ${info.entries} entries, ${t.statistic} of ${t.repeats} runs, ${t.clock} clock, built in ${(t.buildMs / 1000).toFixed(1)} s; prediction = ${t.scale.toFixed(3)} · Σ entries ${t.overheadMs >= 0 ? '+' : '−'} ${Math.abs(t.overheadMs).toFixed(2)} ms; max subnet ${maxMs.toFixed(2)} ms`,
              heldOutLine(t),
              ...reportLines(report),
              `  re-measured within 10 %: ${pct(report.rows.filter((r) => r.relError <= 0.1).length / report.rows.length)} of the subnets`,
            ].join('\n'),
          );
        }),
    );
}
