/**
 * The engine's TF.js-free core: search spaces (schema, built-in spaces, registry), genomes, the layer plan that every
 * consumer reads, the analytic FLOPs counter, the seeded RNG, the backend names, the training configuration and the
 * checkpoint file format (the interface between training and search). Processes that never compute (Electron main,
 * the workbench service, the job managers) import this entry and never load TF.js; nothing under `core/` imports
 * `@tensorflow/*` (test/unit/architecture/import-graph.test.ts). The TF.js part is `engine/index.ts`, which
 * re-exports all of this.
 */
export * from './backend-names';
export * from './rng';
export * from './schema';
export * from './genome';
export * from './plan';
export * from './flops';
export * from './registry';
export * from './train-config';
export * from './checkpoint';
export type { NamedSubnet } from './builtin';
