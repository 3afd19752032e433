/**
 * The accuracy predictor's model as plain data: a ReLU MLP ending in one linear output, its weights in one
 * Float32Array, and a forward pass in plain JavaScript.
 *
 * Training needs TF.js and happens in the CLI / runner process (fit.ts); *using* a trained predictor does not, so the
 * workbench service (Electron main) can score points and compute gene importance from the stored weights without
 * ever loading TF.js (ARCHITECTURE: TF.js is never reachable from main). The inputs are one-hot, so the first layer
 * skips zero features: a prediction costs about one hidden×hidden product per hidden layer.
 */

export interface MlpLayout {
  /** Input features. */
  input: number;
  /** Hidden layer sizes (ReLU after each); the output layer has one unit and no activation. */
  hidden: number[];
}

export interface Mlp {
  layout: MlpLayout;
  /**
   * Every parameter, layer after layer: the kernel row-major [in][out], then the bias [out]; the output layer last
   * (kernel [hidden.at(-1)][1], bias [1]).
   */
  params: Float32Array;
}

/** [in, out] of every dense layer, the output layer last. */
export function layerShapes(layout: MlpLayout): [number, number][] {
  const sizes = [layout.input, ...layout.hidden, 1];
  return sizes.slice(1).map((out, i) => [sizes[i], out]);
}

export function paramCount(layout: MlpLayout): number {
  return layerShapes(layout).reduce((s, [i, o]) => s + i * o + o, 0);
}

export function checkMlp(m: Mlp): void {
  const want = paramCount(m.layout);
  if (m.params.length !== want) throw new RangeError(`predictor weights: expected ${want} parameters for layout ${JSON.stringify(m.layout)}, got ${m.params.length}`);
}

/** Predictions for n inputs (row-major n × input). */
export function mlpPredict(m: Mlp, x: Float32Array, n: number): Float64Array {
  checkMlp(m);
  const shapes = layerShapes(m.layout);
  if (x.length !== n * m.layout.input) throw new RangeError(`mlpPredict: expected ${n} × ${m.layout.input} inputs, got ${x.length} values`);
  const out = new Float64Array(n);
  // Two activation buffers, swapped after every layer; both hold the widest layer (or the input).
  const size = Math.max(m.layout.input, ...shapes.map(([, o]) => o));
  let a = new Float64Array(size);
  let b = new Float64Array(size);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < m.layout.input; i++) a[i] = x[r * m.layout.input + i];
    let off = 0;
    shapes.forEach(([nin, nout], li) => {
      const w = off;
      const bias = off + nin * nout;
      for (let o = 0; o < nout; o++) b[o] = m.params[bias + o];
      for (let i = 0; i < nin; i++) {
        const ai = a[i];
        if (ai === 0) continue;
        const row = w + i * nout;
        for (let o = 0; o < nout; o++) b[o] += ai * m.params[row + o];
      }
      if (li < shapes.length - 1) for (let o = 0; o < nout; o++) if (b[o] < 0) b[o] = 0;
      off = bias + nout;
      [a, b] = [b, a];
    });
    out[r] = a[0];
  }
  return out;
}
