/**
 * The validation's fixed subnets are the same architectures in both engines: test/fixtures/validation-subnets.json
 * holds, for every registered space and a few seeds, the subnets `validationSubnets` gives (min, max, 3 random), and
 * the first outputs of `new Rng(seed)`; engines/torch/tests/test_rng.py holds the PyTorch engine's port
 * (alphanet_torch/rng.py, `validation_subnets`) to the same file. Regenerate it only on purpose: a change here changes
 * which subnets every run of either engine validates.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src-main/engine/core/rng';
import { getSpace, listSpaces } from '../../../src-main/engine/core/registry';
import { validationSubnets } from '../../../src-main/train/trainer';

interface Fixture {
  rng: { seed: number; uint32: number[] }[];
  subnets: { space: string; seed: number; subnets: ReturnType<typeof validationSubnets> }[];
}
const fixture = JSON.parse(readFileSync('test/fixtures/validation-subnets.json', 'utf8')) as Fixture;

describe('the validation subnets both engines draw', () => {
  it('covers every registered space, seeds that wrap past 2^32 included', () => {
    expect([...new Set(fixture.subnets.map((e) => e.space))].sort()).toEqual(listSpaces().map((s) => s.id).sort());
    expect(fixture.subnets.some((e) => e.seed + 0xa11 > 2 ** 32)).toBe(true);
    expect(fixture.rng.some((e) => e.seed >= 2 ** 32)).toBe(true);
  });

  it.each(fixture.rng.map((e) => [e.seed, e] as const))('Rng(%s) gives the recorded outputs', (_, e) => {
    const r = new Rng(e.seed);
    expect(e.uint32.map(() => r.nextUint32())).toEqual(e.uint32);
  });

  it.each(fixture.subnets.map((e) => [`${e.space} seed ${e.seed}`, e] as const))('%s: validationSubnets gives the recorded subnets', (_, e) => {
    const n = e.subnets.length - 2;
    expect(validationSubnets(getSpace(e.space), e.seed, n)).toEqual(e.subnets);
    // Distinct random subnets: a fixture of identical genomes would not tell two streams apart.
    expect(new Set(e.subnets.slice(2).map((s) => JSON.stringify(s.genome))).size).toBeGreaterThan(1);
  });
});
