/**
 * Searches as the pages hold them: applying live `searches.onEvent` events to a list and to an open search, and
 * which controls a search's status allows. Pure; shared by the search page's list and its live view.
 */
import type { FrontInfo, SearchDetail, SearchEvent, SearchSummary, SubnetEvaluation } from '../../src-main/ipc/api-types';

export const canPauseSearch = (s: SearchSummary): boolean => s.status === 'running' || s.status === 'queued';
export const canResumeSearch = (s: SearchSummary): boolean => s.status === 'paused' || s.status === 'failed';
export const canCancelSearch = (s: SearchSummary): boolean => s.status === 'running' || s.status === 'queued' || s.status === 'paused';

/** The list after one event: `status` replaces or adds a row (newest first); `evaluated` moves its progress. */
export function applySearchEvent(list: readonly SearchSummary[], e: SearchEvent, runId: number | null): SearchSummary[] {
  if (e.type === 'status') {
    if (runId !== null && e.search.runId !== runId) return [...list];
    const i = list.findIndex((s) => s.id === e.search.id);
    return i < 0 ? [e.search, ...list] : list.map((s) => (s.id === e.search.id ? e.search : s));
  }
  if (e.type === 'evaluated') {
    return list.map((s) => (s.id === e.searchId ? withEvaluation(s, e.progress, e.etaSec) : s));
  }
  return list.map((s) => (s.id === e.searchId ? withFront(s, e.front) : s));
}

/**
 * An open search after one event, or the same object when the event is another search's. Evaluations are appended
 * once (an evaluation already held is not added again: the event may race the initial `searches.get`).
 */
export function applyToDetail(d: SearchDetail, e: SearchEvent): SearchDetail {
  if (e.type === 'status') return e.search.id === d.summary.id ? { ...d, summary: e.search } : d;
  if (e.searchId !== d.summary.id) return d;
  if (e.type === 'front') return { ...d, front: e.front, summary: withFront(d.summary, e.front) };
  const have = d.evaluations.some((x) => x.id === e.evaluation.id);
  const evaluations: SubnetEvaluation[] = have ? d.evaluations : [...d.evaluations, e.evaluation];
  return { ...d, evaluations, summary: { ...withEvaluation(d.summary, e.progress, e.etaSec), evaluations: Math.max(d.summary.evaluations, evaluations.length) } };
}

function withEvaluation(s: SearchSummary, progress: number, etaSec: number | null): SearchSummary {
  return { ...s, progress: Math.max(s.progress, progress), etaSec, evaluations: Math.max(s.evaluations, Math.round(progress * s.total)) };
}

function withFront(s: SearchSummary, f: FrontInfo): SearchSummary {
  return { ...s, frontSize: f.points.length, hypervolume: f.hypervolume, reference: f.reference };
}
