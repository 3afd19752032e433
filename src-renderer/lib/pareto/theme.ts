/**
 * The chart's colours come from CSS custom properties (`--pareto-*`, defined in ParetoExplorer.svelte for light and
 * dark `prefers-color-scheme` on top of the app palette in app.css, overridable by the page), so the canvas and the HTML around it (legend swatches,
 * tooltip) always agree. The canvas cannot use `var()`, so the values are read once per theme change.
 */

/** Number of series colours (`--pareto-series-0` … `--pareto-series-7`); series i uses colour i mod this. */
export const PALETTE_SIZE = 8;

export interface Theme {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  infeasible: string;
  accent: string;
  series: string[];
  font: string;
}

/** Used where a variable is missing (e.g. jsdom, which computes no custom properties): the light palette. */
export const FALLBACK_THEME: Theme = {
  fg: '#1f2328',
  muted: '#59636e',
  grid: '#e1e5ea',
  bg: '#ffffff',
  infeasible: '#b4bcc5',
  accent: '#cf222e',
  series: ['#0969da', '#d4540b', '#1a7f37', '#8250df', '#1b7c83', '#bf3989', '#9a6700', '#57606a'],
  font: 'system-ui, sans-serif',
};

/** Reads the theme from the computed style of `el` (a descendant of the element defining `--pareto-*`). */
export function readTheme(el: Element): Theme {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return {
    fg: v('--pareto-fg', FALLBACK_THEME.fg),
    muted: v('--pareto-muted', FALLBACK_THEME.muted),
    grid: v('--pareto-grid', FALLBACK_THEME.grid),
    bg: v('--pareto-bg', FALLBACK_THEME.bg),
    infeasible: v('--pareto-infeasible', FALLBACK_THEME.infeasible),
    accent: v('--pareto-accent', FALLBACK_THEME.accent),
    series: FALLBACK_THEME.series.map((c, i) => v(`--pareto-series-${i}`, c)),
    font: cs.fontFamily || FALLBACK_THEME.font,
  };
}
