/**
 * What the fidelity study (docs/FIDELITY.md) measured about the choice of distillation, in the one place the new-run
 * form (where distillation is chosen) and the quick-start presets (`runs.presets`) read it from.
 *
 * The numbers are copied from the study's summary of docs/fidelity/results.json: the paired gap KL − adaptive α in
 * top-1 points (the same seed trains both losses). test/unit/train/distillation-evidence.test.ts recomputes every
 * number from the results file with the study's own summariser, so this text cannot drift from the data: when the
 * study records more runs, that test fails until the numbers here are brought up to date.
 */

/** One engine's paired gap between two losses on one subnet, in top-1 points (KL − adaptive α unless said otherwise). */
export interface StudyGap {
  engine: 'local' | 'torch';
  subnet: 'min' | 'max';
  seeds: readonly number[];
  /** Per seed, in the order of `seeds`, rounded to 0.1. */
  perSeed: readonly number[];
  /** Mean over the seeds, rounded to 0.1. */
  mean: number;
}

/** The study's one measured schedule: where each number comes from and what it is. */
export interface StudyCell {
  dataset: string;
  epochs: number;
  steps: number;
  batchSize: number;
  gaps: readonly StudyGap[];
  /** Lowest and highest top-1 % of any subnet of the cell (both losses, both engines), rounded to whole points. */
  top1Range: readonly [number, number];
  /** The same per loss (both engines, every seed and subnet), where the two ranges say more than the one. */
  top1ByLoss?: { kl: readonly [number, number]; adaptive: readonly [number, number] };
}

/** Demo set, 1 epoch: the study's results so far (docs/FIDELITY.md, "Results"). */
export const SHORT_SCHEDULE: StudyCell = {
  dataset: 'demo',
  epochs: 1,
  steps: 140,
  batchSize: 64,
  gaps: [
    { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [5.0, 3.0, 5.5], mean: 4.5 },
    { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [0.9, 5.2, 8.6], mean: 4.9 },
    { engine: 'local', subnet: 'max', seeds: [0, 1, 2], perSeed: [-2.1, 1.0, 4.2], mean: 1.0 },
    { engine: 'torch', subnet: 'max', seeds: [0, 1, 2], perSeed: [4.6, 1.3, 4.8], mean: 3.6 },
  ],
  top1Range: [10, 25],
};

/** Demo set, 3 epochs: the study's one longer schedule so far, 3 seeds (docs/FIDELITY.md, "Results"). */
export const LONGER_SCHEDULE: StudyCell = {
  dataset: 'demo',
  epochs: 3,
  steps: 420,
  batchSize: 64,
  gaps: [
    { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [27.4, 37.8, 28.8], mean: 31.3 },
    { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [23.3, 45.4, 45.7], mean: 38.1 },
    { engine: 'local', subnet: 'max', seeds: [0, 1, 2], perSeed: [24.0, 40.6, 29.4], mean: 31.3 },
    { engine: 'torch', subnet: 'max', seeds: [0, 1, 2], perSeed: [32.8, 47.7, 54.3], mean: 44.9 },
  ],
  top1Range: [19, 85],
  top1ByLoss: { kl: [64, 85], adaptive: [19, 58] },
};

/**
 * Fashion-MNIST, 1 epoch, 3 seeds: the study's first cell on a real dataset (docs/FIDELITY.md, "Results"). The demo
 * cells' synthetic data leave open whether their gaps are the data's; this one says what the gap is on real images.
 */
export const REAL_DATA: StudyCell = {
  dataset: 'fashion-mnist',
  epochs: 1,
  steps: 843,
  batchSize: 64,
  gaps: [
    { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [6.8, 1.9, 1.8], mean: 3.5 },
    { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [2.5, 2.8, 2.6], mean: 2.6 },
    { engine: 'local', subnet: 'max', seeds: [0, 1, 2], perSeed: [8.4, 3.7, 2.6], mean: 4.9 },
    { engine: 'torch', subnet: 'max', seeds: [0, 1, 2], perSeed: [3.1, 4.2, 4.4], mean: 3.9 },
  ],
  top1Range: [72, 84],
  top1ByLoss: { kl: [78, 84], adaptive: [72, 81] },
};

