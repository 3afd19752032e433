import { mkdtempSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellConfig, cellTrainArgs, finishedRunNamed, recordsOfRun, studyVariant } from '../../../src-main/bench/fidelity';
import { progressApplier } from '../../../src-main/jobs/torch-run';
import { openHomeDatabase } from '../../../src-main/store/db';
import { createRun, insertEpochMetrics, insertStepMetrics, transitionRun, type StepMetric } from '../../../src-main/store/runs';
import { engineAgreement, formatStudy, gapCourses, pairedGaps, spread, summarise, type StudyCourse, type StudyRecord } from '../../../src-main/bench/fidelity-summary';

// Three seeds of KL and adaptive α on one cell per engine; expected values worked out by hand below.
const rec = (engine: string, loss: string, seed: number, top1: number, extra: Partial<StudyRecord> = {}): StudyRecord => ({
  engine,
  dataset: 'demo',
  epochs: 3,
  loss,
  seed,
  subnet: 'min',
  top1,
  ...extra,
});
const records: StudyRecord[] = [
  rec('local', 'kl', 0, 0.7),
  rec('local', 'kl', 1, 0.72),
  rec('local', 'kl', 2, 0.74),
  rec('local', 'adaptive-alpha', 0, 0.6, { alphaMinShare: 0.5, divergence: 0.2 }),
  rec('local', 'adaptive-alpha', 1, 0.66, { alphaMinShare: 0.3, divergence: 0.4 }),
  rec('local', 'adaptive-alpha', 2, 0.66, { alphaMinShare: 0.4, divergence: null }),
  rec('torch', 'kl', 0, 0.71),
  rec('torch', 'kl', 1, 0.73),
  rec('torch', 'kl', 2, 0.75),
  rec('torch', 'adaptive-alpha', 0, 0.65),
  rec('torch', 'adaptive-alpha', 1, 0.67),
  rec('torch', 'adaptive-alpha', 2, 0.69),
];

describe('fidelity study summary', () => {
  it('spread: mean, range and sample standard deviation', () => {
    const s = spread([1, 2, 6]);
    expect(s.mean).toBe(3);
    expect(s.range).toBe(5);
    expect(s.std).toBeCloseTo(Math.sqrt((4 + 1 + 9) / 2), 12);
    expect(spread([4]).std).toBe(0);
    expect(() => spread([])).toThrow(/no values/);
  });

  it('summarises each cell over seeds, ignoring missing statistics', () => {
    const cells = summarise(records);
    expect(cells).toHaveLength(4);
    const ad = cells.find((c) => c.engine === 'local' && c.loss === 'adaptive-alpha')!;
    expect(ad.top1.mean).toBeCloseTo(0.64, 12);
    expect(ad.top1.min).toBe(0.6);
    expect(ad.alphaMinShare!.mean).toBeCloseTo(0.4, 12);
    expect(ad.divergence!.n).toBe(2); // seed 2 recorded no divergence
    expect(ad.divergence!.mean).toBeCloseTo(0.3, 12);
    expect(cells.find((c) => c.loss === 'kl')!.alphaMinShare).toBeNull();
  });

  it('refuses a seed recorded twice in one cell', () => {
    expect(() => summarise([...records, rec('local', 'kl', 0, 0.1)])).toThrow(/seed recorded twice/);
  });

  it('pairs KL and adaptive α by seed', () => {
    const gaps = pairedGaps([...records, rec('local', 'kl', 7, 0.9)]); // seed 7 has no adaptive partner
    const local = gaps.find((g) => g.engine === 'local')!;
    expect(local.seeds).toEqual([0, 1, 2]);
    expect(local.perSeed.map((x) => Number(x.toFixed(10)))).toEqual([0.1, 0.06, 0.08]);
    expect(local.gap.mean).toBeCloseTo(0.08, 12);
    expect(local.gap.range).toBeCloseTo(0.04, 12);
    const torch = gaps.find((g) => g.engine === 'torch')!;
    expect(torch.perSeed.map((x) => Number(x.toFixed(10)))).toEqual([0.06, 0.06, 0.06]);
  });

  it('engines agree when their mean gaps differ by no more than the larger seed range', () => {
    const [a] = engineAgreement(pairedGaps(records));
    expect(a.difference).toBeCloseTo(0.02, 12); // 0.08 vs 0.06
    expect(a.tolerance).toBeCloseTo(0.04, 12); // local's range; torch's is 0
    expect(a.agree).toBe(true);
    // Torch's adaptive runs 5 points lower: its gap becomes 0.11, 0.03 from local's 0.08 — within the 0.04 spread.
    const shifted = records.map((r) => (r.engine === 'torch' && r.loss === 'adaptive-alpha' ? { ...r, top1: r.top1 - 0.05 } : r));
    expect(engineAgreement(pairedGaps(shifted))[0].agree).toBe(true);
    // By 10 points: gap 0.16, 0.08 away from local's — outside the spread.
    const far = records.map((r) => (r.engine === 'torch' && r.loss === 'adaptive-alpha' ? { ...r, top1: r.top1 - 0.1 } : r));
    const [f] = engineAgreement(pairedGaps(far));
    expect(f.difference).toBeCloseTo(0.08, 12);
    expect(f.agree).toBe(false);
  });

  it('formats the three tables', () => {
    const md = formatStudy(records);
    expect(md).toContain('| local | demo | 3 | adaptive-alpha | min | 3 | 64.0 ± 3.5 (60.0–66.0) | 40.0 % | 0.300 |');
    expect(md).toContain('| local | demo | 3 | min | 8.0 ± 2.0 (6.0–10.0) | 10.0, 6.0, 8.0 |');
    expect(md).toContain('| demo | 3 | min | 8.0 | 6.0 | 2.0 | 4.0 | yes |');
  });
});

