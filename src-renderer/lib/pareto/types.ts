/**
 * The data the Pareto explorer shows. Plain objects only: the page builds them from search results (or the bench
 * from a seeded generator), the explorer never fetches anything itself.
 */

/** One evaluated subnet. */
export interface ExplorerPoint {
  /** Unique key (the genome ID). */
  id: string;
  /** Top-1 accuracy as a fraction, 0–1 (shown as %). */
  accuracy: number;
  /** Forward cost in MFLOPs (multiply-accumulates / 1e6, as the engine counts them). */
  mflops: number;
  /** Measured or predicted latency in milliseconds; null when never measured (left out of the latency view). */
  latencyMs: number | null;
  /** Parameters in millions. */
  mparams: number;
  /** The training run the subnet was sliced from. */
  runId?: number;
  /** The search that evaluated it. */
  searchId?: number;
  /** Pinned by the user: drawn with a diamond marker. */
  pinned?: boolean;
  /** Which series (run) it belongs to; see {@link SeriesDef}. Absent: the one default series. */
  series?: string;
}

/** The cost on the horizontal axis. */
export type XAxis = 'mflops' | 'latency';

/**
 * The current budget. Every bound is optional; an absent bound does not constrain. Units as in {@link ExplorerPoint}.
 */
export interface Budget {
  /** Lowest MFLOPs allowed (inclusive). */
  mflopsMin?: number;
  /** Highest MFLOPs allowed (inclusive). */
  mflopsMax?: number;
  /** Highest parameter count allowed, in millions (inclusive). */
  mparamsMax?: number;
  /** Highest latency allowed in ms (inclusive). A point without a latency fails this bound: it cannot be shown to meet it. */
  latencyMaxMs?: number;
}

/** One series (typically one run's search), drawn in its own colour with its own front. */
export interface SeriesDef {
  /** Matches {@link ExplorerPoint.series}. */
  id: string;
  /** Legend text, e.g. "run 3 · adaptive-alpha". */
  label: string;
}