/**
 * Fashion-MNIST, 3 epochs, 3 seeds on each engine: the real-data cell at the issue's second schedule length
 * (docs/FIDELITY.md, "Results"); both engines on the development machine's CPU.
 */
export const REAL_DATA_LONGER: StudyCell = {
  dataset: 'fashion-mnist',
  epochs: 3,
  steps: 2529,
  batchSize: 64,
  gaps: [
    { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [2.3, 1.3, 1.8], mean: 1.8 },
    { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [1.7, 1.3, 1.2], mean: 1.4 },
    { engine: 'local', subnet: 'max', seeds: [0, 1, 2], perSeed: [2.7, 1.4, 1.7], mean: 2.0 },
    { engine: 'torch', subnet: 'max', seeds: [0, 1, 2], perSeed: [2.5, 1.7, 1.6], mean: 1.9 },
  ],
  top1Range: [85, 91],
  top1ByLoss: { kl: [87, 91], adaptive: [85, 90] },
};

/**
 * Fashion-MNIST, 10 epochs, 3 seeds on each engine: the real-data cell at the issue's third schedule length
 * (docs/FIDELITY.md, "Results"); both engines on the development machine's CPU.
 */
export const REAL_DATA_LONGEST: StudyCell = {
  dataset: 'fashion-mnist',
  epochs: 10,
  steps: 8430,
  batchSize: 64,
  gaps: [
    { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [0.8, 0.3, -0.2], mean: 0.3 },
    { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [0.2, 0.5, 0.8], mean: 0.5 },
    { engine: 'local', subnet: 'max', seeds: [0, 1, 2], perSeed: [0.8, 0.6, 0.3], mean: 0.6 },
    { engine: 'torch', subnet: 'max', seeds: [0, 1, 2], perSeed: [0.6, 1.2, 0.8], mean: 0.9 },
  ],
  top1Range: [90, 94],
  top1ByLoss: { kl: [90, 94], adaptive: [90, 93] },
};

/** Every cell on real data, shortest schedule first: the form states each in one paragraph. */
export const REAL_DATA_CELLS: readonly StudyCell[] = [REAL_DATA, REAL_DATA_LONGER, REAL_DATA_LONGEST];

/**
 * Demo set, 10 epochs, 3 seeds: the longest schedule measured on the demo set (docs/FIDELITY.md, "Results"); the PyTorch
 * engine's runs trained on a lent GPU (`python3 -m alphanet_torch.study`), the local engine's on the development machine.
 */
export const LONGEST_SCHEDULE: StudyCell = {
  dataset: 'demo',
  epochs: 10,
  steps: 1400,
  batchSize: 64,
  gaps: [
    { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [2.6, 7.1, 4.0], mean: 4.6 },
    { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [2.3, 3.6, 2.8], mean: 2.9 },
    { engine: 'local', subnet: 'max', seeds: [0, 1, 2], perSeed: [1.2, 3.3, 1.6], mean: 2.0 },
    { engine: 'torch', subnet: 'max', seeds: [0, 1, 2], perSeed: [0.8, 1.8, 0.9], mean: 1.2 },
  ],
  top1Range: [92, 99],
  top1ByLoss: { kl: [98, 99], adaptive: [92, 99] },
};

/** KL − adaptive α on the smallest subnet in top-1 points, after one warm-up length in epochs (0: none, the paper). */
export interface WarmupRow {
  klWarmupEpochs: number;
  seeds: readonly number[];
  perSeed: readonly number[];
  mean: number;
}

/** The study's remedy runs: adaptive α after a KL warm-up (`distillation.klWarmupEpochs`), on one cell, per engine. */
export interface WarmupEvidence {
  dataset: string;
  epochs: number;
  steps: number;
  batchSize: number;
  /** Each engine's rows, in the order they are stated; an engine may lack a warm-up length the other measured. */
  engines: readonly { engine: 'local' | 'torch'; rows: readonly WarmupRow[] }[];
}

/**
 * Demo set, 3 epochs, 3 seeds (docs/FIDELITY.md, "Diagnosis"): the longer schedule's gap with no warm-up, after 1 epoch
 * of KL (local engine only), and after 2 (adaptive α for the last epoch only; both engines).
 */
