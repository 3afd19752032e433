/**
 * `alphanet front <run|search>`: a stored Pareto front as a table, with its hypervolume and reference point.
 * `3` or `run:3` is run 3's front over all its evaluations (per objective, split and checkpoint; the newest
 * checkpoint by default); `search:3` (or `s3`) is search 3's front.
 */
import { Option, type Command } from 'commander';
import { StoreError } from '../store/db';
import { getRun } from '../store/runs';
import { findSearchFront, listRunFronts, type FrontRow } from '../store/fronts';
import { getSearch } from '../store/searches';
import type { CliContext } from './context';
import { CliError } from './errors';
import { frontTable, fx, pct } from './format';
import { runGeneImportance, type RunImportance } from '../search/predictor-views';

/** Gene importance as a table: share of variance (with a bar) and the mean predicted top-1 at each value. */
export function importanceText(runId: number, r: RunImportance): string {
  const p = r.predictor;
  const w = Math.max(...r.importance.genes.map((g) => g.label.length), 4);
  return [
    `run ${runId}: which genes drive accuracy (predictor ${p.id}, held-out Kendall τ ${p.metrics.kendallTau === null ? '–' : p.metrics.kendallTau.toFixed(3)}; main effects over ${r.importance.samples} uniform random subnets)`,
    ...(p.stale ? [`  note: the predictor is stale (the run has a newer checkpoint); rebuild with \`alphanet predictor ${runId} --build\``] : []),
    `  ${'gene'.padEnd(w)}  share   ${''.padEnd(20)}  mean predicted top-1 per value`,
    ...r.importance.genes.map(
      (g) => `  ${g.label.padEnd(w)}  ${pct(g.importance).padStart(6)}  ${'█'.repeat(Math.round(20 * g.importance)).padEnd(20)}  ${g.marginal.map((m) => `${m.value}: ${fx(100 * m.mean, 1)}`).join('  ')}`,
    ),
    `  main effects explain ${pct(r.importance.mainEffects)} of the predicted variance (the rest: interactions); prediction sd ${fx(100 * Math.sqrt(r.importance.variance), 2)} points`,
  ].join('\n');
}

/** `3` / `run:3` → a run; `search:3` / `s3` → a search. */
export function parseFrontTarget(v: string): { kind: 'run' | 'search'; id: number } {
  const m = /^(?:(run:|r)|(search:|s))?(\d+)$/.exec(v.trim());
  if (!m || Number(m[3]) < 1) throw new CliError(`'${v}' names no run or search; use a run id (3 or run:3) or a search id (search:3)`);
  return { kind: m[2] ? 'search' : 'run', id: Number(m[3]) };
}

export function registerFrontCommand(program: Command, ctx: CliContext): void {
  program
    .command('front')
    .description('the Pareto front (accuracy vs MFLOPs or latency) of a run or a search, with hypervolume and reference point')
    .argument('<run|search>', 'a run id (3 or run:3) or a search id (search:3)', parseFrontTarget)
    .addOption(new Option('--objective <o>', 'run fronts: mflops (default) or latency').choices(['mflops', 'latency']))
    .addOption(new Option('--split <split>', 'run fronts: val (default) or test').choices(['val', 'test']))
    .option('--importance', 'runs: which genes drive accuracy — fANOVA-style variance shares from the run\'s accuracy predictor')
    .action(async (target: { kind: 'run' | 'search'; id: number }, o: { objective?: 'mflops' | 'latency'; split?: 'val' | 'test'; importance?: boolean }) =>
      ctx.withDb(async (db) => {
        if (o.importance) {
          if (target.kind !== 'run') throw new CliError('--importance needs a run (its accuracy predictor), not a search');
          const r = runGeneImportance(db, target.id, { split: o.split });
          ctx.print(r, () => importanceText(target.id, r));
          return;
        }
        let front: FrontRow | undefined;
        let others: FrontRow[] = [];
        if (target.kind === 'search') {
          const s = getSearch(db, target.id);
          front = findSearchFront(db, target.id);
          if (!front) throw new StoreError(`search ${s.id} has no front yet (${s.evaluations} evaluated, ${s.status})`);
        } else {
          getRun(db, target.id);
          const objective = o.objective ?? 'mflops';
          const split = o.split ?? 'val';
          // Newest first: the front of the checkpoint evaluated most recently.
          const all = listRunFronts(db, target.id)
            .filter((f) => f.searchId === null && f.objective === objective && f.split === split)
            .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.id - a.id);
          if (!all.length) throw new StoreError(`run ${target.id} has no ${objective} front on ${split} yet; evaluate or search its subnets first`);
          [front, ...others] = all;
        }
        const f = front;
        ctx.print({ front: f, otherCheckpoints: others.map((x) => ({ checkpointSha256: x.checkpointSha256, deviceId: x.deviceId, size: x.points.length, hypervolume: x.hypervolume })) }, () =>
          [
            `${target.kind} ${target.id}: front of accuracy vs ${f.objective} on ${f.split}, checkpoint sha256 ${f.checkpointSha256.slice(0, 12)}…${f.deviceId ? `, device ${f.deviceId}` : ''}`,
            frontTable(db, f),
            ...others.map((x) => `(also a front for checkpoint ${x.checkpointSha256.slice(0, 12)}…${x.deviceId ? ` on device ${x.deviceId}` : ''}: ${x.points.length} points, hypervolume ${x.hypervolume.toPrecision(5)})`),
          ].join('\n'),
        );
      }),
    );
}
