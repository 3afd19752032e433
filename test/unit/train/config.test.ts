/** The run config: defaults in one place, errors that name the field, and the LR schedule formula (METHOD.md §2.1). */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, baseLr, configSpace, distillationAt, parseTrainConfig, type DistillationConfig } from '../../../src-main/engine/core';
import { learningRate } from '../../../src-main/train/schedule';
import { TINY } from '../engine/tiny-space';

describe('training config', () => {
  it('fills every default', () => {
    const c = parseTrainConfig({});
    expect(c.space).toBe('alphanet-cifar32');
    expect(c.dataset).toBe('demo');
    expect(c.distillation).toEqual({ kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 5, klWarmupEpochs: 0 });
    expect(c.subnetsPerStep).toBe(4);
    expect(c.sandwichRule).toBe(true);
    expect(c.optimizer).toEqual({ kind: 'sgd', momentum: 0.9, nesterov: true, warmupEpochs: 1, warmupStartFactor: 0.001, weightDecay: 5e-5, gradClipValue: 1 });
    expect(c.labelSmoothing).toBe(0.1);
    expect(c.dropout).toBe(0.2);
    expect(c.dropConnect).toBe(0.2);
    expect(c.nan).toEqual({ policy: 'rollback', lrFactor: 0.5, maxRollbacks: 5 });
    expect(c.checkpoint).toEqual({ everySteps: 50, keepLast: 2 });
    expect(c.validation.randomSubnets).toBe(2);
    expect(c.backend).toBe('auto');
    // The paper's LR rule, 0.1 · max(1, ⌊B/256⌋).
    expect(baseLr(c)).toBe(0.1);
    expect(baseLr(parseTrainConfig({ batchSize: 2048 }))).toBeCloseTo(0.8);
    expect(baseLr(parseTrainConfig({ optimizer: { lr: 0.05 } }))).toBe(0.05);
  });

  it('fills the defaults of a partial distillation and optimizer', () => {
    const c = parseTrainConfig({ distillation: { kind: 'adaptive-alpha', clip: 2 }, optimizer: { momentum: 0.5 } });
    expect(c.distillation).toEqual({ kind: 'adaptive-alpha', alphaMin: -1, alphaMax: 1, clip: 2, klWarmupEpochs: 0 });
    expect(c.optimizer.momentum).toBe(0.5);
    expect(c.optimizer.weightDecay).toBe(5e-5);
    expect(parseTrainConfig({ distillation: { kind: 'alpha', alpha: 0.5 } }).distillation).toEqual({ kind: 'alpha', alpha: 0.5, clip: 5, klWarmupEpochs: 0 });
  });

  it('accepts an inline space', () => {
    const c = parseTrainConfig({ space: TINY });
    expect(configSpace(c).id).toBe('tiny-test');
  });

  it.each([
    [{ epochs: 0 }, /epochs: .*>0|epochs: Too small/],
    [{ batchSize: 2.5 }, /batchSize/],
    [{ distillation: { kind: 'magic' } }, /distillation/],
    [{ distillation: { kind: 'adaptive-alpha', alphaMin: 1, alphaMax: -1 } }, /distillation\.alphaMin: alphaMin must be below alphaMax/],
    [{ optimizer: { momentum: 1.5 } }, /optimizer\.momentum/],
    [{ optimizer: { warmupEpochs: 5 }, epochs: 2 }, /optimizer\.warmupEpochs: must not exceed epochs \(2\)/],
    [{ distillation: { kind: 'adaptive-alpha', klWarmupEpochs: 2 }, epochs: 2 }, /distillation\.klWarmupEpochs: must be below epochs \(2\), got 2: the run would distil with KL throughout/],
    [{ distillation: { kind: 'alpha', alpha: -1, klWarmupEpochs: -0.5 } }, /distillation\.klWarmupEpochs/],
    [{ distillation: { kind: 'kl', klWarmupEpochs: 1 } }, /distillation.*klWarmupEpochs|Unrecognized key/],
    [{ nan: { policy: 'ignore' } }, /nan\.policy/],
    [{ subnetsPerStep: 1 }, /subnetsPerStep/],
    [{ bogus: 1 }, /bogus|Unrecognized key/],
    [{ space: 'no-such-space' }, /space: unknown search space 'no-such-space'/],
    [{ space: { ...TINY, resolutions: [] } }, /space\.resolutions/],
    [{ backend: 'tpu' }, /backend/],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => parseTrainConfig(input)).toThrow(ConfigError);
    expect(() => parseTrainConfig(input)).toThrow(message);
  });
});

