/**
 * The engine's TF.js-free core: search spaces (schema, built-in spaces, registry), genomes, the layer plan that every
 * consumer reads, the analytic FLOPs counter, the seeded RNG and the backend names. Processes that never compute
 * (Electron main, the workbench service, the job managers) import this entry and never load TF.js; nothing under
 * `core/` imports `@tensorflow/*` (the import-graph test checks it). The TF.js part is `engine/index.ts`, which
 * re-exports all of this.
 */
export * from './backend-names';
export * from './rng';
export * from './schema';
export * from './genome';
export * from './plan';
export * from './flops';
export * from './registry';
export type { NamedSubnet } from './builtin';
