/**
 * A run's recorded metrics as files a user reads into pandas or a spreadsheet: a steps CSV, an epochs CSV and a JSON
 * document. Pure (no Node built-in, no package): the run page builds its downloads with it in the renderer and
 * `alphanet runs metrics` its output in the CLI, so both give the very same bytes for the same run.
 *
 * CSV (RFC 4180): a header row, fields separated by commas, `\n` line ends (a final one too), a field quoted with `"`
 * (an inner `"` doubled) when it holds a comma, a quote or a line break. An absent value is an empty cell. A number is
 * written as JavaScript's shortest round-trip form (`0.1`, `1e-7`); a non-finite one as `NaN`, `Infinity` or
 * `-Infinity`, which pandas' `read_csv` reads back as floats. (The store keeps a non-finite training loss as null, so
 * a recorded run's bad step shows as an empty cell; a live step's NaN, on the run page, as `NaN`.)
 *
 * JSON has no non-finite numbers: the JSON document writes them as `null`, like `JSON.stringify`.
 *
 * Epochs are 0-based in every format, as the API and the store hold them: `epoch` 0 is the first epoch (the app and
 * the CLI's progress lines show it as epoch 1).
 */
import type { RunEpochPoint, RunMetrics, RunStepPoint, RunSummary } from '../ipc/api-types';

/** The `schema` field of the JSON document; {@link METRICS_EXPORT_VERSION} changes when its shape does. */
export const METRICS_EXPORT_SCHEMA = 'alphanet-workbench/run-metrics';
export const METRICS_EXPORT_VERSION = 1;

/** What the export says about its run: the summary's identity and setup fields, the seed and the stored config. */
export type MetricsExportRun = Pick<RunSummary, 'id' | 'name' | 'status' | 'spaceId' | 'datasetName' | 'distillation' | 'epochs' | 'totalSteps'> & {
  seed: number;
  /** The validated config as stored (every default filled in). */
  config: Record<string, unknown>;
};

/** `steps` (steps CSV), `epochs` (epochs CSV) or `json` (the JSON document of both). */
export type MetricsExportKind = 'steps' | 'epochs' | 'json';
export const METRICS_EXPORT_KINDS: readonly MetricsExportKind[] = ['steps', 'epochs', 'json'];

/** One CSV cell: empty for null/undefined, `NaN`/`Infinity`/`-Infinity` for non-finite numbers, quoted when needed. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A CSV text: the header row, then one line per row; `\n` after every line. */
export function csvText(header: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  return [header, ...rows].map((r) => `${r.map(csvField).join(',')}\n`).join('');
}

/**
 * Sandwich roles in the sandwich's order: `max`, then `random-1`, `random-2`… by number, any other name
 * alphabetically, then `min`.
 */
export function orderRoles(roles: Iterable<string>): string[] {
  const rank = (r: string): [number, number, string] => {
    if (r === 'max') return [0, 0, r];
    if (r === 'min') return [3, 0, r];
    const m = /^random-(\d+)$/.exec(r);
    return m ? [1, Number(m[1]), r] : [2, 0, r];
  };
  return [...new Set(roles)].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
  });
}

/**
 * The steps CSV: one row per recorded step, in the order given (the store's: by step). Columns:
 * - `step`: the global training step; `epoch`: its epoch, 0-based; `lr`: the learning rate of that step;
 * - per sandwich member, in sandwich order (`max`, `random-1`…, `min`; every role any step has):
 *   `<role>_loss`, the training loss as optimised (the label-smoothed cross-entropy for `max`; for an α-divergence
 *   loss the surrogate, which can be negative; empty when it was not finite and the store kept null), and
 *   `<role>_divergence`, the selected divergence to the teacher (never negative), a column only for roles that have
 *   one at some step (distilled members; none under `distillation: none`);
 * - `alpha_min_share`: the share of distilled samples whose selected divergence was the α₋ branch (empty for losses
 *   without one); `clipped_share`: the share of gradient values clipping changed; `nonfinite`: non-finite values
 *   seen in the step; `images_per_sec`: training speed (empty when not measured).
 */
