/*
 * WASM SIMD kernels for the portable supernet ops on TF.js's WASM backend (which has no depthwise gradient kernels
 * and slow elementwise / transpose paths). Compiled by build.sh into kernels.wasm.ts; see ../wasm-kernels.ts.
 *
 * Rules that keep these safe to run inside TF.js's own linear memory (the module imports it): no globals, no static
 * data, no arrays on the stack, no libc (build.sh checks the module has no data segment and never touches the stack
 * pointer). Every pointer is a byte offset into that memory; all tensors are float32, NHWC, contiguous.
 *
 * Sums over large counts are accumulated in two levels (a short run in registers, then into the output) so the
 * float32 rounding error stays near that of a pairwise sum.
 */
#include <wasm_simd128.h>

typedef float f32;
#define EXPORT(name) __attribute__((export_name(#name))) void name
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))
#define MUL wasm_f32x4_mul
#define ADD wasm_f32x4_add
#define SPLAT wasm_f32x4_splat
#define MADD(acc, a, b) ADD((acc), MUL((a), (b)))

static inline int imin(int a, int b) { return a < b ? a : b; }

/* First and last output column ox whose input column ox*s + j − p lies in [0, w). lo > hi when none. */
static inline int col_lo(int j, int s, int p) { return p - j > 0 ? (p - j + s - 1) / s : 0; }
static inline int col_hi(int j, int s, int p, int w, int wo) {
  int t = w - 1 + p - j;
  return t < 0 ? -1 : imin(t / s, wo - 1);
}

static void zero(f32 *p, int n) {
  int i = 0;
  v128_t z = SPLAT(0.f);
  for (; i + 4 <= n; i += 4) ST(p + i, z);
  for (; i < n; i++) p[i] = 0.f;
}

/*
 * One output pixel of a depthwise correlation, all channels: op[c] = Σ over taps i = ilo, ilo+is, … ≤ ihi and
 * j = jlo, jlo+js, … ≤ jhi of src[·,·,c] · w[i,j,c], where src0 points at the source pixel of tap (ilo, jlo) and the
 * source pixel moves by rstep floats per i step and cstep floats per j step. Channels go in blocks of 16, 8, 4 (V
 * accumulators in registers), then one by one.
 */
#define DW_GATHER(V)                                                                                 \
  for (; c + 4 * V <= C; c += 4 * V) {                                                               \
    v128_t a[V];                                                                                     \
    for (int v = 0; v < V; v++) a[v] = SPLAT(0.f);                                                   \
    const f32 *sr = src0 + c, *wr = w + (ilo * K + jlo) * C + c;                                     \
    for (int i = ilo; i <= ihi; i += is, sr += rstep, wr += is * K * C) {                            \
      const f32 *sp = sr, *wp = wr;                                                                  \
      for (int j = jlo; j <= jhi; j += js, sp += cstep, wp += js * C)                                \
        for (int v = 0; v < V; v++) a[v] = MADD(a[v], LD(sp + 4 * v), LD(wp + 4 * v));              \
    }                                                                                                \
    for (int v = 0; v < V; v++) ST(op + c + 4 * v, a[v]);                                            \
  }

#define DW_GATHER_ALL                                                                                \
  int c = 0;                                                                                         \
  DW_GATHER(4)                                                                                       \
  DW_GATHER(2)                                                                                       \
  DW_GATHER(1)                                                                                       \
  for (; c < C; c++) {                                                                               \
    f32 a = 0.f;                                                                                     \
    const f32 *sr = src0 + c, *wr = w + (ilo * K + jlo) * C + c;                                     \
    for (int i = ilo; i <= ihi; i += is, sr += rstep, wr += is * K * C) {                            \
      const f32 *sp = sr, *wp = wr;                                                                  \
      for (int j = jlo; j <= jhi; j += js, sp += cstep, wp += js * C) a += *sp * *wp;                \
    }                                                                                                \
    op[c] = a;                                                                                       \
  }

