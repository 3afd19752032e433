/**
 * The engine's entry point (TF.js): the backend ladder, the supernet with its sliced weights, the ops, the losses,
 * the sandwich step, BN calibration and static extraction, and subnet evaluation; plus everything of the TF.js-free
 * core (`./core`), which code that must not load TF.js imports instead. Other folders import one of these two
 * entries, never an engine submodule. Nothing in the engine imports `electron`.
 */
export * from './core';
export * from './backend';
export * from './ops';
export * from './losses';
export * from './supernet';
export * from './calibration';
export * from './sandwich';
export * from './evaluate';
export * from './tensor-memory';
