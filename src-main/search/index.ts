/** Search: Pareto fronts, evolutionary and random search, subnet evaluation, latency. See docs/SEARCH.md. */
export * from './pareto';
export * from './evolution';
export * from './evaluate';
export * from './latency';
