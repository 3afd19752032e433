// Runs exported TF.js models in a fresh Node process with nothing but @tensorflow/tfjs: reads model.json and its
// shards, loads with tf.loadLayersModel, predicts on the saved input. Usage: node run-tfjs.mjs jobs.json
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
const jobs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
for (const job of jobs) {
  const json = JSON.parse(readFileSync(join(job.dir, 'model.json'), 'utf8'));
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const bufs = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(job.dir, p))));
  const data = Buffer.concat(bufs);
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
  const x = tf.tensor(job.input.data, job.input.shape);
  const y = model.predict(x);
  writeFileSync(job.out, JSON.stringify({ shape: y.shape, data: Array.from(await y.data()), layers: model.layers.map((l) => l.getClassName()) }));
}
