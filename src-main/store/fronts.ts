/**
 * Repository of the `pareto_fronts` table (migration 003): a search's front and the run-level fronts, stored as the
 * points in increasing cost with their hypervolume. Storage only: the front itself (insertion, dominance,
 * hypervolume) is `search/pareto.ts`, and `search/fronts.ts` offers evaluations to a run front.
 */
import type { Db } from './db';
import { now } from './jobs';
import type { EvalSplit } from './evaluations';
import type { SearchObjective, SearchRow } from './searches';

/** A stored front point: `search/pareto.ts`'s `FrontPoint<FrontData>`. */
export interface StoredFrontPoint {
  id: string;
  accuracy: number;
  cost: number;
  data?: FrontData;
}

/** The reference point a hypervolume was measured against. */
export interface FrontReference {
  costRef: number;
  accRef: number;
}

/** A front as written: its points in increasing cost, how many were offered, its hypervolume against `reference`. */
export interface FrontRecord {
  points: StoredFrontPoint[];
  offered: number;
  hypervolume: number;
  reference: FrontReference;
}

/** What a front point carries: the evaluation it stands for. The point's `id` is the evaluation id as text. */
export interface FrontData {
  evaluationId: number;
  genomeId: string;
}

/** Which evaluations of a run a run-level front covers. */
export interface RunFrontScope {
  runId: number;
  objective: SearchObjective;
  split: EvalSplit;
  checkpointSha256: string;
  /** Latency fronts: the device whose latencies are the cost (null for MFLOPs). */
  deviceId: string | null;
}

export interface FrontRow extends RunFrontScope {
  id: number;
  searchId: number | null;
  /** Front points in increasing cost. */
  points: StoredFrontPoint[];
  offered: number;
  hypervolume: number;
  reference: FrontReference;
  updatedAt: string;
}

const toFront = (r: Record<string, unknown>): FrontRow => {
  const json = JSON.parse(r.points as string) as { points: StoredFrontPoint[]; offered: number };
  return {
    id: r.id as number,
    runId: r.run_id as number,
    searchId: r.search_id as number | null,
    objective: r.objective as SearchObjective,
    split: r.split as EvalSplit,
    checkpointSha256: r.checkpoint_sha256 as string,
    deviceId: r.device_id as string | null,
    points: json.points,
    offered: json.offered,
    hypervolume: r.hypervolume as number,
    reference: { costRef: r.cost_ref as number, accRef: r.acc_ref as number },
    updatedAt: r.updated_at as string,
  };
};

/** Writes a front row (insert or replace by id). The points column holds `{version: 1, points, offered}`, the JSON of
 * `ParetoFront.toJSON()`. */
function writeFront(db: Db, existingId: number | undefined, scope: RunFrontScope, searchId: number | null, f: FrontRecord): void {
  const json = JSON.stringify({ version: 1, points: f.points, offered: f.offered });
  const ref = f.reference;
  if (existingId !== undefined) {
    db.prepare('UPDATE pareto_fronts SET points = ?, size = ?, offered = ?, hypervolume = ?, cost_ref = ?, acc_ref = ?, updated_at = ? WHERE id = ?').run(
      json,
      f.points.length,
      f.offered,
      f.hypervolume,
      ref.costRef,
      ref.accRef,
      now(),
      existingId,
    );
  } else {
    db.prepare(
      `INSERT INTO pareto_fronts (run_id, search_id, objective, split, checkpoint_sha256, device_id, points, size, offered, hypervolume, cost_ref, acc_ref, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(scope.runId, searchId, scope.objective, scope.split, scope.checkpointSha256, scope.deviceId, json, f.points.length, f.offered, f.hypervolume, ref.costRef, ref.accRef, now());
  }
}

/** Stores (replaces) the front of a search. */
export function saveSearchFront(db: Db, search: Pick<SearchRow, 'id' | 'runId' | 'objective' | 'split' | 'checkpointSha256'>, front: FrontRecord, deviceId: string | null = null): void {
  const existing = db.prepare('SELECT id FROM pareto_fronts WHERE search_id = ?').get(search.id) as { id: number } | undefined;
  writeFront(db, existing?.id, { runId: search.runId, objective: search.objective, split: search.split, checkpointSha256: search.checkpointSha256, deviceId }, search.id, front);
}

export function findSearchFront(db: Db, searchId: number): FrontRow | undefined {
  const r = db.prepare('SELECT * FROM pareto_fronts WHERE search_id = ?').get(searchId) as Record<string, unknown> | undefined;
  return r && toFront(r);
}

function findRunFrontRow(db: Db, s: RunFrontScope): Record<string, unknown> | undefined {
  return db
    .prepare(
      `SELECT * FROM pareto_fronts WHERE search_id IS NULL AND run_id = ? AND objective = ? AND split = ? AND checkpoint_sha256 = ?
         AND IFNULL(device_id, '') = ?`,
    )
    .get(s.runId, s.objective, s.split, s.checkpointSha256, s.deviceId ?? '') as Record<string, unknown> | undefined;
}

export function findRunFront(db: Db, scope: RunFrontScope): FrontRow | undefined {
  const r = findRunFrontRow(db, scope);
  return r && toFront(r);
}

/** Every stored front of a run (run-level ones first, then per search). */
export function listRunFronts(db: Db, runId: number): FrontRow[] {
  const rows = db.prepare('SELECT * FROM pareto_fronts WHERE run_id = ? ORDER BY search_id IS NOT NULL, id').all(runId) as Record<string, unknown>[];
  return rows.map(toFront);
}

/** Stores (replaces) the run-level front of `scope`. */
export function saveRunFront(db: Db, scope: RunFrontScope, front: FrontRecord): void {
  writeFront(db, findRunFrontRow(db, scope)?.id as number | undefined, scope, null, front);
}
