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
 *
 * With `sandwich: {labels, members, distillation, labelSmoothing?, out}` the request also runs one training step's
 * forward and backward (`sandwichGradients`: `members[0]` is the teacher, trained on `labels`; the others learn by
 * `distillation`, parsed as a run config's; no dropout or drop-connect) and writes every parameter's summed gradient
 * to `sandwich.out`, raw float32 in the order of the reply's `sandwich.grads` ({name, shape}, workbench layouts),
 * beside each member's loss. That is what the PyTorch engine's training-step parity test compares.
 *
 * With `train: {steps: [{input, labels, members, lr}], distillation, labelSmoothing?, clip?, momentum?, nesterov?,
 * weightDecay?, out}` it then trains those steps one after another from the checkpoint's weights, as the trainer's
 * step does after sampling (docs/TRAINING.md): the sandwich's summed gradients, each entry clipped to [−clip, clip]
 * (default 0: off), the Nesterov SGD step (defaults μ 0.9, Nesterov, λ 0; fresh momentum); no NaN guard. With
 * `train.regularize: {dropout, dropConnect}` the teacher is regularised as in a run, but with given masks: each step's
 * `masks` lists every keep mask (0/1, flattened) in the order the forward draws them (`Regularize` in
 * engine/supernet.ts). The final weights go to `train.out` like the gradients above (`train.weights`), with every
 * step's member losses: the PyTorch engine's trajectory parity test replays the same batches, members, learning rates
 * and masks and compares.
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
  sandwichGradients,
  DistillationSchema,
  type Distillation,
  type MemberResult,
  type Regularize,
  type SandwichMember,
  type SearchSpace,
  resolveGenome,
  readCheckpointFile,
  writeFileDurable,
} from '../engine';
import { NesterovSgd, clipGradients } from '../train/optimizer';
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
  sandwich?: SandwichRequest;
  train?: TrainRequest;
}

interface SandwichRequest {
  labels: number[];
  members: unknown[];
  distillation: unknown;
  labelSmoothing?: number;
  out: string;
}

interface TrainRequest {
  steps: { input: RawInput; labels: number[]; members: unknown[]; lr: number; masks?: unknown }[];
  distillation: unknown;
  regularize?: { dropout: number; dropConnect: number };
  labelSmoothing?: number;
  clip?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  out: string;
}

interface TrainReply {
  out: string;
  weights: { name: string; shape: number[] }[];
  steps: { members: MemberResult[] }[];
}

interface SandwichReply {
  out: string;
  grads: { name: string; shape: number[] }[];
  members: MemberResult[];
}

