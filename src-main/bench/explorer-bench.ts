/**
 * `bench --parts explorer`: how the Pareto explorer responds at 10,000 points in a real Chromium.
 *
 * Serves the built renderer (out/renderer, so run `npx electron-vite build` first) on 127.0.0.1 with the app's CSP
 * header, opens the benchmark page (src-renderer/bench/pareto.html: the explorer over seeded synthetic subnets of two
 * runs) in Debian's Chromium through playwright-core, and drives it with real input events:
 * - hover: `moves` pointer moves, alternately onto a drawn point and onto a random spot of the plot; per move the
 *   page measures the time from the event's timestamp to the end of the frame that shows the tooltip and ring
 *   (goal: within one 60 Hz frame, 16.7 ms), and the time spent in the explorer's handler;
 * - pan (a drag) and zoom (wheel notches): the intervals between animation frames and the point layer's redraw time.
 * It also saves screenshots (light, dark, latency axis) and fails if the page reports a CSP violation or an error.
 *
 * Chromium runs headless with `--disable-gpu`, as in the e2e tests: canvas drawing is software-rendered, the slow
 * case. Measurements are in the page with performance.now(), so they do not include the CDP round trip.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Rng } from '../engine/core';
import { quantile } from '../search/latency';
import { findChromium, launchChromium, serveStatic, type Browser } from './chromium';

/** One 60 Hz frame, ms. */
const FRAME_MS = 1000 / 60;

export interface ExplorerBenchOptions {
  /** Points on the chart. Default 10,000. */
  points?: number;
  /** Timed hover moves (after 40 untimed warm-up moves). Default 400. */
  moves?: number;
  /** Pointer moves in the pan drag. Default 150. */
  panMoves?: number;
  /** Wheel notches in the zoom test. Default 60. */
  wheelSteps?: number;
  /** The built renderer. Default out/renderer. */
  root?: string;
  /** Where screenshots go; null for none. Default test-results. */
  shotsDir?: string | null;
}

export interface Stat {
  median: number;
  p95: number;
  max: number;
  count: number;
}

export interface ExplorerBenchResult {
  points: number;
  /** Front sizes per series (runs). */
  fronts: number[];
  browser: string;
  /** Building the chart's budget-independent model (fronts, k-d tree) for all points, ms (median of 5). */
  baseMs: number;
  /** Applying a budget to it (a budget slider step), ms (median of 5). */
  budgetMs: number;
  /** 1-, 5- and 15-minute load averages before and after the run. */
  loadBefore: number[];
  loadAfter: number[];
  hover: {
    /** Event → frame rendered, ms. */
    paintMs: Stat;
    /** Inside the explorer's pointermove handler, ms. */
    handlerMs: Stat;
    /** Event timestamp → the handler starting (input queueing), ms. */
    queueMs: Stat;
    /** Event → frame rendered for moves over the page heading (no chart code): the browser's floor, ms. */
    floorMs: Stat;
    /** Share of moves whose frame was rendered within one 60 Hz frame of the event. */
    withinFrame: number;
    /** Moves that landed on a point (tooltip shown). */
    hits: number;
  };
  pan: { frameMs: Stat; redrawMs: Stat; drawn: number };
  zoom: { frameMs: Stat; redrawMs: Stat; drawn: number };
  shots: string[];
}

const stat = (xs: number[]): Stat => ({
  median: round(quantile(xs, 0.5)),
  p95: round(quantile(xs, 0.95)),
  max: round(Math.max(...xs)),
  count: xs.length,
});
const round = (v: number) => Math.round(v * 100) / 100;

type Box = { x: number; y: number; width: number; height: number };
type FrameSample = { intervals: number[]; renders: number[]; drawn: number };