/* y[n,oy,ox,c] = Σ_{i,j} x[n, oy·s+i−p, ox·s+j−p, c] · w[i,j,c]  (depthwise forward, zero padding p). */
EXPORT(dw_forward)(const f32 *x, const f32 *w, f32 *y, int N, int H, int W, int C, int K, int S, int P, int Ho, int Wo) {
  const int is = 1, js = 1, rstep = W * C, cstep = C;
  for (int n = 0; n < N; n++)
    for (int oy = 0; oy < Ho; oy++) {
      const int ilo = P - oy * S > 0 ? P - oy * S : 0, ihi = imin(K, H + P - oy * S) - 1;
      if (ilo > ihi) {
        zero(y + (n * Ho + oy) * Wo * C, Wo * C);
        continue;
      }
      for (int ox = 0; ox < Wo; ox++) {
        const int jlo = P - ox * S > 0 ? P - ox * S : 0, jhi = imin(K, W + P - ox * S) - 1;
        const f32 *src0 = x + ((n * H + oy * S + ilo - P) * W + ox * S + jlo - P) * C;
        f32 *op = y + ((n * Ho + oy) * Wo + ox) * C;
        if (jlo > jhi) {
          zero(op, C);
          continue;
        }
        DW_GATHER_ALL
      }
    }
}

/* Smallest t ≥ lo with t ≡ r (mod s). */
static inline int up_to_congruent(int lo, int r, int s) { return lo + (((r - lo) % s) + s) % s; }

/* dx[n,y,x,c] = Σ over (oy,ox,i,j) with oy·s+i−p = y, ox·s+j−p = x of dy[n,oy,ox,c] · w[i,j,c] (gathered). */
EXPORT(dw_input_grad)(const f32 *dy, const f32 *w, f32 *dx, int N, int H, int W, int C, int K, int S, int P, int Ho, int Wo) {
  // Tap i reads dy row (yy + P − i)/S: as i grows by S the row falls by one; likewise columns.
  const int is = S, js = S, rstep = -Wo * C, cstep = -C;
  for (int n = 0; n < N; n++)
    for (int yy = 0; yy < H; yy++) {
      const int ty = yy + P;
      const int ilo = up_to_congruent(ty - S * (Ho - 1) > 0 ? ty - S * (Ho - 1) : 0, ty, S);
      const int ihi = imin(K - 1, ty);
      for (int xx = 0; xx < W; xx++) {
        const int tx = xx + P;
        const int jlo = up_to_congruent(tx - S * (Wo - 1) > 0 ? tx - S * (Wo - 1) : 0, tx, S);
        const int jhi = imin(K - 1, tx);
        f32 *op = dx + ((n * H + yy) * W + xx) * C;
        if (ilo > ihi || jlo > jhi) {
          zero(op, C);
          continue;
        }
        const f32 *src0 = dy + ((n * Ho + (ty - ilo) / S) * Wo + (tx - jlo) / S) * C;
        DW_GATHER_ALL
      }
    }
}

/* dw[i,j,c] = Σ_{n,oy,ox} x[n, oy·s+i−p, ox·s+j−p, c] · dy[n,oy,ox,c]. Each output row's run sums in registers. */
EXPORT(dw_filter_grad)(const f32 *x, const f32 *dy, f32 *dw, int N, int H, int W, int C, int K, int S, int P, int Ho, int Wo) {
  zero(dw, K * K * C);
  for (int n = 0; n < N; n++)
    for (int oy = 0; oy < Ho; oy++) {
      const f32 *dyr = dy + (n * Ho + oy) * Wo * C;
      for (int i = 0; i < K; i++) {
        int yy = oy * S + i - P;
        if (yy < 0 || yy >= H) continue;
        const f32 *xr = x + (n * H + yy) * W * C;
        for (int j = 0; j < K; j++) {
          int lo = col_lo(j, S, P), hi = col_hi(j, S, P, W, Wo);
          if (lo > hi) continue;
          f32 *dwp = dw + (i * K + j) * C;
          const int xs = S * C;
          int c = 0;
          for (; c + 8 <= C; c += 8) {
            v128_t a0 = SPLAT(0.f), a1 = SPLAT(0.f);
            const f32 *xp = xr + (lo * S + j - P) * C + c;
            const f32 *dp = dyr + lo * C + c;
            for (int ox = lo; ox <= hi; ox++, xp += xs, dp += C) {
              a0 = MADD(a0, LD(xp), LD(dp));
              a1 = MADD(a1, LD(xp + 4), LD(dp + 4));
            }
            ST(dwp + c, ADD(LD(dwp + c), a0));
            ST(dwp + c + 4, ADD(LD(dwp + c + 4), a1));
          }
          for (; c + 4 <= C; c += 4) {
            v128_t a0 = SPLAT(0.f);
            const f32 *xp = xr + (lo * S + j - P) * C + c;
            const f32 *dp = dyr + lo * C + c;
            for (int ox = lo; ox <= hi; ox++, xp += xs, dp += C) a0 = MADD(a0, LD(xp), LD(dp));
            ST(dwp + c, ADD(LD(dwp + c), a0));
          }
          for (; c < C; c++) {
            f32 a = 0.f;
            for (int ox = lo; ox <= hi; ox++) a += xr[(ox * S + j - P) * C + c] * dyr[ox * C + c];
            dwp[c] += a;
          }
        }
      }
    }
}

