/**
 * Latency on this machine: direct measurement of a static subnet, and a per-layer lookup table (LUT) that predicts
 * a whole subnet's latency from its layers (the once-for-all / FBNet style predictor), timed *in context*.
 *
 * - Measurement: warm-up runs, then the median of `repeats` timed runs of the eval-mode forward at a given batch size
 *   (inputs at the subnet's resolution, so no resize). The output is forced by reading one element back, which
 *   costs the same for every network.
 * - LUT entries are keyed by what determines a layer's cost: the first conv (cIn, cOut, k, stride, input size), each
 *   MB block (cIn, cMid, cOut, k, stride, SE channels, input size, expand conv, shortcut pool/conv), the head (cIn,
 *   cExpand, cLast, classes, size). A table is valid for one machine + backend + batch size, recorded as a device
 *   fingerprint.
 * - In-context timing: an entry is not a layer timed alone (that missed the per-op dispatch between layers, the
 *   tidy/read-back harness counted once per layer, and the fused kernels the real forward uses: 18 % median error).
 *   Instead a set of real static subnets that together contain every key at least `samplesPerKey` times (a greedy
 *   cover drawn from random genomes) runs its ordinary forward with the forward's layer hook, which fires after
 *   every conv and linear layer; the clock is read at each hook, and the time since the previous reading is charged
 *   to the layer the hook belongs to. So a layer's entry is exactly what it adds to a whole forward — its own ops,
 *   their dispatch, the previous block's residual tail (whose size is fixed by this layer's input) and cache effects
 *   — and the entries of one forward sum to that forward. Everything before the first conv's hook (plan lookup)
 *   goes to the first conv, everything after the classifier (read-back, tidy) to the head. A subnet's per-slot
 *   times are those of its least-disturbed run (see `slotTimes`); each entry is the median over the subnets
 *   containing it. This needs a synchronous backend (wasm,
 *   cpu, tensorflow), where an op has run when its call returns.
 * - Noise on a shared CPU: first a settle phase (untimed forwards for `settleMs` of CPU time: V8 tiers up the JS
 *   and the WASM code over the first second or so of forwards, which made early timings 2–3× slower), then every subnet is visited in
 *   `rounds` round-robin visits (one untimed forward to warm the caches, then timed ones), so drift and bursts of
 *   load hit every subnet alike. The error report measures its test subnets the same way.
 * - Calibration: prediction = scale · Σ entries + overheadMs, with scale and overheadMs fitted (Theil–Sen) on a
 *   few whole subnets (min, max and random ones, not the report's), timed without the hook. It absorbs the hook's
 *   own cost and what the in-context sums still miss; with good entries scale is close to 1. With fewer than 3 fit
 *   subnets (or a degenerate fit) scale is 1 and overheadMs the median difference.
 * - Held-out error: 20 more random subnets are measured whole among the same visits and used for nothing else; the
 *   table records its error on them. That is the table's own error. A later check (`latencyErrorReport`) adds the
 *   machine's drift since the build, which on a shared VM reaches ±10–25 % for minutes (docs/BENCHMARKS.md) and
 *   which it reports separately as `speed`.
 */
export * from './device';
export * from './timing';
export * from './layer-keys';
export * from './in-context';
export * from './table';
export * from './persistence';
export * from './errors';