export async function runExplorerBench(opts: ExplorerBenchOptions = {}): Promise<ExplorerBenchResult> {
  const n = opts.points ?? 10_000;
  const moves = opts.moves ?? 400;
  const root = path.resolve(opts.root ?? 'out/renderer');
  const shotsDir = opts.shotsDir === undefined ? path.resolve('test-results') : opts.shotsDir;
  if (!existsSync(path.join(root, 'bench', 'pareto.html'))) {
    throw new Error(`${root}/bench/pareto.html is missing: build the renderer first with \`npx electron-vite build\``);
  }
  findChromium(); // fail before starting anything when there is none

  const loadBefore = loadavg().map(round);
  const server = await serveStatic(root);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium({ viewport: { width: 1280, height: 800 }, profilePrefix: 'alphanet-explorer-bench-' });
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/pareto.html?n=${n}`;
    await page.goto(url);
    await page.waitForFunction('window.paretoBench !== undefined && document.querySelector(".plot canvas") !== null');
    await page.waitForTimeout(300); // first draw, fonts
    const info = (await page.evaluate('({ fronts: window.paretoBench.fronts, baseMs: window.paretoBench.baseMs, budgetMs: window.paretoBench.budgetMs, ua: navigator.userAgent })')) as {
      fronts: number[];
      baseMs: number;
      budgetMs: number;
      ua: string;
    };
    const box = (await page.evaluate('window.paretoBench.plotBox()')) as Box;
    // The plot area inside the chart's margins (generous: the margins are ~60 px left, ~50 px bottom).
    const inner = { x: box.x + 70, y: box.y + 20, width: box.width - 100, height: box.height - 80 };

    // ---- hover ----
    const targets = (await page.evaluate(`window.paretoBench.pointTargets(${Math.ceil(moves / 2) + 20})`)) as { x: number; y: number }[];
    const rng = new Rng(42); // the same mouse path every run
    const rnd = () => rng.next();
    const spot = (k: number) => (k % 2 === 0 && targets.length ? targets[(k / 2) % targets.length] : { x: inner.x + rnd() * inner.width, y: inner.y + rnd() * inner.height });
    for (let k = 0; k < 40; k++) await page.mouse.move(spot(k).x, spot(k).y);
    await page.evaluate('window.paretoBench.startHover()');
    for (let k = 0; k < moves; k++) {
      const p = spot(k);
      await page.mouse.move(p.x, p.y);
      await page.evaluate('window.paretoBench.settled()');
    }
    const samples = (await page.evaluate('window.paretoBench.stopHover()')) as { queueMs: number; handlerMs: number; paintMs: number; hit: boolean }[];
    if (samples.length < moves * 0.9) throw new Error(`only ${samples.length} of ${moves} hover moves reached the page`);
    // Control: the same measurement for moves over the page heading, where no chart code runs — the browser's own
    // event-to-frame time on this machine, which the chart's numbers should be read against.
    await page.evaluate('window.paretoBench.startHover()');
    for (let k = 0; k < moves / 4; k++) {
      await page.mouse.move(30 + rnd() * 300, 22 + rnd() * 16);
      await page.evaluate('window.paretoBench.settled()');
    }
    const floor = (await page.evaluate('window.paretoBench.stopHover()')) as { paintMs: number }[];

    // ---- pan: one long drag, moves as fast as input is accepted ----
    const cx = inner.x + inner.width / 2;
    const cy = inner.y + inner.height / 2;
    const panMoves = opts.panMoves ?? 150;
    await page.mouse.move(cx, cy);
    await page.evaluate('window.paretoBench.startFrames()');
    await page.mouse.down();
    for (let k = 1; k <= panMoves; k++) await page.mouse.move(cx + 160 * Math.sin(k / 15), cy + 90 * Math.sin(k / 23));
    await page.mouse.up();
    await page.waitForTimeout(100);
    const pan = (await page.evaluate('window.paretoBench.stopFrames()')) as FrameSample;
    await page.dblclick('.plot', { position: { x: 300, y: 200 } }); // reset the view

    // ---- zoom: wheel notches in, then out, at the centre ----
    const wheelSteps = opts.wheelSteps ?? 60;
    await page.mouse.move(cx, cy);
    await page.evaluate('window.paretoBench.startFrames()');
    for (let k = 0; k < wheelSteps; k++) {
      await page.mouse.wheel(0, k < wheelSteps / 2 ? -100 : 100);
      await page.waitForTimeout(8);
    }
    await page.waitForTimeout(100);
    const zoom = (await page.evaluate('window.paretoBench.stopFrames()')) as FrameSample;
    await page.dblclick('.plot', { position: { x: 300, y: 200 } });

    const shots = shotsDir ? await screenshots(page, shotsDir) : [];
    const pageProblems = (await page.evaluate('window.paretoBench.problems')) as string[];
    problems.push(...pageProblems);
    if (problems.length) throw new Error(`the explorer bench page reported problems:\n${problems.join('\n')}`);
    if (!pan.renders.length || !zoom.renders.length) throw new Error('the chart did not redraw while panning or zooming');

    return {
      points: n,
      fronts: info.fronts,
      baseMs: round(info.baseMs),
      budgetMs: round(info.budgetMs),
      browser: /Chrome\/[\d.]+/.exec(info.ua)?.[0] ?? info.ua,
      loadBefore,
      loadAfter: loadavg().map(round),
      hover: {
        paintMs: stat(samples.map((s) => s.paintMs)),
        handlerMs: stat(samples.map((s) => s.handlerMs)),
        queueMs: stat(samples.map((s) => s.queueMs)),
        floorMs: stat(floor.map((s) => s.paintMs)),
        withinFrame: round(samples.filter((s) => s.paintMs <= FRAME_MS).length / samples.length),
        hits: samples.filter((s) => s.hit).length,
      },
      pan: { frameMs: stat(pan.intervals), redrawMs: stat(pan.renders), drawn: pan.drawn },
      zoom: { frameMs: stat(zoom.intervals), redrawMs: stat(zoom.renders), drawn: zoom.drawn },
      shots,
    };
  } finally {
    await browser?.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * Light and dark screenshots with a front point focused from the keyboard (tooltip, ring) and selected, and one on
 * the latency axis. Returns the files written.
 */
async function screenshots(page: Page, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const out: string[] = [];
  const shot = async (name: string) => {
    await page.waitForTimeout(150); // the redraw after a theme or axis change is one animation frame away
    const file = path.join(dir, `pareto-explorer-${name}.png`);
    await page.screenshot({ path: file });
    out.push(file);
  };
  await page.mouse.move(5, 5);
  await page.focus('.plot');
  for (let k = 0; k < 12; k++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowRight');
  await page.emulateMedia({ colorScheme: 'light' });
  await shot('light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot('dark');
  await page.getByLabel('latency').check();
  await page.focus('.plot');
  for (let k = 0; k < 10; k++) await page.keyboard.press('ArrowRight');
  await shot('latency-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  return out;
}

/** The result as the Markdown rows docs/BENCHMARKS.md quotes. */
export function formatExplorerBench(r: ExplorerBenchResult): string {
  const row = (name: string, s: Stat) => `| ${name} | ${s.median} | ${s.p95} | ${s.max} | ${s.count} |`;
  return [
    `${r.points.toLocaleString('en')} points (fronts ${r.fronts.join(' + ')}), ${r.browser} headless, --disable-gpu; load ${r.loadBefore.join(' ')} → ${r.loadAfter.join(' ')}`,
    '',
    '| measure (ms) | median | p95 | max | n |',
    '|---|---|---|---|---|',
    row('hover: event → frame rendered', r.hover.paintMs),
    row('hover: in the handler', r.hover.handlerMs),
    row('hover: input queueing', r.hover.queueMs),
    row('control: event → frame off the chart', r.hover.floorMs),
    row('pan: frame interval', r.pan.frameMs),
    row('pan: point-layer redraw', r.pan.redrawMs),
    row('zoom: frame interval', r.zoom.frameMs),
    row('zoom: point-layer redraw', r.zoom.redrawMs),
    '',
    `hover within one 60 Hz frame: ${(r.hover.withinFrame * 100).toFixed(1)} % of ${r.hover.paintMs.count} moves (${r.hover.hits} on a point); ` +
      `points drawn after same-pixel skipping: ${r.pan.drawn} (pan), ${r.zoom.drawn} (zoom); ` +
      `model: fronts + k-d tree (data or axis change) ${r.baseMs} ms, budget pass (slider step) ${r.budgetMs} ms`,
  ].join('\n');
}
