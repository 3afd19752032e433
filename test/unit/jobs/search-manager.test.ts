/**
 * Search jobs that survive: the SearchManager runs a search in the built search runner (out/main/search-runner.js,
 * wasm), relays typed events, pauses and resumes by message, is cancelled through the database by another process's
 * manager, and a runner killed with SIGKILL mid-search is marked failed and resumes from its saved state to exactly
 * the archive of an uninterrupted search (run in a copy of the same home, so that neither answers from the other's
 * cache).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listSearchMembers, readSearchState, transitionSearch } from '../../../src-main/store/searches';
import { openHomeDatabase } from '../../../src-main/store/db';
import { BudgetError } from '../../../src-main/search/evolution';
import { SearchManager, SearchManagerError, defaultSearchRunnerPath, forkSearchRunner, type SearchRunnerHandle } from '../../../src-main/jobs/search-manager';
import type { SearchEvaluatedMessage, SearchRunnerToParent } from '../../../src-main/jobs/search-messages';
import type { SearchState } from '../../../src-main/search/evolution';
import { trainTinyRun } from '../search/run-fixture';

const RUNNER = join(__dirname, '..', '..', '..', 'out', 'main', 'search-runner.js');
let home: string;
let runId: number;

/** Spawns wasm search runners and remembers their handles (to kill one). */
function spawner() {
  const handles: SearchRunnerHandle[] = [];
  const spawn = () => {
    if (!existsSync(RUNNER)) throw new Error(`${RUNNER} is missing: run \`npx electron-vite build\` first`);
    const h = forkSearchRunner(RUNNER, { env: { ...process.env, ALPHANET_BACKEND: 'wasm' } });
    handles.push(h);
    return h;
  };
  return { spawn, handles };
}

// 4 + 2·(2 + 2) = 12 evaluations (~0.2 s each here).
const REQUEST = { config: { populationSize: 4, mutateSize: 2, crossoverSize: 2, generations: 2, seed: 4 }, budget: { mflopsMax: 0.4 } };

const archiveOf = (s: SearchState) => s.archive.map((e) => ({ id: e.id, accuracy: e.accuracy, cost: e.cost, origin: e.origin, generation: e.generation, parents: e.parents ?? null }));

beforeAll(async () => {
  ({ home, runId } = await trainTinyRun('search-jobs-'));
});

