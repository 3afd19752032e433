/**
 * The explorer's drawing and interaction, on two stacked canvases:
 * - the base canvas holds axes, grid, all points, fronts and budget lines; it is redrawn (once per animation frame at
 *   most) only when the data, the window (zoom/pan), the size or the theme change;
 * - the overlay canvas holds only what follows the pointer — the hover/focus ring, the selection ring, box-selected
 *   points and the selection box — so a mouse move repaints a few rings, never 10,000 points.
 * Hit-testing asks the model's k-d tree for the nearest point within {@link HIT_RADIUS} pixels; a mouse move costs a
 * tree query, a small overlay repaint and a tooltip text update, all inside the event handler.
 *
 * Plain DOM, no framework: ParetoExplorer.svelte owns the elements and the accessible HTML around them. CSP: the
 * tooltip is built with createElement/textContent and positioned through `el.style` (CSSOM), never parsed HTML.
 */
import { budgetViolations } from './budget';
import { summaryRows, summarySentence } from './format';
import { stepVertices } from './front';
import type { ExplorerModel } from './model';
import {
  fitDomain,
  niceTicks,
  panBy,
  pixelsPerUnit,
  sameDomain,
  screenBoxToData,
  tickDecimals,
  toDataX,
  toDataY,
  toScreenX,
  toScreenY,
  zoomAt,
  type Domain,
  type Viewport,
} from './scale';
import { FALLBACK_THEME, PALETTE_SIZE, readTheme, type Theme } from './theme';
import type { Budget, ExplorerPoint } from './types';

/** Hover/click reach in CSS pixels. */
export const HIT_RADIUS = 10;
/** Pointer travel (CSS px) below which a press-release is a click, not a drag. */
const CLICK_SLOP = 3;
/** Zoom factor per wheel pixel (deltaY 100 ≈ one notch ≈ ×1.16). */
const WHEEL_ZOOM = 0.0015;
/** Zoom factor of one +/− key press. */
const KEY_ZOOM = 1.5;
/** Plot margins in CSS px: room for tick labels and axis titles. */
const MARGIN = { left: 62, right: 18, top: 14, bottom: 48 };

export interface RenderStats {
  /** Time to redraw the base canvas, ms. */
  ms: number;
  /** Points drawn after skipping those that land on an already-painted pixel of the same style. */
  drawn: number;
  /** Points in the model. */
  total: number;
}

export interface ChartElements {
  /** Focusable container of both canvases; receives pointer, wheel and key events. */
  plot: HTMLElement;
  base: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
  /** An empty element, absolutely positioned at the plot's top-left; the chart fills and moves it. */
  tooltip: HTMLElement;
  /** An aria-live region: the keyboard-focused point is announced there. */
  live: HTMLElement;
}

export interface ChartCallbacks {
  hover(p: ExplorerPoint | null): void;
  select(p: ExplorerPoint): void;
  boxSelect(ps: ExplorerPoint[]): void;
  zoomChange(zoomed: boolean): void;
  render?(stats: RenderStats): void;
}

interface TooltipParts {
  root: HTMLElement;
  title: HTMLElement;
  series: HTMLElement;
  values: HTMLElement[];
  status: HTMLElement;
}

type Drag = { mode: 'pan' | 'box'; x0: number; y0: number; x: number; y: number; start: Domain; moved: boolean; id: number };

export class ExplorerChart {
  private model: ExplorerModel | null = null;
  private budget: Budget = {};
  private theme: Theme = FALLBACK_THEME;
  private home: Domain = { x0: 0, x1: 1, y0: 0, y1: 1 };
  private domain: Domain = this.home;
  private width = 0;
  private height = 0;
  private dpr = 1;
  private baseCtx: CanvasRenderingContext2D | null;
  private overlayCtx: CanvasRenderingContext2D | null;
  /** Pixel stamps for skipping overdrawn points: stamp[pixel] === generation means "already painted". */
  private stamp = new Uint32Array(0);
  private generation = 0;
  /** The hovered or keyboard-focused point (index into model.points), −1 if none. */
  private hot = -1;
  private selected: string | null = null;
  private boxed: number[] = [];
  private drag: Drag | null = null;
  /** Keyboard cursor: which series' front and where on it. */
  private focusSeries = 0;
  private focusPos = -1;
  private frame = 0;
  private rect: DOMRect | null = null;
  private readonly tip: TooltipParts;
  private readonly cleanup: (() => void)[] = [];