#define ROWS 32 /* rows summed in registers before adding into the per-channel total */

/* Per-channel sum of x [M,C], times `scale`, into out[C]. */
static void col_sums(const f32 *x, int M, int C, f32 *out, f32 scale) {
  zero(out, C);
  for (int r0 = 0; r0 < M; r0 += ROWS) {
    int r1 = imin(M, r0 + ROWS);
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t a = SPLAT(0.f);
      const f32 *p = x + r0 * C + c;
      for (int r = r0; r < r1; r++, p += C) a = ADD(a, LD(p));
      ST(out + c, ADD(LD(out + c), a));
    }
    for (; c < C; c++) {
      f32 a = 0.f;
      for (int r = r0; r < r1; r++) a += x[r * C + c];
      out[c] += a;
    }
  }
  int c = 0;
  for (; c + 4 <= C; c += 4) ST(out + c, MUL(LD(out + c), SPLAT(scale)));
  for (; c < C; c++) out[c] *= scale;
}

/*
 * Batch statistics of x [M,C]: mean and biased variance in one pass, from sums of d = x − K with the per-channel
 * shift K = x[0,c] (the "shifted data" algorithm): var = E[d²] − E[d]². K lies within a few standard deviations of
 * the mean, so the subtraction loses only a few bits, unlike the unshifted E[x²] − E[x]².
 */
EXPORT(bn_stats)(const f32 *x, int M, int C, f32 *mean, f32 *var) {
  zero(mean, C);
  zero(var, C);
  for (int r0 = 0; r0 < M; r0 += ROWS) {
    int r1 = imin(M, r0 + ROWS);
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t s1 = SPLAT(0.f), s2 = SPLAT(0.f), k = LD(x + c);
      const f32 *p = x + r0 * C + c;
      for (int r = r0; r < r1; r++, p += C) {
        v128_t d = wasm_f32x4_sub(LD(p), k);
        s1 = ADD(s1, d);
        s2 = MADD(s2, d, d);
      }
      ST(mean + c, ADD(LD(mean + c), s1));
      ST(var + c, ADD(LD(var + c), s2));
    }
    for (; c < C; c++) {
      f32 s1 = 0.f, s2 = 0.f;
      for (int r = r0; r < r1; r++) {
        f32 d = x[r * C + c] - x[c];
        s1 += d;
        s2 += d * d;
      }
      mean[c] += s1;
      var[c] += s2;
    }
  }
  const f32 inv = 1.f / (f32)M;
  for (int c = 0; c < C; c++) {
    f32 m1 = mean[c] * inv, v = var[c] * inv - m1 * m1;
    mean[c] = x[c] + m1;
    var[c] = v > 0.f ? v : 0.f;
  }
}

/* y[m,c] = x[m,c]·a[c] + b[c]. */
EXPORT(affine)(const f32 *x, const f32 *a, const f32 *b, f32 *y, int M, int C) {
  for (int r = 0; r < M; r++) {
    const f32 *xp = x + r * C;
    f32 *yp = y + r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) ST(yp + c, MADD(LD(b + c), LD(xp + c), LD(a + c)));
    for (; c < C; c++) yp[c] = xp[c] * a[c] + b[c];
  }
}

/* sdy[c] = Σ_m dy[m,c];  sdyx[c] = Σ_m dy[m,c]·(x[m,c] − mean[c]). */
EXPORT(bn_grad_sums)(const f32 *x, const f32 *dy, const f32 *mean, int M, int C, f32 *sdy, f32 *sdyx) {
  zero(sdy, C);
  zero(sdyx, C);
  for (int r0 = 0; r0 < M; r0 += ROWS) {
    int r1 = imin(M, r0 + ROWS);
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t a = SPLAT(0.f), b = SPLAT(0.f), m = LD(mean + c);
      const f32 *xp = x + r0 * C + c;
      const f32 *dp = dy + r0 * C + c;
      for (int r = r0; r < r1; r++, xp += C, dp += C) {
        v128_t d = LD(dp);
        a = ADD(a, d);
        b = MADD(b, d, wasm_f32x4_sub(LD(xp), m));
      }
      ST(sdy + c, ADD(LD(sdy + c), a));
      ST(sdyx + c, ADD(LD(sdyx + c), b));
    }
    for (; c < C; c++) {
      f32 a = 0.f, b = 0.f;
      for (int r = r0; r < r1; r++) {
        f32 d = dy[r * C + c];
        a += d;
        b += d * (x[r * C + c] - mean[c]);
      }
      sdy[c] += a;
      sdyx[c] += b;
    }
  }
}