export const KL_WARMUP: WarmupEvidence = {
  dataset: 'demo',
  epochs: 3,
  steps: 420,
  batchSize: 64,
  engines: [
    {
      engine: 'local',
      rows: [
        { klWarmupEpochs: 0, seeds: [0, 1, 2], perSeed: [27.4, 37.8, 28.8], mean: 31.3 },
        { klWarmupEpochs: 1, seeds: [0, 1, 2], perSeed: [9.2, 14.4, 14.9], mean: 12.8 },
        { klWarmupEpochs: 2, seeds: [0, 1, 2], perSeed: [-1.3, -1.2, -2.6], mean: -1.7 },
      ],
    },
    {
      engine: 'torch',
      rows: [
        { klWarmupEpochs: 0, seeds: [0, 1, 2], perSeed: [23.3, 45.4, 45.7], mean: 38.1 },
        { klWarmupEpochs: 2, seeds: [0, 1, 2], perSeed: [0.0, -0.6, -1.5], mean: -0.7 },
      ],
    },
  ],
};

/**
 * Demo set, 10 epochs (docs/FIDELITY.md, "Diagnosis"): the longest schedule's gap with no warm-up and after 5 epochs of
 * KL (adaptive α for the second half); 3 seeds on each engine.
 */
export const KL_WARMUP_LONG: WarmupEvidence = {
  dataset: 'demo',
  epochs: 10,
  steps: 1400,
  batchSize: 64,
  engines: [
    {
      engine: 'local',
      rows: [
        { klWarmupEpochs: 0, seeds: [0, 1, 2], perSeed: [2.6, 7.1, 4.0], mean: 4.6 },
        { klWarmupEpochs: 5, seeds: [0, 1, 2], perSeed: [-0.6, 0.6, 0.1], mean: 0.0 },
      ],
    },
    {
      engine: 'torch',
      rows: [
        { klWarmupEpochs: 0, seeds: [0, 1, 2], perSeed: [2.3, 3.6, 2.8], mean: 2.9 },
        { klWarmupEpochs: 5, seeds: [0, 1, 2], perSeed: [-0.1, -0.3, 0.0], mean: -0.1 },
      ],
    },
  ],
};

/**
 * Fashion-MNIST, 3 epochs (docs/FIDELITY.md, "Diagnosis"): the real-data check of the warm-up, 2 epochs of KL (adaptive α
 * for the last one); 3 seeds on each engine (the PyTorch engine's seed 2 trained on a lent GPU, its KL on the VM's CPU).
 */
export const KL_WARMUP_REAL: WarmupEvidence = {
  dataset: 'fashion-mnist',
  epochs: 3,
  steps: 2529,
  batchSize: 64,
  engines: [
    {
      engine: 'local',
      rows: [
        { klWarmupEpochs: 0, seeds: [0, 1, 2], perSeed: [2.3, 1.3, 1.8], mean: 1.8 },
        { klWarmupEpochs: 2, seeds: [0, 1, 2], perSeed: [0.0, 0.1, -0.1], mean: 0.0 },
      ],
    },
    {
      engine: 'torch',
      rows: [
        { klWarmupEpochs: 0, seeds: [0, 1, 2], perSeed: [1.7, 1.3, 1.2], mean: 1.4 },
        { klWarmupEpochs: 2, seeds: [0, 1, 2], perSeed: [0.3, -0.2, 0.0], mean: 0.0 },
      ],
    },
  ],
};

/** Every cell with warm-up runs, in the order stated (by schedule length). */
export const KL_WARMUPS: readonly WarmupEvidence[] = [KL_WARMUP, KL_WARMUP_REAL, KL_WARMUP_LONG];

/** One cell of the control, no distillation (`none`: every member learns from the labels alone), against KL. */
export interface ControlCell {
  dataset: string;
  epochs: number;
  steps: number;
  batchSize: number;
  /** none − KL in top-1 points (positive: the labels alone trained the better subnet), per engine, smallest subnet. */
  gaps: readonly StudyGap[];
}

/**
 * The control on every cell where it is recorded for 3 seeds (docs/FIDELITY.md, "Results"), in the order stated. KL is
 * the reference because it trained better subnets than adaptive α on every one of these cells.
 */
