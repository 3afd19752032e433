/**
 * Rank and error metrics of a predictor on held-out subnets: Kendall's τ-b, Spearman's ρ (both tie-corrected, as
 * scipy.stats computes them) and the root-mean-square error. Search only needs the predictor to *order* subnets
 * right, so τ is the headline number; RMSE says how far its accuracies are off.
 */

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} vs ${b.length} values`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) throw new RangeError(`${what}: value ${i} is not a finite number`);
  }
}

/**
 * Kendall's τ-b: (concordant − discordant) / √((n0 − ties in x)(n0 − ties in y)) over all pairs. O(n²), which is a
 * few ms for the few thousand subnets a predictor sees. NaN when either side is constant or n < 2.
 */
export function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y, 'kendallTau');
  const n = x.length;
  let s = 0;
  let tx = 0;
  let ty = 0;
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      pairs++;
      if (dx === 0) tx++;
      if (dy === 0) ty++;
      s += dx * dy;
    }
  }
  const denom = Math.sqrt((pairs - tx) * (pairs - ty));
  return denom > 0 ? s / denom : NaN;
}

/** 1-based ranks, ties getting the mean of the ranks they span. */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/** Pearson's correlation; NaN when either side is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y, 'pearson');
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] - mx;
    const b = y[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Spearman's ρ: Pearson's correlation of the average ranks. */
export function spearmanRho(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y, 'spearmanRho');
  return pearson(averageRanks(x), averageRanks(y));
}

/** √(mean (predicted − actual)²), in the inputs' unit. */
export function rmse(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkPair(predicted, actual, 'rmse');
  if (predicted.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < predicted.length; i++) s += (predicted[i] - actual[i]) ** 2;
  return Math.sqrt(s / predicted.length);
}

export interface RankMetrics {
  n: number;
  kendallTau: number;
  spearmanRho: number;
  /** Points of top-1 (accuracies in [0, 1] are multiplied by 100). */
  rmsePoints: number;
}

/** τ, ρ and RMSE of predicted vs measured accuracies (both in [0, 1]). */
export function rankMetrics(predicted: ArrayLike<number>, measured: ArrayLike<number>): RankMetrics {
  return {
    n: predicted.length,
    kendallTau: kendallTau(predicted, measured),
    spearmanRho: spearmanRho(predicted, measured),
    rmsePoints: 100 * rmse(predicted, measured),
  };
}
