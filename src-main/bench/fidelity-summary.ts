/**
 * The fidelity study's arithmetic (docs/FIDELITY.md): per-seed results → mean and spread per cell, the paired
 * KL − adaptive-α gap per seed, and whether two engines agree on that gap. Pure functions over plain records, so the
 * summary of a recorded study can be checked without training anything.
 */

/** One validated subnet of one finished study run. */
export interface StudyRecord {
  engine: string;
  dataset: string;
  epochs: number;
  /**
   * Distillation label: `adaptive-alpha`, `kl`, `alpha-1`, `alpha+1`, `none`; a diagnosis run appends its settings,
   * e.g. `kl [optimizer.gradClipValue=5]` (`--set`), so it is a cell of its own.
   */
  loss: string;
  seed: number;
  /** `min`, `max`, or `random-k`. */
  subnet: string;
  /** Top-1 on the validation split after BN recalibration, in [0, 1]. */
  top1: number;
  /** Adaptive α only: mean over the run's steps of the share of samples where α₋ was selected. */
  alphaMinShare?: number | null;
  /** Distilled members: mean over the last epoch's steps of the (selected) divergence to the teacher. */
  divergence?: number | null;
  /**
   * Where a cell trained when not by `npm run study` on the study's machine: `python3 -m alphanet_torch.study` writes
   * its device, e.g. `cuda (NVIDIA H200, torch 2.11.0+cu130)` (docs/TORCH.md).
   */
  device?: string;
  /**
   * The run after each of its epochs (index 0: after epoch 1), as the study read it from the run's data directory (or
   * `python3 -m alphanet_torch.study` from its progress file); absent in records written before it was kept (before
   * 2026-12-05). Null where an epoch has no value (no validation recorded, or no step of that kind).
   */
  course?: StudyCourse;
}

/** One run's course, epoch by epoch (index 0: after epoch 1), unrounded. */
export interface StudyCourse {
  /** This subnet's top-1 after the epoch (BN recalibrated), in [0, 1]. */
  top1: (number | null)[];
  /** Adaptive α only (else every entry null): the epoch's mean share of samples where α₋ was selected. */
  alphaMinShare: (number | null)[];
  /** The largest subnet's (the teacher's) mean label loss over the epoch's steps. */
  teacherLoss: (number | null)[];
  /** The learning rate at the epoch's last step. */
  lr: (number | null)[];
}

/** Mean and spread of one quantity over seeds. `range` = max − min; `std` is the sample standard deviation. */
export interface Spread {
  n: number;
  mean: number;
  min: number;
  max: number;
  range: number;
  std: number;
}

export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error('spread of no values');
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const std = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, min, max, range: max - min, std };
}

/** The cell a record belongs to, without the seed. */
export interface CellKey {
  engine: string;
  dataset: string;
  epochs: number;
  loss: string;
  subnet: string;
}

export interface CellSummary extends CellKey {
  top1: Spread;
  alphaMinShare: Spread | null;
  divergence: Spread | null;
}

const cellId = (k: CellKey) => JSON.stringify([k.engine, k.dataset, k.epochs, k.loss, k.subnet]);

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

const finite = (xs: readonly (number | null | undefined)[]) => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));

/** One row per (engine, dataset, epochs, loss, subnet), in first-seen order. A seed recorded twice is an error. */
export function summarise(records: readonly StudyRecord[]): CellSummary[] {
  return [...groupBy(records, cellId).values()].map((rs) => {
    const seeds = new Set(rs.map((r) => r.seed));
    if (seeds.size !== rs.length) throw new Error(`seed recorded twice in cell ${cellId(rs[0])}`);
    const shares = finite(rs.map((r) => r.alphaMinShare));
    const divs = finite(rs.map((r) => r.divergence));
    const { engine, dataset, epochs, loss, subnet } = rs[0];
    return {
      engine,
      dataset,
      epochs,
      loss,
      subnet,
      top1: spread(rs.map((r) => r.top1)),
      alphaMinShare: shares.length ? spread(shares) : null,
      divergence: divs.length ? spread(divs) : null,
    };
  });
}