export const NO_DISTILLATION: readonly ControlCell[] = [
  {
    dataset: 'demo',
    epochs: 1,
    steps: 140,
    batchSize: 64,
    gaps: [
      { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [9.3, 7.5, 8.9], mean: 8.6 },
      { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [8.4, 12.9, 5.0], mean: 8.8 },
    ],
  },
  {
    dataset: 'demo',
    epochs: 3,
    steps: 420,
    batchSize: 64,
    gaps: [
      { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [18.3, 19.0, 20.7], mean: 19.3 },
      { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [18.1, 24.9, 21.2], mean: 21.4 },
    ],
  },
  {
    dataset: 'fashion-mnist',
    epochs: 1,
    steps: 843,
    batchSize: 64,
    gaps: [
      { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [3.3, 4.3, 2.1], mean: 3.2 },
      { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [2.5, 2.0, 4.1], mean: 2.8 },
    ],
  },
  {
    dataset: 'demo',
    epochs: 10,
    steps: 1400,
    batchSize: 64,
    gaps: [
      { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [1.5, 0.0, 0.2], mean: 0.6 },
      { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [-0.2, 0.2, 0.2], mean: 0.1 },
    ],
  },
  {
    dataset: 'fashion-mnist',
    epochs: 3,
    steps: 2529,
    batchSize: 64,
    gaps: [
      { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [0.4, 0.4, 0.1], mean: 0.3 },
      { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [0.5, 0.5, 0.3], mean: 0.4 },
    ],
  },
  {
    dataset: 'fashion-mnist',
    epochs: 10,
    steps: 8430,
    batchSize: 64,
    gaps: [
      { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [-0.3, -0.6, 0], mean: -0.3 },
      { engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [0.5, 0.1, -0.1], mean: 0.2 },
    ],
  },
];

const ENGINE = { local: 'local engine', torch: 'PyTorch engine' } as const;

