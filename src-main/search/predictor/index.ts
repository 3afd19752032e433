/**
 * The accuracy predictor's engine-free part (docs/SEARCH.md, "Accuracy predictor"): genes, encoding, metrics, the MLP
 * as data with a plain-JS forward pass, scoring and gene importance. Safe to import from the service (Electron
 * main): nothing here reaches TF.js. Training (fit.ts, build.ts) is imported directly by the processes that run it.
 */
export * from './genes';
export * from './encoding';
export * from './metrics';
export * from './mlp';
export * from './predictor';
export * from './importance';