describe('fidelity study: the gap epoch by epoch', () => {
  const course = (top1: (number | null)[]): StudyCourse => ({ top1, alphaMinShare: top1.map(() => null), teacherLoss: top1.map(() => null), lr: top1.map(() => null) });
  const withCourse = [
    rec('local', 'kl', 0, 0.7, { course: course([0.5, 0.6, 0.7]) }),
    rec('local', 'adaptive-alpha', 0, 0.6, { course: course([0.25, null, 0.6]) }),
    rec('local', 'kl', 1, 0.72, { course: course([0.5, 0.6, 0.72]) }),
    rec('local', 'adaptive-alpha', 1, 0.66), // written before courses were kept: no row for seed 1
    rec('torch', 'kl', 0, 0.71, { course: course([0.4, 0.5, 0.71]) }),
    rec('torch', 'adaptive-alpha', 0, 0.65, { course: course([0.3, 0.6, 0.65]) }),
  ];

  it('pairs each seed\'s runs epoch by epoch; an epoch either run lacks is null', () => {
    const g = gapCourses(withCourse);
    expect(g.map((x) => [x.engine, x.seed])).toEqual([
      ['local', 0],
      ['torch', 0],
    ]);
    expect(g[0].perEpoch.map((x) => (x === null ? null : Number(x.toFixed(10))))).toEqual([0.25, null, 0.1]);
    expect(g[1].perEpoch.map((x) => (x === null ? null : Number(x.toFixed(10))))).toEqual([0.1, -0.1, 0.06]);
  });

  it('prints the course of every seed that has one, and no course table when none has', () => {
    const md = formatStudy(withCourse);
    expect(md).toContain('| engine | data | epochs | subnet | seed | KL − adaptive, points, after epoch 1 | after 2 | after 3 |');
    expect(md).toContain('| local | demo | 3 | min | 0 | 25.0 | – | 10.0 |');
    expect(md).toContain('| torch | demo | 3 | min | 0 | 10.0 | -10.0 | 6.0 |');
    expect(formatStudy(records)).not.toContain('after epoch 1');
  });
});