/* dx[m,c] = dy[m,c]·a[c] + x[m,c]·d[c] + e[c]. */
EXPORT(bn_grad_dx)(const f32 *x, const f32 *dy, const f32 *a, const f32 *d, const f32 *e, f32 *dx, int M, int C) {
  for (int r = 0; r < M; r++) {
    const f32 *xp = x + r * C, *dp = dy + r * C;
    f32 *op = dx + r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) ST(op + c, MADD(MADD(LD(e + c), LD(dp + c), LD(a + c)), LD(xp + c), LD(d + c)));
    for (; c < C; c++) op[c] = dp[c] * a[c] + xp[c] * d[c] + e[c];
  }
}

/*
 * out [K,N] = aᵀ·b for a [M,K], b [M,N] (the weight gradient of a 1×1 conv: xᵀ·dy), without materialising aᵀ.
 * Rows are taken in blocks of ROWS_TN; within a block each 4×8 tile of the output is accumulated in registers.
 */
#define ROWS_TN 64
EXPORT(gemm_tn)(const f32 *a, const f32 *b, f32 *out, int M, int K, int N) {
  zero(out, K * N);
  for (int r0 = 0; r0 < M; r0 += ROWS_TN) {
    int r1 = imin(M, r0 + ROWS_TN);
    int k = 0;
    for (; k + 4 <= K; k += 4) {
      int n = 0;
      for (; n + 8 <= N; n += 8) {
        v128_t c00 = SPLAT(0.f), c01 = SPLAT(0.f), c10 = SPLAT(0.f), c11 = SPLAT(0.f);
        v128_t c20 = SPLAT(0.f), c21 = SPLAT(0.f), c30 = SPLAT(0.f), c31 = SPLAT(0.f);
        const f32 *ap = a + r0 * K + k, *bp = b + r0 * N + n;
        for (int r = r0; r < r1; r++, ap += K, bp += N) {
          v128_t b0 = LD(bp), b1 = LD(bp + 4);
          v128_t x0 = SPLAT(ap[0]), x1 = SPLAT(ap[1]), x2 = SPLAT(ap[2]), x3 = SPLAT(ap[3]);
          c00 = MADD(c00, x0, b0); c01 = MADD(c01, x0, b1);
          c10 = MADD(c10, x1, b0); c11 = MADD(c11, x1, b1);
          c20 = MADD(c20, x2, b0); c21 = MADD(c21, x2, b1);
          c30 = MADD(c30, x3, b0); c31 = MADD(c31, x3, b1);
        }
        f32 *o = out + k * N + n;
        ST(o, ADD(LD(o), c00)); ST(o + 4, ADD(LD(o + 4), c01)); o += N;
        ST(o, ADD(LD(o), c10)); ST(o + 4, ADD(LD(o + 4), c11)); o += N;
        ST(o, ADD(LD(o), c20)); ST(o + 4, ADD(LD(o + 4), c21)); o += N;
        ST(o, ADD(LD(o), c30)); ST(o + 4, ADD(LD(o + 4), c31));
      }
      for (; n < N; n++)
        for (int kk = k; kk < k + 4; kk++) {
          f32 s = 0.f;
          for (int r = r0; r < r1; r++) s += a[r * K + kk] * b[r * N + n];
          out[kk * N + n] += s;
        }
    }
    for (; k < K; k++) {
      int n = 0;
      for (; n + 4 <= N; n += 4) {
        v128_t s = SPLAT(0.f);
        for (int r = r0; r < r1; r++) s = MADD(s, SPLAT(a[r * K + k]), LD(b + r * N + n));
        ST(out + k * N + n, ADD(LD(out + k * N + n), s));
      }
      for (; n < N; n++) {
        f32 s = 0.f;
        for (int r = r0; r < r1; r++) s += a[r * K + k] * b[r * N + n];
        out[k * N + n] += s;
      }
    }
  }
}

