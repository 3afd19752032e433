/**
 * Export of a calibrated static subnet as a TF.js LayersModel (`model.json` + weight shards) built only from
 * standard tfjs-layers classes, so `tf.loadLayersModel` loads it in any fresh process without custom registrations.
 *
 * Mapping (input NHWC at the subnet's resolution; output logits):
 *   conv + BN            → ZeroPadding2D(k//2) + Conv2D('valid', bias = folded BN). Never padding 'same': with
 *                          stride 2 TF's 'same' pads asymmetrically, PyTorch (and the engine) symmetrically.
 *   depthwise + BN       → ZeroPadding2D + DepthwiseConv2D('valid', bias = folded BN)
 *   swish                → Activation('swish') (built in since tfjs-layers 3.x: x·sigmoid(x))
 *   SE                   → GlobalAveragePooling2D → Dense(relu) → Dense → ReLU(maxValue 1) → Reshape → Multiply.
 *                          h-sigmoid(z) = relu6(z + 3)/6 = min(max((z + 3)/6, 0), 1): the affine (z+3)/6 is folded
 *                          into the second Dense (W/6, (b+3)/6) and the clip is ReLU with maxValue 1 — exact.
 *   shortcut pool        → [ZeroPadding2D(1) when odd] + AveragePooling2D(2, 2, 'valid'); zeros are padded
 *                          explicitly, so they are counted (count_include_pad).
 *   residual             → Add
 *   head                 → Conv2D 1×1 + swish → GlobalAveragePooling2D → Dense(no bias) → swish → Dense
 * The input is not resized: feed images at the subnet's resolution.
 *
 * Saving: there is no `file://` handler without tfjs-node, so a custom save handler writes `model.json` and
 * 4 MiB weight shards (the converter's shard size), each atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { FoldedConv, FoldedDense, FoldedSubnet } from './folded';
import { writeFileAtomic, writeJsonAtomic } from '../atomic-files';

const SHARD_BYTES = 4 * 1024 * 1024;

/** Builds the model and sets its weights. The caller disposes it. */
export function buildTfjsModel(f: FoldedSubnet, name = 'alphanet_subnet'): tf.LayersModel {
  const weights: { layer: string; values: tf.Tensor[] }[] = [];
  const input = tf.input({ shape: [f.resolution, f.resolution, f.inputChannels], name: 'input' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

  const conv = (x: tf.SymbolicTensor, c: FoldedConv, lname: string): tf.SymbolicTensor => {
    const p = c.k >> 1;
    if (p > 0) x = apply(tf.layers.zeroPadding2d({ padding: p, name: `${lname}_pad` }), x);
    const useBias = c.b !== undefined;
    if (c.kind === 'depthwise') {
      x = apply(tf.layers.depthwiseConv2d({ kernelSize: c.k, strides: c.stride, padding: 'valid', depthMultiplier: 1, useBias, name: lname }), x);
      weights.push({ layer: lname, values: [tf.tensor4d(c.w, [c.k, c.k, c.cIn, 1]), ...(useBias ? [tf.tensor1d(c.b!)] : [])] });
    } else {
      x = apply(tf.layers.conv2d({ filters: c.cOut, kernelSize: c.k, strides: c.stride, padding: 'valid', useBias, name: lname }), x);
      weights.push({ layer: lname, values: [tf.tensor4d(c.w, [c.k, c.k, c.cIn, c.cOut]), ...(useBias ? [tf.tensor1d(c.b!)] : [])] });
    }
    return x;
  };
  const dense = (x: tf.SymbolicTensor, d: FoldedDense, lname: string, activation?: 'relu', transform?: (w: Float32Array, b: Float32Array) => [Float32Array, Float32Array]): tf.SymbolicTensor => {
    const useBias = d.b !== undefined;
    x = apply(tf.layers.dense({ units: d.cOut, useBias, name: lname, ...(activation ? { activation } : {}) }), x);
    let w = d.w;
    let b = d.b;
    if (transform) [w, b] = transform(w, b!);
    weights.push({ layer: lname, values: [tf.tensor2d(w, [d.cIn, d.cOut]), ...(useBias ? [tf.tensor1d(b!)] : [])] });
    return x;
  };
  const swish = (x: tf.SymbolicTensor, lname: string) => apply(tf.layers.activation({ activation: 'swish', name: lname }), x);

  let h = swish(conv(input, f.first, 'first_conv'), 'first_swish');
  f.blocks.forEach((b, i) => {
    const p = `block${i}`;
    const x = h;
    if (b.expand) h = swish(conv(h, b.expand, `${p}_expand`), `${p}_expand_swish`);
    h = swish(conv(h, b.dw, `${p}_dw`), `${p}_dw_swish`);
    if (b.se) {
      const c = b.plan.cMid;
      let s = apply(tf.layers.globalAveragePooling2d({ name: `${p}_se_pool` }), h);
      s = dense(s, b.se.reduce, `${p}_se_reduce`, 'relu');
      s = dense(s, b.se.expand, `${p}_se_expand`, undefined, (w, bias) => [w.map((v) => v / 6), bias.map((v) => (v + 3) / 6)]);
      s = apply(tf.layers.reLU({ maxValue: 1, name: `${p}_se_hsigmoid` }), s);
      s = apply(tf.layers.reshape({ targetShape: [1, 1, c], name: `${p}_se_reshape` }), s);
      h = apply(tf.layers.multiply({ name: `${p}_se_mul` }), [h, s]);
    }
    h = conv(h, b.project, `${p}_project`);
    let sc = x;
    if (b.shortcutPool) {
      if (b.shortcutPoolPad) sc = apply(tf.layers.zeroPadding2d({ padding: 1, name: `${p}_shortcut_pool_pad` }), sc);
      sc = apply(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `${p}_shortcut_pool` }), sc);
    }
    if (b.shortcut) sc = conv(sc, b.shortcut, `${p}_shortcut`);
    h = apply(tf.layers.add({ name: `${p}_add` }), [h, sc]);
  });
  h = swish(conv(h, f.head.expand, 'head_expand'), 'head_expand_swish');
  let v = apply(tf.layers.globalAveragePooling2d({ name: 'head_pool' }), h);
  v = swish(dense(v, f.head.mix, 'head_mix'), 'head_mix_swish');
  v = dense(v, f.head.classifier, 'classifier');

  const model = tf.model({ inputs: input, outputs: v, name });
  for (const w of weights) {
    model.getLayer(w.layer).setWeights(w.values);
    tf.dispose(w.values);
  }
  return model;
}

