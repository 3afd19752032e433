/**
 * `alphanet forward <request.json>`: the logits of one subnet of given weights on given raw inputs — the workbench
 * engine's side of the PyTorch engine's parity tests (engines/torch/tests), and a way to check any other port.
 *
 * The request (JSON): `{space, arch, numClasses?, weights, input: {path, shape: [N,H,W,C]}, calibration?: {path,
 * shape: [B,N,H,W,C]}, out}`. `space` is an id or an inline space object, `arch` min/max/a named subnet/a genome
 * object, `weights` a workbench checkpoint (ANCKPT01), input files raw float32 little-endian NHWC. Without
 * `calibration` the BNs use batch statistics (training mode); with it, the statistics are recalibrated over those
 * batches (`calibrateBn`) and the forward runs in eval mode. The logits go to `out` as raw float32 [N, classes].
 * The file may also hold a list of requests: one process start (loading TF.js) for all of them.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import {
  Supernet,
  calibrateBn,
  type BackendReport,
  type BnStats,
  createOps,
  getSpace,
  parseSearchSpace,
  resolveGenome,
  readCheckpointFile,
  writeFileDurable,
} from '../engine';
import type { CliContext } from './context';
import { CliError } from './errors';
import { readJson } from './args';

interface RawInput {
  path: string;
  shape: number[];
}

function readRaw(r: RawInput, rank: number, what: string): Float32Array {
  if (!r || typeof r.path !== 'string' || !Array.isArray(r.shape) || r.shape.length !== rank) {
    throw new CliError(`${what}: expected {path, shape} with a shape of ${rank} numbers`);
  }
  let buf: Buffer;
  try {
    buf = readFileSync(r.path);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${r.path}: ${(e as Error).message}`);
  }
  const n = r.shape.reduce((a, b) => a * b, 1);
  if (buf.length !== n * 4) throw new CliError(`${what} ${r.path} holds ${buf.length} bytes, shape ${r.shape.join('×')} needs ${n * 4}`);
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

interface Request {
  space: unknown;
  arch: unknown;
  numClasses?: number;
  weights: string;
  input: RawInput;
  calibration?: RawInput;
  out: string;
}

async function forwardOne(req: Request, report: BackendReport): Promise<{ out: string; shape: number[]; backend: string; ops: string }> {
  const space = typeof req.space === 'string' ? getSpace(req.space) : parseSearchSpace(req.space, 'request space');
  const genome = resolveGenome(space, req.arch);
  let ckpt;
  try {
    ckpt = readCheckpointFile(req.weights);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const net = new Supernet({ space, ops: createOps(report.opsMode), numClasses: req.numClasses });
  try {
    try {
      net.importWeights(ckpt.weights);
    } catch (e) {
      throw new CliError(`${req.weights}: ${(e as Error).message}`);
    }
    const x = readRaw(req.input, 4, 'input');
    let stats: BnStats | undefined;
    if (req.calibration) {
      const c = readRaw(req.calibration, 5, 'calibration');
      const [b, ...img] = req.calibration.shape;
      const per = img.reduce((a, v) => a * v, 1);
      const batches = Array.from({ length: b }, (_, i) => tf.tensor4d(c.subarray(i * per, (i + 1) * per), img as [number, number, number, number]));
      try {
        stats = calibrateBn(net, genome, batches).stats;
      } finally {
        tf.dispose(batches);
      }
    }
    const logits = tf.tidy(() => {
      const xt = tf.tensor4d(x, req.input.shape as [number, number, number, number]);
      return net.forward(xt, genome, stats ? { bn: { kind: 'running', stats } } : {});
    });
    const data = (await logits.data()) as Float32Array;
    const shape = logits.shape;
    logits.dispose();
    writeFileDurable(req.out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { out: req.out, shape, backend: report.chosen, ops: report.opsMode };
  } finally {
    net.dispose();
  }
}

export function registerForwardCommand(program: Command, ctx: CliContext): void {
  program
    .command('forward')
    .description('logits of a subnet of a checkpoint on raw float32 inputs (parity checks of other engines); see docs/TORCH.md')
    .argument('<request.json>', '{space, arch, numClasses?, weights, input: {path, shape}, calibration?: {path, shape}, out}')
    .action(async (requestPath: string) => {
      const parsed = readJson(requestPath, 'request') as Request | Request[];
      const report = await ctx.backend(ctx.home());
      const results = [];
      for (const req of Array.isArray(parsed) ? parsed : [parsed]) results.push(await forwardOne(req, report));
      ctx.io.out(`${JSON.stringify(Array.isArray(parsed) ? results : results[0])}\n`);
    });
}