/* out [M,N] = a [M,K] · b [K,N]; each 4×8 output tile accumulates in registers over all of K. */
EXPORT(gemm_nn)(const f32 *a, const f32 *b, f32 *out, int M, int K, int N) {
  int r = 0;
  for (; r + 4 <= M; r += 4) {
    const f32 *a0 = a + r * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
    f32 *o = out + r * N;
    int n = 0;
    for (; n + 8 <= N; n += 8) {
      v128_t c00 = SPLAT(0.f), c01 = SPLAT(0.f), c10 = SPLAT(0.f), c11 = SPLAT(0.f);
      v128_t c20 = SPLAT(0.f), c21 = SPLAT(0.f), c30 = SPLAT(0.f), c31 = SPLAT(0.f);
      const f32 *bp = b + n;
      for (int k = 0; k < K; k++, bp += N) {
        v128_t b0 = LD(bp), b1 = LD(bp + 4);
        v128_t x0 = SPLAT(a0[k]), x1 = SPLAT(a1[k]), x2 = SPLAT(a2[k]), x3 = SPLAT(a3[k]);
        c00 = MADD(c00, x0, b0); c01 = MADD(c01, x0, b1);
        c10 = MADD(c10, x1, b0); c11 = MADD(c11, x1, b1);
        c20 = MADD(c20, x2, b0); c21 = MADD(c21, x2, b1);
        c30 = MADD(c30, x3, b0); c31 = MADD(c31, x3, b1);
      }
      ST(o + n, c00); ST(o + n + 4, c01);
      ST(o + N + n, c10); ST(o + N + n + 4, c11);
      ST(o + 2 * N + n, c20); ST(o + 2 * N + n + 4, c21);
      ST(o + 3 * N + n, c30); ST(o + 3 * N + n + 4, c31);
    }
    for (; n + 4 <= N; n += 4) {
      v128_t c0 = SPLAT(0.f), c1 = SPLAT(0.f), c2 = SPLAT(0.f), c3 = SPLAT(0.f);
      for (int k = 0; k < K; k++) {
        v128_t bv = LD(b + k * N + n);
        c0 = MADD(c0, SPLAT(a0[k]), bv); c1 = MADD(c1, SPLAT(a1[k]), bv);
        c2 = MADD(c2, SPLAT(a2[k]), bv); c3 = MADD(c3, SPLAT(a3[k]), bv);
      }
      ST(o + n, c0); ST(o + N + n, c1); ST(o + 2 * N + n, c2); ST(o + 3 * N + n, c3);
    }
    for (; n < N; n++) {
      f32 s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
      for (int k = 0; k < K; k++) {
        f32 bv = b[k * N + n];
        s0 += a0[k] * bv; s1 += a1[k] * bv; s2 += a2[k] * bv; s3 += a3[k] * bv;
      }
      o[n] = s0; o[N + n] = s1; o[2 * N + n] = s2; o[3 * N + n] = s3;
    }
  }
  for (; r < M; r++) {
    const f32 *ar = a + r * K;
    f32 *o = out + r * N;
    int n = 0;
    for (; n + 4 <= N; n += 4) {
      v128_t s = SPLAT(0.f);
      for (int k = 0; k < K; k++) s = MADD(s, SPLAT(ar[k]), LD(b + k * N + n));
      ST(o + n, s);
    }
    for (; n < N; n++) {
      f32 s = 0.f;
      for (int k = 0; k < K; k++) s += ar[k] * b[k * N + n];
      o[n] = s;
    }
  }
}

/*
 * Full-conv weight gradient dw[i,j,ci,co] = Σ_{n,oy,ox} x[n, oy·s+i−p, ox·s+j−p, ci] · dy[n,oy,ox,co]
 * (the stem). `part` is caller-provided scratch of the size of dw: each output row's sum over ox is accumulated in
 * registers, added into `part`, and `part` into dw once per image.
 */