/** Writes tensors by name back to back as raw float32 to `out`; returns their names and shapes in that order. */
async function writeNamed(out: string, tensors: Iterable<[string, tf.Tensor]>): Promise<{ name: string; shape: number[] }[]> {
  const index: { name: string; shape: number[] }[] = [];
  const parts: Buffer[] = [];
  for (const [name, t] of tensors) {
    index.push({ name, shape: t.shape });
    const d = (await t.data()) as Float32Array;
    parts.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
  writeFileDurable(out, Buffer.concat(parts));
  return index;
}

/** The labels and members of one sandwich step, checked; `what` names the request field. */
function sandwichMembersOf(net: Supernet, space: SearchSpace, images: number, s: { labels: number[]; members: unknown[] }, what: string): SandwichMember[] {
  if (!s || !Array.isArray(s.labels) || !s.labels.every((l) => Number.isInteger(l) && l >= 0 && l < net.numClasses)) {
    throw new CliError(`${what}.labels: expected one class index in [0, ${net.numClasses}) per image`);
  }
  if (s.labels.length !== images) throw new CliError(`${what}.labels: ${s.labels.length} labels for ${images} images`);
  if (!Array.isArray(s.members) || s.members.length < 2) throw new CliError(`${what}.members: expected the teacher and at least one student`);
  return s.members.map((a, i) => ({ role: i === 0 ? 'max' : 'random', genome: resolveGenome(space, a) }));
}

/** A request's distillation, parsed as a run config's; `what` names the request field. */
function distillationOf(d: unknown, what: string): Distillation {
  const parsed = DistillationSchema.safeParse(d);
  if (!parsed.success) throw new CliError(`${what}.distillation: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** One training step's summed gradients of `net` on `x` (see the module comment); the caller owns `x`. */
async function sandwichOne(net: Supernet, space: SearchSpace, x: tf.Tensor4D, req: SandwichRequest): Promise<SandwichReply> {
  const members = sandwichMembersOf(net, space, x.shape[0], req, 'sandwich');
  const distillation = distillationOf(req.distillation, 'sandwich');
  const labels = tf.tensor1d(req.labels, 'int32');
  try {
    const r = sandwichGradients(net, x, labels, members, { labelSmoothing: req.labelSmoothing, distillation });
    try {
      return { out: req.out, grads: await writeNamed(req.out, r.grads), members: r.members };
    } finally {
      tf.dispose([...r.grads.values()]);
    }
  } finally {
    labels.dispose();
  }
}

/**
 * The teacher's regularisation for one replayed step: the request's rates with the step's given masks, handed out in
 * order and checked against the shape the forward asks for. `finish` checks that the step used every mask.
 */
function givenMasks(rates: { dropout: number; dropConnect: number }, masks: unknown, what: string): { regularize: Regularize; finish: () => void } {
  if (!Array.isArray(masks)) throw new CliError(`${what}.masks: expected the teacher's keep masks (train.regularize is on)`);
  let used = 0;
  const next = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (used >= masks.length) throw new CliError(`${what}.masks: the forward needs more than the ${masks.length} given`);
    const m: unknown = masks[used];
    if (!Array.isArray(m) || m.length !== n || !m.every((v) => v === 0 || v === 1)) {
      throw new CliError(`${what}.masks[${used}]: expected ${n} values, each 0 or 1 (a keep mask of shape ${shape.join('×')})`);
    }
    used++;
    return tf.tensor(m as number[], shape, 'float32');
  };
  return {
    regularize: { dropout: rates.dropout, dropConnect: rates.dropConnect, masks: next },
    finish: () => {
      if (used !== masks.length) throw new CliError(`${what}.masks: ${masks.length} given, the forward used ${used}`);
    },
  };
}

/** Trains `net` through the request's steps (see the module comment); its weights change. */
async function trainSteps(net: Supernet, space: SearchSpace, req: TrainRequest): Promise<TrainReply> {
  if (!req || !Array.isArray(req.steps) || req.steps.length === 0) throw new CliError('train.steps: expected at least one step');
  const distillation = distillationOf(req.distillation, 'train');
  for (const k of ['clip', 'momentum', 'weightDecay'] as const) {
    const v = req[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new CliError(`train.${k}: expected a number ≥ 0`);
  }
  const rates = req.regularize;
  if (rates !== undefined) {
    for (const k of ['dropout', 'dropConnect'] as const) {
      const v = rates?.[k];
      if (!(typeof v === 'number' && v >= 0 && v < 1)) throw new CliError(`train.regularize.${k}: expected a number in [0, 1)`);
    }
  }
  const opt = new NesterovSgd({ momentum: req.momentum, nesterov: req.nesterov, weightDecay: req.weightDecay });
  const steps: TrainReply['steps'] = [];
  try {
    for (const [i, s] of req.steps.entries()) {
      const what = `train.steps[${i}]`;
      if (!(typeof s?.lr === 'number' && Number.isFinite(s.lr) && s.lr >= 0)) throw new CliError(`${what}.lr: expected a number ≥ 0`);
      const input = readRaw(s.input, 4, `${what}.input`);
      const members = sandwichMembersOf(net, space, s.input.shape[0], s, what);
      if (!rates && s.masks !== undefined) throw new CliError(`${what}.masks: given without train.regularize`);
      const given = rates ? givenMasks(rates, s.masks, what) : undefined;
      const x = tf.tensor4d(input, s.input.shape as [number, number, number, number]);
      const labels = tf.tensor1d(s.labels, 'int32');
      try {
        const r = sandwichGradients(net, x, labels, members, { labelSmoothing: req.labelSmoothing, distillation, regularize: given?.regularize });
        try {
          given?.finish();
          clipGradients(r.grads, req.clip ?? 0);
          opt.step(net.params, r.grads, s.lr);
        } finally {
          tf.dispose([...r.grads.values()]);
        }
        steps.push({ members: r.members });
      } finally {
        tf.dispose([x, labels]);
      }
    }
  } finally {
    opt.dispose();
  }
  return { out: req.out, weights: await writeNamed(req.out, net.params), steps };
}

async function forwardOne(
  req: Request,
  report: BackendReport,
): Promise<{ out: string; shape: number[]; backend: string; ops: string; sandwich?: SandwichReply; train?: TrainReply }> {
  const space = typeof req.space === 'string' ? getSpace(req.space) : parseSearchSpace(req.space, 'request space');
  const genome = resolveGenome(space, req.arch);
  let ckpt;
  try {
    ckpt = readCheckpointFile(req.weights);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const net = new Supernet({ space, ops: createOps(report.opsMode), numClasses: req.numClasses });
  let x: tf.Tensor4D | undefined;
  try {
    try {
      net.importWeights(ckpt.weights);
    } catch (e) {
      throw new CliError(`${req.weights}: ${(e as Error).message}`);
    }
    x = tf.tensor4d(readRaw(req.input, 4, 'input'), req.input.shape as [number, number, number, number]);
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
    const input = x;
    const logits = tf.tidy(() => net.forward(input, genome, stats ? { bn: { kind: 'running', stats } } : {}));
    const data = (await logits.data()) as Float32Array;
    const shape = logits.shape;
    logits.dispose();
    writeFileDurable(req.out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const sandwich = req.sandwich ? await sandwichOne(net, space, x, req.sandwich) : undefined;
    const train = req.train ? await trainSteps(net, space, req.train) : undefined;
    return { out: req.out, shape, backend: report.chosen, ops: report.opsMode, ...(sandwich ? { sandwich } : {}), ...(train ? { train } : {}) };
  } finally {
    x?.dispose();
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