  constructor(
    private readonly els: ChartElements,
    private readonly cb: ChartCallbacks,
  ) {
    this.baseCtx = els.base.getContext('2d');
    this.overlayCtx = els.overlay.getContext('2d', { alpha: true });
    this.tip = buildTooltip(els.tooltip);
    const on = <K extends keyof HTMLElementEventMap>(el: HTMLElement | Window, type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions) => {
      el.addEventListener(type, fn as EventListener, opts);
      this.cleanup.push(() => el.removeEventListener(type, fn as EventListener, opts));
    };
    const plot = els.plot;
    on(plot, 'pointerenter', () => (this.rect = null));
    on(plot, 'pointermove', (e) => this.onMove(e));
    on(plot, 'pointerdown', (e) => this.onDown(e));
    on(plot, 'pointerup', (e) => this.onUp(e));
    on(plot, 'pointercancel', () => this.endDrag());
    on(plot, 'pointerleave', () => {
      if (!this.drag) this.setHot(-1);
    });
    on(plot, 'wheel', (e) => this.onWheel(e), { passive: false });
    on(plot, 'dblclick', () => this.resetZoom());
    on(plot, 'keydown', (e) => this.onKey(e));
    on(window, 'scroll', () => (this.rect = null), { passive: true, capture: true });
    if (typeof ResizeObserver !== 'undefined') {
      const ro = new ResizeObserver(() => this.resize());
      ro.observe(plot);
      this.cleanup.push(() => ro.disconnect());
    }
    if (typeof matchMedia !== 'undefined') {
      const mq = matchMedia('(prefers-color-scheme: dark)');
      const onScheme = () => this.refreshTheme();
      mq.addEventListener('change', onScheme);
      this.cleanup.push(() => mq.removeEventListener('change', onScheme));
    }
    this.refreshTheme();
    this.resize();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    for (const f of this.cleanup) f();
  }

  /** New data, axis or budget. Keeps the zoom if the axis is unchanged and the user had zoomed; otherwise refits. */
  setModel(model: ExplorerModel | null, budget: Budget): void {
    const prev = this.model;
    const zoomed = !sameDomain(this.domain, this.home);
    this.model = model;
    this.budget = budget;
    this.home = model ? fitDomain(model.xs, model.ys) : { x0: 0, x1: 1, y0: 0, y1: 1 };
    if (!zoomed || !prev || !model || prev.xAxis !== model.xAxis) this.domain = this.home;
    // Indices refer to the old point list: map the box selection and cursor over by id.
    this.boxed = prev && model ? this.boxed.map((i) => model.byId.get(prev.points[i].id) ?? -1).filter((i) => i >= 0) : [];
    const hotId = prev && this.hot >= 0 ? prev.points[this.hot]?.id : undefined;
    this.hot = hotId !== undefined && model ? (model.byId.get(hotId) ?? -1) : -1;
    if (this.hot < 0) this.hideTooltip();
    if (model && this.focusSeries >= model.series.length) this.focusSeries = 0;
    this.focusPos = -1;
    this.cb.zoomChange(!sameDomain(this.domain, this.home));
    this.requestRender();
  }

  setSelected(id: string | null): void {
    if (id === this.selected) return;
    this.selected = id;
    this.drawOverlay();
  }

  resetZoom(): void {
    this.setDomain(this.home);
  }

  /** Zooms about the plot's centre; factor > 1 zooms in. */
  zoomBy(factor: number): void {
    const d = this.domain;
    this.setDomain(zoomAt(d, factor, (d.x0 + d.x1) / 2, (d.y0 + d.y1) / 2));
  }

  /** The current data window (for tests and the bench). */
  getDomain(): Domain {
    return { ...this.domain };
  }

  /**
   * Where a point is drawn, in CSS px relative to the plot element's top-left; null if it is not shown or lies
   * outside the current window. For tests, the benchmark and pages that point at a subnet.
   */
  screenOf(id: string): { x: number; y: number } | null {
    const i = this.model?.byId.get(id);
    if (i === undefined) return null;
    const m = this.model!;
    const d = this.domain;
    if (m.xs[i] < d.x0 || m.xs[i] > d.x1 || m.ys[i] < d.y0 || m.ys[i] > d.y1) return null;
    return { x: toScreenX(d, this.viewport, m.xs[i]), y: toScreenY(d, this.viewport, m.ys[i]) };
  }