EXPORT(conv_filter_grad)(const f32 *x, const f32 *dy, f32 *dw, f32 *part, int N, int H, int W, int Ci, int Co, int K, int S,
                         int P, int Ho, int Wo) {
  const int kc = K * K * Ci * Co;
  zero(dw, kc);
  for (int n = 0; n < N; n++) {
    zero(part, kc);
    for (int oy = 0; oy < Ho; oy++) {
      const f32 *dyr = dy + (n * Ho + oy) * Wo * Co;
      for (int i = 0; i < K; i++) {
        int yy = oy * S + i - P;
        if (yy < 0 || yy >= H) continue;
        const f32 *xr = x + (n * H + yy) * W * Ci;
        for (int j = 0; j < K; j++) {
          int lo = col_lo(j, S, P), hi = col_hi(j, S, P, W, Wo);
          if (lo > hi) continue;
          for (int ci = 0; ci < Ci; ci++) {
            f32 *pp = part + ((i * K + j) * Ci + ci) * Co;
            const f32 *xp0 = xr + (lo * S + j - P) * Ci + ci;
            int co = 0;
            for (; co + 16 <= Co; co += 16) {
              v128_t a0 = SPLAT(0.f), a1 = SPLAT(0.f), a2 = SPLAT(0.f), a3 = SPLAT(0.f);
              const f32 *xp = xp0, *dp = dyr + lo * Co + co;
              for (int ox = lo; ox <= hi; ox++, xp += S * Ci, dp += Co) {
                v128_t v = SPLAT(*xp);
                a0 = MADD(a0, v, LD(dp)); a1 = MADD(a1, v, LD(dp + 4));
                a2 = MADD(a2, v, LD(dp + 8)); a3 = MADD(a3, v, LD(dp + 12));
              }
              ST(pp + co, ADD(LD(pp + co), a0)); ST(pp + co + 4, ADD(LD(pp + co + 4), a1));
              ST(pp + co + 8, ADD(LD(pp + co + 8), a2)); ST(pp + co + 12, ADD(LD(pp + co + 12), a3));
            }
            for (; co + 4 <= Co; co += 4) {
              v128_t a0 = SPLAT(0.f);
              const f32 *xp = xp0, *dp = dyr + lo * Co + co;
              for (int ox = lo; ox <= hi; ox++, xp += S * Ci, dp += Co) a0 = MADD(a0, SPLAT(*xp), LD(dp));
              ST(pp + co, ADD(LD(pp + co), a0));
            }
            for (; co < Co; co++) {
              f32 a = 0.f;
              const f32 *xp = xp0, *dp = dyr + lo * Co + co;
              for (int ox = lo; ox <= hi; ox++, xp += S * Ci, dp += Co) a += *xp * *dp;
              pp[co] += a;
            }
          }
        }
      }
    }
    int t = 0;
    for (; t + 4 <= kc; t += 4) ST(dw + t, ADD(LD(dw + t), LD(part + t)));
    for (; t < kc; t++) dw[t] += part[t];
  }
}

/* 2×2 average pool, stride 2, zero padding p on every side counted in the divisor (count_include_pad). */
EXPORT(pool2_forward)(const f32 *x, f32 *y, int N, int H, int W, int C, int P, int Ho, int Wo) {
  const v128_t q = SPLAT(0.25f);
  for (int n = 0; n < N; n++)
    for (int oy = 0; oy < Ho; oy++)
      for (int ox = 0; ox < Wo; ox++) {
        f32 *op = y + ((n * Ho + oy) * Wo + ox) * C;
        zero(op, C);
        for (int di = 0; di < 2; di++) {
          int yy = 2 * oy + di - P;
          if (yy < 0 || yy >= H) continue;
          for (int dj = 0; dj < 2; dj++) {
            int xx = 2 * ox + dj - P;
            if (xx < 0 || xx >= W) continue;
            const f32 *xp = x + ((n * H + yy) * W + xx) * C;
            int c = 0;
            for (; c + 4 <= C; c += 4) ST(op + c, ADD(LD(op + c), LD(xp + c)));
            for (; c < C; c++) op[c] += xp[c];
          }
        }
        int c = 0;
        for (; c + 4 <= C; c += 4) ST(op + c, MUL(LD(op + c), q));
        for (; c < C; c++) op[c] *= 0.25f;
      }
}

