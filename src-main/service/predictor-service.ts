/**
 * The `predictor.*` methods (docs/SEARCH.md, "Accuracy predictor"): a run's stored predictor with predicted vs
 * measured top-1, gene importance and the gene values of its subnets are computed here from SQLite with the MLP's
 * plain-JS forward pass (no TF.js in this process); a build is the engine worker's `predictor.build`, whose progress
 * lines become `predictor.event`s.
 */
import type { Genome } from '../engine/core';
import type { ApiHandlers, EventPayload } from '../ipc/api-schemas';
import type { PredictorInfo, PredictorView } from '../ipc/api-types';
import { spaceGenes } from '../search/predictor';
import { predictorSummary, runGeneImportance, runPredictorView, runSpace, type PredictorSummary } from '../search/predictor-views';
import type { Db } from '../store/db';
import { findRunPredictor } from '../store/predictors';
import { getRun } from '../store/runs';
import { listEvaluations } from '../store/evaluations';
import { predictorBuildKey, type EngineWorker } from './engine-worker';
import { ApiError } from './errors';

type PredictorMethods = 'predictor.get' | 'predictor.importance' | 'predictor.build' | 'predictor.cancelBuild' | 'predictor.genes';

export interface PredictorServiceOptions {
  db: Db;
  engine: EngineWorker;
  emit: (e: EventPayload<'predictor.event'>) => void;
  /** Throws unless the run has a checkpoint to evaluate (the search service's check). */
  requireTrained: (runId: number, what: string) => void;
}

export function predictorInfo(p: PredictorSummary): PredictorInfo {
  return {
    id: p.id,
    runId: p.runId,
    split: p.split,
    checkpointStep: p.checkpointStep,
    checkpointSha256: p.checkpointSha256,
    stale: p.stale,
    trainSize: p.trainSize,
    sampled: p.sampled,
    metrics: p.metrics,
    sizeTable: p.sizeTable,
    fitMs: p.fitMs,
    backend: p.backend,
    createdAt: p.createdAt,
  };
}

/** The build's progress lines (search/run-predictor.ts `predictorProgressLine`) as events. */
export function parsePredictorProgress(line: string): EventPayload<'predictor.event'>['progress'] | null {
  let m = /^sample (\d+)\/(\d+):/.exec(line);
  if (m) return { phase: 'sample', done: Number(m[1]), total: Number(m[2]) };
  m = /^fit (\d+)\/(\d+) on (\d+) subnets: epoch (\d+)\/(\d+)$/.exec(line);
  if (m) return { phase: 'fit', fit: Number(m[1]), fits: Number(m[2]), trainSize: Number(m[3]), epoch: Number(m[4]), epochs: Number(m[5]) };
  return null;
}

export function createPredictorHandlers(o: PredictorServiceOptions): Pick<ApiHandlers, PredictorMethods> {
  const { db } = o;
  const view = (runId: number): PredictorView | null => {
    if (!findRunPredictor(db, runId)) return null;
    const v = runPredictorView(db, runId);
    return { predictor: predictorInfo(v.predictor), points: v.points };
  };
  return {
    'predictor.get': async (runId) => {
      getRun(db, runId);
      return view(runId);
    },
    'predictor.importance': async (runId) => {
      getRun(db, runId);
      if (!findRunPredictor(db, runId)) return null;
      const r = runGeneImportance(db, runId);
      return {
        predictor: predictorInfo(r.predictor),
        genes: r.importance.genes.map((g) => ({ key: g.key, label: g.label, kind: g.kind, importance: g.importance, marginal: g.marginal })),
        mainEffects: r.importance.mainEffects,
      };
    },
    'predictor.build': async (runId, opts) => {
      o.requireTrained(runId, 'build its accuracy predictor');
      const what = `building the accuracy predictor of run ${runId}`;
      await o.engine.run('predictor.build', { runId, samples: opts.samples ?? 100 }, {
        what,
        field: 'runId',
        cancelKey: predictorBuildKey(runId),
        onProgress: (p) => {
          const progress = parsePredictorProgress(p.message);
          if (progress) o.emit({ runId, progress });
        },
      });
      const v = view(runId);
      if (!v) throw new ApiError(500, `${what}: the CLI stored no predictor`);
      return v;
    },
    // The predictor is stored in one statement at the end of a build: a cancelled build stores none (the subnets it
    // evaluated stay in the evaluation cache, valid for the next build).
    'predictor.cancelBuild': async (runId) => o.engine.cancel(predictorBuildKey(runId)),
    'predictor.genes': async (runId) => {
      getRun(db, runId);
      const space = runSpace(db, runId);
      const genes = spaceGenes(space).filter((g) => g.values.length > 1);
      const seen = new Set<string>();
      const points: { genomeId: string; values: number[] }[] = [];
      for (const e of listEvaluations(db, runId, { split: 'val' })) {
        if (seen.has(e.genomeId)) continue;
        seen.add(e.genomeId);
        points.push({ genomeId: e.genomeId, values: genes.map((g) => g.values[g.get(e.genome as Genome)] ?? NaN) });
      }
      return { axes: genes.map((g) => ({ key: g.key, label: g.label, kind: g.kind, values: g.values })), points };
    },
  };
}