export function stepsCsv(steps: readonly RunStepPoint[]): string {
  const roles = orderRoles(steps.flatMap((s) => s.losses.map((l) => l.role)));
  const withDivergence = new Set(steps.flatMap((s) => s.losses.filter((l) => l.divergence !== undefined).map((l) => l.role)));
  const members = roles.flatMap((r) => [{ role: r, col: `${r}_loss`, pick: 'loss' as const }, ...(withDivergence.has(r) ? [{ role: r, col: `${r}_divergence`, pick: 'divergence' as const }] : [])]);
  const header = ['step', 'epoch', 'lr', ...members.map((m) => m.col), 'alpha_min_share', 'clipped_share', 'nonfinite', 'images_per_sec'];
  const rows = steps.map((s) => {
    const byRole = new Map(s.losses.map((l) => [l.role, l]));
    return [s.step, s.epoch, s.lr, ...members.map((m) => byRole.get(m.role)?.[m.pick]), s.alphaMinShare, s.clippedShare, s.nonfinite, s.imagesPerSec];
  });
  return csvText(header, rows);
}

/**
 * The epochs CSV: one row per validated epoch, by epoch. Columns: `epoch` (0-based), `step` (the step it was
 * validated at), then per validated subnet in sandwich order (`max`, `random-1`…, `min`): `<subnet>_top1`, the
 * BN-calibrated validation top-1 as a fraction in [0, 1], `<subnet>_loss`, the validation loss, and `<subnet>_mflops`,
 * its MFLOPs. A subnet not validated at some epoch has empty cells there.
 */
export function epochsCsv(epochs: readonly RunEpochPoint[]): string {
  const subnets = orderRoles(epochs.map((e) => e.subnet));
  const byEpoch = new Map<number, Map<string, RunEpochPoint>>();
  for (const e of epochs) byEpoch.set(e.epoch, (byEpoch.get(e.epoch) ?? new Map<string, RunEpochPoint>()).set(e.subnet, e));
  const header = ['epoch', 'step', ...subnets.flatMap((s) => [`${s}_top1`, `${s}_loss`, `${s}_mflops`])];
  const rows = [...byEpoch]
    .sort(([a], [b]) => a - b)
    .map(([epoch, points]) => [
      epoch,
      Math.max(...[...points.values()].map((p) => p.step)),
      ...subnets.flatMap((s) => {
        const p = points.get(s);
        return [p?.valTop1, p?.valLoss, p?.mflops];
      }),
    ]);
  return csvText(header, rows);
}

/**
 * The JSON document: `{schema, version, run, steps, epochs}` with `run` = {@link MetricsExportRun} (identity, setup,
 * seed and stored config) and `steps` / `epochs` exactly as the API's `runs.metrics` gives them (RunStepPoint,
 * RunEpochPoint in api-types.ts). One line, then `\n`; non-finite numbers as `null`.
 */
export function metricsJson(run: MetricsExportRun, metrics: RunMetrics): string {
  const { id, name, status, spaceId, datasetName, distillation, epochs, totalSteps, seed, config } = run;
  const doc = {
    schema: METRICS_EXPORT_SCHEMA,
    version: METRICS_EXPORT_VERSION,
    run: { id, name, status, spaceId, datasetName, distillation, epochs, totalSteps, seed, config },
    steps: metrics.steps,
    epochs: metrics.epochs,
  };
  return `${JSON.stringify(doc)}\n`;
}

/**
 * The file name for an export: `run-<id>-<name>-steps.csv`, `run-<id>-<name>-epochs.csv` or `run-<id>-<name>.json`,
 * the name reduced to ASCII letters (accents dropped), digits, `.`, `_` and `-` (anything else becomes `-`, runs of `-` one, at most 60
 * characters) and left out when nothing is left of it.
 */
export function metricsFileName(run: { id: number; name: string }, kind: MetricsExportKind): string {
  const safe = run.name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // the accents NFKD split off: `é` becomes `e`, not `e-`
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60)
    .replace(/[-.]+$/, '');
  const base = `run-${run.id}${safe ? `-${safe}` : ''}`;
  return kind === 'json' ? `${base}.json` : `${base}-${kind}.csv`;
}

/** One export: its text, file name and media type. */
export function metricsExport(kind: MetricsExportKind, run: MetricsExportRun, metrics: RunMetrics): { text: string; fileName: string; mediaType: string } {
  const text = kind === 'steps' ? stepsCsv(metrics.steps) : kind === 'epochs' ? epochsCsv(metrics.epochs) : metricsJson(run, metrics);
  return { text, fileName: metricsFileName(run, kind), mediaType: kind === 'json' ? 'application/json' : 'text/csv' };
}