describe('fidelity study: records of a finished run', () => {
  it('one record per subnet of the last validation, with the α share over all steps and the last epoch\'s divergences', () => {
    const home = mkdtempSync(join(tmpdir(), 'fidelity-'));
    const db = openHomeDatabase(home);
    const r = createRun(db, { name: 'r', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' });
    const step = (n: number, epoch: number, share: number, minDiv: number, randDivs: number[]): StepMetric => ({
      step: n,
      epoch,
      time: '2026-12-03T00:00:00.000Z',
      lr: 0.1,
      loss: 1,
      losses: [{ role: 'max', loss: 2 }, ...randDivs.map((d) => ({ role: 'random', loss: -0.1, divergence: d })), { role: 'min', loss: -0.2, divergence: minDiv }],
      alphaMinShare: share,
      clippedShare: 0,
      nonfinite: 0,
      stepMs: 1,
      imagesPerSec: 1,
    });
    insertStepMetrics(db, r.id, [step(1, 0, 0.2, 9, [9, 9]), step(2, 1, 0.4, 0.5, [0.25, 0.75]), step(3, 1, 0.6, 1.5, [1.25, 0.75])]);
    const val = (epoch: number, subnet: string, valTop1: number) => ({ epoch, step: epoch * 2 + 1, subnet, genome: {}, mflops: 1, valTop1, valLoss: 1, valTop1Before: null, valLossBefore: null, valImages: 8, time: 't' });
    insertEpochMetrics(db, r.id, [val(0, 'max', 0.1), val(0, 'min', 0.1), val(1, 'max', 0.8), val(1, 'min', 0.6), val(1, 'random-1', 0.7)]);
    db.close();

    const recs = recordsOfRun(home, r.id, { engine: 'local', dataset: 'demo', epochs: 2, loss: 'adaptive-alpha', seed: 3 });
    expect(recs.map((x) => [x.subnet, x.top1])).toEqual([
      ['max', 0.8],
      ['min', 0.6],
      ['random-1', 0.7],
    ]);
    for (const x of recs) {
      expect(x.alphaMinShare).toBeCloseTo(0.4, 12); // (0.2 + 0.4 + 0.6) / 3
      expect(x).toMatchObject({ engine: 'local', dataset: 'demo', epochs: 2, loss: 'adaptive-alpha', seed: 3 });
    }
    expect(recs[0].divergence).toBeNull(); // the teacher
    expect(recs[1].divergence).toBeCloseTo(1, 12); // min member, last epoch: (0.5 + 1.5) / 2
    expect(recs[2].divergence).toBeCloseTo(0.75, 12); // random members, last epoch: (0.25 + 0.75 + 1.25 + 0.75) / 4
    // The course, epoch by epoch: random-1 was validated after the second epoch only.
    expect(recs.map((x) => x.course!.top1)).toEqual([
      [0.1, 0.8],
      [0.1, 0.6],
      [null, 0.7],
    ]);
    expect(recs[1].course!.alphaMinShare[0]).toBeCloseTo(0.2, 12);
    expect(recs[1].course!.alphaMinShare[1]).toBeCloseTo(0.5, 12); // (0.4 + 0.6) / 2
    expect(recs[1].course!.teacherLoss).toEqual([2, 2]);
    expect(recs[1].course!.lr).toEqual([0.1, 0.1]);
  });
});

describe('fidelity study: records of a real PyTorch-engine run (test/fixtures/torch-progress-demo-3ep-klw2-seed0.*)', () => {
  it('reads from the store what the run\'s progress file put there: the recorded ends and the course epoch by epoch', () => {
    const home = mkdtempSync(join(tmpdir(), 'fidelity-torch-'));
    const db = openHomeDatabase(home);
    const r = createRun(db, { name: 'r', config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' });
    const applier = progressApplier({ db, runId: r.id, send: () => {} });
    const lines = gunzipSync(readFileSync('test/fixtures/torch-progress-demo-3ep-klw2-seed0.jsonl.gz')).toString('utf8').split('\n');
    for (const line of lines) if (line) applier.handle(line);
    applier.flush();
    db.close();
    const fixture = JSON.parse(readFileSync('test/fixtures/torch-progress-demo-3ep-klw2-seed0.records.json', 'utf8')) as { records: StudyRecord[] };
    const got = recordsOfRun(home, r.id, { engine: 'torch', dataset: 'demo', epochs: 3, loss: 'adaptive-alpha [distillation.klWarmupEpochs=2]', seed: 0 });
    // The same records alphanet_torch.study reads from the progress file alone (engines/torch/tests/test_study.py).
    expect(got).toEqual(fixture.records);
    const min = got.find((x) => x.subnet === 'min')!;
    expect(min.course!.top1).toEqual([0.22, 0.566, 0.718]); // the run's three validations
    expect(min.course!.alphaMinShare.slice(0, 2)).toEqual([null, null]); // KL while it warms up: no α₋ choice
    expect(min.course!.alphaMinShare[2]).toBeCloseTo(min.alphaMinShare!, 12); // only the last epoch chose
  });
});

describe('fidelity study: the recorded first slice (test/fixtures/fidelity-first-slice.json)', () => {
  const recorded = JSON.parse(readFileSync('test/fixtures/fidelity-first-slice.json', 'utf8')) as StudyRecord[];

  it('summarises the seeds of each cell as docs/FIDELITY.md recorded them', () => {
    const cells = summarise(recorded);
    expect(cells).toHaveLength(16); // 2 engines × 2 losses × 4 subnets
    const localKlMin = cells.find((c) => c.engine === 'local' && c.loss === 'kl' && c.subnet === 'min')!;
    expect(localKlMin.top1.n).toBe(2);
    expect(localKlMin.top1.mean).toBeCloseTo((0.182 + 0.177) / 2, 12);
    // Seed 1's torch adaptive run had not finished: that cell has one seed, and no spread.
    const torchAdaptiveMin = cells.find((c) => c.engine === 'torch' && c.loss === 'adaptive-alpha' && c.subnet === 'min')!;
    expect(torchAdaptiveMin.top1).toMatchObject({ n: 1, std: 0, range: 0 });
  });

  it('pairs by seed and checks the engines as recorded: min and max disagree, the random subnets agree', () => {
    const gaps = pairedGaps(recorded);
    const localMin = gaps.find((g) => g.engine === 'local' && g.subnet === 'min')!;
    expect(localMin.seeds).toEqual([0, 1]);
    expect(localMin.perSeed.map((x) => Math.round(x * 1000) / 10)).toEqual([5.0, 3.0]);
    expect(gaps.find((g) => g.engine === 'torch' && g.subnet === 'min')!.seeds).toEqual([0]);
    const agree = engineAgreement(gaps);
    expect(agree.map((a) => [a.subnet, a.agree])).toEqual([
      ['max', false],
      ['min', false],
      ['random-1', true],
      ['random-2', true],
    ]);
    const min = agree.find((a) => a.subnet === 'min')!;
    expect(min.difference * 100).toBeCloseTo(3.1, 1); // |4.0 − 0.9|
    expect(min.tolerance * 100).toBeCloseTo(2.0, 1); // local's seed range, 5.0 − 3.0
    expect(formatStudy(recorded)).toContain('| demo | 1 | min | 4.0 | 0.9 | 3.1 | 2.0 | **no** |');
    // With one seed on each engine there is no spread: the table says so instead of a bare "no".
    const oneSeed = recorded.filter((r) => r.seed === 0);
    expect(formatStudy(oneSeed)).toMatch(/\| demo \| 1 \| min \| 5\.0 \| 0\.9 \| 4\.1 \| 0\.0 \| \*\*no\*\* \(one seed each: no spread to judge by\) \|/);
  });
});

describe('fidelity study: the engines on Fashion-MNIST, 3-epoch schedule, after epochs 1 and 2', () => {
  // docs/fidelity/fashion-mnist-3ep-epochs-1-2.json: both engines' validations after epochs 1 and 2 (the PyTorch runs
  // were paused in epoch 3 when the lent GPU's time ran out). Each epoch is taken as a cell of its own.
  const file = JSON.parse(readFileSync(join(__dirname, '../../../docs/fidelity/fashion-mnist-3ep-epochs-1-2.json'), 'utf8')) as {
    records: { engine: string; loss: string; seed: number; epoch: number; subnet: string; top1: number }[];
  };
  const asCells: StudyRecord[] = file.records.map((r) => ({ ...r, dataset: 'fashion-mnist', epochs: r.epoch }));

  it('has 3 seeds of KL and adaptive α on both engines at both epochs, and the engines agree on every subnet', () => {
    const gaps = pairedGaps(asCells);
    expect(gaps).toHaveLength(16); // 2 engines × 2 epochs × 4 subnets
    expect(gaps.every((g) => g.seeds.join() === '0,1,2')).toBe(true);
    const agreement = engineAgreement(gaps);
    expect(agreement).toHaveLength(8);
    expect(agreement.filter((a) => !a.agree)).toEqual([]);
    // The smallest subnet's gaps as docs/FIDELITY.md quotes them (KL − adaptive α, points).
    const min = (epochs: number) => agreement.find((a) => a.epochs === epochs && a.subnet === 'min')!;
    expect([min(1).a.gap.mean, min(1).b.gap.mean].map((x) => (100 * x).toFixed(1))).toEqual(['4.6', '5.5']);
    expect([min(2).a.gap.mean, min(2).b.gap.mean].map((x) => (100 * x).toFixed(1))).toEqual(['2.4', '2.4']);
  });
});

describe('fidelity study: resuming from the data directory', () => {
  it('finds the finished run of a cell by its name, ignoring failed, queued and other names', () => {
    const home = mkdtempSync(join(tmpdir(), 'fidelity-'));
    const db = openHomeDatabase(home);
    const make = (name: string, status: 'finished' | 'failed' | 'queued') => {
      const r = createRun(db, { name, config: {}, spaceId: 's', datasetId: null, datasetName: 'd', seed: 0, appVersion: 't' });
      if (status !== 'queued') {
        transitionRun(db, r.id, 'running');
        transitionRun(db, r.id, status);
      }
      return r.id;
    };
    make('fidelity local demo 1ep kl seed 0', 'failed');
    const first = make('fidelity local demo 1ep kl seed 0', 'finished');
    make('fidelity local demo 1ep kl seed 1', 'finished');
    // A later run of the same cell that is still queued (or running) is not a result.
    make('fidelity local demo 1ep kl seed 0', 'queued');
    db.close();
    expect(finishedRunNamed(home, 'fidelity local demo 1ep kl seed 0')).toBe(first);
    expect(finishedRunNamed(home, 'fidelity local demo 1ep kl seed 2')).toBeUndefined();
  });
});

describe('fidelity study: diagnosis settings (--set)', () => {
  it('builds the config overlay and the label that names the variant', () => {
    expect(studyVariant([])).toEqual({ config: {}, label: '' });
    expect(studyVariant(['optimizer.gradClipValue=5', 'optimizer.warmupEpochs=0.2', 'backend=wasm'])).toEqual({
      config: { optimizer: { gradClipValue: 5, warmupEpochs: 0.2 }, backend: 'wasm' },
      label: ' [optimizer.gradClipValue=5, optimizer.warmupEpochs=0.2, backend="wasm"]',
    });
  });

  it('refuses what is not path=value, a setting given twice, and the fields the study sets itself', () => {
    expect(() => studyVariant(['gradClipValue'])).toThrow(/--set expects path=value/);
    expect(() => studyVariant(['optimizer.lr=0.1', 'optimizer.lr=0.2'])).toThrow(/given twice/);
    expect(() => studyVariant(['optimizer=1', 'optimizer.lr=0.2'])).toThrow(/'optimizer' is already set/);
    expect(() => studyVariant(['distillation.kind=kl'])).toThrow(/sets the distillation's kind and α itself \(--losses\)/);
    expect(() => studyVariant(['distillation.alpha=0.5'])).toThrow(/sets the distillation's kind and α itself/);
    expect(() => studyVariant(['distillation={"kind":"kl"}'])).toThrow(/sets the distillation's kind and α itself/);
    expect(() => studyVariant(['epochs=3'])).toThrow(/the study sets 'epochs' itself/);
  });

  it('a distillation field (the importance-weight clip β) goes with the loss it belongs to, as the whole object', () => {
    const v = studyVariant(['distillation.clip=1000', 'optimizer.gradClipValue=0']);
    expect(v.label).toBe(' [distillation.clip=1000, optimizer.gradClipValue=0]');
    expect(cellConfig(v, 'adaptive-alpha')).toEqual({ config: { distillation: { kind: 'adaptive-alpha', clip: 1000 }, optimizer: { gradClipValue: 0 } }, setsDistillation: true });
    expect(cellConfig(v, 'alpha-1').config['distillation']).toEqual({ kind: 'alpha', alpha: -1, clip: 1000 });
    // KL and none have no β: refused before anything trains, with the schema's reason.
    expect(() => cellConfig(v, 'kl')).toThrow(/--set distillation\.clip does not apply to loss 'kl': .*clip/);
    expect(() => cellConfig(studyVariant(['distillation.alphaMin=2']), 'adaptive-alpha')).toThrow(/alphaMin must be below alphaMax/);
    // Without distillation fields the overlay is the settings alone, and the loss comes from the flags.
    expect(cellConfig(studyVariant(['optimizer.lr=0.2']), 'kl')).toEqual({ config: { optimizer: { lr: 0.2 } }, setsDistillation: false });
    const cell = { engine: 'local', dataset: 'demo', epochs: 3, base: 'adaptive-alpha', loss: `adaptive-alpha${v.label}`, seed: 0 };
    expect(cellTrainArgs({}, cell, '/tmp/v.json', true)).not.toContain('--distillation');
    expect(cellTrainArgs({}, cell, '/tmp/v.json')).toEqual(expect.arrayContaining(['--distillation', 'adaptive-alpha']));
    expect(cellTrainArgs({}, { ...cell, base: 'alpha-1' }, null).join(' ')).toMatch(/--distillation alpha --alpha -1/);
    // Every run claims one core unless --workers says more: a torch run too, as its threads (not `auto`, all free).
    expect(cellTrainArgs({}, { ...cell, engine: 'torch' }, null).join(' ')).toMatch(/--engine torch --workers 1$/);
    expect(cellTrainArgs({ workers: 2 }, cell, null).join(' ')).toMatch(/--workers 2$/);
  });

  it('keeps a variant apart from the plain cell in the summary and the gap', () => {
    const v = ' [optimizer.gradClipValue=5]';
    const rs: StudyRecord[] = [rec('local', 'kl', 0, 0.7), rec('local', 'adaptive-alpha', 0, 0.6), rec('local', `kl${v}`, 0, 0.8), rec('local', `adaptive-alpha${v}`, 0, 0.75)];
    expect(summarise(rs).map((c) => c.loss)).toEqual(['kl', 'adaptive-alpha', `kl${v}`, `adaptive-alpha${v}`]);
    expect(pairedGaps(rs)[0].perSeed[0]).toBeCloseTo(0.1, 12);
    expect(pairedGaps(rs, `kl${v}`, `adaptive-alpha${v}`)[0].perSeed[0]).toBeCloseTo(0.05, 12);
  });
});
