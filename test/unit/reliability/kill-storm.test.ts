/**
 * Kill storms (slow suite, ALPHANET_SLOW_TESTS=1, which CI sets). The built CLI trains, searches, imports
 * and exports in its own process group; SIGKILL hits the whole group (the CLI and its runner) at random moments, and
 * the work is then resumed (`runs resume`, `search resume`) or retried (the same import or export again), KILLS times
 * for each kind of work — training both on one thread and on two data-parallel worker threads. After every kill: `PRAGMA integrity_check` is ok. At the end: no job is left `running`, no
 * temporary file or half dataset stays, and every training run resumed through the storm ends with the same weights
 * (hash of every tensor of its final checkpoint) as an uninterrupted run with the same seed.
 *
 * Small on purpose — the tiny space, a few steps, small datasets — so that the storms take a few minutes. The number
 * of kills per storm is ALPHANET_KILL_STORM (default 20). Needs the build (out/main/cli.js and the runners).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeIdxSet } from '../../../src-main/data/synthetic';
import { Rng, readCheckpointFile } from '../../../src-main/engine/core';
import { findBuilt } from '../../../src-main/service/built-paths';
import { openDatabase, type Db } from '../../../src-main/store/db';
import { listCheckpoints } from '../../../src-main/store/runs';
import { tinyDemoConfig } from '../train/runner-helpers';

const slow = process.env.ALPHANET_SLOW_TESTS === '1';
const KILLS = Number(process.env.ALPHANET_KILL_STORM ?? 20);
const rng = new Rng(16);

let home: string;
let cli: string;

/** Runs the CLI to its end. */
function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ALPHANET_BACKEND: 'wasm' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * Starts the CLI in a process group of its own and SIGKILLs the group (the CLI and the runner it started) once
 * `ready()` holds, after a random delay of up to `maxDelayMs`; resolves with whether the work finished first.
 */
function startAndKill(args: string[], ready: () => boolean, maxDelayMs: number): Promise<'killed' | 'finished'> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, '--home', home, ...args], { stdio: 'ignore', detached: true, env: { ...process.env, ALPHANET_BACKEND: 'wasm' } });
    let done = false;
    let killed = false;
    p.on('exit', () => {
      done = true;
      resolve(killed ? 'killed' : 'finished');
    });
    const delay = rng.next() * maxDelayMs;
    let readyAt: number | null = null;
    const tick = setInterval(() => {
      if (done) return clearInterval(tick);
      if (readyAt === null && ready()) readyAt = Date.now();
      if (readyAt !== null && Date.now() - readyAt >= delay) {
        clearInterval(tick);
        killed = true;
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          // Exited in between.
        }
      }
    }, 10);
  });
}

function db(): Db {
  return openDatabase(join(home, 'alphanet.db'));
}
function query<T>(sql: string, ...params: unknown[]): T {
  const d = db();
  try {
    return d.prepare(sql).get(...params) as T;
  } finally {
    d.close();
  }
}
function integrity(): string {
  const d = db();
  try {
    return d.pragma('integrity_check', { simple: true }) as string;
  } finally {
    d.close();
  }
}
const status = (table: 'runs' | 'searches', id: number) => query<{ status: string } | undefined>(`SELECT status FROM ${table} WHERE id = ?`, id)?.status;

