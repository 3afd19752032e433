/**
 * The Pareto explorer for app pages: `import { ParetoExplorer, type ExplorerPoint } from '../lib/pareto'`.
 * See ParetoExplorer.svelte for the props and interactions.
 */
export { default as ParetoExplorer } from './ParetoExplorer.svelte';
export { budgetViolations, isFeasible } from './budget';
export type { ExplorerChart, RenderStats } from './chart';
export { frontIndices } from './front';
export type { Budget, ExplorerPoint, SeriesDef, XAxis } from './types';