/** `a − b` top-1 per seed (paired: the same seed trains both), for one engine, dataset, schedule and subnet. */
export interface Gap {
  engine: string;
  dataset: string;
  epochs: number;
  subnet: string;
  /** Seeds present for both losses, ascending. */
  seeds: number[];
  perSeed: number[];
  gap: Spread;
}

/**
 * The paired gap `lossA − lossB` (default KL − adaptive α: positive means KL trained the better subnet). Seeds present
 * for only one of the two losses are left out; a cell with no common seed gives no row.
 */
export function pairedGaps(records: readonly StudyRecord[], lossA = 'kl', lossB = 'adaptive-alpha'): Gap[] {
  const groups = groupBy(
    records.filter((r) => r.loss === lossA || r.loss === lossB),
    (r) => JSON.stringify([r.engine, r.dataset, r.epochs, r.subnet]),
  );
  const out: Gap[] = [];
  for (const rs of groups.values()) {
    const a = new Map(rs.filter((r) => r.loss === lossA).map((r) => [r.seed, r.top1]));
    const b = new Map(rs.filter((r) => r.loss === lossB).map((r) => [r.seed, r.top1]));
    const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
    if (seeds.length === 0) continue;
    const perSeed = seeds.map((s) => a.get(s)! - b.get(s)!);
    const { engine, dataset, epochs, subnet } = rs[0];
    out.push({ engine, dataset, epochs, subnet, seeds, perSeed, gap: spread(perSeed) });
  }
  return out;
}

/** The paired gap `lossA − lossB` of one seed after each epoch (index 0: after epoch 1), in [−1, 1]. */
export interface GapCourse {
  engine: string;
  dataset: string;
  epochs: number;
  subnet: string;
  seed: number;
  perEpoch: (number | null)[];
}

/**
 * The paired gap after every epoch, per seed, for the records that carry their run's course (default KL − adaptive α);
 * null after an epoch where either run has no validation. Pairs where either record has no course give no row.
 */
export function gapCourses(records: readonly StudyRecord[], lossA = 'kl', lossB = 'adaptive-alpha'): GapCourse[] {
  const key = (r: StudyRecord) => JSON.stringify([r.engine, r.dataset, r.epochs, r.subnet, r.seed]);
  const ofB = new Map(records.filter((r) => r.loss === lossB && r.course).map((r) => [key(r), r.course!]));
  const out: GapCourse[] = [];
  for (const a of records.filter((r) => r.loss === lossA && r.course)) {
    const b = ofB.get(key(a));
    if (!b) continue;
    const n = Math.max(a.course!.top1.length, b.top1.length);
    const perEpoch = Array.from({ length: n }, (_, i) => {
      const x = a.course!.top1[i];
      const y = b.top1[i];
      return typeof x === 'number' && typeof y === 'number' ? x - y : null;
    });
    out.push({ engine: a.engine, dataset: a.dataset, epochs: a.epochs, subnet: a.subnet, seed: a.seed, perEpoch });
  }
  return out.sort((x, y) => x.engine.localeCompare(y.engine) || x.dataset.localeCompare(y.dataset) || x.epochs - y.epochs || x.seed - y.seed || x.subnet.localeCompare(y.subnet));
}

/** Two engines' gaps for one dataset, schedule and subnet. */
export interface Agreement {
  dataset: string;
  epochs: number;
  subnet: string;
  a: Gap;
  b: Gap;
  /** |mean gap of a − mean gap of b|. */
  difference: number;
  /** The larger of the two engines' seed-to-seed ranges of the gap. */
  tolerance: number;
  agree: boolean;
}

/**
 * Do engines `a` and `b` agree on the gap? They agree when the difference of their mean gaps is within the seed-to-seed
 * spread, taken as the larger of the two ranges (max − min over seeds) of the per-seed gaps: a difference that one
 * engine's own reseeding already produces is not evidence of a defect. With a single seed per engine the range is 0,
 * so only identical gaps agree — run at least three seeds.
 */
