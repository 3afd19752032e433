/**
 * The project's one seeded PRNG (sfc32, seeded through splitmix32) whose whole state is four 32-bit integers, so a
 * checkpoint can carry it and a resumed run draws the same numbers. The engine, the trainer and the data pipeline
 * (demo set, splits, shuffles, augmentation) all draw from it, so results depend only on seeds. Not cryptographic.
 */
export type RngState = [number, number, number, number];

/** One step of splitmix32 from state `a`: returns the next state and output. */
function splitmix32(a: number): [number, number] {
  const x = (a + 0x9e3779b9) >>> 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return [x, (z ^ (z >>> 15)) >>> 0];
}

/**
 * Mixes a tuple of integers (e.g. seed, epoch, batch) into one 32-bit seed, so nearby tuples give unrelated streams.
 * Both 32-bit halves of each number count, so seeds above 2^32 matter too.
 */
export function mixSeeds(...seeds: number[]): number {
  let h = 0x811c9dc5;
  for (const s of seeds) {
    const lo = s >>> 0;
    const hi = Math.floor(s / 4294967296) >>> 0;
    h = (splitmix32(h ^ lo)[1] ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
  }
  return h;
}

export class Rng {
  private s: Uint32Array;
  /** The second value of the last Box–Muller pair (not part of `state()`: draw normals only between checkpoints). */
  private spare: number | null = null;

  /** An Rng seeded by a tuple of integers (see `mixSeeds`). */
  static fromSeeds(...seeds: number[]): Rng {
    return new Rng(mixSeeds(...seeds));
  }

  /** Seeds from an integer (any JS number; it is hashed) or restores a saved state. */
  constructor(seed: number | RngState = 0) {
    if (Array.isArray(seed)) {
      this.s = Uint32Array.from(seed);
    } else {
      // splitmix32 expands the seed into four well-mixed words.
      let x = seed >>> 0;
      const next = () => {
        const [nx, out] = splitmix32(x);
        x = nx;
        return out;
      };
      this.s = Uint32Array.from([next(), next(), next(), next()]);
      for (let i = 0; i < 12; i++) this.nextUint32();
    }
  }

  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  nextUint32(): number {
    const s = this.s;
    const t = (((s[0] + s[1]) >>> 0) + s[3]) >>> 0;
    s[3] = (s[3] + 1) >>> 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) >>> 0;
    s[2] = (s[2] << 21) | (s[2] >>> 11);
    s[2] = (s[2] + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniformly chosen element (Python's `random.choice`). */
  choice<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('choice from an empty list');
    return xs[this.int(xs.length)];
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller, caching the second value of each pair). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles in place (Fisher–Yates). */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/** A permutation of 0..n-1 as a Uint32Array. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return rng.shuffle(p);
}
