/**
 * The study's claims shown by the new-run form and the presets (src-main/train/distillation-evidence.ts) against the
 * recorded study: every quoted number is recomputed from docs/fidelity/results.json with the study's summariser, so
 * the text fails here the moment it no longer says what the data says.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pairedGaps, type StudyRecord } from '../../../src-main/bench/fidelity-summary';
import { runPresets } from '../../../src-main/service/presets';
import {
  type ControlCell,
  distillationEvidence,
  KL_WARMUP,
  KL_WARMUP_LONG,
  KL_WARMUPS,
  LONGER_SCHEDULE,
  LONGEST_SCHEDULE,
  NO_DISTILLATION,
  presetDistillation,
  REAL_DATA,
  REAL_DATA_CELLS,
  REAL_DATA_LONGER,
  REAL_DATA_LONGEST,
  SHORT_SCHEDULE,
  type StudyCell,
} from '../../../src-main/train/distillation-evidence';

const recorded = JSON.parse(readFileSync('docs/fidelity/results.json', 'utf8')) as StudyRecord[];
// + 0: a gap that rounds to zero from below (-0.04) is quoted as 0.0, not -0.
const round1 = (x: number) => Math.round(x * 10) / 10 + 0;

describe.each([
  ['short', SHORT_SCHEDULE],
  ['longer', LONGER_SCHEDULE],
  ['real-data', REAL_DATA],
  ['real-data longer', REAL_DATA_LONGER],
  ['real-data longest', REAL_DATA_LONGEST],
  ['longest', LONGEST_SCHEDULE],
] as const)('the study evidence quoted to users: the %s schedule', (_, c) => {
  const cell = recorded.filter((r) => r.dataset === c.dataset && r.epochs === c.epochs);
  const gaps = pairedGaps(cell).filter((g) => g.subnet === 'min' || g.subnet === 'max');

  it('quotes every engine’s KL − adaptive α gap on the min and max subnets as recorded (seeds, per seed, mean)', () => {
    expect(gaps.length).toBeGreaterThan(0);
    expect(c.gaps.map((g) => `${g.engine} ${g.subnet}`).sort()).toEqual(gaps.map((g) => `${g.engine} ${g.subnet}`).sort());
    for (const q of c.gaps) {
      const g = gaps.find((x) => x.engine === q.engine && x.subnet === q.subnet)!;
      expect(q.seeds, `${q.engine} ${q.subnet}`).toEqual(g.seeds);
      expect(q.perSeed, `${q.engine} ${q.subnet}`).toEqual(g.perSeed.map((x) => round1(x * 100)));
      expect(q.mean, `${q.engine} ${q.subnet}`).toBe(round1(g.gap.mean * 100));
    }
  });

  it('quotes the cell’s range of top-1 as recorded, overall and per loss', () => {
    const range = (losses: string[]) => {
      const top1 = cell.filter((r) => losses.includes(r.loss)).map((r) => r.top1 * 100);
      return [Math.round(Math.min(...top1)), Math.round(Math.max(...top1))];
    };
    expect(c.top1Range).toEqual(range(['kl', 'adaptive-alpha']));
    if (c.top1ByLoss) expect(c.top1ByLoss).toEqual({ kl: range(['kl']), adaptive: range(['adaptive-alpha']) });
  });
});

describe('the study evidence quoted to users: the KL warm-up', () => {
  const LOCAL_ROWS = [
    { klWarmupEpochs: 0, seeds: [0, 1], perSeed: [27.4, 37.8], mean: 32.6 },
    { klWarmupEpochs: 1, seeds: [0, 1], perSeed: [9.2, 14.4], mean: 11.8 },
    { klWarmupEpochs: 2, seeds: [0], perSeed: [-1.3], mean: -1.3 },
  ];

  it('quotes every cell with warm-up runs, in the order of schedule length', () => {
    const cells = new Set(recorded.filter((r) => r.loss.includes('klWarmupEpochs=')).map((r) => `${r.dataset} ${r.epochs}`));
    expect(KL_WARMUPS.map((w) => `${w.dataset} ${w.epochs}`).sort()).toEqual([...cells].sort());
    expect(KL_WARMUPS.map((w) => w.epochs)).toEqual([...KL_WARMUPS.map((w) => w.epochs)].sort((a, b) => a - b));
  });

  it.each(KL_WARMUPS.map((w) => [`${w.dataset} ${w.epochs} epochs`, w] as const))(
    'quotes KL − adaptive α on the smallest subnet per warm-up length and engine as recorded (seeds, per seed, mean): %s',
    (_, w) => {
      // Every engine that recorded a warm-up run and KL on this cell is quoted (the quote is KL minus it), in the order
      // local, torch.
      const engines = (loss: (l: string) => boolean) =>
        new Set(recorded.filter((r) => r.dataset === w.dataset && r.epochs === w.epochs && loss(r.loss)).map((r) => r.engine));
      const withWarmup = engines((l) => l.includes('klWarmupEpochs='));
      const withKl = engines((l) => l === 'kl');
      expect(w.engines.map((e) => e.engine)).toEqual((['local', 'torch'] as const).filter((e) => withWarmup.has(e) && withKl.has(e)));
      const twin = [LONGER_SCHEDULE, ...REAL_DATA_CELLS, LONGEST_SCHEDULE].find((c) => c.dataset === w.dataset && c.epochs === w.epochs)!;
      expect([twin.steps, twin.batchSize]).toEqual([w.steps, w.batchSize]);
      for (const { engine, rows } of w.engines) {
        const cell = recorded.filter((r) => r.dataset === w.dataset && r.epochs === w.epochs && r.engine === engine);
        expect(rows[0].klWarmupEpochs, engine).toBe(0);
        for (const q of rows) {
          const loss = q.klWarmupEpochs === 0 ? 'adaptive-alpha' : `adaptive-alpha [distillation.klWarmupEpochs=${q.klWarmupEpochs}]`;
          const g = pairedGaps(cell, 'kl', loss).find((x) => x.subnet === 'min');
          expect(g, `${engine} ${loss}`).toBeDefined();
          expect(q.seeds, `${engine} ${loss}`).toEqual(g!.seeds);
          expect(q.perSeed, `${engine} ${loss}`).toEqual(g!.perSeed.map((x) => round1(x * 100)));
          expect(q.mean, `${engine} ${loss}`).toBe(round1(g!.gap.mean * 100));
        }
        // The no-warm-up row is the cell's own KL − adaptive α gap on this engine.
        const { seeds, perSeed, mean } = twin.gaps.find((g) => g.engine === engine && g.subnet === 'min')!;
        expect(rows[0]).toEqual({ klWarmupEpochs: 0, seeds, perSeed, mean });
        // Every warm-up length recorded on this engine's cell is quoted.
        const lengths = new Set(cell.map((r) => /^adaptive-alpha \[distillation\.klWarmupEpochs=([\d.]+)\]$/.exec(r.loss)?.[1]).filter(Boolean).map(Number));
        expect(rows.slice(1).map((r) => r.klWarmupEpochs), engine).toEqual([...lengths].sort((a, b) => a - b));
      }
    },
  );

  it('states it in one paragraph, or not at all', () => {
    expect(
      distillationEvidence(SHORT_SCHEDULE, LONGER_SCHEDULE, REAL_DATA_CELLS, [{ ...KL_WARMUP, engines: [{ engine: 'local', rows: LOCAL_ROWS }] }]).warmup,
    ).toBe(
      'A KL warm-up before adaptive α, measured on the local engine only: on the built-in demo set after 3 epochs (420 steps of 64 images), ' +
        'top-1 points of the smallest subnet, KL minus adaptive α: +32.6 with none (seeds 0 and 1: +27.4, +37.8), +11.8 after 1 epoch of KL (seeds 0 and 1: +9.2, +14.4), ' +
        '−1.3 after 2 epochs of KL (seed 0: −1.3). The adaptive and fixed α choices show it as “KL warm-up”.',
    );
    expect(
      distillationEvidence(SHORT_SCHEDULE, LONGER_SCHEDULE, REAL_DATA_CELLS, [
        {
          ...KL_WARMUP,
          engines: [
            { engine: 'local', rows: LOCAL_ROWS.slice(0, 2) },
            { engine: 'torch', rows: [{ klWarmupEpochs: 0, seeds: [0], perSeed: [40.0], mean: 40.0 }, { klWarmupEpochs: 2, seeds: [0], perSeed: [0], mean: 0 }] },
          ],
        },
      ]).warmup,
    ).toBe(
      'A KL warm-up before adaptive α, on the built-in demo set after 3 epochs (420 steps of 64 images), top-1 points of the smallest subnet, KL minus adaptive α, ' +
        'on the local engine: +32.6 with none (seeds 0 and 1: +27.4, +37.8), +11.8 after 1 epoch of KL (seeds 0 and 1: +9.2, +14.4); ' +
        'on the PyTorch engine: +40.0 with none (seed 0: +40.0), ±0.0 after 2 epochs of KL (seed 0: ±0.0). The adaptive and fixed α choices show it as “KL warm-up”.',
    );
    // Two cells: one statement, each cell's part in turn.
    expect(
      distillationEvidence(SHORT_SCHEDULE, LONGER_SCHEDULE, REAL_DATA_CELLS, [
        { ...KL_WARMUP, engines: [{ engine: 'local', rows: LOCAL_ROWS.slice(0, 1) }] },
        { ...KL_WARMUP_LONG, engines: [{ engine: 'torch', rows: [{ klWarmupEpochs: 0, seeds: [0], perSeed: [2.3], mean: 2.3 }, { klWarmupEpochs: 5, seeds: [0], perSeed: [-0.1], mean: -0.1 }] }] },
      ]).warmup,
    ).toBe(
      'A KL warm-up before adaptive α, measured on the local engine only: on the built-in demo set after 3 epochs (420 steps of 64 images), ' +
        'top-1 points of the smallest subnet, KL minus adaptive α: +32.6 with none (seeds 0 and 1: +27.4, +37.8). Then, measured on the PyTorch engine only: ' +
        'on the built-in demo set after 10 epochs (1400 steps of 64 images), top-1 points of the smallest subnet, KL minus adaptive α: +2.3 with none (seed 0: +2.3), ' +
        '−0.1 after 5 epochs of KL (seed 0: −0.1). The adaptive and fixed α choices show it as “KL warm-up”.',
    );
    expect(distillationEvidence(SHORT_SCHEDULE, LONGER_SCHEDULE, REAL_DATA_CELLS, []).warmup).toBe('');
  });
});

describe('the study evidence quoted to users: no distillation, the control', () => {
  const key = (r: { dataset: string; epochs: number }) => `${r.dataset} ${r.epochs}`;

  it('quotes none − KL on the smallest subnet of every cell and engine with 3 seeds of both, as recorded', () => {
    // Every (cell, engine) where both losses have 3 seeds is quoted, and nothing else.
    const complete = new Set<string>();
    for (const r of recorded.filter((x) => x.loss === 'none' && x.subnet === 'min')) {
      const seeds = (loss: string) => new Set(recorded.filter((x) => key(x) === key(r) && x.engine === r.engine && x.loss === loss && x.subnet === 'min').map((x) => x.seed)).size;
      if (seeds('none') >= 3 && seeds('kl') >= 3) complete.add(`${key(r)} ${r.engine}`);
    }
    expect(NO_DISTILLATION.flatMap((c) => c.gaps.map((g) => `${key(c)} ${g.engine}`)).sort()).toEqual([...complete].sort());
    for (const c of NO_DISTILLATION) {
      const cell = recorded.filter((r) => key(r) === key(c));
      for (const q of c.gaps) {
        expect(q.subnet).toBe('min');
        const g = pairedGaps(cell, 'none', 'kl').find((x) => x.engine === q.engine && x.subnet === 'min')!;
        expect(q.seeds, `${key(c)} ${q.engine}`).toEqual(g.seeds);
        expect(q.perSeed, `${key(c)} ${q.engine}`).toEqual(g.perSeed.map((x) => round1(x * 100)));
        expect(q.mean, `${key(c)} ${q.engine}`).toBe(round1(g.gap.mean * 100));
      }
      // Steps and batch size are those of the cell's KL-vs-adaptive statement.
      const twin = [SHORT_SCHEDULE, LONGER_SCHEDULE, ...REAL_DATA_CELLS, LONGEST_SCHEDULE].find((s) => key(s) === key(c));
      if (twin) expect([c.steps, c.batchSize]).toEqual([twin.steps, twin.batchSize]);
    }
  });

  it('states it in one paragraph with its verdict, or not at all', () => {
    const cells: ControlCell[] = [
      { dataset: 'demo', epochs: 1, steps: 140, batchSize: 64, gaps: [{ engine: 'local', subnet: 'min', seeds: [0, 1], perSeed: [9.0, 8.0], mean: 8.5 }, { engine: 'torch', subnet: 'min', seeds: [0], perSeed: [7.2], mean: 7.2 }] },
      { dataset: 'fashion-mnist', epochs: 1, steps: 843, batchSize: 64, gaps: [{ engine: 'local', subnet: 'min', seeds: [0, 1], perSeed: [1.0, 0.4], mean: 0.7 }] },
    ];
    const say = (c: readonly ControlCell[]) => distillationEvidence(SHORT_SCHEDULE, LONGER_SCHEDULE, REAL_DATA_CELLS, KL_WARMUPS, LONGEST_SCHEDULE, c).control;
    expect(say(cells)).toBe(
      'No distillation, the study’s control: training every member on the labels alone (“None”) gave a better smallest subnet than KL on every cell and engine measured. ' +
        'Top-1 points of the smallest subnet, none minus KL: on the built-in demo set after 1 epoch (140 steps of 64 images), +8.5 on the local engine (seeds 0 and 1: +9.0, +8.0) ' +
        'and +7.2 on the PyTorch engine (seed 0: +7.2); on Fashion-MNIST after 1 epoch (843 steps of 64 images), +0.7 on the local engine (seeds 0 and 1: +1.0, +0.4). ' +
        'The AlphaNet paper distils over 360 epochs; no schedule measured here is that long.',
    );
    const behind = cells.map((c) => ({ ...c, gaps: c.gaps.map((g) => ({ ...g, mean: -g.mean })) }));
    expect(say(behind)).toContain('(“None”) gave a worse smallest subnet than KL on every cell and engine measured.');
    // Mostly ahead: the engine of a cell where none was behind is named, not the whole verdict blurred.
    expect(say([cells[0], behind[1]])).toContain(
      '(“None”) gave a better smallest subnet than KL on every cell and engine measured but Fashion-MNIST after 1 epoch (843 steps of 64 images) on the local engine, where it was behind. ',
    );
    // As many behind (or level) as ahead: no majority to state.
    expect(say([{ ...cells[0], gaps: [cells[0].gaps[0]] }, behind[1]])).toContain('(“None”) was ahead of KL on some cells and behind it on others.');
    // Seeds on both sides of zero: level, named, and not counted as ahead.
    const level: ControlCell = { dataset: 'demo', epochs: 10, steps: 1400, batchSize: 64, gaps: [{ engine: 'torch', subnet: 'min', seeds: [0, 1, 2], perSeed: [-0.2, 0.2, 0.2], mean: 0.1 }] };
    expect(say([...cells, level])).toContain(
      '(“None”) gave a better smallest subnet than KL on every cell and engine measured but the built-in demo set after 10 epochs (1400 steps of 64 images), where the two were level (the seeds not all on one side). ',
    );
    // A tie on one seed is not a seed ahead.
    const tie: ControlCell = { ...level, gaps: [{ ...level.gaps[0], perSeed: [1.5, 0, 0.2], mean: 0.6 }] };
    expect(say([...cells, tie])).toContain('but the built-in demo set after 10 epochs (1400 steps of 64 images), where the two were level');
    expect(say([...behind, level])).toContain('(“None”) was ahead of KL on some cells and behind it on others.');
    // Level and behind exceptions together, each named; level everywhere is said as such.
    expect(say([...cells, level, behind[1]])).toContain(
      'on every cell and engine measured but the built-in demo set after 10 epochs (1400 steps of 64 images), where the two were level (the seeds not all on one side); ' +
        'and Fashion-MNIST after 1 epoch (843 steps of 64 images) on the local engine, where it was behind. ',
    );
    expect(say([level])).toContain('(“None”) ended level with KL on every cell and engine measured (the seeds not all on one side). ');
    expect(say([])).toBe('');
  });
});

// A hand-made cell, so the wording is checked against text written out in full.
const fixture: StudyCell = {
  dataset: 'demo',
  epochs: 1,
  steps: 140,
  batchSize: 64,
  gaps: [
    { engine: 'local', subnet: 'min', seeds: [0, 1, 2], perSeed: [5, 3, 1.5], mean: 3.2 },
    { engine: 'torch', subnet: 'min', seeds: [0, 1], perSeed: [0.9, 5.2], mean: 3.0 },
    { engine: 'local', subnet: 'max', seeds: [0, 1, 2], perSeed: [-2.1, 1, 0], mean: -0.4 },
  ],
  top1Range: [12, 25],
};

describe('the wording', () => {
  it('states the measured short schedule with engines, seeds and signs, and says where the evidence is thin', () => {
    expect(distillationEvidence(fixture).short).toBe(
      'Short schedules, measured: on the built-in demo set after 1 epoch (140 steps of 64 images), KL trained a better smallest subnet than adaptive α on every engine. ' +
        'Top-1 points, KL minus adaptive α, smallest subnet: +3.2 on the local engine (seeds 0, 1 and 2: +5.0, +3.0, +1.5) and +3.0 on the PyTorch engine (seeds 0 and 1: +0.9, +5.2); ' +
        'largest subnet: −0.4 on the local engine (seeds 0, 1 and 2: −2.1, +1.0, ±0.0). ' +
        'Thin evidence: only 2 seeds on an engine, and every subnet still at 12–25 % top-1 (10 classes).',
    );
    const mixed = { ...fixture, gaps: fixture.gaps.map((g) => (g.engine === 'torch' ? { ...g, mean: -0.1 } : g)) };
    expect(distillationEvidence(mixed).short).toContain('the engines differ on whether KL or adaptive α trains the better smallest subnet.');
    const flipped = { ...fixture, gaps: fixture.gaps.map((g) => ({ ...g, perSeed: g.perSeed.map((x) => -x), mean: -g.mean })) };
    expect(distillationEvidence(flipped).short).toContain(', adaptive α trained a better smallest subnet than KL on every engine.');
    // A seed on the other side of zero from its engine's mean: the verdict is the mean's, and says it is not every seed's.
    const split = { ...fixture, gaps: fixture.gaps.map((g) => (g.engine === 'local' && g.subnet === 'min' ? { ...g, perSeed: [5.0, 3.0, -1.5], mean: 2.2 } : g)) };
    expect(distillationEvidence(split).short).toContain(', KL trained a better smallest subnet than adaptive α on every engine on average, not on every seed.');
    expect(distillationEvidence(split).short).toContain('+2.2 on the local engine (seeds 0, 1 and 2: +5.0, +3.0, −1.5)');
    // A mean of exactly zero is neither engine ahead: not a disagreement between the engines.
    const even = { ...fixture, gaps: fixture.gaps.map((g) => ({ ...g, mean: 0 })) };
    expect(distillationEvidence(even).short).toContain(', KL and adaptive α trained equally good smallest subnets on every engine.');
    expect(distillationEvidence(even).short).toContain('smallest subnet: ±0.0 on the local engine');
    expect(distillationEvidence(fixture, null).long).toMatch(/^Long schedules, not measured yet: the study has no run longer than one epoch/);
    const longer: StudyCell = { ...fixture, epochs: 3, steps: 420, gaps: [{ engine: 'local', subnet: 'min', seeds: [0], perSeed: [27.4], mean: 27.4 }, { engine: 'local', subnet: 'max', seeds: [0], perSeed: [24], mean: 24 }], top1Range: [46, 82] };
    expect(distillationEvidence(fixture, longer, [], [], null).long).toBe(
      'Longer schedules, one seed each: on the built-in demo set after 3 epochs (420 steps of 64 images), KL trained a better smallest subnet than adaptive α on the local engine. ' +
        'Top-1 points, KL minus adaptive α, smallest subnet: +27.4 on the local engine (seed 0: +27.4); largest subnet: +24.0 on the local engine (seed 0: +24.0). ' +
        'Subnets at 46–82 % top-1. Nothing measured yet on a real dataset or beyond 3 epochs. Adaptive α is the AlphaNet paper’s choice for its 360-epoch ImageNet schedule.',
    );
    expect(distillationEvidence(fixture, { ...longer, top1ByLoss: { kl: [64, 85], adaptive: [19, 58] } }).long).toContain(
      '+24.0). KL’s subnets ended at 64–85 % top-1, adaptive α’s at 19–58 % (every seed and subnet). Nothing measured yet',
    );
    // With a real-data cell: its own statement, and the longer schedule's says what is still missing.
    const real: StudyCell = {
      dataset: 'fashion-mnist',
      epochs: 1,
      steps: 843,
      batchSize: 64,
      gaps: [
        { engine: 'local', subnet: 'min', seeds: [0, 1], perSeed: [6.8, 1.9], mean: 4.3 },
        { engine: 'torch', subnet: 'min', seeds: [0], perSeed: [2.5], mean: 2.5 },
        { engine: 'local', subnet: 'max', seeds: [0, 1], perSeed: [8.4, 3.7], mean: 6.0 },
      ],
      top1Range: [72, 84],
      top1ByLoss: { kl: [78, 84], adaptive: [72, 80] },
    };
    const withReal = distillationEvidence(fixture, longer, [real], [], null);
    expect(withReal.real).toBe(
      'Real data, 2 seeds on the local engine, one on the PyTorch engine: on Fashion-MNIST after 1 epoch (843 steps of 64 images), KL trained a better smallest subnet than adaptive α on every engine. ' +
        'Top-1 points, KL minus adaptive α, smallest subnet: +4.3 on the local engine (seeds 0 and 1: +6.8, +1.9) and +2.5 on the PyTorch engine (seed 0: +2.5); ' +
        'largest subnet: +6.0 on the local engine (seeds 0 and 1: +8.4, +3.7). KL’s subnets ended at 78–84 % top-1, adaptive α’s at 72–80 % (every seed and subnet).',
    );
    expect(withReal.long).toContain('Subnets at 46–82 % top-1. Nothing measured yet beyond 3 epochs, nor on a real dataset beyond 1 epoch. Adaptive α');
    expect(distillationEvidence(fixture, longer, []).real).toBe('');
    // Several real-data cells: one paragraph, shortest first, each with its own seeds; the gap in the longer schedule's
    // statement moves to the longest real-data schedule.
    const realLonger: StudyCell = {
      ...real,
      epochs: 3,
      steps: 2529,
      gaps: [{ engine: 'local', subnet: 'min', seeds: [0], perSeed: [2.3], mean: 2.3 }, { engine: 'local', subnet: 'max', seeds: [0], perSeed: [2.7], mean: 2.7 }],
      top1Range: [85, 91],
      top1ByLoss: { kl: [87, 91], adaptive: [85, 88] },
    };
    const withTwo = distillationEvidence(fixture, longer, [real, realLonger], [], null);
    expect(withTwo.real).toBe(
      `${withReal.real} Longer, one seed on the local engine only: on Fashion-MNIST after 3 epochs (2529 steps of 64 images), KL trained a better smallest subnet than adaptive α on the local engine. ` +
        'Top-1 points, KL minus adaptive α, smallest subnet: +2.3 on the local engine (seed 0: +2.3); largest subnet: +2.7 on the local engine (seed 0: +2.7). ' +
        'KL’s subnets ended at 87–91 % top-1, adaptive α’s at 85–88 % (every seed and subnet).',
    );
    expect(withTwo.long).toContain('Nothing measured yet beyond 3 epochs, nor on a real dataset beyond 3 epochs.');
    // Three or more: the last is named the longest on real data, the ones between stay "Longer".
    const realLongest: StudyCell = { ...realLonger, epochs: 10, steps: 8430 };
    const withThree = distillationEvidence(fixture, longer, [real, realLonger, realLongest], [], null).real;
    expect(withThree.startsWith(`${withTwo.real} Longest on real data so far, one seed on the local engine only: on Fashion-MNIST after 10 epochs (8430 steps`)).toBe(true);
    expect(withThree.match(/ Longer, /g)).toHaveLength(1);
    // The longest schedule so far, on one engine: its own statement, and the longer one points to it.
    const longest: StudyCell = { ...longer, epochs: 10, steps: 1400, gaps: [{ engine: 'local', subnet: 'min', seeds: [0, 1], perSeed: [2.6, -0.4], mean: 1.1 }, { engine: 'local', subnet: 'max', seeds: [0, 1], perSeed: [1.2, 0], mean: 0.6 }], top1Range: [95, 99], top1ByLoss: { kl: [98, 99], adaptive: [95, 98] } };
    const withLongest = distillationEvidence(fixture, longer, [real], [], longest);
    expect(withLongest.longest).toBe(
      'Longest so far, 2 seeds on the local engine only: on the built-in demo set after 10 epochs (1400 steps of 64 images), KL trained a better smallest subnet than adaptive α on the local engine on average, not on every seed. ' +
        'Top-1 points, KL minus adaptive α, smallest subnet: +1.1 on the local engine (seeds 0 and 1: +2.6, −0.4); largest subnet: +0.6 on the local engine (seeds 0 and 1: +1.2, ±0.0). ' +
        'KL’s subnets ended at 98–99 % top-1, adaptive α’s at 95–98 % (every seed and subnet).',
    );
    expect(withLongest.long).toContain('Nothing measured yet beyond 3 epochs but the partial 10-epoch cell below, nor on a real dataset beyond 1 epoch.');
    // A real-data cell with more steps than the longest cell: "Longest so far" would be false; it names its dataset.
    expect(distillationEvidence(fixture, longer, [real, realLonger], [], longest).longest).toMatch(
      /^Longest on the demo set so far, 2 seeds on the local engine only: on the built-in demo set after 10 epochs \(1400 steps/,
    );
    // With 3 seeds on every engine it is a cell, no longer partial.
    const threeSeeds = { ...longest, gaps: longest.gaps.map((g) => ({ ...g, seeds: [0, 1, 2], perSeed: [...g.perSeed, 0] })) };
    expect(distillationEvidence(fixture, longer, [real], [], threeSeeds).long).toContain('Nothing measured yet beyond 3 epochs but the 10-epoch cell below, nor on');
    expect(distillationEvidence(fixture, longer, [real], [], null).longest).toBe('');
  });

  it('chooses KL for the short preset only when every engine measured KL ahead on the smallest subnet', () => {
    expect(presetDistillation('short', fixture, null)).toEqual({
      kind: 'kl',
      why: 'KL distillation: in the fidelity study’s short schedule (demo set, 1 epoch) KL trained the smallest subnet 3.2 points (local engine, 3 seeds) and 3.0 points (PyTorch engine, 2 seeds) better than adaptive α.',
    });
    const mixed = { ...fixture, gaps: fixture.gaps.map((g) => (g.engine === 'torch' ? { ...g, mean: -0.1 } : g)) };
    expect(presetDistillation('short', mixed, null)).toEqual({
      kind: 'adaptive-alpha',
      why: 'Adaptive α distillation, the AlphaNet paper’s choice: in the fidelity study’s short schedule (demo set, 1 epoch) no loss was ahead on every engine.',
    });
    expect(presetDistillation('short', { ...fixture, gaps: fixture.gaps.map((g) => ({ ...g, mean: 0 })) }, null).kind).toBe('adaptive-alpha');
    expect(presetDistillation('short', { ...fixture, gaps: fixture.gaps.map((g) => ({ ...g, mean: -g.mean })) }, null).why).toContain(
      'it trained the best smallest subnet on every engine.',
    );
    expect(presetDistillation('long', fixture).kind).toBe('adaptive-alpha');
  });

  it('chooses no distillation for the short preset only when the control beat KL and adaptive α on every engine of the cell', () => {
    const gap = (engine: 'local' | 'torch', mean: number) => ({ engine, subnet: 'min' as const, seeds: [0, 1, 2], perSeed: [mean, mean, mean], mean });
    const control: ControlCell = { dataset: 'demo', epochs: 1, steps: 140, batchSize: 64, gaps: [gap('local', 8.4), gap('torch', 7.0)] };
    expect(presetDistillation('short', fixture, control)).toEqual({
      kind: 'none',
      why:
        'No distillation: in the fidelity study’s short schedule (demo set, 1 epoch) training every member on the labels alone gave the smallest subnet ' +
        '8.4 points (local engine, 3 seeds) and 7.0 points (PyTorch engine, 3 seeds) more than KL, the better distillation there; choose KL or adaptive α to see distillation at work.',
    });
    // Recorded on one engine of two: not enough to change the preset.
    expect(presetDistillation('short', fixture, { ...control, gaps: [gap('local', 8.4)] }).kind).toBe('kl');
    // Behind KL on one engine: the engines differ, the paper's default stays.
    expect(presetDistillation('short', fixture, { ...control, gaps: [gap('local', 8.4), gap('torch', -0.5)] }).kind).toBe('adaptive-alpha');
    // Ahead of KL but not of an adaptive α that beat KL on every engine.
    const aaAhead = { ...fixture, gaps: fixture.gaps.map((g) => ({ ...g, mean: -10 })) };
    expect(presetDistillation('short', aaAhead, control).kind).toBe('adaptive-alpha');
  });

  it('chooses a long preset’s distillation from the longest cell when the preset is no longer than it', () => {
    const gap = (engine: 'local' | 'torch', mean: number, seeds = [0, 1, 2]) => ({ engine, seeds, perSeed: seeds.map(() => mean), mean });
    const longest: StudyCell = {
      ...fixture,
      epochs: 10,
      steps: 1400,
      gaps: [
        { ...gap('local', 4.8, [0, 1]), subnet: 'min' },
        { ...gap('torch', 2.9), subnet: 'min' },
      ],
    };
    const warmup = (mean: number) => ({ ...KL_WARMUP_LONG, engines: [{ engine: 'torch' as const, rows: [{ klWarmupEpochs: 0, ...gap('torch', 2.9) }, { klWarmupEpochs: 5, ...gap('torch', mean) }] }] });
    expect(presetDistillation('long', fixture, null, { epochs: 10, longest, warmup: warmup(-0.1) })).toEqual({
      kind: 'adaptive-alpha',
      klWarmupEpochs: 5,
      why:
        'Adaptive α after a KL warm-up of 5 epochs: in the fidelity study’s 10-epoch schedule (demo set) adaptive α after 5 epochs of KL trained the smallest subnet ' +
        '0.1 points (PyTorch engine, 3 seeds) better than KL, while adaptive α from the first step trailed KL by 4.8 points (local engine, 2 seeds) and 2.9 points (PyTorch engine, 3 seeds).',
    });
    // Scaled to the preset's schedule; level counts.
    expect(presetDistillation('long', fixture, null, { epochs: 8, longest, warmup: warmup(0) })).toMatchObject({ kind: 'adaptive-alpha', klWarmupEpochs: 4 });
    expect(presetDistillation('long', fixture, null, { epochs: 8, longest, warmup: warmup(0) }).why).toContain('trained the smallest subnet level with KL or better (KL minus it: ±0.0 points, PyTorch engine, 3 seeds), while');
    // The warm-up behind KL, or none measured: KL.
    expect(presetDistillation('long', fixture, null, { epochs: 10, longest, warmup: warmup(0.4) })).toEqual({
      kind: 'kl',
      why: 'KL distillation: in the fidelity study’s 10-epoch schedule (demo set) KL trained the smallest subnet 4.8 points (local engine, 2 seeds) and 2.9 points (PyTorch engine, 3 seeds) better than adaptive α.',
    });
    expect(presetDistillation('long', fixture, null, { epochs: 10, longest, warmup: null }).kind).toBe('kl');
    // An engine with one seed of the warm-up does not decide, either way; one with 3 behind KL does.
    const withLocal = (mean: number, seeds: number[]) => {
      const w = warmup(-0.1);
      return { ...w, engines: [{ engine: 'local' as const, rows: [{ klWarmupEpochs: 0, ...gap('local', 4.8) }, { klWarmupEpochs: 5, ...gap('local', mean, seeds) }] }, ...w.engines] };
    };
    expect(presetDistillation('long', fixture, null, { epochs: 10, longest, warmup: withLocal(0.5, [0]) })).toMatchObject({ kind: 'adaptive-alpha', klWarmupEpochs: 5 });
    expect(presetDistillation('long', fixture, null, { epochs: 10, longest, warmup: withLocal(0.5, [0, 1, 2]) }).kind).toBe('kl');
    expect(presetDistillation('long', fixture, null, { epochs: 10, longest, warmup: withLocal(-0.5, [0, 1, 2]) }).why).toContain(
      'trained the smallest subnet 0.5 points (local engine, 3 seeds) and 0.1 points (PyTorch engine, 3 seeds) better than KL,',
    );
    expect(presetDistillation('long', fixture, null, { epochs: 10, longest, warmup: withLocal(0, [0, 1, 2]) }).why).toContain(
      'trained the smallest subnet level with KL or better (KL minus it: ±0.0 points, local engine, 3 seeds; −0.1 points, PyTorch engine, 3 seeds), while',
    );
    // Adaptive α not behind KL on every engine: the paper's choice.
    const mixed = { ...longest, gaps: [{ ...gap('local', 4.8), subnet: 'min' as const }, { ...gap('torch', -0.3), subnet: 'min' as const }] };
    expect(presetDistillation('long', fixture, null, { epochs: 10, longest: mixed }).why).toBe(
      'Adaptive α distillation, the AlphaNet paper’s choice: in the fidelity study’s 10-epoch schedule (demo set) it was not behind KL on every engine.',
    );
    // Longer than anything measured: the paper's choice, saying so.
    expect(presetDistillation('long', fixture, null, { epochs: 20, longest, warmup: warmup(-0.1) })).toEqual({
      kind: 'adaptive-alpha',
      why: 'Adaptive α distillation, the AlphaNet paper’s choice: the fidelity study’s longest schedule so far is 10 epochs, shorter than this one.',
    });
  });

  it('gives the presets their distillation and the one sentence why, from the same source', () => {
    const presets = runPresets([]);
    const short = presetDistillation('short');
    const ten = presetDistillation('long', undefined, undefined, { epochs: 10 });
    const long = presetDistillation('long', undefined, undefined, { epochs: 20 });
    expect(presets.map((p) => p.config.epochs)).toEqual([1, 10, 20, 20, 360]);
    expect(presets.map((p) => (p.config.distillation as { kind: string }).kind)).toEqual([short.kind, ten.kind, long.kind, long.kind, long.kind]);
    expect(presets[0].description.endsWith(short.why)).toBe(true);
    expect(presets[1].description.endsWith(ten.why)).toBe(true);
    for (const p of presets.slice(2)) expect(p.description.endsWith(long.why), p.id).toBe(true);
    // What the recorded study gives today: the 10-epoch preset warms up with KL for half its schedule, the others keep the paper's adaptive α.
    expect(presets[1].config.distillation).toEqual({ kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5, klWarmupEpochs: 5 });
    expect(presets[2].config.distillation).toEqual({ kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5, klWarmupEpochs: 0 });
  });
});