export function engineAgreement(gaps: readonly Gap[], a = 'local', b = 'torch'): Agreement[] {
  const key = (g: Gap) => JSON.stringify([g.dataset, g.epochs, g.subnet]);
  const ofB = new Map(gaps.filter((g) => g.engine === b).map((g) => [key(g), g]));
  const out: Agreement[] = [];
  for (const ga of gaps.filter((g) => g.engine === a)) {
    const gb = ofB.get(key(ga));
    if (!gb) continue;
    const difference = Math.abs(ga.gap.mean - gb.gap.mean);
    const tolerance = Math.max(ga.gap.range, gb.gap.range);
    out.push({ dataset: ga.dataset, epochs: ga.epochs, subnet: ga.subnet, a: ga, b: gb, difference, tolerance, agree: difference <= tolerance });
  }
  return out;
}

const pts = (x: number) => (100 * x).toFixed(1);
const ms = (s: Spread) => `${pts(s.mean)} ± ${pts(s.std)} (${pts(s.min)}–${pts(s.max)})`;

/**
 * Markdown tables: top-1 per cell (mean ± std, min–max over seeds, in %), the KL − adaptive gaps, the engines'
 * agreement, and each seed's gap epoch by epoch (runs of more than one epoch whose records carry their course).
 */
export function formatStudy(records: readonly StudyRecord[]): string {
  const cells = summarise(records);
  const lines = [
    '| engine | data | epochs | loss | subnet | seeds | top-1 % mean ± std (min–max) | α₋ share | divergence |',
    '|---|---|---|---|---|---|---|---|---|',
    ...cells.map(
      (c) =>
        `| ${c.engine} | ${c.dataset} | ${c.epochs} | ${c.loss} | ${c.subnet} | ${c.top1.n} | ${ms(c.top1)} | ${c.alphaMinShare ? pts(c.alphaMinShare.mean) + ' %' : '–'} | ${c.divergence ? c.divergence.mean.toFixed(3) : '–'} |`,
    ),
  ];
  const gaps = pairedGaps(records);
  if (gaps.length) {
    lines.push('', '| engine | data | epochs | subnet | KL − adaptive, points: mean ± std (min–max) | per seed |', '|---|---|---|---|---|---|');
    for (const g of gaps) lines.push(`| ${g.engine} | ${g.dataset} | ${g.epochs} | ${g.subnet} | ${ms(g.gap)} | ${g.perSeed.map(pts).join(', ')} |`);
  }
  const agreement = engineAgreement(gaps);
  if (agreement.length) {
    lines.push('', '| data | epochs | subnet | local gap | torch gap | difference | seed spread | agree |', '|---|---|---|---|---|---|---|---|');
    for (const g of agreement) {
      lines.push(`| ${g.dataset} | ${g.epochs} | ${g.subnet} | ${pts(g.a.gap.mean)} | ${pts(g.b.gap.mean)} | ${pts(g.difference)} | ${pts(g.tolerance)} | ${g.agree ? 'yes' : '**no**'}${Math.max(g.a.seeds.length, g.b.seeds.length) < 2 ? ' (one seed each: no spread to judge by)' : ''} |`);
    }
  }
  // The course of the gap only where there is one: a 1-epoch run's course is its end.
  const courses = gapCourses(records).filter((g) => g.epochs > 1);
  if (courses.length) {
    const most = Math.max(...courses.map((g) => g.perEpoch.length));
    lines.push(
      '',
      `| engine | data | epochs | subnet | seed | ${Array.from({ length: most }, (_, i) => (i === 0 ? 'KL − adaptive, points, after epoch 1' : `after ${i + 1}`)).join(' | ')} |`,
      `|---|---|---|---|---|${'---|'.repeat(most)}`,
    );
    for (const g of courses) {
      const cells = Array.from({ length: most }, (_, i) => (typeof g.perEpoch[i] === 'number' ? pts(g.perEpoch[i]!) : '–'));
      lines.push(`| ${g.engine} | ${g.dataset} | ${g.epochs} | ${g.subnet} | ${g.seed} | ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}
