/**
 * The engine's one entry point: the CLI, the training runner and the desktop app import from here only.
 * Nothing in the engine imports `electron`.
 */
export * from './backend';
export * from './ops';
export * from './rng';
export * from './flops';
export * from './losses';
export * from './supernet';
export * from './calibration';
export * from './sandwich';
export * from './spaces/schema';
export * from './spaces/genome';
export * from './spaces/plan';
export * from './spaces/registry';
export type { NamedSubnet } from './spaces/builtin';
