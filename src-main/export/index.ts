/**
 * `exportSubnet`: one calibrated static subnet → a folder with the model in TF.js and/or ONNX form, `arch.json`
 * (what the network is) and `provenance.json` (where it came from and how well it did).
 *
 *   <outDir>/arch.json
 *   <outDir>/provenance.json
 *   <outDir>/tfjs/model.json, tfjs/group1-shard1of1.bin   (format 'tfjs' or 'both')
 *   <outDir>/model.onnx                                    (format 'onnx' or 'both')
 * Every file is written into a hidden sibling folder first and moved into `outDir` only once all are written: a
 * failure (a full disk, say) leaves `outDir` as it was, and is an {@link ExportError} of one line saying so.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describeFsError } from '../fs-errors';
import { pidAlive, pidOfTempName } from '../process-alive';
import { version as appVersion } from '../../package.json';
import type { StaticSubnet } from '../engine';
import { subnetCost, canonicalGenomeJson, genomeId, subnetPlan, type Genome, type SearchSpace } from '../engine/core';
import { foldSubnet } from './folded';
import { ExportError, writeFileAtomic, writeJsonAtomic } from '../atomic-files';

export { ExportError } from '../atomic-files';
import { buildOnnxModel, ONNX_OPSET } from './onnx';
import { buildTfjsModel, saveTfjsModel } from './tfjs';

export type ExportFormat = 'tfjs' | 'onnx' | 'both';


/** What the caller knows about the subnet's history; everything here lands in provenance.json. */
export interface ProvenanceInput {
  /** Training run and checkpoint (optional until the run store is integrated). */
  runId?: string;
  checkpointHash?: string;
  /** Where the checkpoint file was (it may be pruned later; the hash identifies it). */
  checkpointPath?: string;
  /** The dataset the run trained on and the accuracy was measured on. */
  dataset?: { id: string; name: string; contentHash: string };
  accuracy?: {
    /** Top-1 in [0, 1]. */
    value: number;
    /** The split it was measured on, e.g. 'search-val' or 'test'. */
    split: string;
    images?: number;
    loss?: number;
    /** Accuracy before BN calibration (see engine/evaluate.ts). */
    beforeCalibration?: number;
  };
  calibration?: { batches: number; images: number; batchSize?: number; seed?: number; split?: string };
  /** `device`: the machine's fingerprint (search/latency/device.ts `DeviceFingerprint`), recorded as given. */
  latency?: { ms: number; batch: number; method: 'measured' | 'lut'; device: Readonly<Record<string, string | number | boolean | null>> };
  /** Seed of the search/evaluation that chose this subnet. */
  seed?: number;
  /** Default: the app's package.json version. */
  appVersion?: string;
  /** Anything else worth keeping (search id, front rank, …). */
  extra?: Record<string, unknown>;
}

export interface ArchJson {
  version: 1;
  spaceId: string;
  space: SearchSpace;
  genome: Genome;
  genomeId: string;
  numClasses: number;
  /** NHWC for TF.js; ONNX takes the transpose [N, C, H, W]. */
  inputShape: { tfjs: [null, number, number, number]; onnx: ['N', number, number, number] };
  mflops: number;
  mparams: number;
  /** Layer-by-layer summary (channels, kernel, stride, sizes). */
  blocks: { stage: number; block: number; cIn: number; cMid: number; cOut: number; kernel: number; stride: number; se: number; inSize: number; outSize: number; shortcut: string }[];
}

export interface ProvenanceJson {
  version: 1;
  createdAt: string;
  appVersion: string;
  runId?: string;
  checkpointHash?: string;
  checkpointPath?: string;
  dataset?: ProvenanceInput['dataset'];
  spaceId: string;
  genome: Genome;
  genomeId: string;
  mflops: number;
  mparams: number;
  latency?: ProvenanceInput['latency'];
  accuracy?: ProvenanceInput['accuracy'];
  calibration?: ProvenanceInput['calibration'];
  seed?: number;
  formats: { tfjs?: { dir: string; files: string[] }; onnx?: { file: string; opset: number } };
  extra?: Record<string, unknown>;
}

/** The space a static subnet was cut from: its own space is a one-point copy whose id ends in `-static`. */
function sourceSpaceId(s: StaticSubnet): string {
  return s.net.space.id.replace(/-static$/, '');
}

export function archJson(s: StaticSubnet, space?: SearchSpace): ArchJson {
  const g = s.genome;
  const spaceId = space?.id ?? sourceSpaceId(s);
  const plan = subnetPlan(s.net.space, g, s.net.numClasses);
  const cost = subnetCost(s.net.space, g, s.net.numClasses);
  return {
    version: 1,
    spaceId,
    space: space ?? s.net.space,
    genome: JSON.parse(canonicalGenomeJson(g)) as Genome,
    genomeId: genomeId(spaceId, g),
    numClasses: s.net.numClasses,
    inputShape: { tfjs: [null, g.resolution, g.resolution, plan.inputChannels], onnx: ['N', plan.inputChannels, g.resolution, g.resolution] },
    mflops: cost.mflops,
    mparams: cost.mparams,
    blocks: plan.blocks.map((b) => ({
      stage: b.stage,
      block: b.block,
      cIn: b.cIn,
      cMid: b.cMid,
      cOut: b.cOut,
      kernel: b.kernel,
      stride: b.stride,
      se: b.cSe,
      inSize: b.inSize,
      outSize: b.outSize,
      shortcut: [b.shortcutPool ? 'avgpool2x2' : '', b.shortcutConv ? 'conv1x1' : ''].filter(Boolean).join('+') || 'identity',
    })),
  };
}