describe('KL warm-up of the α losses (distillation.klWarmupEpochs)', () => {
  // The table the PyTorch engine's test_train.py reads too, so both engines' rule is checked against one list.
  const cases = (JSON.parse(readFileSync(join(__dirname, '../../fixtures/kl-warmup-cases.json'), 'utf8')) as {
    cases: { distillation: DistillationConfig; stepsPerEpoch: number; steps: number; klSteps: number[] | string }[];
  }).cases;
  const expand = (k: number[] | string): number[] => {
    if (Array.isArray(k)) return k;
    const [a, b] = k.split('-').map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  };
  it.each(cases.map((c) => [JSON.stringify(c.distillation), c.stepsPerEpoch, c]))('%s, %i steps per epoch: KL exactly on the listed steps', (_d, _n, c) => {
    const kl = Array.from({ length: c.steps }, (_, t) => t).filter((t) => distillationAt(c.distillation, t, c.stepsPerEpoch).kind === 'kl');
    expect(kl).toEqual(expand(c.klSteps));
    // After the warm-up the configured distillation itself, unchanged.
    const after = distillationAt(c.distillation, c.steps - 1, c.stepsPerEpoch);
    if (c.distillation.kind !== 'kl' && !expand(c.klSteps).includes(c.steps - 1)) expect(after).toBe(c.distillation);
  });
  it('defaults to none, and the config parser keeps a fractional warm-up', () => {
    expect(parseTrainConfig({ distillation: { kind: 'alpha', alpha: 1 } }).distillation).toEqual({ kind: 'alpha', alpha: 1, clip: 5, klWarmupEpochs: 0 });
    const c = parseTrainConfig({ epochs: 3, distillation: { kind: 'adaptive-alpha', klWarmupEpochs: 0.5 } });
    expect(c.distillation).toMatchObject({ kind: 'adaptive-alpha', klWarmupEpochs: 0.5 });
  });
});

describe('LR schedule (warmup × cosine per iteration, METHOD.md §2.1)', () => {
  const s = { base: 0.8, totalSteps: 225_000, warmupSteps: 3125 };
  it('matches the formula at hand-computed points', () => {
    // t = 0: 0.8 · 0.001 · ½(1 + cos 0) = 0.0008
    expect(learningRate(s, 0)).toBeCloseTo(0.0008, 12);
    // t = T_w/2: w = 0.001·0.5 + 0.5 = 0.5005; cos(π·1562.5/225000)
    expect(learningRate(s, 1562.5)).toBeCloseTo(0.8 * 0.5005 * 0.5 * (1 + Math.cos((Math.PI * 1562.5) / 225000)), 12);
    // t = T_w: warmup over, w = 1
    expect(learningRate(s, 3125)).toBeCloseTo(0.8 * 0.5 * (1 + Math.cos((Math.PI * 3125) / 225000)), 12);
    // half way: base/2; the end: 0
    expect(learningRate(s, 112_500)).toBeCloseTo(0.4, 12);
    expect(learningRate(s, 225_000)).toBeCloseTo(0, 12);
  });
  it('rises through the warmup then decays monotonically', () => {
    const xs = Array.from({ length: 101 }, (_, i) => learningRate({ base: 0.1, totalSteps: 100, warmupSteps: 10 }, i));
    for (let i = 1; i <= 10; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1]);
    for (let i = 11; i <= 100; i++) expect(xs[i]).toBeLessThan(xs[i - 1]);
    expect(learningRate({ base: 0.1, totalSteps: 100, warmupSteps: 0 }, 0)).toBe(0.1);
  });
});
