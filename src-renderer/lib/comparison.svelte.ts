/**
 * Subnets the user added to the comparison (the explorer panel's “Add to comparison”), shown side by side on the
 * Compare page. Shared by the pages of one window and kept in sessionStorage, so a reload keeps it and a new window
 * starts empty. At most {@link MAX_COMPARED} subnets: a table wider than that no longer compares at a glance.
 */
import type { SubnetEvaluation } from '../../src-main/ipc/api-types';

export const MAX_COMPARED = 6;
export const COMPARISON_STORAGE_KEY = 'alphanet.comparison';

export interface ComparedSubnet {
  /** The run's label (name + distillation), kept so the table needs no extra call. */
  runLabel: string;
  evaluation: SubnetEvaluation;
}

class Comparison {
  items: ComparedSubnet[] = $state(load());

  has(evaluationId: number): boolean {
    return this.items.some((x) => x.evaluation.id === evaluationId);
  }

  /** Adds a subnet (replacing an older entry of the same genome and run); false when the list is full. */
  add(item: ComparedSubnet): boolean {
    const rest = this.items.filter((x) => !(x.evaluation.runId === item.evaluation.runId && x.evaluation.genomeId === item.evaluation.genomeId));
    if (rest.length >= MAX_COMPARED) return false;
    this.items = [...rest, item];
    save(this.items);
    return true;
  }

  remove(evaluationId: number): void {
    this.items = this.items.filter((x) => x.evaluation.id !== evaluationId);
    save(this.items);
  }

  clear(): void {
    this.items = [];
    save(this.items);
  }
}

function load(): ComparedSubnet[] {
  try {
    const raw = typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem(COMPARISON_STORAGE_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? (parsed as ComparedSubnet[]).slice(0, MAX_COMPARED) : [];
  } catch {
    // A corrupt entry (edited by hand) is dropped rather than breaking every page.
    return [];
  }
}

function save(items: ComparedSubnet[]): void {
  try {
    sessionStorage.setItem(COMPARISON_STORAGE_KEY, JSON.stringify(items));
  } catch {
    // Storage full or disabled: the list still works for this page load.
  }
}

export const comparison = new Comparison();
