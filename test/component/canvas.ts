import { vi } from 'vitest';

/**
 * jsdom has no canvas. ECharts needs a context object to draw into, so every canvas gets one that accepts any call and
 * draws nothing; the page's text (titles, legends, tables, text alternatives) is what component tests read. Call in
 * `beforeEach`; it also drops ECharts' warning that its box is 0 × 0 (jsdom lays nothing out), other warnings show.
 */
export function inertCanvas(): void {
  const context = (): CanvasRenderingContext2D => {
    const fn = () => ({ width: 0, actualBoundingBoxAscent: 0, actualBoundingBoxDescent: 0 });
    const store: Record<string | symbol, unknown> = {};
    return new Proxy(store, {
      get: (t, k) => (k in t ? t[k] : k === 'canvas' ? document.createElement('canvas') : fn),
      set: (t, k, v) => {
        t[k] = v;
        return true;
      },
    }) as unknown as CanvasRenderingContext2D;
  };
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(() => context() as never);
  const warn = console.warn.bind(console);
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    if (!String(args[0]).startsWith("[ECharts] Can't get DOM width or height")) warn(...args);
  });
}