const points = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x).toFixed(1)}`;
const seedList = (s: readonly number[]) => (s.length === 1 ? `seed ${s[0]}` : `seeds ${s.slice(0, -1).join(', ')} and ${s.at(-1)}`);
const gapText = (g: StudyGap) => `${points(g.mean)} on the ${ENGINE[g.engine]} (${seedList(g.seeds)}: ${g.perSeed.map(points).join(', ')})`;
const gapsOf = (c: Pick<StudyCell, 'gaps'>, subnet: StudyGap['subnet']) => c.gaps.filter((g) => g.subnet === subnet);
const fewestSeeds = (c: StudyCell) => Math.min(...c.gaps.map((g) => g.seeds.length));
/** Each dataset's name in a cell's statement, and its short name where the sentence names the dataset again right after. */
const DATASET: Record<string, { name: string; short: string }> = {
  demo: { name: 'the built-in demo set', short: 'the demo set' },
  'fashion-mnist': { name: 'Fashion-MNIST', short: 'Fashion-MNIST' },
};
const epochs = (n: number) => `${n} epoch${n === 1 ? '' : 's'}`;
const cellName = (c: Pick<StudyCell, 'dataset' | 'epochs' | 'steps' | 'batchSize'>) =>
  `${DATASET[c.dataset]?.name ?? c.dataset} after ${epochs(c.epochs)} (${c.steps} steps of ${c.batchSize} images)`;
/** The one engine a cell was measured on, or undefined when it has several. */
const onlyEngine = (c: StudyCell) => {
  const engines = new Set(c.gaps.map((g) => g.engine));
  return engines.size === 1 ? [...engines][0] : undefined;
};
/**
 * A cell's seeds: "3 seeds" (every engine the same), "3 seeds on the local engine, one on the PyTorch engine" (engines
 * differ), "2 seeds on the local engine only" (one engine).
 */
function seedsPhrase(c: StudyCell): string {
  const n = fewestSeeds(c);
  const count = (k: number) => (k === 1 ? 'one seed' : `${k} seeds`);
  const one = onlyEngine(c);
  if (one) return `${count(n)} on the ${ENGINE[one]} only`;
  if (c.gaps.every((g) => g.seeds.length === n)) return count(n);
  const engines = (Object.keys(ENGINE) as (keyof typeof ENGINE)[]).filter((e) => c.gaps.some((g) => g.engine === e));
  return engines
    .map((e, i) => {
      const k = Math.max(...c.gaps.filter((g) => g.engine === e).map((g) => g.seeds.length));
      return `${i === 0 ? count(k) : k === 1 ? 'one' : k} on the ${ENGINE[e]}`;
    })
    .join(', ');
}

/** The seeds of a gap do not all fall on one side of zero (a tie, ±0.0, counts as neither side). */
const seedsSplit = (g: StudyGap) => !(g.perSeed.every((x) => x > 0) || g.perSeed.every((x) => x < 0));

/**
 * Which loss trained the better smallest subnet, across the engines of a cell ("on the local engine" when it has one);
 * "on average, not on every seed" when an engine's seeds do not all fall on one side ({@link seedsSplit}).
 */
function smallestVerdict(c: StudyCell): string {
  const min = gapsOf(c, 'min');
  const one = onlyEngine(c);
  const on = one ? `on the ${ENGINE[one]}` : 'on every engine';
  // Only a verdict with a side can be contradicted by a seed.
  const ahead = `${on}${min.some(seedsSplit) ? ' on average, not on every seed' : ''}`;
  return min.every((g) => g.mean > 0)
    ? `KL trained a better smallest subnet than adaptive α ${ahead}`
    : min.every((g) => g.mean < 0)
      ? `adaptive α trained a better smallest subnet than KL ${ahead}`
      : min.every((g) => g.mean === 0)
        ? `KL and adaptive α trained equally good smallest subnets ${on}`
        : 'the engines differ on whether KL or adaptive α trains the better smallest subnet';
}

/** The cell's gaps on the smallest and the largest subnet, in one sentence. */
const gapSentence = (c: StudyCell) =>
  `Top-1 points, KL minus adaptive α, smallest subnet: ${gapsOf(c, 'min').map(gapText).join(' and ')}; largest subnet: ${gapsOf(c, 'max').map(gapText).join(' and ')}.`;

/** Where the cell's subnets ended: per loss when known (a wide spread over seeds is itself a finding), else overall. */
const rangeSentence = (c: StudyCell) =>
  c.top1ByLoss
    ? `KL’s subnets ended at ${c.top1ByLoss.kl[0]}–${c.top1ByLoss.kl[1]} % top-1, adaptive α’s at ${c.top1ByLoss.adaptive[0]}–${c.top1ByLoss.adaptive[1]} % (every seed and subnet).`
    : `Subnets at ${c.top1Range[0]}–${c.top1Range[1]} % top-1.`;

/**
 * The form's statements: what the study measured for short schedules (`c`, default {@link SHORT_SCHEDULE}), for
 * longer ones (`longer`, default {@link LONGER_SCHEDULE}; null: none measured), and on a real dataset (`real`, default
 * {@link REAL_DATA_CELLS}, shortest first; empty: none measured, and `real` is the empty string), and what a KL
 * warm-up did (`warmup`, default {@link KL_WARMUPS}; none: the empty string), and the longest schedule on the demo
 * set (`longest`, default {@link LONGEST_SCHEDULE}; null: the empty string, and the longer schedule's statement says
 * nothing of it).
 */
export function distillationEvidence(
  c: StudyCell = SHORT_SCHEDULE,
  longer: StudyCell | null = LONGER_SCHEDULE,
  real: readonly StudyCell[] = REAL_DATA_CELLS,
  warmup: readonly WarmupEvidence[] = KL_WARMUPS,
  longest: StudyCell | null = LONGEST_SCHEDULE,
  control: readonly ControlCell[] = NO_DISTILLATION,
): { short: string; long: string; real: string; warmup: string; longest: string; control: string } {
  const paper = 'Adaptive α is the AlphaNet paper’s choice for its 360-epoch ImageNet schedule.';
  const beyond = longest
    ? `${epochs(longer?.epochs ?? 1)} but the ${fewestSeeds(longest) < 3 ? 'partial ' : ''}${longest.epochs}-epoch cell below`
    : epochs(longer?.epochs ?? 1);
  const unmeasured = real.length > 0
    ? `Nothing measured yet beyond ${beyond}, nor on a real dataset beyond ${epochs(Math.max(...real.map((r) => r.epochs)))}.`
    : `Nothing measured yet on a real dataset or beyond ${beyond}.`;
  // One cell's verdict, gaps and ranges, after the words that introduce it.
  const cellStatement = (lead: string, c: StudyCell) =>
    `${lead}, ${seedsPhrase(c)}: on ${cellName(c)}, ${smallestVerdict(c)}. ${gapSentence(c)} ${rangeSentence(c)}`;
  // "Longest so far" only while no real-data cell ran more steps; else it names its dataset ("Longest on the demo set").
  const longestLead = (l: StudyCell) =>
    real.some((r) => r.steps > l.steps) ? `Longest on ${DATASET[l.dataset]?.short ?? l.dataset} so far` : 'Longest so far';
  // The real-data cells, shortest first: the first introduces real data, the last of three or more is the longest.
  const realLead = (i: number) => (i === 0 ? 'Real data' : i === real.length - 1 && i > 1 ? 'Longest on real data so far' : 'Longer');
  return {
    longest: longest ? cellStatement(longestLead(longest), longest) : '',
    warmup: warmup.length > 0 ? warmupSentence(warmup) : '',
    control: control.length > 0 ? controlSentence(control) : '',
    real: real.map((r, i) => cellStatement(realLead(i), r)).join(' '),
    short:
      `Short schedules, measured: on ${cellName(c)}, ${smallestVerdict(c)}. ${gapSentence(c)} ` +
      `Thin evidence: ${fewestSeeds(c) < 3 ? `only ${fewestSeeds(c)} seeds on an engine` : `${fewestSeeds(c)} seeds`}, ` +
      `and every subnet still at ${c.top1Range[0]}–${c.top1Range[1]} % top-1 (10 classes).`,
    long: longer
      ? `Longer schedules, ${fewestSeeds(longer) === 1 ? 'one seed each' : `${fewestSeeds(longer)} seeds`}: on ${cellName(longer)}, ${smallestVerdict(longer)}. ` +
        `${gapSentence(longer)} ${rangeSentence(longer)} ${unmeasured} ${paper}`
      : 'Long schedules, not measured yet: the study has no run longer than one epoch and none on a real dataset ' +
        `(Fashion-MNIST at 3 and 10 epochs is still to run). ${paper}`,
  };
}

/**
 * What a KL warm-up did to the gap, in one statement over its cells ("measured on the local engine only" for a cell
 * with one engine).
 */
function warmupSentence(cells: readonly WarmupEvidence[]): string {
  const row = (r: WarmupRow) =>
    `${points(r.mean)} ${r.klWarmupEpochs === 0 ? 'with none' : `after ${epochs(r.klWarmupEpochs)} of KL`} (${seedList(r.seeds)}: ${r.perSeed.map(points).join(', ')})`;
  const rows = (e: WarmupEvidence['engines'][number]) => e.rows.map(row).join(', ');
  const part = (w: WarmupEvidence) => {
    const what = `on ${cellName(w)}, top-1 points of the smallest subnet, KL minus adaptive α`;
    return w.engines.length === 1
      ? `measured on the ${ENGINE[w.engines[0].engine]} only: ${what}: ${rows(w.engines[0])}`
      : `${what}, ${w.engines.map((e) => `on the ${ENGINE[e.engine]}: ${rows(e)}`).join('; ')}`;
  };
  return `A KL warm-up before adaptive α, ${cells.map(part).join('. Then, ')}. The adaptive and fixed α choices show it as “KL warm-up”.`;
}

/**
 * What training without distillation gave against KL, in one statement over every cell measured. An engine of a cell
 * is ahead or behind when all its seeds fall on that side, else level ({@link seedsSplit}). Where most (cell, engine)
 * pairs are ahead, or none is behind, the verdict says so and names each exception: a cell where the two were level, an
 * engine of a cell where none was behind; otherwise it says only that none was ahead on some cells and behind on others.
 */
function controlSentence(cells: readonly ControlCell[]): string {
  const min = cells.flatMap((c) => gapsOf(c, 'min'));
  const ahead = (g: StudyGap) => g.mean > 0 && !seedsSplit(g);
  const behind = (g: StudyGap) => g.mean < 0 && !seedsSplit(g);
  const levelCells = cells.filter((c) => gapsOf(c, 'min').some(seedsSplit));
  const behindAt = cells.flatMap((c) => gapsOf(c, 'min').filter(behind).map((g) => `${cellName(c)} on the ${ENGINE[g.engine]}`));
  const exceptions = [
    ...(levelCells.length ? [`${levelCells.map(cellName).join(' and ')}, where the two were level (the seeds not all on one side)`] : []),
    ...(behindAt.length ? [`${behindAt.join(' and ')}, where it was behind`] : []),
  ];
  const nAhead = min.filter(ahead).length;
  const verdict = min.every(ahead)
    ? 'gave a better smallest subnet than KL on every cell and engine measured'
    : min.every(behind)
      ? 'gave a worse smallest subnet than KL on every cell and engine measured'
      : min.every(seedsSplit)
        ? 'ended level with KL on every cell and engine measured (the seeds not all on one side)'
        : !min.some(behind) || nAhead > min.length - nAhead
          ? `gave a better smallest subnet than KL on every cell and engine measured but ${exceptions.join('; and ')}`
          : 'was ahead of KL on some cells and behind it on others';
  return (
    `No distillation, the study’s control: training every member on the labels alone (“None”) ${verdict}. ` +
    `Top-1 points of the smallest subnet, none minus KL: ${cells.map((c) => `on ${cellName(c)}, ${gapsOf(c, 'min').map(gapText).join(' and ')}`).join('; ')}. ` +
    'The AlphaNet paper distils over 360 epochs; no schedule measured here is that long.'
  );
}

/** A preset's distillation: the run config's `distillation` kind (with a KL warm-up when it has one) and why. */
export interface PresetDistillation {
  kind: 'kl' | 'adaptive-alpha' | 'none';
  /** Epochs of KL before adaptive α (`distillation.klWarmupEpochs`); absent: none. */
  klWarmupEpochs?: number;
  why: string;
}

/**
 * The distillation a quick-start preset uses for its schedule, and why, in one sentence.
 *
 * A short preset takes the loss that trained the best smallest subnet on every engine of the short cell `c`: KL or
 * adaptive α from its gaps, or none where the control (`control`, default: the {@link NO_DISTILLATION} cell of the same
 * data and schedule; null: none) is recorded on each of those engines. Where the engines differ, or nothing is ahead, it
 * keeps the paper's default.
 *
 * A long preset of `epochs` (default 20, the schema's) within the longest cell measured (`longest`, default
 * {@link LONGEST_SCHEDULE}) follows that cell: where adaptive α trailed KL on every engine, adaptive α after the KL
 * warm-up of `warmup` (default {@link KL_WARMUP_LONG}) scaled to the preset's epochs, if that warm-up ended level with
 * or ahead of KL on every engine that measured it with 3 seeds (fewer seeds are not yet evidence), else KL. A longer preset keeps the paper's adaptive α: nothing
 * measured says otherwise for its schedule.
 */
export function presetDistillation(
  schedule: 'short' | 'long',
  c: StudyCell = SHORT_SCHEDULE,
  control: ControlCell | null = NO_DISTILLATION.find((k) => k.dataset === c.dataset && k.epochs === c.epochs) ?? null,
  { epochs: presetEpochs = 20, longest = LONGEST_SCHEDULE, warmup = KL_WARMUP_LONG }: { epochs?: number; longest?: StudyCell; warmup?: WarmupEvidence | null } = {},
): PresetDistillation {
  const each = (g: Pick<StudyGap, 'engine' | 'seeds' | 'mean'>) => `${Math.abs(g.mean).toFixed(1)} points (${ENGINE[g.engine]}, ${g.seeds.length} seeds)`;
  if (schedule === 'long') return longPreset(presetEpochs, longest, warmup, each);
  const min = gapsOf(c, 'min');
  // The control counts only where it is recorded on every engine of the cell.
  const controlGaps = control ? gapsOf(control, 'min') : [];
  const covered = min.every((g) => controlGaps.some((k) => k.engine === g.engine));
  const noneGap = (g: StudyGap) => (covered ? controlGaps.find((k) => k.engine === g.engine) : undefined);
  // Per engine, each loss's smallest subnet relative to KL's; the best must be strictly ahead of both others.
  const best = min.map((g) => {
    const score = { kl: 0, 'adaptive-alpha': -g.mean, none: noneGap(g)?.mean ?? Number.NEGATIVE_INFINITY };
    const [first, second] = (Object.entries(score) as [keyof typeof score, number][]).sort((a, b) => b[1] - a[1]);
    return first[1] > second[1] ? first[0] : undefined;
  });
  const kind = min.length > 0 && best.every((b) => b !== undefined && b === best[0]) ? best[0] : undefined;
  const at = `in the fidelity study’s short schedule (${c.dataset} set, ${c.epochs} epoch)`;
  if (kind === 'none') {
    const ahead = min.map((g) => noneGap(g)!);
    return {
      kind,
      why:
        `No distillation: ${at} training every member on the labels alone gave the smallest subnet ${ahead.map(each).join(' and ')} ` +
        `more than KL${min.every((g) => g.mean > 0) ? ', the better distillation there' : ''}; choose KL or adaptive α to see distillation at work.`,
    };
  }
  if (kind === 'kl') {
    return { kind, why: `KL distillation: ${at} KL trained the smallest subnet ${min.map(each).join(' and ')} better than adaptive α.` };
  }
  return {
    kind: 'adaptive-alpha',
    why: `Adaptive α distillation, the AlphaNet paper’s choice: ${at} ${kind === 'adaptive-alpha' ? 'it trained the best smallest subnet on every engine' : 'no loss was ahead on every engine'}.`,
  };
}

/** The long-preset half of {@link presetDistillation}. */
function longPreset(
  presetEpochs: number,
  longest: StudyCell,
  warmup: WarmupEvidence | null,
  each: (g: Pick<StudyGap, 'engine' | 'seeds' | 'mean'>) => string,
): PresetDistillation {
  const paper = 'Adaptive α distillation, the AlphaNet paper’s choice:';
  if (presetEpochs > longest.epochs) {
    return { kind: 'adaptive-alpha', why: `${paper} the fidelity study’s longest schedule so far is ${epochs(longest.epochs)}, shorter than this one.` };
  }
  const at = `in the fidelity study’s ${longest.epochs}-epoch schedule (${longest.dataset} set)`;
  const min = gapsOf(longest, 'min');
  if (min.length === 0 || !min.every((g) => g.mean > 0)) {
    return { kind: 'adaptive-alpha', why: `${paper} ${at} it was not behind KL on every engine.` };
  }
  const trailed = `adaptive α from the first step trailed KL by ${min.map(each).join(' and ')}`;
  // A warm-up length with 3 seeds on some engine of the warm-up cell, level with or ahead of KL (KL − it ≤ 0) on every
  // engine that has 3 seeds of it. An engine with fewer seeds of a length is not yet evidence either way.
  const full = (r: WarmupRow | undefined): r is WarmupRow => r !== undefined && r.seeds.length >= 3;
  const rowsAt = (l: number) =>
    (warmup?.engines ?? []).flatMap((e) => {
      const row = e.rows.find((r) => r.klWarmupEpochs === l);
      return full(row) ? [{ engine: e.engine, row }] : [];
    });
  const lengths = [...new Set((warmup?.engines ?? []).flatMap((e) => e.rows.map((r) => r.klWarmupEpochs)))].filter((l) => l > 0).sort((a, b) => a - b);
  const good =
    warmup && warmup.epochs === longest.epochs && warmup.dataset === longest.dataset
      ? lengths.filter((l) => rowsAt(l).length > 0 && rowsAt(l).every((x) => x.row.mean <= 0)).pop()
      : undefined;
  if (good !== undefined) {
    const rows = rowsAt(good).map((x) => ({ engine: x.engine, seeds: x.row.seeds, mean: x.row.mean }));
    const k = Math.round(((presetEpochs * good) / longest.epochs) * 100) / 100;
    // Where some engine is only level, each engine's signed gap says which is which.
    const signed = (r: (typeof rows)[number]) => `${points(r.mean)} points, ${ENGINE[r.engine]}, ${r.seeds.length} seeds`;
    const vs = rows.every((r) => r.mean < 0) ? `${rows.map(each).join(' and ')} better than KL` : `level with KL or better (KL minus it: ${rows.map(signed).join('; ')})`;
    return {
      kind: 'adaptive-alpha',
      klWarmupEpochs: k,
      why: `Adaptive α after a KL warm-up of ${epochs(k)}: ${at} adaptive α after ${epochs(good)} of KL trained the smallest subnet ${vs}, while ${trailed}.`,
    };
  }
  return { kind: 'kl', why: `KL distillation: ${at} KL trained the smallest subnet ${min.map(each).join(' and ')} better than adaptive α.` };
}
