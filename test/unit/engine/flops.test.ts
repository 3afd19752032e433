/**
 * FLOPs (MACs) and parameters against the published numbers (METHOD.md §6/§7; test/fixtures/alphanet-space.json) and
 * against the independent count in the table of METHOD.md §6.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { subnetCost } from '../../../src-main/engine/core/flops';
import { getNamedSubnet, getSpace, listSpaces } from '../../../src-main/engine/core/registry';
import { maxGenome, minGenome, randomGenome } from '../../../src-main/engine/core/genome';
import { Rng } from '../../../src-main/engine/core/rng';

const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/alphanet-space.json'), 'utf8'));
const keyToName: Record<string, string> = { a0: 'alphanet-a0', a1: 'alphanet-a1', a2: 'alphanet-a2', a3: 'alphanet-a3', a4: 'alphanet-a4', a5: 'alphanet-a5', a5_1: 'alphanet-a5-base', a6: 'alphanet-a6' };
// The independent count of METHOD.md §6 (M MACs, M params), not derived from this code.
const specCount: Record<string, [number, number]> = {
  'alphanet-a0': [203.39, 8.95], 'alphanet-a1': [279.24, 9.45], 'alphanet-a2': [316.73, 11.15], 'alphanet-a3': [356.52, 12.78],
  'alphanet-a4': [443.53, 11.81], 'alphanet-a5': [491.48, 12.97], 'alphanet-a5-base': [594.79, 12.4], 'alphanet-a6': [709.01, 15.15],
};

describe('FLOPs of the published AlphaNet models', () => {
  const space = getSpace('alphanet-imagenet');
  for (const m of fixture.alphanet_models) {
    const name = keyToName[m.key];
    it(`${name} is within 0.5 % of the published ${m.published_mflops} MFLOPs`, () => {
      const named = getNamedSubnet(name)!;
      expect(named.genome).toEqual({ resolution: m.resolution, width: m.width, depth: m.depth, kernelSize: m.kernel_size, expandRatio: m.expand_ratio });
      const c = subnetCost(space, named.genome);
      expect(Math.abs(c.mflops - m.published_mflops) / m.published_mflops).toBeLessThan(0.005);
      expect(c.mflops).toBeCloseTo(specCount[name][0], 1);
      expect(c.mparams).toBeCloseTo(specCount[name][1], 1);
    });
  }
  it('min and max subnets match METHOD.md §3.1', () => {
    expect(subnetCost(space, minGenome(space)).mflops).toBeCloseTo(203.39, 1);
    expect(subnetCost(space, maxGenome(space)).mflops).toBeCloseTo(1939.34, 1);
  });
});

describe('FLOPs of every registered space', () => {
  for (const space of listSpaces()) {
    it(`${space.id}: analytic count is fast and min < random < max`, () => {
      const rng = new Rng(1);
      const lo = subnetCost(space, minGenome(space)).macs;
      const hi = subnetCost(space, maxGenome(space)).macs;
      for (let i = 0; i < 20; i++) {
        const c = subnetCost(space, randomGenome(space, rng)).macs;
        expect(c).toBeGreaterThanOrEqual(lo);
        expect(c).toBeLessThanOrEqual(hi);
      }
      const g = randomGenome(space, rng);
      const t0 = performance.now();
      for (let i = 0; i < 1000; i++) subnetCost(space, g);
      expect((performance.now() - t0) / 1000).toBeLessThan(1); // ms per call
    });
  }
  it('small-data spaces are sized as documented', () => {
    const print: string[] = [];
    for (const id of ['alphanet-cifar32', 'alphanet-mnist28', 'slimmable-cifar32']) {
      const s = getSpace(id);
      const lo = subnetCost(s, minGenome(s));
      const hi = subnetCost(s, maxGenome(s));
      print.push(`${id}: min ${lo.mflops.toFixed(2)} max ${hi.mflops.toFixed(2)} params ${hi.mparams.toFixed(2)}`);
    }
    console.log(print.join('\n'));
    const c = getSpace('alphanet-cifar32');
    const cmax = subnetCost(c, maxGenome(c)).mflops;
    expect(cmax).toBeGreaterThan(22);
    expect(cmax).toBeLessThan(28);
    expect(cmax / subnetCost(c, minGenome(c)).mflops).toBeGreaterThan(5);
    const m = getSpace('alphanet-mnist28');
    const mmax = subnetCost(m, maxGenome(m)).mflops;
    expect(mmax).toBeGreaterThan(8);
    expect(mmax).toBeLessThan(12);
    expect(mmax / subnetCost(m, minGenome(m)).mflops).toBeGreaterThan(5);
  });
});
