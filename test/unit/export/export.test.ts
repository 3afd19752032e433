/**
 * Export: min, max and a random subnet of a calibrated tiny supernet (odd sizes, stride 2, SE, widening shortcuts)
 * to TF.js and ONNX, then re-run in FRESH Node processes (tfjs alone; onnxruntime-node) and compared with the
 * supernet path (net.forward with the calibrated running statistics) on the same inputs: max |Δ| ≤ 1e-4.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  createOps,
  Rng,
  Supernet,
  calibrateBn,
  extractStatic,
  genomeId,
  maxGenome,
  minGenome,
  randomGenome,
  subnetCost,
  type Genome,
} from '../../../src-main/engine';
import { decodeOnnxModel, exportSubnet, loadTfjsModel } from '../../../src-main/export';
import { TINY } from '../engine/tiny-space';

const here = (p: string) => new URL(p, import.meta.url).pathname;
let dir: string;
let net: Supernet;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'alphanet-export-'));
  net = new Supernet({ space: TINY, ops: createOps('portable'), seed: 5 });
  // Non-trivial BN affine parameters: at init every block's last γ is 0, which would hide the residual branch.
  const rng = new Rng(77);
  for (const [name, v] of net.params) {
    if (name.includes('.bn.')) {
      const data = Float32Array.from({ length: v.size }, () => (name.endsWith('gamma') ? 0.5 + rng.next() : rng.normal() * 0.3));
      tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
  }
});

afterAll(() => {
  net?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Case {
  name: string;
  genome: Genome;
  input: { shape: number[]; data: number[] };
  expected: Float32Array;
  outDir: string;
}

describe('export to TF.js and ONNX', () => {
  it('min, max and random subnets give the supernet path outputs in fresh processes (max |Δ| ≤ 1e-4)', async () => {
    const cases: Case[] = [];
    const genomes: [string, Genome][] = [
      ['min', minGenome(TINY)],
      ['max', maxGenome(TINY)],
      ['random', randomGenome(TINY, new Rng(21))],
    ];
    for (const [name, g] of genomes) {
      const cal = Array.from({ length: 2 }, (_, i) => tf.randomNormal([6, g.resolution, g.resolution, 3], 0.2, 1, 'float32', 100 + i) as tf.Tensor4D);
      const { stats, batches, images } = calibrateBn(net, g, cal);
      tf.dispose(cal);
      const x = tf.randomNormal([3, g.resolution, g.resolution, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const expected = tf.tidy(() => net.forward(x, g, { bn: { kind: 'running', stats } }).dataSync() as Float32Array);
      const input = { shape: x.shape as number[], data: Array.from(x.dataSync()) };
      x.dispose();
      const s = extractStatic(net, g, stats);
      const outDir = join(dir, name);
      const res = await exportSubnet(s, {
        outDir,
        format: 'both',
        space: TINY,
        provenance: {
          accuracy: { value: 0.5, split: 'search-val', images: 100 },
          calibration: { batches, images, seed: 100, split: 'train' },
          seed: 3,
          runId: 'run-test',
        },
      });
      s.dispose();
      expect(res.files.sort()).toEqual(['arch.json', 'model.onnx', 'provenance.json', 'tfjs/group1-shard1of1.bin', 'tfjs/model.json'].sort());
      expect(readdirSync(outDir).some((f) => f.includes('.tmp-'))).toBe(false);
      cases.push({ name, genome: g, input, expected, outDir });
    }

    // Metadata files.
    for (const c of cases) {
      const arch = JSON.parse(readFileSync(join(c.outDir, 'arch.json'), 'utf8'));
      const prov = JSON.parse(readFileSync(join(c.outDir, 'provenance.json'), 'utf8'));
      const cost = subnetCost(TINY, c.genome);
      expect(arch.genomeId).toBe(genomeId(TINY.id, c.genome));
      expect(arch.spaceId).toBe(TINY.id);
      expect(arch.genome).toEqual(c.genome);
      expect(arch.mflops).toBeCloseTo(cost.mflops, 9);
      expect(arch.inputShape.tfjs).toEqual([null, c.genome.resolution, c.genome.resolution, 3]);
      expect(prov).toMatchObject({ spaceId: TINY.id, genomeId: arch.genomeId, runId: 'run-test', seed: 3, accuracy: { value: 0.5, split: 'search-val' }, calibration: { batches: 2, images: 12 } });
      expect(prov.appVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(prov.formats.onnx.opset).toBeGreaterThanOrEqual(13);
      const onnx = decodeOnnxModel(readFileSync(join(c.outDir, 'model.onnx'))) as { opset_import: { version: number }[]; graph: { node: { op_type: string }[] } };
      expect(onnx.opset_import[0].version).toBe(13);
      const ops = new Set(onnx.graph.node.map((n) => n.op_type));
      for (const op of ['Conv', 'Sigmoid', 'Mul', 'Add', 'GlobalAveragePool', 'Gemm', 'Flatten']) expect(ops.has(op)).toBe(true);
    }
    const maxOps = new Set((decodeOnnxModel(readFileSync(join(cases[1].outDir, 'model.onnx'))) as { graph: { node: { op_type: string }[] } }).graph.node.map((n) => n.op_type));
    expect(maxOps.has('HardSigmoid')).toBe(true);
    expect(maxOps.has('AveragePool')).toBe(true);

    // Fresh processes: one for TF.js (tfjs only), one for onnxruntime-node.
    const tfJobs = cases.map((c) => ({ dir: join(c.outDir, 'tfjs'), input: c.input, out: join(c.outDir, 'tfjs-out.json') }));
    const onnxJobs = cases.map((c) => ({ file: join(c.outDir, 'model.onnx'), input: c.input, out: join(c.outDir, 'onnx-out.json') }));
    writeFileSync(join(dir, 'tfjs-jobs.json'), JSON.stringify(tfJobs));
    writeFileSync(join(dir, 'onnx-jobs.json'), JSON.stringify(onnxJobs));
    const cwd = here('../../../');
    execFileSync(process.execPath, [here('./fresh/run-tfjs.mjs'), join(dir, 'tfjs-jobs.json')], { cwd, stdio: 'pipe', timeout: 60_000 });
    execFileSync(process.execPath, [here('./fresh/run-onnx.cjs'), join(dir, 'onnx-jobs.json')], { cwd, stdio: 'pipe', timeout: 60_000 });

    for (const c of cases) {
      const n = c.input.shape[0];
      for (const [fmt, file] of [['tfjs', 'tfjs-out.json'], ['onnx', 'onnx-out.json']] as const) {
        expect(existsSync(join(c.outDir, file)), `${c.name} ${fmt}`).toBe(true);
        const out = JSON.parse(readFileSync(join(c.outDir, file), 'utf8')) as { shape: number[]; data: number[]; layers?: string[] };
        expect(out.shape).toEqual([n, TINY.numClasses]);
        let maxDiff = 0;
        out.data.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - c.expected[i]))));
        expect(maxDiff, `${c.name} ${fmt}: max |Δ| = ${maxDiff}`).toBeLessThanOrEqual(1e-4);
        if (out.layers) expect(out.layers).not.toContain('BatchNormalization');
      }
      // And the outputs are not trivially equal across subnets (the comparison has teeth).
      expect(Math.max(...c.expected.map(Math.abs))).toBeGreaterThan(1e-3);
    }

    // In-process loader round trip.
    const m = await loadTfjsModel(join(cases[2].outDir, 'tfjs'));
    const y = tf.tidy(() => (m.predict(tf.tensor(cases[2].input.data, cases[2].input.shape)) as tf.Tensor).dataSync());
    y.forEach((v, i) => expect(Math.abs(v - cases[2].expected[i])).toBeLessThanOrEqual(1e-4));
    m.dispose();
  });

  it('rejects an unknown format', async () => {
    const g = minGenome(TINY);
    const cal = [tf.randomNormal([2, g.resolution, g.resolution, 3], 0, 1, 'float32', 1) as tf.Tensor4D];
    const s = extractStatic(net, g, calibrateBn(net, g, cal).stats);
    tf.dispose(cal);
    await expect(exportSubnet(s, { outDir: join(dir, 'bad'), format: 'pt' as never })).rejects.toThrow(/unknown export format/);
    s.dispose();
  });
});
