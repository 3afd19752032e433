/**
 * Seeded synthetic search results for the explorer benchmark: subnets of two runs ("adaptive-alpha" and "kl") spread
 * like an evolutionary search's archive over a 32×32 space — cost log-uniform over the space's range (2.9–25.3
 * MFLOPs, as alphanet-cifar32), accuracy rising with log cost up to a per-run ceiling with most subnets well below
 * it, params and latency roughly proportional to cost, and a few percent never timed (latency null). Only the
 * shapes matter here (density, overlap, a front of a few dozen points), not realism of the numbers.
 */
import { Rng } from '../../src-main/engine/core/rng';
import type { ExplorerPoint, SeriesDef } from '../lib/pareto/types';

export const BENCH_SERIES: SeriesDef[] = [
  { id: 'adaptive-alpha', label: 'run 1 · adaptive-alpha' },
  { id: 'kl', label: 'run 2 · kl' },
];

/** Cost range of alphanet-cifar32 (min and max subnet), MFLOPs. */
const MFLOPS = [2.9, 25.3] as const;

/** `n` points split evenly over {@link BENCH_SERIES}; the same seed gives the same points. */
export function benchPoints(n: number, seed = 1): ExplorerPoint[] {
  const rng = new Rng(seed);
  const out: ExplorerPoint[] = [];
  const span = Math.log(MFLOPS[1] / MFLOPS[0]);
  for (let i = 0; i < n; i++) {
    const s = i % BENCH_SERIES.length;
    const mflops = MFLOPS[0] * Math.exp(rng.next() * span);
    const t = Math.log(mflops / MFLOPS[0]) / span;
    // Ceiling per run: kl a little above adaptive-alpha at low cost, the two closer at high cost.
    const ceiling = s === 0 ? 0.6 + 0.2 * Math.sqrt(t) : 0.64 + 0.17 * Math.sqrt(t);
    const accuracy = Math.max(0.1, ceiling - Math.abs(rng.normal()) * 0.035 - rng.next() * rng.next() * 0.12);
    const mparams = mflops * (0.045 + rng.next() * 0.02);
    const latencyMs = rng.next() < 0.03 ? null : 0.9 + mflops * 0.28 * (0.85 + rng.next() * 0.3);
    out.push({
      id: `${BENCH_SERIES[s].id.slice(0, 2)}-${i.toString(16).padStart(4, '0')}`,
      accuracy,
      mflops,
      latencyMs,
      mparams,
      runId: s + 1,
      searchId: s + 1,
      series: BENCH_SERIES[s].id,
      pinned: i % 2503 === 7,
    });
  }
  return out;
}