/** SHA-256 over every weight tensor (name and values, in name order) of a run's newest checkpoint. */
function weightsHash(runId: number): string {
  const d = db();
  try {
    const ck = listCheckpoints(d, runId)[0];
    const c = readCheckpointFile(ck.path, ck.sha256);
    const h = createHash('sha256');
    for (const [name, t] of [...c.weights.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      h.update(name);
      h.update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    return h.digest('hex');
  } finally {
    d.close();
  }
}

/** The storm's run config; `workers` 2 trains data-parallel (worker threads in the runner). */
const configFile = (workers = 1) => {
  const f = join(home, `storm-config-${workers}.json`);
  writeFileSync(f, JSON.stringify(tinyDemoConfig({ name: `storm-w${workers}`, seed: 7, epochs: 2, stepsPerEpoch: 12, workers, checkpoint: { everySteps: 3, keepLast: 2 } })));
  return f;
};

describe.skipIf(!slow)('kill storms', () => {
  let reference: { runId: number; hash: string };

  beforeAll(async () => {
    cli = findBuilt('cli.js', { what: 'the built CLI' });
    home = tempDir('alphanet-storm-');
    expect((await run(['datasets', 'demo'])).code).toBe(0);
    const r = await run(['train', configFile()]);
    expect(r.code, r.err).toBe(0);
    reference = { runId: 1, hash: weightsHash(1) };
  }, 300_000);

  it.each([1, 2])(`training on %i worker(s): ${KILLS} kills, each resumed; same weights as uninterrupted`, async (workers) => {
    let expected = reference.hash;
    if (workers !== 1) {
      const r = await run(['train', configFile(workers)]);
      expect(r.code, r.err).toBe(0);
      expected = weightsHash(query<{ n: number }>('SELECT MAX(id) AS n FROM runs').n);
    }
    let kills = 0;
    const finished: number[] = [];
    let runId = 0;
    while (kills < KILLS) {
      let outcome: 'killed' | 'finished';
      if (runId === 0 || status('runs', runId) === 'finished') {
        const before = query<{ n: number }>('SELECT MAX(id) AS n FROM runs').n;
        outcome = await startAndKill(['train', configFile(workers)], () => status('runs', before + 1) === 'running', 1500);
        runId = before + 1;
      } else {
        outcome = await startAndKill(['runs', 'resume', String(runId)], () => status('runs', runId) === 'running', 1500);
      }
      if (outcome === 'killed') kills++;
      expect(integrity()).toBe('ok');
      if (status('runs', runId) === 'finished' && !finished.includes(runId)) finished.push(runId);
    }
    if (status('runs', runId) !== 'finished') {
      const r = await run(['runs', 'resume', String(runId)]);
      expect(r.code, r.err).toBe(0);
      finished.push(runId);
    }
    for (const id of finished) expect(weightsHash(id), `run ${id}`).toBe(expected);
    expect(query('SELECT COUNT(*) AS n FROM runs WHERE status = ?', 'running')).toEqual({ n: 0 });
    console.log(`training storm (${workers} worker${workers > 1 ? 's' : ''}): ${kills} kills; ${finished.length} run(s) resumed to the end, weights equal to the uninterrupted run's`);
  }, 900_000);

  it(`search: ${KILLS} kills, each resumed; it finishes`, async () => {
    let kills = 0;
    let searchId = 0;
    const finished: number[] = [];
    const args = (id: number) => (id === 0 ? ['search', String(reference.runId), '--kind', 'random', '--evaluations', '12', '--seed', '3'] : ['search', 'resume', String(id)]);
    while (kills < KILLS) {
      const next = searchId === 0 ? (query<{ n: number | null }>('SELECT MAX(id) AS n FROM searches').n ?? 0) + 1 : searchId;
      const outcome = await startAndKill(args(searchId), () => status('searches', next) === 'running', 1500);
      searchId = next;
      if (outcome === 'killed') kills++;
      expect(integrity()).toBe('ok');
      if (status('searches', searchId) === 'finished') {
        finished.push(searchId);
        searchId = 0;
      }
    }
    if (searchId !== 0) {
      const r = await run(['search', 'resume', String(searchId)]);
      expect(r.code, r.err).toBe(0);
      finished.push(searchId);
    }
    for (const id of finished) expect(query('SELECT evaluations, total FROM searches WHERE id = ?', id)).toEqual({ evaluations: 12, total: 12 });
    expect(query('SELECT COUNT(*) AS n FROM searches WHERE status = ?', 'running')).toEqual({ n: 0 });
    console.log(`search storm: ${kills} kills; ${finished.length} search(es) resumed to the end`);
  }, 900_000);

  it(`dataset import: ${KILLS} kills, each retried; no temporary or half dataset stays`, async () => {
    const src = writeIdxSet(join(tempDir(), 'storm-idx'), { nTrain: 12000, nTest: 2000, h: 28, w: 28 }).dir;
    const datasets = join(home, 'datasets');
    let kills = 0;
    while (kills < KILLS) {
      const outcome = await startAndKill(['datasets', 'import', src, '--name', `storm-${kills}`], () => true, 2500);
      if (outcome === 'killed') kills++;
      expect(integrity()).toBe('ok');
      // Every registered dataset has its folder; no folder but temporary ones lacks a row.
      const rows = new Set((db().prepare('SELECT id FROM datasets').all() as { id: string }[]).map((r) => r.id));
      const dirs = readdirSync(datasets).filter((d) => !d.startsWith('.'));
      expect(dirs.sort()).toEqual([...rows].sort());
    }
    // The retry: the next import cleans what the killed ones left, and registers the set once.
    const r = await run(['datasets', 'import', src, '--name', 'storm-final']);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(datasets).filter((d) => d.startsWith('.'))).toEqual([]);
    const same = query<{ n: number }>("SELECT COUNT(*) AS n FROM datasets WHERE source = ?", src).n;
    expect(same).toBe(1);
    console.log(`import storm: ${kills} kills; then one clean import, no temporary folder left`);
  }, 900_000);

  it(`export: ${KILLS} kills, each retried; complete files only, no temporary folder stays`, async () => {
    const parent = tempDir('alphanet-storm-export-');
    const out = join(parent, 'model');
    let kills = 0;
    while (kills < KILLS) {
      const outcome = await startAndKill(['export', String(reference.runId), 'min', '--format', 'both', '--out', out], () => true, 4000);
      if (outcome === 'killed') kills++;
      expect(integrity()).toBe('ok');
    }
    const r = await run(['export', String(reference.runId), 'min', '--format', 'both', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(parent)).toEqual(['model']);
    for (const f of ['arch.json', 'provenance.json', 'model.onnx', 'tfjs/model.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readdirSync(out, { recursive: true }).map(String).filter((f) => f.includes('.tmp-'))).toEqual([]);
    console.log(`export storm: ${kills} kills; then one clean export, no temporary folder left`);
  }, 900_000);
});