  /** Re-reads the `--pareto-*` colours (after a colour-scheme change) and redraws. */
  refreshTheme(): void {
    this.theme = readTheme(this.els.plot);
    this.requestRender();
  }

  /** Re-measures the plot element and sizes both canvases to it at the device pixel ratio. */
  resize(): void {
    const w = Math.round(this.els.plot.clientWidth);
    const h = Math.round(this.els.plot.clientHeight);
    const dpr = typeof devicePixelRatio === 'number' && devicePixelRatio > 0 ? devicePixelRatio : 1;
    if (w === this.width && h === this.height && dpr === this.dpr) return;
    this.width = w;
    this.height = h;
    this.dpr = dpr;
    this.rect = null;
    for (const c of [this.els.base, this.els.overlay]) {
      c.width = Math.max(1, Math.round(w * dpr));
      c.height = Math.max(1, Math.round(h * dpr));
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.stamp = new Uint32Array(Math.max(1, w * h));
    this.generation = 0;
    this.requestRender();
  }

  private get viewport(): Viewport {
    return {
      left: MARGIN.left,
      top: MARGIN.top,
      width: Math.max(1, this.width - MARGIN.left - MARGIN.right),
      height: Math.max(1, this.height - MARGIN.top - MARGIN.bottom),
    };
  }

  private setDomain(d: Domain): void {
    this.domain = d;
    this.cb.zoomChange(!sameDomain(d, this.home));
    this.requestRender();
  }

  /** Schedules one redraw of both canvases on the next animation frame (many requests, one redraw). */
  requestRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Redraws both canvases now. */
  render(): void {
    const t0 = performance.now();
    const drawn = this.drawBase();
    this.drawOverlay();
    if (this.hot >= 0) this.showTooltip(this.hot);
    this.cb.render?.({ ms: performance.now() - t0, drawn, total: this.model?.points.length ?? 0 });
  }

  // ---- pointer and keyboard ----

  /** Pointer position in plot coordinates (CSS px). The rectangle is cached: reading it per move would force layout. */
  private local(e: MouseEvent): { x: number; y: number } {
    this.rect ??= this.els.plot.getBoundingClientRect();
    return { x: e.clientX - this.rect.left, y: e.clientY - this.rect.top };
  }

  private onMove(e: PointerEvent): void {
    const { x, y } = this.local(e);
    const drag = this.drag;
    if (!drag) {
      this.setHot(this.hitTest(x, y));
      return;
    }
    drag.x = x;
    drag.y = y;
    if (Math.hypot(x - drag.x0, y - drag.y0) > CLICK_SLOP) drag.moved = true;
    if (drag.mode === 'pan') {
      if (drag.moved) this.setDomain(panBy(drag.start, this.viewport, x - drag.x0, y - drag.y0));
    } else this.drawOverlay();
  }

  private onDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.rect = null;
    const { x, y } = this.local(e);
    this.drag = { mode: e.shiftKey ? 'box' : 'pan', x0: x, y0: y, x, y, start: this.domain, moved: false, id: e.pointerId };
    this.els.plot.setPointerCapture?.(e.pointerId);
    if (this.drag.mode === 'pan') this.setHot(-1);
    e.preventDefault(); // no text selection while dragging
    this.els.plot.focus({ preventScroll: true });
  }

  private onUp(e: PointerEvent): void {
    const drag = this.drag;
    if (!drag) return;
    this.endDrag();
    const m = this.model;
    if (!m) return;
    if (!drag.moved) {
      const i = this.hitTest(drag.x0, drag.y0);
      if (i >= 0) this.selectIndex(i);
      return;
    }
    if (drag.mode === 'box') {
      const b = screenBoxToData(this.domain, this.viewport, drag.x0, drag.y0, drag.x, drag.y);
      this.boxed = m.index.within(b.x0, b.y0, b.x1, b.y1);
      this.drawOverlay();
      this.cb.boxSelect(this.boxed.map((i) => m.points[i]));
    } else {
      const { x, y } = this.local(e);
      this.setHot(this.hitTest(x, y));
    }
  }

  private endDrag(): void {
    if (this.drag) this.els.plot.releasePointerCapture?.(this.drag.id);
    this.drag = null;
    this.drawOverlay();
  }

