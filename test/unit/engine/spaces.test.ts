/** Search-space schema, registry, user-defined spaces and genomes (sampling, validation, canonical form, IDs). */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src-main/engine/core/rng';
import {
  ALPHANET_CIFAR32,
} from '../../../src-main/engine/core/builtin';
import {
  canonicalGenomeJson,
  genomeErrors,
  genomeId,
  maxGenome,
  minGenome,
  normalizeGenomeInput,
  randomGenome,
  validateGenome,
} from '../../../src-main/engine/core/genome';
import {
  getSpace,
  listNamedSubnets,
  listSpaces,
  loadSpaceFile,
  resolveGenome,
} from '../../../src-main/engine/core/registry';
import { SpaceError, parseSearchSpace } from '../../../src-main/engine/core/schema';
import { makeDivisible, subnetPlan, supernetShape } from '../../../src-main/engine/core/plan';

describe('registry', () => {
  it('holds the paper space, the small-data spaces and a slimmable space', () => {
    expect(listSpaces().map((s) => s.id)).toEqual(['alphanet-imagenet', 'alphanet-cifar32', 'alphanet-mnist28', 'slimmable-cifar32']);
    expect(listNamedSubnets('alphanet-imagenet').map((n) => n.name)).toEqual([
      'alphanet-a0', 'alphanet-a1', 'alphanet-a2', 'alphanet-a3', 'alphanet-a4', 'alphanet-a5', 'alphanet-a5-base', 'alphanet-a6',
    ]);
  });
  it('alphanet-imagenet is exactly METHOD.md §3.1 (min = A0, max as listed, 4.40e11 subnets)', () => {
    const s = getSpace('alphanet-imagenet');
    expect(minGenome(s)).toEqual(resolveGenome(s, 'alphanet-a0'));
    expect(maxGenome(s)).toEqual({ resolution: 288, width: [24, 24, 32, 40, 72, 128, 216, 224, 1984], depth: [2, 5, 6, 6, 8, 8, 2], kernelSize: [5, 5, 5, 5, 5, 5, 5], expandRatio: [1, 6, 6, 6, 6, 6, 6] });
    let n = s.resolutions.length * s.firstConv.width.length * s.lastConv.width.length;
    for (const st of s.stages) n *= st.width.length * st.depth.length * st.kernelSize.length * st.expandRatio.length;
    expect(n).toBe(440301256704);
    expect(s.stages.filter((st) => st.se).map((st) => st.name)).toEqual(['mb3', 'mb5', 'mb6', 'mb7']);
  });
  it('allocates the max sizes of METHOD.md §3.4', () => {
    const sh = supernetShape(getSpace('alphanet-imagenet'));
    expect(sh.blocks.length).toBe(37);
    const mb2 = sh.blocks.filter((b) => b.stage === 1);
    expect(mb2[0].maxMid).toBe(144);
    expect(mb2[1].maxMid).toBe(192);
    expect(sh.head.maxExpand).toBe(1344);
    expect(sh.blocks[0].hasExpand).toBe(false);
  });
  it('make_divisible follows the reference (min_value 1, never 10 % down)', () => {
    expect(makeDivisible(144)).toBe(144);
    expect(makeDivisible(100)).toBe(104);
    expect(makeDivisible(3)).toBe(9); // the reference's quirk: max(1, 0) = 1 < 0.9·3, so 1 + 8
    expect(makeDivisible(12)).toBe(16);
    expect(makeDivisible(36)).toBe(40);
    expect(makeDivisible(11)).toBe(16); // 8 < 0.9·11 → +8
  });
  it('every block of every space has a residual; strided/widening ones pool and project', () => {
    for (const s of listSpaces()) {
      for (const b of subnetPlan(s, maxGenome(s)).blocks) {
        if (b.stride === 2) expect(b.shortcutPool).toBe(true);
        expect(b.shortcutConv).toBe(b.cIn !== b.cOut);
      }
    }
  });
  it('odd sizes: 28 → 14 → 7 → 4 on the 28×28 space', () => {
    const s = getSpace('alphanet-mnist28');
    const sizes = subnetPlan(s, maxGenome(s)).blocks.map((b) => b.outSize);
    expect(sizes[sizes.length - 1]).toBe(4);
    expect(sizes).toContain(7);
  });
});

