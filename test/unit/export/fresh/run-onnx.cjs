// Runs exported ONNX models in a fresh Node process with onnxruntime-node (CPU). Input is NHWC in the job file and
// is transposed to NCHW here. Usage: node run-onnx.cjs jobs.json
const { readFileSync, writeFileSync } = require('node:fs');
const ort = require('onnxruntime-node');

(async () => {
  const jobs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  for (const job of jobs) {
    const session = await ort.InferenceSession.create(job.file);
    const [n, h, w, c] = job.input.shape;
    const nchw = new Float32Array(n * c * h * w);
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let ch = 0; ch < c; ch++) nchw[((b * c + ch) * h + y) * w + x] = job.input.data[((b * h + y) * w + x) * c + ch];
    const out = await session.run({ input: new ort.Tensor('float32', nchw, [n, c, h, w]) });
    const y = out.logits;
    writeFileSync(job.out, JSON.stringify({ shape: y.dims, data: Array.from(y.data), inputs: session.inputNames, outputs: session.outputNames }));
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
