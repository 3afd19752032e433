/**
 * Searches with several evaluation workers (docs/SEARCH.md "Parallel evaluation"), in the built search runner and
 * evaluation worker (out/main/search-runner.js, out/main/eval-worker.js) on a briefly trained tiny run, each search
 * in its own copy of the trained home so that none answers from another's cache:
 * - a search with 2 workers records the same archive, members, state and front as one with 1;
 * - a search whose evaluation worker is killed fails with the worker named, and resumes (with 2 workers) to that
 *   same archive; no tensor is left behind in the runner's thread.
 */
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src-main/engine';
import { openHomeDatabase } from '../../../src-main/store/db';
import { createSearch, getSearch, listSearchMembers, readSearchState, transitionSearch, type SearchRow } from '../../../src-main/store/searches';
import { findSearchFront } from '../../../src-main/store/fronts';
import { SearchManager, forkSearchRunner } from '../../../src-main/jobs/search-manager';
import { runSearchJob } from '../../../src-main/jobs/search-runner';
import type { SearchRunnerToParent } from '../../../src-main/jobs/search-messages';
import type { EvalPool } from '../../../src-main/search/eval-pool';
import type { SearchState } from '../../../src-main/search/evolution';
import { trainTinyRun } from '../search/run-fixture';

const OUT = join(__dirname, '..', '..', '..', 'out', 'main');
const built = existsSync(join(OUT, 'search-runner.js')) && existsSync(join(OUT, 'eval-worker.js'));
if (!built) console.warn(`search worker tests skipped: ${OUT}/search-runner.js or eval-worker.js is missing (run \`npx electron-vite build\`)`);

let home: string;
let runId: number;
const copyHome = () => {
  const h = mkdtempSync(join(tmpdir(), 'search-workers-copy-'));
  cpSync(home, h, { recursive: true });
  return h;
};

// 4 + 2·(2 + 2) = 12 evaluations, in batches of 2.
const REQUEST = { config: { populationSize: 4, mutateSize: 2, crossoverSize: 2, generations: 2, seed: 6 }, budget: { mflopsMax: 0.4 } };

const archiveOf = (s: SearchState) => s.archive.map((e) => ({ id: e.id, accuracy: e.accuracy, loss: e.result.loss, cost: e.cost, origin: e.origin, generation: e.generation, parents: e.parents ?? null, index: e.index }));
const membersOf = (h: string, id: number) => {
  const db = openHomeDatabase(h);
  try {
    return listSearchMembers(db, id).map((m) => [m.position, m.evaluation.genomeId, m.evaluation.accuracy, m.evaluation.loss, m.evaluation.before?.accuracy, m.origin, m.generation]);
  } finally {
    db.close();
  }
};

/** Runs one search through a SearchManager and the built runner; returns its final row, state and front. */
async function searchWith(h: string, workers: number | 'auto') {
  const m = new SearchManager({ home: h, cores: 2, spawn: () => forkSearchRunner(join(OUT, 'search-runner.js'), { env: { ...process.env, ALPHANET_BACKEND: 'wasm' } }) });
  try {
    const s = await m.enqueue({ runId, ...REQUEST, workers });
    const done = await m.waitFor(s.id);
    return { row: done, state: readSearchState(m.db, s.id) as SearchState, front: m.front(s.id)! };
  } finally {
    m.close();
  }
}

beforeAll(async () => {
  ({ home, runId } = await trainTinyRun('search-workers-'));
}, 300_000);

describe.skipIf(!built)('searches with evaluation workers', () => {
  let one: Awaited<ReturnType<typeof searchWith>>;
  let oneHome: string;

  it('2 workers record the same archive, members, state and front as 1', async () => {
    oneHome = copyHome();
    one = await searchWith(oneHome, 1);
    const twoHome = copyHome();
    const two = await searchWith(twoHome, 2);
    for (const r of [one.row, two.row]) expect(r.status, r.error ?? '').toBe('finished');
    expect([one.row.workers, one.row.cores, two.row.workers, two.row.cores]).toEqual([1, 1, 2, 2]);
    expect(archiveOf(two.state)).toEqual(archiveOf(one.state));
    expect(archiveOf(one.state)).toHaveLength(12);
    expect(new Set(one.state.archive.map((e) => e.accuracy)).size).toBeGreaterThan(1);
    expect({ ...two.state, archive: [], elapsedMs: 0 }).toEqual({ ...one.state, archive: [], elapsedMs: 0 });
    expect(membersOf(twoHome, two.row.id)).toEqual(membersOf(oneHome, one.row.id));
    expect(two.front.points).toEqual(one.front.points.map((p) => ({ ...p })));
    expect(two.front.hypervolume).toBe(one.front.hypervolume);
  }, 600_000);

  it('a killed evaluation worker fails the search, naming it; resumed, it reaches the same archive', async () => {
    const h = copyHome();
    process.env.ALPHANET_BACKEND = 'wasm';
    await initBackend({ force: 'wasm' });
    const db = openHomeDatabase(h);
    try {
      // The row a SearchManager would store, claimed as the manager does (the runner runs in this process).
      const src = getSearch(openHomeDatabase(oneHome), one.row.id);
      const s = createSearch(db, { ...inputOf(src), workers: 2 });
      transitionSearch(db, s.id, 'running', { pid: process.pid, startedAt: new Date().toISOString() });
      const tensors = tf.memory().numTensors;
      let pool: EvalPool | undefined;
      const evaluated: number[] = [];
      const send = (m: SearchRunnerToParent) => {
        if (m.type !== 'evaluated') return;
        evaluated.push(m.position);
        // After the second batch is recorded: the next one finds worker 1 gone.
        if (m.position === 3) void pool!.threads[0].terminate();
      };
      await expect(runSearchJob(h, s.id, () => null, () => undefined, send, { onPool: (p) => (pool = p) })).rejects.toThrow(/evaluation worker 1 exited/);
      const failed = getSearch(db, s.id);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/evaluation worker 1 exited/);
      const saved = readSearchState(db, s.id) as SearchState;
      expect(saved.archive).toHaveLength(4);
      expect(archiveOf(saved)).toEqual(archiveOf(one.state).slice(0, 4));
      expect(listSearchMembers(db, s.id)).toHaveLength(4);
      expect(tf.memory().numTensors).toBe(tensors);

      // Resumed as `alphanet search resume` would: a fresh pool, the same archive as the uninterrupted search.
      transitionSearch(db, s.id, 'running', { pid: process.pid, error: null }, ['failed']);
      await runSearchJob(h, s.id, () => null, () => undefined, () => undefined);
      const finished = getSearch(db, s.id);
      expect(finished.status, finished.error ?? '').toBe('finished');
      expect(archiveOf(readSearchState(db, s.id) as SearchState)).toEqual(archiveOf(one.state));
      expect(findSearchFront(db, s.id)!.points).toEqual(one.front.points);
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      db.close();
    }
  }, 600_000);
});

/** The fields a search is created with, from a stored row. */
function inputOf(r: SearchRow) {
  const { runId: run, name, kind, config, budget, objective, targetEvaluations, split, calibrationBatches, calibrationBatchSize, calibrationSeed, checkpointPath, checkpointSha256, checkpointStep, backendRequest, total, appVersion } = r;
  return { runId: run, name, kind, config, budget, objective, targetEvaluations, split, calibrationBatches, calibrationBatchSize, calibrationSeed, checkpointPath, checkpointSha256, checkpointStep, backendRequest, total, appVersion };
}