/* Gradient of pool2_forward: each input pixel lies in at most one window (stride = window = 2). */
EXPORT(pool2_backward)(const f32 *dy, f32 *dx, int N, int H, int W, int C, int P, int Ho, int Wo) {
  const v128_t q = SPLAT(0.25f);
  for (int n = 0; n < N; n++)
    for (int yy = 0; yy < H; yy++) {
      int oy = (yy + P) >> 1;
      for (int xx = 0; xx < W; xx++) {
        int ox = (xx + P) >> 1;
        f32 *op = dx + ((n * H + yy) * W + xx) * C;
        if (oy >= Ho || ox >= Wo) {
          zero(op, C);
          continue;
        }
        const f32 *dp = dy + ((n * Ho + oy) * Wo + ox) * C;
        int c = 0;
        for (; c + 4 <= C; c += 4) ST(op + c, MUL(LD(dp + c), q));
        for (; c < C; c++) op[c] = dp[c] * 0.25f;
      }
    }
}

/* Global average pool y[n,c] = mean over HW of x [N,HW,C]. */
EXPORT(gap_forward)(const f32 *x, f32 *y, int N, int HW, int C) {
  for (int n = 0; n < N; n++) col_sums(x + n * HW * C, HW, C, y + n * C, 1.f / (f32)HW);
}

/* Its gradient: dx[n,hw,c] = dy[n,c] / HW. */
EXPORT(gap_backward)(const f32 *dy, f32 *dx, int N, int HW, int C) {
  const v128_t s = SPLAT(1.f / (f32)HW);
  for (int n = 0; n < N; n++) {
    const f32 *dp = dy + n * C;
    for (int r = 0; r < HW; r++) {
      f32 *op = dx + (n * HW + r) * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) ST(op + c, MUL(LD(dp + c), s));
      for (; c < C; c++) op[c] = dp[c] / (f32)HW;
    }
  }
}

/*
 * e^x for 4 lanes with x ≤ 0, after XNNPACK's wasmsimd "rr2-p5" sigmoid: n = round(x/ln 2) with the "magic bias"
 * trick, which also builds 2^n from the float's own bits (no float↔int conversions, which V8 lowers to long
 * sequences), r = x − n·ln 2 in two steps, e^r by a degree-5 minimax polynomial. Arguments below −87.3 are clamped
 * there (e^−87.3 ≈ 1.2e−38, the smallest normal). Relative error a few ulp.
 */
static inline v128_t v_exp_neg(v128_t x) {
  const v128_t magic = SPLAT(12583039.0f); /* 1.5·2^23 + 127: n lands in the low mantissa bits, pre-biased */
  x = wasm_f32x4_max(x, SPLAT(-87.3f));
  v128_t n = MADD(magic, x, SPLAT(1.44269504088896341f));
  const v128_t s = wasm_i32x4_shl(n, 23); /* 2^n */
  n = wasm_f32x4_sub(n, magic);
  v128_t r = MADD(x, n, SPLAT(-0x1.62E400p-1f));
  r = MADD(r, n, SPLAT(-0x1.7F7D1Cp-20f));
  v128_t p = MADD(SPLAT(0x1.573A1Ap-5f), r, SPLAT(0x1.0F9F9Cp-7f));
  p = MADD(SPLAT(0x1.555A80p-3f), p, r);
  p = MADD(SPLAT(0x1.FFFDC6p-2f), p, r);
  p = MADD(SPLAT(0x1.FFFFF6p-1f), p, r);
  return MADD(s, MUL(s, r), p); /* s·(1 + r·p) */
}