function joinWeightData(d: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(d) ? tf.io.CompositeArrayBuffer.join(d) : d;
}

/** Saves `model.json` + `group1-shardNofM.bin` into `dir`; returns the written file names. */
export async function saveTfjsModel(model: tf.LayersModel, dir: string, metadata?: Record<string, unknown>): Promise<string[]> {
  const files: string[] = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = new Uint8Array(artifacts.weightData ? joinWeightData(artifacts.weightData) : new ArrayBuffer(0));
      const n = Math.max(1, Math.ceil(data.byteLength / SHARD_BYTES));
      const paths = Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`);
      paths.forEach((p, i) => {
        writeFileAtomic(join(dir, p), data.subarray(i * SHARD_BYTES, Math.min(data.byteLength, (i + 1) * SHARD_BYTES)));
        files.push(p);
      });
      // model.json last: its presence means the shards it names are complete.
      writeJsonAtomic(join(dir, 'model.json'), {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'AlphaNet Workbench',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
        ...(metadata ? { userDefinedMetadata: metadata } : {}),
      });
      files.push('model.json');
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return files;
}

/** Loads a model saved by `saveTfjsModel` (or any single-group model.json + shards) from a folder. */
export async function loadTfjsModel(dir: string): Promise<tf.LayersModel> {
  const mj = join(dir, 'model.json');
  if (!existsSync(mj)) throw new Error(`no model.json in ${dir}`);
  const json = JSON.parse(readFileSync(mj, 'utf8')) as tf.io.ModelJSON;
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(readFileSync(join(dir, p)));
  }
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    all.set(b, off);
    off += b.byteLength;
  }
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: all.buffer }));
}