  private onWheel(e: WheelEvent): void {
    const { x, y } = this.local(e);
    const vp = this.viewport;
    if (x < vp.left || x > vp.left + vp.width || y < vp.top || y > vp.top + vp.height) return;
    e.preventDefault();
    // deltaMode 1 = lines (Firefox): about 33 px each.
    const dy = e.deltaMode === 1 ? e.deltaY * 33 : e.deltaY;
    const d = this.domain;
    this.setDomain(zoomAt(d, Math.exp(-dy * WHEEL_ZOOM), toDataX(d, vp, x), toDataY(d, vp, y), e.altKey ? 'x' : e.ctrlKey ? 'y' : 'both'));
  }

  private onKey(e: KeyboardEvent): void {
    const m = this.model;
    if (!m) return;
    const fronts = m.series.map((s) => s.front);
    switch (e.key) {
      case 'ArrowRight':
      case 'ArrowLeft':
      case 'Home':
      case 'End': {
        const front = fronts[this.focusSeries] ?? [];
        if (!front.length) break;
        const last = front.length - 1;
        const pos =
          e.key === 'Home' ? 0 : e.key === 'End' ? last : this.focusPos < 0 ? this.startPos(front) : Math.max(0, Math.min(last, this.focusPos + (e.key === 'ArrowRight' ? 1 : -1)));
        this.focusOn(this.focusSeries, pos);
        break;
      }
      case 'ArrowUp':
      case 'ArrowDown': {
        // Next/previous series with a front; land on its front point nearest in cost to the current one.
        const k = m.series.length;
        let s = this.focusSeries;
        for (let step = 0; step < k; step++) {
          s = (s + (e.key === 'ArrowDown' ? 1 : k - 1)) % k;
          if (fronts[s].length) break;
        }
        if (!fronts[s].length) break;
        const cur = this.hot >= 0 ? m.xs[this.hot] : -Infinity;
        let pos = 0;
        fronts[s].forEach((i, p) => {
          if (Math.abs(m.xs[i] - cur) < Math.abs(m.xs[fronts[s][pos]] - cur)) pos = p;
        });
        this.focusOn(s, pos);
        break;
      }
      case 'Enter':
      case ' ':
        if (this.hot >= 0) this.selectIndex(this.hot);
        break;
      case '+':
      case '=':
        this.zoomBy(KEY_ZOOM);
        break;
      case '-':
      case '_':
        this.zoomBy(1 / KEY_ZOOM);
        break;
      case '0':
        this.resetZoom();
        break;
      case 'Escape':
        this.boxed = [];
        this.focusPos = -1;
        this.setHot(-1);
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  /** Where the keyboard cursor starts on a front: at the selected point if it is there, else the cheapest. */
  private startPos(front: number[]): number {
    const sel = this.selected !== null ? this.model?.byId.get(this.selected) : undefined;
    const p = sel === undefined ? -1 : front.indexOf(sel);
    return p >= 0 ? p : 0;
  }

  private focusOn(series: number, pos: number): void {
    const m = this.model!;
    this.focusSeries = series;
    this.focusPos = pos;
    const i = m.series[series].front[pos];
    // Bring a point outside the window into view, keeping the zoom level.
    const d = this.domain;
    if (m.xs[i] < d.x0 || m.xs[i] > d.x1 || m.ys[i] < d.y0 || m.ys[i] > d.y1) {
      const hx = (d.x1 - d.x0) / 2;
      const hy = (d.y1 - d.y0) / 2;
      this.setDomain({ x0: m.xs[i] - hx, x1: m.xs[i] + hx, y0: m.ys[i] - hy, y1: m.ys[i] + hy });
    }
    this.setHot(i);
    const s = m.series[series];
    this.els.live.textContent = `${summarySentence(m.points[i])}; front point ${pos + 1} of ${s.front.length}${m.series.length > 1 ? ` of ${s.label}` : ''}`;
  }

  private selectIndex(i: number): void {
    const p = this.model!.points[i];
    this.selected = p.id;
    this.drawOverlay();
    this.cb.select(p);
  }

  /** The point under (x, y) in plot pixels, −1 if none within {@link HIT_RADIUS} or outside the plot area. */
  hitTest(x: number, y: number): number {
    const m = this.model;
    const vp = this.viewport;
    if (!m || x < vp.left - HIT_RADIUS || x > vp.left + vp.width + HIT_RADIUS || y < vp.top - HIT_RADIUS || y > vp.top + vp.height + HIT_RADIUS) return -1;
    const d = this.domain;
    const { sx, sy } = pixelsPerUnit(d, vp);
    const i = m.index.nearest(toDataX(d, vp, x), toDataY(d, vp, y), { sx, sy, maxDist: HIT_RADIUS });
    if (i < 0) return -1;
    // Points clipped away at the plot's edge are not hittable.
    const inside = m.xs[i] >= d.x0 && m.xs[i] <= d.x1 && m.ys[i] >= d.y0 && m.ys[i] <= d.y1;
    return inside ? i : -1;
  }

  private setHot(i: number): void {
    if (i === this.hot) return;
    this.hot = i;
    this.drawOverlay();
    if (i >= 0) this.showTooltip(i);
    else this.hideTooltip();
    this.cb.hover(i >= 0 ? this.model!.points[i] : null);
  }

  // ---- tooltip ----

  private showTooltip(i: number): void {
    const m = this.model;
    if (!m) return;
    const p = m.points[i];
    const t = this.tip;
    t.title.textContent = p.pinned ? `${p.id} (pinned)` : p.id;
    t.series.textContent = m.series.length > 1 ? m.series[m.seriesOf[i]].label : '';
    summaryRows(p).forEach(([, v], k) => (t.values[k].textContent = v));
    const over = budgetViolations(p, this.budget);
    t.status.textContent = m.budgetSet ? (over.length ? `over budget: ${over.join(', ')}` : 'within budget') : '';
    const x = toScreenX(this.domain, this.viewport, m.xs[i]);
    const y = toScreenY(this.domain, this.viewport, m.ys[i]);
    // Flip to the other side near the right/bottom edges; translate(%) is the tooltip's own size, so no layout read.
    const fx = x > this.width * 0.6 ? 'calc(-100% - 14px)' : '14px';
    const fy = y > this.height * 0.55 ? 'calc(-100% - 14px)' : '14px';
    t.root.style.transform = `translate(${x}px, ${y}px) translate(${fx}, ${fy})`;
    t.root.style.visibility = 'visible';
  }

  private hideTooltip(): void {
    this.tip.root.style.visibility = 'hidden';
  }

  // ---- drawing ----

  private drawBase(): number {
    const ctx = this.baseCtx;
    const m = this.model;
    if (!ctx || this.width === 0 || this.height === 0) return 0;
    const th = this.theme;
    const vp = this.viewport;
    const d = this.domain;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    ctx.font = `12px ${th.font}`;

    // Grid and tick labels. Accuracy ticks are chosen in percent so they read 70, 72, … rather than 0.7, 0.72.
    const xt = niceTicks(d.x0, d.x1, Math.max(2, Math.round(vp.width / 90)));
    const yt = niceTicks(d.y0 * 100, d.y1 * 100, Math.max(2, Math.round(vp.height / 50)));
    const xd = tickDecimals(xt);
    const yd = tickDecimals(yt);
    ctx.strokeStyle = th.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const v of xt) {
      const sx = Math.round(toScreenX(d, vp, v)) + 0.5;
      ctx.moveTo(sx, vp.top);
      ctx.lineTo(sx, vp.top + vp.height);
    }
    for (const v of yt) {
      const sy = Math.round(toScreenY(d, vp, v / 100)) + 0.5;
      ctx.moveTo(vp.left, sy);
      ctx.lineTo(vp.left + vp.width, sy);
    }
    ctx.stroke();
    ctx.strokeStyle = th.muted;
    ctx.strokeRect(vp.left + 0.5, vp.top + 0.5, vp.width - 1, vp.height - 1);
    ctx.fillStyle = th.muted;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const v of xt) ctx.fillText(v.toFixed(xd), toScreenX(d, vp, v), vp.top + vp.height + 5);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const v of yt) ctx.fillText(v.toFixed(yd), vp.left - 6, toScreenY(d, vp, v / 100));
    ctx.fillStyle = th.fg;
    ctx.font = `13px ${th.font}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(m?.xAxis === 'latency' ? 'Latency (ms)' : 'Cost (MFLOPs)', vp.left + vp.width / 2, this.height - 4);
    ctx.save();
    ctx.translate(14, vp.top + vp.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText('Top-1 accuracy (%)', 0, 0);
    ctx.restore();
    if (!m) return 0;

    ctx.save();
    ctx.beginPath();
    ctx.rect(vp.left, vp.top, vp.width, vp.height);
    ctx.clip();
    this.drawBudgetLines(ctx, m);

    // Points, one path per style: infeasible (grey, underneath), then each series. Points landing on a pixel already
    // painted in the same style are skipped: identical output, far fewer arcs at 10,000 points.
    const n = m.points.length;
    const r = n > 3000 ? 2 : 3;
    let drawn = 0;
    const xs = m.xs;
    const ys = m.ys;
    const sx = vp.width / (d.x1 - d.x0);
    const sy = vp.height / (d.y1 - d.y0);
    const pass = (color: string, alpha: number, want: (i: number) => boolean) => {
      const gen = this.nextGeneration();
      const stamp = this.stamp;
      const w = this.width;
      ctx.fillStyle = color;
      ctx.globalAlpha = alpha;
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        if (!want(i)) continue;
        const px = vp.left + (xs[i] - d.x0) * sx;
        const py = vp.top + vp.height - (ys[i] - d.y0) * sy;
        if (px < vp.left - r || px > vp.left + vp.width + r || py < vp.top - r || py > vp.top + vp.height + r) continue;
        const cell = (py | 0) * w + (px | 0);
        if (cell >= 0 && cell < stamp.length) {
          if (stamp[cell] === gen) continue;
          stamp[cell] = gen;
        }
        ctx.moveTo(px + r, py);
        ctx.arc(px, py, r, 0, 2 * Math.PI);
        drawn++;
      }
      ctx.fill();
      ctx.globalAlpha = 1;
    };
    if (m.budgetSet) pass(th.infeasible, 0.55, (i) => !m.feasible[i]);
    m.series.forEach((s, k) => pass(this.color(s.colorIndex), 0.5, (i) => m.seriesOf[i] === k && (!m.budgetSet || m.feasible[i] === 1)));

    // Fronts: a step line and ringed markers per series.
    for (const s of m.series) {
      if (!s.front.length) continue;
      const color = this.color(s.colorIndex);
      const steps = stepVertices(s.front.map((i) => ({ x: xs[i], y: ys[i] })), Math.max(d.x1, xs[s.front[s.front.length - 1]]));
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.lineJoin = 'round';
      ctx.beginPath();
      steps.forEach((v, k) => (k ? ctx.lineTo : ctx.moveTo).call(ctx, toScreenX(d, vp, v.x), toScreenY(d, vp, v.y)));
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.strokeStyle = th.bg;
      ctx.lineWidth = 1.5;
      for (const i of s.front) {
        ctx.beginPath();
        ctx.arc(toScreenX(d, vp, xs[i]), toScreenY(d, vp, ys[i]), r + 1.5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }

    // Pinned points: diamonds in the foreground colour; best under budget: a star per series.
    ctx.lineWidth = 1.5;
    for (let i = 0; i < n; i++) {
      if (!m.points[i].pinned) continue;
      const px = toScreenX(d, vp, xs[i]);
      const py = toScreenY(d, vp, ys[i]);
      ctx.beginPath();
      ctx.moveTo(px, py - 6);
      ctx.lineTo(px + 6, py);
      ctx.lineTo(px, py + 6);
      ctx.lineTo(px - 6, py);
      ctx.closePath();
      ctx.fillStyle = this.color(m.series[m.seriesOf[i]].colorIndex);
      ctx.strokeStyle = th.fg;
      ctx.fill();
      ctx.stroke();
    }
    for (const s of m.series) {
      if (s.best < 0) continue;
      star(ctx, toScreenX(d, vp, xs[s.best]), toScreenY(d, vp, ys[s.best]), 8);
      ctx.fillStyle = this.color(s.colorIndex);
      ctx.strokeStyle = th.fg;
      ctx.fill();
      ctx.stroke();
    }
    ctx.restore();
    return drawn;
  }

  /** Dashed vertical lines at the budget's bounds on the current x axis, labelled. */
  private drawBudgetLines(ctx: CanvasRenderingContext2D, m: ExplorerModel): void {
    const b = this.budget;
    const lines: [number, string][] =
      m.xAxis === 'latency'
        ? b.latencyMaxMs !== undefined
          ? [[b.latencyMaxMs, `budget ≤ ${b.latencyMaxMs} ms`]]
          : []
        : [
            ...(b.mflopsMin !== undefined ? ([[b.mflopsMin, `≥ ${b.mflopsMin} MFLOPs`]] as [number, string][]) : []),
            ...(b.mflopsMax !== undefined ? ([[b.mflopsMax, `budget ≤ ${b.mflopsMax} MFLOPs`]] as [number, string][]) : []),
          ];
    const vp = this.viewport;
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.strokeStyle = this.theme.muted;
    ctx.fillStyle = this.theme.muted;
    ctx.lineWidth = 1;
    ctx.font = `11px ${this.theme.font}`;
    ctx.textBaseline = 'top';
    for (const [v, label] of lines) {
      const x = Math.round(toScreenX(this.domain, vp, v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, vp.top);
      ctx.lineTo(x, vp.top + vp.height);
      ctx.stroke();
      // A bound beyond the data's range lies outside the plot: its label stays at the nearer edge, readable.
      const tx = Math.min(Math.max(x, vp.left), vp.left + vp.width);
      ctx.textAlign = tx > vp.left + vp.width - 120 ? 'right' : 'left';
      ctx.fillText(label, tx + (ctx.textAlign === 'right' ? -4 : 4), vp.top + 4);
    }
    ctx.restore();
  }

  private drawOverlay(): void {
    const ctx = this.overlayCtx;
    if (!ctx || this.width === 0) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const m = this.model;
    if (!m) return;
    const d = this.domain;
    const vp = this.viewport;
    const th = this.theme;
    const ring = (i: number, radius: number, color: string, width: number) => {
      ctx.beginPath();
      ctx.arc(toScreenX(d, vp, m.xs[i]), toScreenY(d, vp, m.ys[i]), radius, 0, 2 * Math.PI);
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.stroke();
    };
    ctx.save();
    ctx.beginPath();
    ctx.rect(vp.left, vp.top, vp.width, vp.height);
    ctx.clip();
    if (this.boxed.length) {
      ctx.beginPath();
      for (const i of this.boxed) {
        const x = toScreenX(d, vp, m.xs[i]);
        const y = toScreenY(d, vp, m.ys[i]);
        ctx.moveTo(x + 4, y);
        ctx.arc(x, y, 4, 0, 2 * Math.PI);
      }
      ctx.strokeStyle = th.fg;
      ctx.lineWidth = 1;
      ctx.stroke();
    }
    const sel = this.selected !== null ? m.byId.get(this.selected) : undefined;
    if (sel !== undefined) {
      ring(sel, 9, th.bg, 5);
      ring(sel, 9, th.accent, 2.5);
    }
    if (this.hot >= 0) {
      ring(this.hot, 6, th.bg, 4);
      ring(this.hot, 6, th.fg, 2);
    }
    ctx.restore();
    const drag = this.drag;
    if (drag?.mode === 'box' && drag.moved) {
      ctx.setLineDash([4, 3]);
      ctx.strokeStyle = th.fg;
      ctx.lineWidth = 1;
      ctx.strokeRect(Math.min(drag.x0, drag.x) + 0.5, Math.min(drag.y0, drag.y) + 0.5, Math.abs(drag.x - drag.x0), Math.abs(drag.y - drag.y0));
      ctx.setLineDash([]);
    }
  }

  private color(colorIndex: number): string {
    return this.theme.series[colorIndex % PALETTE_SIZE];
  }

  private nextGeneration(): number {
    if (this.generation >= 0xfffffffe) {
      this.stamp.fill(0);
      this.generation = 0;
    }
    return ++this.generation;
  }
}

/** The tooltip's fixed structure, built once: a title, the series, one row per summary value, the budget status. */
function buildTooltip(root: HTMLElement): TooltipParts {
  root.replaceChildren();
  root.style.visibility = 'hidden';
  const title = document.createElement('div');
  title.className = 'tip-title';
  const series = document.createElement('div');
  series.className = 'tip-series';
  const dl = document.createElement('dl');
  const values = summaryRows({ id: '', accuracy: 0, mflops: 0, latencyMs: null, mparams: 0 }).map(([label]) => {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dl.append(dt, dd);
    return dd;
  });
  const status = document.createElement('div');
  status.className = 'tip-status';
  root.append(title, series, dl, status);
  return { root, title, series, values, status };
}

/** A five-pointed star path centred at (x, y) with outer radius r. */
function star(ctx: CanvasRenderingContext2D, x: number, y: number, r: number): void {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    const rr = k % 2 ? r * 0.45 : r;
    (k ? ctx.lineTo : ctx.moveTo).call(ctx, x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath();
}