/* sigmoid via e = e^−|x| (never overflows): f = e/(1+e) = sigmoid(−|x|), then 1 − f for x > 0. */
static inline v128_t v_sigmoid(v128_t x) {
  v128_t e = v_exp_neg(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  v128_t f = wasm_f32x4_div(e, ADD(SPLAT(1.f), e));
  return wasm_v128_bitselect(wasm_f32x4_sub(SPLAT(1.f), f), f, wasm_f32x4_gt(x, SPLAT(0.f)));
}

static inline f32 s_sigmoid(f32 x) {
  f32 t[4] = {x, x, x, x}; /* scalar tail through the vector path (stays in registers after inlining) */
  v128_t v = v_sigmoid(LD(t));
  return wasm_f32x4_extract_lane(v, 0);
}

/* y = x·sigmoid(x) over n elements. */
EXPORT(swish_forward)(const f32 *x, f32 *y, int n) {
  int i = 0;
  /* Four independent vectors per iteration: the sigmoid is one long dependency chain. */
  for (; i + 16 <= n; i += 16) {
    v128_t v0 = LD(x + i), v1 = LD(x + i + 4), v2 = LD(x + i + 8), v3 = LD(x + i + 12);
    v128_t s0 = v_sigmoid(v0), s1 = v_sigmoid(v1), s2 = v_sigmoid(v2), s3 = v_sigmoid(v3);
    ST(y + i, MUL(v0, s0)); ST(y + i + 4, MUL(v1, s1)); ST(y + i + 8, MUL(v2, s2)); ST(y + i + 12, MUL(v3, s3));
  }
  for (; i + 4 <= n; i += 4) {
    v128_t v = LD(x + i);
    ST(y + i, MUL(v, v_sigmoid(v)));
  }
  for (; i < n; i++) y[i] = x[i] * s_sigmoid(x[i]);
}

/* dx = dy·s·(1 + x·(1 − s)), s = sigmoid(x), recomputed from x rather than stored. */
EXPORT(swish_backward)(const f32 *x, const f32 *dy, f32 *dx, int n) {
  int i = 0;
  const v128_t one = SPLAT(1.f);
#define SWISH_GRAD(o)                                                                                \
  {                                                                                                  \
    v128_t v = LD(x + i + o), s = v_sigmoid(v);                                                      \
    ST(dx + i + o, MUL(MUL(LD(dy + i + o), s), ADD(one, MUL(v, wasm_f32x4_sub(one, s)))));            \
  }
  for (; i + 16 <= n; i += 16) {
    SWISH_GRAD(0) SWISH_GRAD(4) SWISH_GRAD(8) SWISH_GRAD(12)
  }
  for (; i + 4 <= n; i += 4) {
    v128_t v = LD(x + i), s = v_sigmoid(v);
    ST(dx + i, MUL(MUL(LD(dy + i), s), ADD(one, MUL(v, wasm_f32x4_sub(one, s)))));
  }
  for (; i < n; i++) {
    f32 s = s_sigmoid(x[i]);
    dx[i] = dy[i] * s * (1.f + x[i] * (1.f - s));
  }
}

/* y[n,hw,c] = x[n,hw,c] · s[n,c]  (the SE block's channel re-weighting). */
EXPORT(scale_channels_forward)(const f32 *x, const f32 *s, f32 *y, int N, int HW, int C) {
  for (int n = 0; n < N; n++) {
    const f32 *sp = s + n * C;
    for (int r = 0; r < HW; r++) {
      const f32 *xp = x + (n * HW + r) * C;
      f32 *yp = y + (n * HW + r) * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) ST(yp + c, MUL(LD(xp + c), LD(sp + c)));
      for (; c < C; c++) yp[c] = xp[c] * sp[c];
    }
  }
}

/* Its gradients: dx = dy · s (broadcast over HW), ds[n,c] = Σ_hw dy · x. */
EXPORT(scale_channels_backward)(const f32 *x, const f32 *s, const f32 *dy, f32 *dx, f32 *ds, int N, int HW, int C) {
  for (int n = 0; n < N; n++) {
    const f32 *sp = s + n * C;
    f32 *dsp = ds + n * C;
    zero(dsp, C);
    for (int r = 0; r < HW; r++) {
      const f32 *xp = x + (n * HW + r) * C, *dp = dy + (n * HW + r) * C;
      f32 *op = dx + (n * HW + r) * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t d = LD(dp + c);
        ST(op + c, MUL(d, LD(sp + c)));
        ST(dsp + c, MADD(LD(dsp + c), d, LD(xp + c)));
      }
      for (; c < C; c++) {
        op[c] = dp[c] * sp[c];
        dsp[c] += dp[c] * xp[c];
      }
    }
  }
}

/*
 * out = x[b0:b0+s0, b1:b1+s1, b2:b2+s2, b3:b3+s3] for a 4-D x of dims d0..d3 with 4-byte elements (lower ranks are
 * padded with leading 1s). The WASM backend's stock Slice first copies the whole input out to JS.
 */
EXPORT(slice4d)(const f32 *x, f32 *out, int d0, int d1, int d2, int d3, int b0, int b1, int b2, int b3, int s0, int s1,
                int s2, int s3) {
  (void)d0;
  for (int i0 = 0; i0 < s0; i0++)
    for (int i1 = 0; i1 < s1; i1++)
      for (int i2 = 0; i2 < s2; i2++) {
        const f32 *src = x + (((b0 + i0) * d1 + b1 + i1) * d2 + b2 + i2) * d3 + b3;
        int i = 0;
        for (; i + 4 <= s3; i += 4) ST(out + i, LD(src + i));
        for (; i < s3; i++) out[i] = src[i];
        out += s3;
      }
}