describe('user-defined spaces', () => {
  it('a bad field gets an error that names it', () => {
    const bad = structuredClone(ALPHANET_CIFAR32) as Record<string, any>;
    bad.stages[2].kernelSize = [3, 4];
    bad.resolutions = [32, 24];
    bad.firstConv.stride = 3;
    bad.extra = 1;
    let msg = '';
    try {
      parseSearchSpace(bad);
    } catch (e) {
      expect(e).toBeInstanceOf(SpaceError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/stages\[2\]\.kernelSize: kernel sizes must be odd/);
    expect(msg).toMatch(/resolutions: choices must be strictly increasing/);
    expect(msg).toMatch(/firstConv\.stride/);
    expect(msg).toMatch(/extra/);
  });
  it('loads from a JSON file and reports unreadable files clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'space-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ ...ALPHANET_CIFAR32, id: 'my-space' }));
    expect(loadSpaceFile(good).id).toBe('my-space');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "id": ');
    expect(() => loadSpaceFile(broken)).toThrow(/cannot read search space .*broken\.json/);
    const missing = join(dir, 'missing.json');
    writeFileSync(missing, JSON.stringify({ ...ALPHANET_CIFAR32, numClasses: undefined }));
    expect(() => loadSpaceFile(missing)).toThrow(/numClasses/);
  });
  it('multiplier width mode needs equal-length width lists', () => {
    const s = { ...structuredClone(ALPHANET_CIFAR32), id: 'x', widthMode: 'multiplier' } as Record<string, any>;
    expect(parseSearchSpace(s).widthMode).toBe('multiplier');
    s.stages[3].width = [48, 64, 80];
    expect(() => parseSearchSpace(s)).toThrow(/stages\[3\]\.width: widthMode 'multiplier' needs 2 width choices/);
  });
});

describe('genomes', () => {
  it('sampling is seeded, uniform per gene, and stays in the space', () => {
    for (const s of listSpaces()) {
      const a = new Rng(42);
      const b = new Rng(42);
      for (let i = 0; i < 50; i++) {
        const g = randomGenome(s, a);
        expect(g).toEqual(randomGenome(s, b));
        expect(genomeErrors(s, g)).toEqual([]);
      }
    }
    const s = getSpace('alphanet-imagenet');
    const rng = new Rng(7);
    const counts = new Map<number, number>();
    for (let i = 0; i < 4000; i++) {
      const r = randomGenome(s, rng).resolution;
      counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    for (const r of s.resolutions) expect(counts.get(r)! / 4000).toBeGreaterThan(0.22);
  });
  it('slimmable space: one width multiplier for every layer, everything else fixed', () => {
    const s = getSpace('slimmable-cifar32');
    const rng = new Rng(3);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const g = randomGenome(s, rng);
      const idx = g.width.map((w, k) => [s.firstConv.width, ...s.stages.map((st) => st.width), s.lastConv.width][k].indexOf(w));
      expect(new Set(idx).size).toBe(1);
      expect(g.depth).toEqual(minGenome(s).depth);
      seen.add(canonicalGenomeJson(g));
    }
    expect(seen.size).toBe(3);
    const mixed = { ...minGenome(s), width: maxGenome(s).width.map((w, i) => (i === 0 ? minGenome(s).width[0] : w)) };
    expect(genomeErrors(s, mixed).join()).toMatch(/multiplier/);
  });
  it('validation names each bad gene', () => {
    const s = getSpace('alphanet-imagenet');
    const g = { ...minGenome(s), resolution: 200, depth: [1, 3, 3, 3, 3, 3], kernelSize: [3, 3, 7, 3, 3, 3, 3] };
    const errs = genomeErrors(s, g);
    expect(errs).toContain('resolution: 200 is not one of [192, 224, 256, 288]');
    expect(errs).toContain('depth: expected 7 entries, got 6');
    expect(errs).toContain('kernelSize[2]: 7 is not one of [3, 5]');
    expect(() => validateGenome(s, { resolution: 192 })).toThrow(/width/);
  });
  it('canonical JSON and short IDs are stable', () => {
    const s = getSpace('alphanet-imagenet');
    const a0 = resolveGenome(s, 'alphanet-a0');
    const shuffled = { expandRatio: a0.expandRatio, kernelSize: a0.kernelSize, depth: a0.depth, width: a0.width, resolution: a0.resolution };
    expect(canonicalGenomeJson(shuffled)).toBe(canonicalGenomeJson(a0));
    expect(canonicalGenomeJson(a0)).toBe('{"resolution":192,"width":[16,16,24,32,64,112,192,216,1792],"depth":[1,3,3,3,3,3,1],"kernelSize":[3,3,3,3,3,3,3],"expandRatio":[1,4,4,4,4,6,6]}');
    // Golden value: sha256("alphanet-imagenet\n" + canonical JSON above), first 12 hex digits. Changing it breaks every stored ID.
    expect(genomeId('alphanet-imagenet', a0)).toBe(GOLDEN_A0_ID);
    expect(genomeId('alphanet-imagenet', maxGenome(s))).not.toBe(genomeId('alphanet-imagenet', a0));
  });
  it('accepts the reference snake_case layout', () => {
    const s = getSpace('alphanet-imagenet');
    const a0 = resolveGenome(s, 'alphanet-a0');
    const snake = { resolution: 192, width: a0.width, depth: a0.depth, kernel_size: a0.kernelSize, expand_ratio: a0.expandRatio };
    expect(resolveGenome(s, snake)).toEqual(a0);
    expect(normalizeGenomeInput(a0)).toBe(a0);
    expect(() => resolveGenome(getSpace('alphanet-cifar32'), 'alphanet-a0')).toThrow(/belongs to space 'alphanet-imagenet'/);
    expect(() => resolveGenome(s, 'alphanet-z9')).toThrow(/unknown subnet/);
  });
});

const GOLDEN_A0_ID = '5aa68b53c395';