export interface ExportOptions {
  outDir: string;
  format: ExportFormat;
  provenance?: ProvenanceInput;
  /** The full search space (recorded in arch.json); default the static subnet's one-point space. */
  space?: SearchSpace;
}

export interface ExportResult {
  outDir: string;
  /** Paths relative to outDir. */
  files: string[];
  arch: ArchJson;
  provenance: ProvenanceJson;
}

/** Writes the chosen formats plus arch.json and provenance.json; see the module comment. */
export async function exportSubnet(s: StaticSubnet, opts: ExportOptions): Promise<ExportResult> {
  if (!['tfjs', 'onnx', 'both'].includes(opts.format)) throw new Error(`unknown export format '${String(opts.format)}'; use tfjs, onnx or both`);
  const outDir = opts.outDir;
  const prefix = `.${basename(outDir)}.export-`;
  removeStaleWork(dirname(outDir), prefix);
  const work = join(dirname(outDir), `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const r = await writeExport(s, { ...opts, outDir: work });
    // Same filesystem: each move is a rename, which needs no space; the previous files of those names are replaced.
    for (const f of r.files) {
      mkdirSync(dirname(join(outDir, f)), { recursive: true });
      renameSync(join(work, f), join(outDir, f));
    }
    return { ...r, outDir };
  } catch (e) {
    const cause = describeFsError(e)?.message;
    if (cause) throw new ExportError(`export not written: ${cause}; ${outDir} is as it was`);
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Removes the hidden work folders of earlier exports to the same folder whose process is gone (killed mid-export). */
function removeStaleWork(parent: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return; // no parent yet: nothing stale either
  }
  for (const n of names) {
    const pid = pidOfTempName(n, prefix);
    if (pid !== null && pid !== process.pid && !pidAlive(pid)) rmSync(join(parent, n), { recursive: true, force: true });
  }
}

async function writeExport(s: StaticSubnet, opts: ExportOptions): Promise<ExportResult> {
  const folded = foldSubnet(s);
  const arch = archJson(s, opts.space);
  const pv = opts.provenance ?? {};
  const files: string[] = [];
  const formats: ProvenanceJson['formats'] = {};
  const meta = { spaceId: arch.spaceId, genomeId: arch.genomeId, genome: canonicalGenomeJson(s.genome) };
  if (opts.format === 'tfjs' || opts.format === 'both') {
    const model = buildTfjsModel(folded);
    try {
      const written = await saveTfjsModel(model, join(opts.outDir, 'tfjs'), meta);
      formats.tfjs = { dir: 'tfjs', files: written };
      files.push(...written.map((f) => `tfjs/${f}`));
    } finally {
      model.dispose();
    }
  }
  if (opts.format === 'onnx' || opts.format === 'both') {
    const bytes = buildOnnxModel(folded, { metadata: meta, producerVersion: pv.appVersion ?? appVersion });
    writeFileAtomic(join(opts.outDir, 'model.onnx'), bytes);
    formats.onnx = { file: 'model.onnx', opset: ONNX_OPSET };
    files.push('model.onnx');
  }
  writeJsonAtomic(join(opts.outDir, 'arch.json'), arch);
  files.push('arch.json');
  const provenance: ProvenanceJson = {
    version: 1,
    createdAt: new Date().toISOString(),
    appVersion: pv.appVersion ?? appVersion,
    ...(pv.runId !== undefined ? { runId: pv.runId } : {}),
    ...(pv.checkpointHash !== undefined ? { checkpointHash: pv.checkpointHash } : {}),
    ...(pv.checkpointPath !== undefined ? { checkpointPath: pv.checkpointPath } : {}),
    ...(pv.dataset ? { dataset: pv.dataset } : {}),
    spaceId: arch.spaceId,
    genome: arch.genome,
    genomeId: arch.genomeId,
    mflops: arch.mflops,
    mparams: arch.mparams,
    ...(pv.latency ? { latency: pv.latency } : {}),
    ...(pv.accuracy ? { accuracy: pv.accuracy } : {}),
    ...(pv.calibration ? { calibration: pv.calibration } : {}),
    ...(pv.seed !== undefined ? { seed: pv.seed } : {}),
    formats,
    ...(pv.extra ? { extra: pv.extra } : {}),
  };
  writeJsonAtomic(join(opts.outDir, 'provenance.json'), provenance);
  files.push('provenance.json');
  return { outDir: opts.outDir, files, arch, provenance };
}

export { foldSubnet } from './folded';
export { buildTfjsModel, saveTfjsModel, loadTfjsModel } from './tfjs';
export { buildOnnxModel, decodeOnnxModel } from './onnx';
