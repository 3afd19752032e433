/**
 * The explorer benchmark page (out/renderer/bench/pareto.html): mounts the Pareto explorer with `?n=` seeded points
 * (default 10,000, two runs) and exposes `window.paretoBench`, which src-main/bench/explorer-bench.ts drives through
 * Chromium. All timing happens here, in the page, with performance.now():
 * - hover: per pointer move, from the event's timestamp to the frame that shows its result — the tooltip and ring
 *   are updated inside the handler, and a message posted from the next requestAnimationFrame callback runs once
 *   that frame's rendering (style, layout, paint) is done;
 * - frames: the interval between animation frames and the point layer's redraw time while the user pans or zooms.
 */
import { mount } from 'svelte';
import type { RenderStats } from '../lib/pareto/chart';
import { applyBudget, buildBase, buildModel } from '../lib/pareto/model';
import type { ExplorerPoint } from '../lib/pareto/types';
import Bench from './Bench.svelte';
import { BENCH_SERIES, benchPoints } from './points';

export interface HoverSample {
  /** Event timestamp → our first listener: input queueing before the handler. */
  queueMs: number;
  /** Time inside the explorer's pointermove handler (hit test, overlay repaint, tooltip update). */
  handlerMs: number;
  /** Event timestamp → the frame showing the result has been rendered. */
  paintMs: number;
  /** Whether the move hovered a point (tooltip shown). */
  hit: boolean;
}

export interface FrameSample {
  /** Intervals between consecutive animation frames while recording, ms. */
  intervals: number[];
  /** Point-layer redraw times while recording, ms. */
  renders: number[];
  /** Points actually drawn (after same-pixel skipping) in the last redraw. */
  drawn: number;
}

export interface ParetoBenchApi {
  n: number;
  /** Building the budget-independent model (fronts, k-d tree) for all points, ms: the cost of an axis change or a
   * batch of new search results. Median of 5. */
  baseMs: number;
  /** Applying a budget to it (feasibility, best within budget), ms: the cost of a budget slider step. Median of 5. */
  budgetMs: number;
  /** Front sizes per series. */
  fronts: number[];
  /** CSP violations and errors seen on the page. */
  problems: string[];
  /** The plot element's box in viewport CSS px. */
  plotBox(): { x: number; y: number; width: number; height: number };
  /** Viewport positions of up to `count` points (spread over the list), for moves that land on a point. */
  pointTargets(count: number): { x: number; y: number }[];
  startHover(): void;
  /** Resolves once every recorded move's frame has been rendered. */
  settled(): Promise<void>;
  stopHover(): HoverSample[];
  startFrames(): void;
  stopFrames(): FrameSample;
}

declare global {
  interface Window {
    paretoBench?: ParetoBenchApi;
  }
}

const params = new URLSearchParams(location.search);
const n = Number(params.get('n') ?? 10_000);
if (!Number.isInteger(n) || n < 1) throw new Error(`?n= must be a positive integer, got ${params.get('n')}`);
const points = benchPoints(n);
const BUDGET = { mflopsMax: 12 };
const problems: string[] = [];
document.addEventListener('securitypolicyviolation', (e) => problems.push(`CSP: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));
window.addEventListener('error', (e) => problems.push(`error: ${e.message}`));

let renders: number[] | null = null;
let lastDrawn = 0;
let hovered: ExplorerPoint | null = null;
const target = document.getElementById('bench');
if (!target) throw new Error('pareto.html has no #bench element');
const page = mount(Bench, {
  target,
  props: {
    points,
    series: BENCH_SERIES,
    budget: BUDGET,
    onrender: (s: RenderStats) => {
      renders?.push(s.ms);
      lastDrawn = s.drawn;
    },
    onhover: (p: ExplorerPoint | null) => (hovered = p),
  },
});

// ---- hover ----
let hoverSamples: HoverSample[] | null = null;
let pending = 0;
let settleWaiters: (() => void)[] = [];
const afterFrame = (fn: () => void) =>
  requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = fn;
    ch.port2.postMessage(0);
  });
let current: { t0: number; start: number } | null = null;
// Capture on window runs before the explorer's own listener, bubble after it.
window.addEventListener('pointermove', (e) => {
  if (hoverSamples) current = { t0: e.timeStamp, start: performance.now() };
}, { capture: true });
window.addEventListener('pointermove', () => {
  if (!hoverSamples || !current) return;
  const { t0, start } = current;
  const end = performance.now();
  const hit = hovered !== null;
  const samples = hoverSamples;
  current = null;
  pending++;
  afterFrame(() => {
    samples.push({ queueMs: start - t0, handlerMs: end - start, paintMs: performance.now() - t0, hit });
    if (--pending === 0) {
      for (const w of settleWaiters) w();
      settleWaiters = [];
    }
  });
});

// ---- frames ----
let intervals: number[] | null = null;
let frameLoop = 0;
let lastFrame = 0;
const tick = (t: number) => {
  if (!intervals) return;
  if (lastFrame) intervals.push(t - lastFrame);
  lastFrame = t;
  frameLoop = requestAnimationFrame(tick);
};

const plotEl = () => {
  const el = document.querySelector<HTMLElement>('.plot');
  if (!el) throw new Error('the explorer has not rendered its plot');
  return el;
};

/** Median of 5 timings of `fn`, ms. */
const median5 = (fn: () => unknown) =>
  Array.from({ length: 5 }, () => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  }).sort((a, b) => a - b)[2];
const base = buildBase(points, 'mflops', BENCH_SERIES);
const baseMs = median5(() => buildBase(points, 'mflops', BENCH_SERIES));
const budgetMs = median5(() => applyBudget(base, { mflopsMax: 11, mparamsMax: 1 }));

window.paretoBench = {
  n,
  baseMs,
  budgetMs,
  fronts: buildModel(points, 'mflops', BUDGET, BENCH_SERIES).series.map((s) => s.front.length),
  problems,
  plotBox() {
    const r = plotEl().getBoundingClientRect();
    return { x: r.left, y: r.top, width: r.width, height: r.height };
  },
  pointTargets(count) {
    const chart = page.chart();
    if (!chart) throw new Error('the explorer chart is not mounted');
    const r = plotEl().getBoundingClientRect();
    const out: { x: number; y: number }[] = [];
    const step = Math.max(1, Math.floor(points.length / count));
    for (let i = 0; i < points.length && out.length < count; i += step) {
      const s = chart.screenOf(points[i].id);
      if (s) out.push({ x: r.left + s.x, y: r.top + s.y });
    }
    return out;
  },
  startHover() {
    hoverSamples = [];
  },
  settled() {
    return pending === 0 ? Promise.resolve() : new Promise((resolve) => settleWaiters.push(resolve));
  },
  stopHover() {
    const s = hoverSamples ?? [];
    hoverSamples = null;
    return s;
  },
  startFrames() {
    intervals = [];
    renders = [];
    lastFrame = 0;
    frameLoop = requestAnimationFrame(tick);
  },
  stopFrames() {
    cancelAnimationFrame(frameLoop);
    const out = { intervals: intervals ?? [], renders: renders ?? [], drawn: lastDrawn };
    intervals = null;
    renders = null;
    return out;
  },
};