describe('SearchManager', () => {
  it('a search killed with SIGKILL is marked failed and resumes to the archive of an uninterrupted one', async () => {
    // Two copies of the trained home: one searched without interruption, one killed and resumed.
    const homeB = mkdtempSync(join(tmpdir(), 'search-jobs-copy-'));
    cpSync(home, homeB, { recursive: true });

    const a = spawner();
    const mA = new SearchManager({ home, spawn: a.spawn });
    const events: SearchRunnerToParent['type'][] = [];
    mA.on('message', (_, m) => events.push(m.type));
    const progress: number[] = [];
    mA.on('progress', (p) => progress.push(p.evaluations));
    const sA = await mA.enqueue({ runId, ...REQUEST });
    expect(sA).toMatchObject({ status: 'queued', total: 12, kind: 'evolution', objective: 'mflops', split: 'val', calibrationBatches: 1, calibrationBatchSize: 8, calibrationSeed: 1 });
    const doneA = await mA.waitFor(sA.id);
    expect(doneA.status, doneA.error ?? '').toBe('finished');
    expect(doneA.evaluations).toBe(12);
    expect(new Set(events)).toEqual(new Set(['ready', 'progress', 'evaluated', 'front', 'done']));
    expect(progress.at(-1)).toBe(12);
    const stateA = readSearchState(mA.db, sA.id) as SearchState;
    expect(stateA.done).toBe(true);
    const frontA = mA.front(sA.id)!;
    mA.close();

    const b = spawner();
    const mB = new SearchManager({ home: homeB, spawn: b.spawn });
    let killedAt = -1;
    mB.on('evaluated', (e: SearchEvaluatedMessage) => {
      if (e.position === 3 && killedAt < 0) {
        killedAt = e.position;
        b.handles[0].kill('SIGKILL');
      }
    });
    const sB = await mB.enqueue({ runId, ...REQUEST });
    const failed = await mB.waitFor(sB.id);
    expect(killedAt).toBe(3);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/exited on signal SIGKILL without finishing the search/);
    const saved = readSearchState(mB.db, sB.id) as SearchState;
    expect(saved.done).toBe(false);
    expect(saved.archive.length).toBeGreaterThanOrEqual(4);
    expect(saved.archive.length).toBeLessThan(12);
    expect(listSearchMembers(mB.db, sB.id)).toHaveLength(saved.archive.length);

    mB.resume(sB.id);
    const finished = await mB.waitFor(sB.id);
    expect(finished.status, finished.error ?? '').toBe('finished');
    expect(b.handles).toHaveLength(2);
    const stateB = readSearchState(mB.db, sB.id) as SearchState;
    expect(archiveOf(stateB)).toEqual(archiveOf(stateA));
    expect(stateB.rng).toEqual(stateA.rng);
    const membersA = listSearchMembers(openHomeDatabase(home), sA.id).map((m) => [m.position, m.evaluation.genomeId, m.evaluation.accuracy, m.origin, m.generation]);
    const membersB = listSearchMembers(mB.db, sB.id).map((m) => [m.position, m.evaluation.genomeId, m.evaluation.accuracy, m.origin, m.generation]);
    expect(membersB).toEqual(membersA);
    const frontB = mB.front(sB.id)!;
    expect(frontB.points.map((p) => p.data!.genomeId)).toEqual(frontA.points.map((p) => p.data!.genomeId));
    expect(frontB.hypervolume).toBe(frontA.hypervolume);
    expect(frontB.reference).toEqual(frontA.reference);
    // The budget held for every evaluated subnet.
    expect(Math.max(...stateB.archive.map((e) => e.mflops))).toBeLessThanOrEqual(0.4);
    mB.close();
  });

  it('pauses by message and resumes; another process cancels it through the database', async () => {
    const { spawn } = spawner();
    const m = new SearchManager({ home, spawn });
    let paused = false;
    m.on('evaluated', (e) => {
      if (e.position === 2 && !paused) {
        paused = true;
        m.pause(e.searchId);
      }
    });
    // 40 evaluations: long enough (≥ 2 s with two evaluation workers) that the cancel, read from the database every
    // 250 ms, lands mid-run.
    const s = await m.enqueue({ runId, kind: 'random', evaluations: 40, config: { seed: 9, populationSize: 4 } });
    expect(s).toMatchObject({ kind: 'random', total: 40, targetEvaluations: 40 });
    const p = await m.waitFor(s.id);
    expect(p.status).toBe('paused');
    expect(p.evaluations).toBeGreaterThanOrEqual(3);
    expect(p.evaluations).toBeLessThan(40);
    expect(() => m.pause(s.id)).toThrow(SearchManagerError);

    // Resume; a second manager (as another process would) cancels it via the control column.
    const other = new SearchManager({ home, spawn: () => { throw new Error('not used'); } });
    let cancelled = false;
    m.on('evaluated', (e) => {
      if (e.position >= p.evaluations + 1 && !cancelled) {
        cancelled = true;
        other.cancel(e.searchId);
      }
    });
    m.resume(s.id);
    const c = await m.waitFor(s.id);
    expect(c.status).toBe('cancelled');
    expect(c.evaluations).toBeGreaterThan(p.evaluations);
    expect(c.evaluations).toBeLessThan(40);
    expect(listSearchMembers(m.db, s.id).map((x) => x.position)).toEqual(Array.from({ length: c.evaluations }, (_, i) => i));
    expect(() => m.resume(s.id)).toThrow(/only a paused or failed search can be resumed/);
    other.close();
    m.close();
  });

  it('refuses bad requests, impossible budgets and unknown runs before storing anything', async () => {
    const m = new SearchManager({ home, spawn: () => { throw new Error('not used'); } });
    const before = m.list().length;
    await expect(m.enqueue({ runId, budget: { mflopsMax: 0.01 } })).rejects.toThrow(BudgetError);
    await expect(m.enqueue({ runId, budget: { mflopsMax: 0.01 } })).rejects.toThrow(/impossible budget: MFLOPs max 0\.01000 is below the min subnet's/);
    await expect(m.enqueue({ runId, budget: { mflopsMin: 2, mflopsMax: 1 } })).rejects.toThrow(/budget\.mflopsMin/);
    await expect(m.enqueue({ runId, config: { mutateProb: 2 } })).rejects.toThrow(/config\.mutateProb/);
    await expect(m.enqueue({ runId, evaluations: 5 })).rejects.toThrow(/evaluations: is for random search/);
    await expect(m.enqueue({ runId: 42 })).rejects.toThrow(/no run with id 42/);
    await expect(m.enqueue({ runId, colour: 'red' })).rejects.toThrow(/colour/);
    expect(m.list()).toHaveLength(before);
    m.close();
  });

  it('a runner that cannot start fails the search; a running search whose process is gone is marked failed', async () => {
    const noRunner = () => {
      throw new Error('no runner here');
    };
    const m0 = new SearchManager({ home, spawn: noRunner });
    const s = await m0.enqueue({ runId, kind: 'random', evaluations: 2, name: 'orphan' });
    expect(await m0.waitFor(s.id)).toMatchObject({ status: 'failed', error: 'could not start the search runner: no runner here' });
    m0.close();
    // What a crashed runner leaves behind: the row still running, with the pid of a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const db = openHomeDatabase(home);
    expect(transitionSearch(db, s.id, 'running', { pid: dead })).toBe(true);
    db.close();
    const m = new SearchManager({ home, spawn: noRunner });
    expect(m.get(s.id)).toMatchObject({ status: 'failed', pid: null, error: expect.stringMatching(/is gone: it crashed or was killed; resume continues from the last saved state/) });
    m.close();
    expect(defaultSearchRunnerPath({ ALPHANET_SEARCH_RUNNER: RUNNER })).toBe(RUNNER);
  });
});
