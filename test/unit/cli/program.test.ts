/** The `alphanet` CLI, driven in-process through `runCli` (the built bin is exercised by test/unit/cli/bin.test.ts). */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src-main/cli/program';

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: { ALPHANET_BACKEND: 'cpu', ...env } });
  return { code, out, err };
}

describe('alphanet flops', () => {
  it('prints {mflops, params, macs} as JSON for a named subnet', async () => {
    const r = await run(['flops', '--space', 'alphanet-imagenet', '--arch', 'alphanet-a0']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(['mflops', 'params', 'macs']);
    expect(j.mflops).toBeCloseTo(203.39, 1);
    expect(j.macs / 1e6).toBeCloseTo(j.mflops, 4);
    expect(j.params / 1e6).toBeCloseTo(8.95, 1);
  });
  it('reads a genome file (reference snake_case) and a user space file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const arch = join(dir, 'a4.json');
    writeFileSync(arch, JSON.stringify({ resolution: 256, width: [16, 16, 24, 32, 64, 112, 192, 216, 1984], depth: [1, 3, 3, 4, 3, 5, 1], kernel_size: [3, 3, 3, 5, 3, 5, 3], expand_ratio: [1, 4, 4, 5, 4, 6, 6] }));
    const r = await run(['flops', '--space', 'alphanet-imagenet', '--arch', arch, '--json']);
    expect(JSON.parse(r.out).mflops).toBeCloseTo(443.53, 1);
    const r2 = await run(['flops', '--space', 'alphanet-cifar32', '--arch', 'max']);
    expect(JSON.parse(r2.out).mflops).toBeCloseTo(25.29, 1);
  });
  it('--archs costs a list of genomes in one call, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const list = join(dir, 'archs.json');
    const one = async (arch: string) => JSON.parse((await run(['flops', '--space', 'alphanet-cifar32', '--arch', arch])).out);
    const [lo, hi] = [await one('min'), await one('max')];
    const genome = (f: (xs: number[]) => number) => ({ resolution: f([24, 28, 32]), width: [[16, 24], [16, 24], [24, 32], [40, 48], [64, 80], [80, 96], [512, 640]].map(f), depth: [[1, 2], [1, 2], [1, 2, 3], [1, 2], [1, 2]].map(f), kernelSize: [3, 3, 3, 3, 3].map((k) => f([k, k + 2])), expandRatio: [[1], [3, 4], [3, 4, 6], [3, 4, 6], [4, 6]].map(f) });
    writeFileSync(list, JSON.stringify([genome((xs) => xs[xs.length - 1]), genome((xs) => xs[0])]));
    const r = await run(['flops', '--space', 'alphanet-cifar32', '--archs', list]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([hi, lo]);
    const r2 = await run(['flops', '--space', 'alphanet-cifar32', '--archs', list, '--arch', 'min']);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/not both/);
  });
  it('explains bad input and exits non-zero', async () => {
    const r = await run(['flops', '--space', 'alphanet-imagenet', '--arch', 'alphanet-z9']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown subnet 'alphanet-z9'/);
    const r2 = await run(['flops', '--space', 'nope', '--arch', 'min']);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/unknown search space 'nope'/);
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const arch = join(dir, 'bad.json');
    writeFileSync(arch, JSON.stringify({ resolution: 200, width: [1], depth: [], kernelSize: [], expandRatio: [] }));
    const r3 = await run(['flops', '--space', 'alphanet-imagenet', '--arch', arch]);
    expect(r3.code).toBe(1);
    expect(r3.err).toMatch(/resolution: 200 is not one of/);
    const r4 = await run(['flops', '--space', 'alphanet-imagenet']);
    expect(r4.code).not.toBe(0);
    expect(r4.err).toMatch(/--arch/);
  });
});

describe('alphanet spaces', () => {
  it('lists the registry as text and JSON', async () => {
    const r = await run(['spaces']);
    expect(r.out).toMatch(/alphanet-imagenet/);
    expect(r.out).toMatch(/named subnets: alphanet-a0/);
    const j = JSON.parse((await run(['--json', 'spaces'])).out);
    expect(j.map((s: { id: string }) => s.id)).toContain('slimmable-cifar32');
    expect(j.find((s: { id: string }) => s.id === 'alphanet-imagenet').minMflops).toBeCloseTo(203.39, 1);
  });
});

describe('alphanet doctor', () => {
  it('reports the chosen backend and why higher rungs were skipped', async () => {
    const r = await run(['doctor', '--json'], { ALPHANET_BACKEND: '' , ALPHANET_HOME: '/tmp/alphanet-home-test' });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).toContain(j.chosen);
    expect(j.home).toBe('/tmp/alphanet-home-test');
    expect(j.attempts.at(-1).ok).toBe(true);
    for (const a of j.attempts.slice(0, -1)) expect(a.reason).toMatch(/not installed|failed/);
    const t = await run(['doctor'], { ALPHANET_BACKEND: 'cpu' });
    expect(t.out).toMatch(/backend: +cpu/);
    expect(t.out).toMatch(/ladder:/);
  });
  it('a forced backend that is missing is a clear error', async () => {
    const r = await run(['--backend', 'tensorflow-gpu', 'doctor']);
    if (r.code === 0) return; // a machine with CUDA and tfjs-node-gpu installed
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/backend 'tensorflow-gpu' was forced but is not available/);
  });
});

describe('backend choice: flag, then ALPHANET_BACKEND, then settings.json', () => {
  it('settings.json forces a backend; a bad settings file names the field', async () => {
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ backend: 'cpu' }));
    const r = await run(['--home', home, '--json', 'doctor'], { ALPHANET_BACKEND: '' });
    expect(JSON.parse(r.out).chosen).toBe('cpu');
    expect(JSON.parse(r.out).attempts).toEqual([{ backend: 'cpu', ok: true, reason: 'forced' }]);
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ backend: 'tpu' }));
    const bad = await run(['--home', home, 'doctor'], { ALPHANET_BACKEND: '' });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/settings\.json:\nbackend: /);
    writeFileSync(join(home, 'settings.json'), '{');
    expect((await run(['--home', home, 'doctor'], { ALPHANET_BACKEND: '' })).err).toMatch(/not valid JSON/);
  });
  it('the flag wins over the environment', async () => {
    const r = await run(['--backend', 'cpu', '--json', 'doctor'], { ALPHANET_BACKEND: 'wasm' });
    expect(JSON.parse(r.out).chosen).toBe('cpu');
    const bad = await run(['doctor'], { ALPHANET_BACKEND: 'tpu' });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown backend 'tpu'/);
  });
});

describe('help', () => {
  it('every command has --help', async () => {
    for (const cmd of [[], ['doctor'], ['spaces'], ['flops']]) {
      const r = await run([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Usage: alphanet/);
    }
  });
  it('the top-level help describes the commands that exist, and each of them has --help', async () => {
    const r = await run(['--help']);
    expect(r.out).not.toMatch(/follow/);
    const commands = [...r.out.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    // At least these (other commands join over time); each one listed must answer --help below.
    expect(commands).toEqual(expect.arrayContaining(['doctor', 'spaces', 'flops', 'datasets', 'train', 'runs', 'evaluate', 'search', 'front', 'export', 'latency', 'serve']));
    // The program's description names what is there (it once said training, datasets, search and export "follow").
    const description = r.out.split('\n\n')[1].replace(/\s+/g, ' ');
    for (const what of ['datasets', 'training', 'search', 'export', 'serve']) expect(description).toContain(what);
    for (const c of commands) {
      const sub = await run([c, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.out).toMatch(new RegExp(`Usage: alphanet ${c}`));
    }
  });
});
