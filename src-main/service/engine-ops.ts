/**
 * The engine worker's operations (engine-protocol.ts), implemented over the engine, search and export modules.
 * Loads TF.js: run by the engine worker process (engine-worker-main.ts) for the service, and in-process by the CLI
 * (cli/context.ts `engine`); never imported by what Electron main imports.
 *
 * A refusal the caller can act on is a user-facing error (service/errors.ts `isUserError`) or a {@link WorkerError}
 * of kind `input` naming the input field at fault; the worker reports both as `input` errors.
 */
import { resolve } from 'node:path';
import {
  Rng,
  Supernet,
  extractStatic,
  formatBackendReport,
  genomeId,
  getSpace,
  initBackend,
  loadSpaceFile,
  maxGenome,
  parseBackendChoice,
  randomGenome,
  resetStats,
  resolveGenome,
  type BackendReport,
  type Genome,
  type SearchSpace,
} from '../engine';
import type { OpHandlers } from '../jobs/worker-host';
import { WorkerError } from '../jobs/worker-protocol';
import { holdMachine, jobList } from '../jobs/machine-hold';
import { lazyTorchSubnetCompute, TorchEvaluatorError } from '../jobs/torch-evaluator';
import type { LatencyTableInfo } from '../ipc/api-types';
import { latencyErrorReport, measureLatency, predictLatency, type LatencyTable } from '../search/latency';
import { buildAndSaveLatencyTable, findLatencyTable } from '../search/latency-tables';
import {
  RunSubnetError,
  activeOps,
  createRunEvaluator,
  evaluationBySpec,
  evaluationSettings,
  exportRunSubnet,
  loadRun,
  lutSource,
  measureSource,
  resolveSubnet,
  runInfo,
  type CheckpointChoice,
} from '../search/run-subnets';
import { buildRunPredictor, predictorProgressLine } from '../search/run-predictor';
import { readSettings } from '../settings';
import { openHomeDatabase, type Db } from '../store/db';
import { getRun, listCheckpoints } from '../store/runs';
import type { EngineOps } from './engine-protocol';
import { isUserError } from './errors';

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

/** A user-facing error from `fn` becomes an input error at `field` (the input that named the thing refused). */
function blame<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isUserError(e)) throw new WorkerError({ kind: 'input', message: e.message, field });
    throw e;
  }
}

