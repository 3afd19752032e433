/**
 * Pareto fronts as stored: a `ParetoFront` (search/pareto.ts) turned into the record that `store/fronts.ts` writes,
 * and the run-level front that every evaluation of a run is offered to.
 */
import type { Db } from '../store/db';
import { findRunFront, saveRunFront, type FrontData, type FrontRecord, type RunFrontScope } from '../store/fronts';
import { ParetoFront, type ReferencePoint } from './pareto';

/** The stored form of a front: its points, offers and hypervolume against `ref`. */
export function frontRecord(front: ParetoFront<FrontData>, ref: ReferencePoint): FrontRecord {
  const json = front.toJSON();
  return { points: json.points, offered: json.offered, hypervolume: front.hypervolume(ref), reference: { costRef: ref.costRef, accRef: ref.accRef } };
}

/**
 * Offers one evaluation to a run-level front: the stored front of n points is parsed and rebuilt (n insertions,
 * O(n log n)), the point inserted, and the whole row rewritten with its hypervolume against `ref` (O(n)). Fronts are
 * small (tens of points), so this costs far less than the evaluation it records. Returns whether the point joined
 * the front.
 * Call inside the transaction that stored the evaluation.
 */
export function offerToRunFront(db: Db, scope: RunFrontScope, point: { evaluationId: number; genomeId: string; accuracy: number; cost: number }, ref: ReferencePoint): boolean {
  const row = findRunFront(db, scope);
  const front = row ? ParetoFront.fromJSON<FrontData>({ version: 1, points: row.points, offered: row.offered }) : new ParetoFront<FrontData>();
  const joined = front.insert({ id: String(point.evaluationId), accuracy: point.accuracy, cost: point.cost, data: { evaluationId: point.evaluationId, genomeId: point.genomeId } });
  saveRunFront(db, scope, frontRecord(front, ref));
  return joined;
}
