/**
 * The system's light/dark setting, reactive. Page colours follow it through CSS alone (app.css); the charts, which
 * draw on a canvas, read it here and take their colours from the same CSS variables.
 */
class Theme {
  dark: boolean = $state(false);

  constructor() {
    const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
    if (!mq) return;
    this.dark = mq.matches;
    mq.addEventListener?.('change', (e) => {
      this.dark = e.matches;
    });
  }
}

export const theme = new Theme();

/** A CSS custom property of the root element (e.g. `--fg`), trimmed; `fallback` where unset (jsdom). */
export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}
