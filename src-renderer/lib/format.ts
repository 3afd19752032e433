/** Display formatting shared by the pages. Pure functions; every unit is in the name or the JSDoc. */

/** Bytes as B / KiB / MiB / GiB with three significant digits. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toPrecision(3)} ${units[i]}`;
}

/** Seconds as `1 h 02 min`, `3 min 05 s` or `12 s`; an em dash for null. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A fraction in [0, 1] as a percentage with `digits` decimals (default 1); an em dash for null. */
export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction == null || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)} %`;
}

/** An ISO time as the user's local date and time (minutes); an em dash for null. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Millions with two decimals (`12.34 M`): parameter counts. */
export function formatMillions(n: number): string {
  return `${(n / 1e6).toFixed(2)} M`;
}

/** Distillation kinds as shown in tables. */
export const DISTILLATION_LABELS: Readonly<Record<string, string>> = {
  'adaptive-alpha': 'adaptive α',
  kl: 'KL',
  alpha: 'fixed α',
  none: 'none',
};