async function withDb<T>(home: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openHomeDatabase(home);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** The latency target: a run (its space and classifier size) or a space (registered id or JSON file), and how its subnets are named. */
async function latencyTarget(home: string, db: Db, target: string): Promise<{ space: SearchSpace; numClasses: number; named: (spec: string) => Genome }> {
  if (/^\d+$/.test(target)) {
    const info = await runInfo(home, db, Number(target));
    return { space: info.space, numClasses: info.numClasses, named: (spec) => resolveSubnet({ db, run: info.run, space: info.space }, spec).genome };
  }
  const space = blame('target', () => (target.endsWith('.json') ? loadSpaceFile(target) : getSpace(target)));
  const named = (spec: string): Genome => {
    const m = /^random(?::(\d+))?$/.exec(spec.trim());
    if (m) return randomGenome(space, new Rng(Number(m[1] ?? 0)));
    if (!spec.trim().startsWith('{')) return resolveGenome(space, spec);
    try {
      return resolveGenome(space, JSON.parse(spec));
    } catch (e) {
      throw new WorkerError({ kind: 'input', message: `--subnet: ${(e as Error).message}`, field: 'subnet' });
    }
  };
  return { space, numClasses: space.numClasses, named };
}

/**
 * The handlers. `env` is the environment the backend choice falls back to (ALPHANET_BACKEND) when the input names
 * none: the worker's own, or the CLI's.
 */
export function engineHandlers(o: { env: NodeJS.ProcessEnv }): OpHandlers<EngineOps> {
  /** Loads TF.js: the input's backend, else ALPHANET_BACKEND, else settings.json's, else the best that loads. */
  const backend = (i: { home: string; backend?: string }): Promise<BackendReport> =>
    initBackend({ force: parseBackendChoice(i.backend ?? (o.env.ALPHANET_BACKEND || readSettings(i.home).backend)), env: o.env });

  return {
    doctor: async (i) => {
      const report = await backend(i);
      const [node, platform] = [process.versions.node, `${process.platform}-${process.arch}`];
      return { ...report, home: i.home, node, platform, text: formatBackendReport(report) };
    },

    evaluate: (i, ctx) =>
      withDb(i.home, async (db) => {
        await backend(i);
        const run = await loadRun(i.home, db, i.runId, { checkpoint: i.checkpoint });
        try {
          const subnet = blame('subnet', () => resolveSubnet(run, i.subnet));
          const settings = evaluationSettings(run, { split: i.split, calibrationBatches: i.calibrationBatches, calibrationSeed: i.seed });
          const lut = i.latency === 'measure' || i.latency === 'none' ? undefined : findLatencyTable(i.home, run.space, run.numClasses, run.ops);
          if (i.latency === 'lut' && !lut) ctx.progress({ message: `note: no latency table for this machine yet (\`alphanet latency ${i.runId} --build-table\`); no latency` });
          const latency = lut ? lutSource(db, lut.table) : i.latency === undefined || i.latency === 'measure' ? measureSource(db, run.ops) : undefined;
          // On the torch engine a cache miss is computed by its evaluator process (the search's seam); the cache key,
          // costs and latency stay the workbench's, so either engine's answer serves the other. The evaluator inherits
          // this process's environment (PATH finds python3) with the caller's on top.
          const compute =
            i.engine === 'torch'
              ? lazyTorchSubnetCompute({ home: i.home, runId: i.runId, space: run.space, numClasses: run.numClasses, dataset: run.dataset, checkpoint: run.checkpoint, settings, env: { ...process.env, ...o.env } })
              : undefined;
          const ev = createRunEvaluator(run, settings, { latency, ...(compute ? { compute } : {}) });
          try {
            // The torch engine's failures (no torch, an evaluator that died) are the user's one line, not a bug.
            const { row, cached } = await ev.evaluate(subnet.genome).catch((e: unknown) => {
              throw e instanceof TorchEvaluatorError ? new WorkerError({ kind: 'input', message: e.message, field: 'engine' }) : e;
            });
            return { runId: i.runId, subnet: { label: subnet.label, genomeId: subnet.genomeId }, cached, checkpoint: run.checkpoint, evaluation: row, skipped: run.skipped };
          } finally {
            await ev.dispose();
          }
        } finally {
          run.dispose();
        }
      }),

    'predictor.build': (i, ctx) =>
      withDb(i.home, async (db) => {
        await backend(i);
        const run = await loadRun(i.home, db, i.runId, { checkpoint: i.checkpoint });
        try {
          const { predictor, sampled } = await buildRunPredictor(run, evaluationSettings(run, { split: i.split }), {
            samples: i.samples ?? 100,
            heldOut: i.heldOut,
            epochs: i.epochs,
            seed: i.seed,
            onProgress: (p) => {
              const message = predictorProgressLine(p);
              if (message) ctx.progress(p.phase === 'sample' ? { message, done: p.done, total: p.total } : { message, done: p.epoch, total: p.epochs });
            },
          });
          return { predictorId: predictor.id, sampled };
        } finally {
          run.dispose();
        }
      }),

    export: (i) =>
      withDb(i.home, async (db) => {
        await backend(i);
        // An evaluation id names a checkpoint and settings too: load exactly those.
        let checkpoint: CheckpointChoice = i.checkpoint ?? 'latest';
        getRun(db, i.runId);
        const ev = evaluationBySpec(db, i.runId, i.subnet);
        if (ev) {
          const ck = listCheckpoints(db, i.runId).find((c) => c.sha256 === ev.checkpointSha256);
          if (!ck) throw new RunSubnetError(`the checkpoint evaluation ${ev.id} was made on (step ${ev.checkpointStep}) is no longer kept; export by genome instead`);
          checkpoint = { path: ck.path, sha256: ck.sha256, step: ck.step };
        }
        const run = await loadRun(i.home, db, i.runId, { checkpoint });
        try {
          const subnet = blame('subnet', () => resolveSubnet(run, i.subnet));
          const settings = ev
            ? evaluationSettings(run, { split: ev.split, calibrationBatches: ev.calibrationBatches, calibrationBatchSize: ev.calibrationBatchSize, calibrationSeed: ev.calibrationSeed })
            : evaluationSettings(run, { split: i.split, calibrationBatches: i.calibrationBatches, calibrationSeed: i.seed });
          const lut = findLatencyTable(i.home, run.space, run.numClasses, run.ops);
          const res = await exportRunSubnet(run, subnet.genome, {
            outDir: resolve(i.out),
            format: i.format,
            settings,
            latency: lut ? lutSource(db, lut.table) : undefined,
            extra: { subnet: subnet.label },
          });
          return { ...res, subnet: { label: subnet.label, genomeId: subnet.genomeId } };
        } finally {
          run.dispose();
        }
      }),

    'latency.info': (i) =>
      withDb(i.home, async (db) => {
        const b = await backend(i);
        const ops = activeOps();
        const { space, numClasses } = await latencyTarget(i.home, db, i.target);
        const lut = findLatencyTable(i.home, space, numClasses, ops, i.batch ?? 1);
        const h = lut?.table.heldOut;
        return {
          info: lut ? tableInfo(lut.table, lut.path) : null,
          space: space.id,
          device: `${b.chosen} (${ops.mode} ops)`,
          heldOut: h ? { subnets: h.rows.length, medianRelError: h.medianRelError, p90RelError: h.p90RelError, meanRelError: h.meanRelError, maxRelError: h.maxRelError } : null,
        };
      }),

    'latency.check': (i, ctx) =>
      withDb(i.home, async (db) => {
        const b = await backend(i);
        const ops = activeOps();
        const { space, numClasses } = await latencyTarget(i.home, db, i.target);
        const timing = { warmup: i.warmup, repeats: i.repeats };
        let lut = findLatencyTable(i.home, space, numClasses, ops, i.batch ?? 1);
        // Built, the table is timed with one worker and nothing else running (its error report too): no job starts
        // until it is done, and the jobs already running finish first (jobs/machine-hold.ts).
        const release = i.build
          ? await holdMachine(db, `building the latency table of ${i.target}`, {
              onWaiting: (jobs) => ctx.progress({ message: `waiting for ${jobList(jobs)} to finish: the latency table is timed with one worker and nothing else running (queued jobs wait until it is built)` }),
            })
          : () => undefined;
        try {
          if (i.build) {
            const t0 = performance.now();
            let lastPct = -1;
            lut = buildAndSaveLatencyTable(i.home, space, ops, {
              numClasses,
              batch: i.batch ?? 1,
              ...timing,
              statistic: i.statistic,
              clock: i.clock,
              heldOutSubnets: i.reportSubnets ?? 20,
              onProgress: (done, total) => {
                const p = Math.floor((100 * done) / total / 10) * 10;
                if (p !== lastPct) ctx.progress({ message: `latency table: round ${done}/${total}`, done, total });
                lastPct = p;
              },
            });
            ctx.progress({ message: `latency table built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${lut.path}` });
          }
          if (!lut) {
            const device = `${b.chosen} (${ops.mode} ops)`;
            throw new WorkerError({ kind: 'input', field: 'target', message: `no latency table for space '${space.id}' on this machine and backend (${device}) yet; build it with \`alphanet latency ${i.target} --build-table\`` });
          }
          const report = latencyErrorReport(lut.table, space, ops, { subnets: i.reportSubnets ?? 20, ...timing });
          const t = lut.table;
          const info = tableInfo(t, lut.path);
          return {
            built: i.build,
            path: lut.path,
            device: t.device,
            entries: info.entries,
            buildMs: t.buildMs,
            scale: t.scale,
            overheadMs: t.overheadMs,
            heldOut: t.heldOut ?? null,
            info,
            report,
            space: space.id,
            numClasses,
            batch: t.batch,
            statistic: t.statistic,
            repeats: t.repeats,
            clock: t.clock,
            maxMs: predictLatency(t, space, maxGenome(space)),
          };
        } finally {
          release();
        }
      }),

    'latency.measure': (i) =>
      withDb(i.home, async (db) => {
        const b = await backend(i);
        const ops = activeOps();
        const { space, numClasses, named } = await latencyTarget(i.home, db, i.target);
        const g = blame('subnet', () => named(i.subnet));
        const net = new Supernet({ space, ops, numClasses });
        const s = extractStatic(net, g, resetStats(net, g));
        net.dispose();
        try {
          const rows = measureLatency(s, { batchSizes: i.batch && i.batch > 1 ? [1, i.batch] : [1], warmup: i.warmup, repeats: i.repeats });
          const lut = findLatencyTable(i.home, space, numClasses, ops);
          return {
            space: space.id,
            genomeId: genomeId(space.id, g),
            backend: b.chosen,
            measurements: rows,
            predictedMs: lut ? predictLatency(lut.table, space, g) : null,
            table: lut?.path ?? null,
            device: `${b.chosen} (${ops.mode} ops)`,
            tableBatch: lut ? lut.table.batch : null,
          };
        } finally {
          s.dispose();
        }
      }),
  };
}
