// float32 products with few rows, C[M,N] = A[M,K] @ B[K,N] for M ≤ 4 (token-by-token generation:
// one activation row times a weight matrix). GEMM would pack all of B for a handful of rows; these
// read B once, straight from where it lies, so they run at the speed of memory. Two layouts:
//
//   gemvN  B row-major, rows contiguous (x·W, HF's Conv1D): C[i,:] += A[i,k]·B[k,:], SIMD over N,
//          with a block of C kept in L1 while rows of B stream past.
//   gemvT  B is the transpose of a row-major W [N, K] (x·Wᵀ, Linear, lm_head): four rows of W
//          transposed in registers, SIMD over four columns of C (eight a pass for one row of A).
//
// Every element is computed as GEMM computes it (matmul.ts): for each KC-deep slice of k in
// order, a chain of `madd` from 0 over its k ascending (fused or not, as the build's madd is), in
// one SIMD lane or by the same madd on splatted scalars; the first slice's sum is the element, each
// later one is added to it. So a row's result depends neither on how many rows the product has
// (here or in GEMM) nor on which column range a call covers: a sequence decoded alone or in a
// batch gets the same bits (serve/engine.ts relies on it).

import { madd } from './fma';
import { KC } from './matmul';

/**
 * Floats of C per block in gemvN: M rows × JB = 2048 / M columns (8 KiB) stay in L1. Wide blocks
 * for one row read B's rows in long contiguous runs (one pass over B for N ≤ 2048), which streams
 * from memory much faster than short strided pieces.
 */
const C_BLOCK: i32 = 2048;

/**
 * Columns [n0, n1) of C = A @ B, B with contiguous rows `bRs` floats apart, A with any element
 * strides (aRs, aCs); C contiguous with row length N. n0 must be a multiple of 4. `t` is scratch
 * laid out as C (only its columns [n0, n1) are used), needed when K > KC (0 otherwise): the sums
 * of the later K slices are formed there before they are added to C.
 * Element (i, j) with j < N & ~3 runs in SIMD lane j % 4; the last N % 4 columns on scalars.
 */
export function gemvN(
  a: usize, aRs: i32, aCs: i32, b: usize, bRs: i32, c: usize, t: usize, M: i32, N: i32, K: i32, n0: i32, n1: i32,
): void {
  const N4 = N & ~3;
  const ldc = <usize>N << 2, ldb = <usize>bRs << 2;
  const v1 = min(n1, N4);
  const JB = max(4, (C_BLOCK / M) & ~3); // at least one vector of columns (callers pass M ≤ 4)
  for (let j0 = n0; j0 < v1; j0 += JB) {
    const bytes = <usize>(min(v1, j0 + JB) - j0) << 2;
    for (let k0 = 0; k0 < K; k0 += KC) {
      // The first slice sums straight into C, later ones into t, then added to C.
      const first = k0 == 0;
      const sb = (first ? c : t) + (<usize>j0 << 2), bb = b + (<usize>j0 << 2);
      const k1 = min(K, k0 + KC);
      for (let i = 0; i < M; i++) memory.fill(sb + <usize>i * ldc, 0, bytes);
      let k = k0;
      for (; k + 4 <= k1; k += 4) {
        // Four rows of B per pass over the block: the sums are loaded and stored once per four madds.
        const r0 = bb + <usize>k * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
        for (let i = 0; i < M; i++) {
          const ai = a + ((<usize>i * <usize>aRs + <usize>k * <usize>aCs) << 2), st = <usize>aCs << 2;
          const s0 = v128.load32_splat(ai), s1 = v128.load32_splat(ai + st);
          const s2 = v128.load32_splat(ai + 2 * st), s3 = v128.load32_splat(ai + 3 * st);
          const si = sb + <usize>i * ldc;
          for (let o: usize = 0; o < bytes; o += 16) {
            let acc = v128.load(si + o);
            acc = madd(s0, v128.load(r0 + o), acc);
            acc = madd(s1, v128.load(r1 + o), acc);
            acc = madd(s2, v128.load(r2 + o), acc);
            acc = madd(s3, v128.load(r3 + o), acc);
            v128.store(si + o, acc);
          }
        }
      }
      for (; k < k1; k++) {
        const r0 = bb + <usize>k * ldb;
        for (let i = 0; i < M; i++) {
          const s0 = v128.load32_splat(a + ((<usize>i * <usize>aRs + <usize>k * <usize>aCs) << 2));
          const si = sb + <usize>i * ldc;
          for (let o: usize = 0; o < bytes; o += 16) v128.store(si + o, madd(s0, v128.load(r0 + o), v128.load(si + o)));
        }
      }
      if (!first) {
        for (let i = 0; i < M; i++) {
          const ci = c + <usize>i * ldc + (<usize>j0 << 2), ti = sb + <usize>i * ldc;
          for (let o: usize = 0; o < bytes; o += 16) v128.store(ci + o, f32x4.add(v128.load(ci + o), v128.load(ti + o)));
        }
      }
    }
  }
  for (let j = max(n0, N4); j < n1; j++) {
    for (let i = 0; i < M; i++) {
      let total: f32 = 0;
      for (let k0 = 0; k0 < K; k0 += KC) {
        let s: f32 = 0;
        const k1 = min(K, k0 + KC);
        for (let k = k0; k < k1; k++) {
          s = madd1(load<f32>(a + ((<usize>i * <usize>aRs + <usize>k * <usize>aCs) << 2)), load<f32>(b + ((<usize>k * <usize>bRs + <usize>j) << 2)), s);
        }
        total = k0 == 0 ? s : total + s;
      }
      store<f32>(c + <usize>i * ldc + (<usize>j << 2), total);
    }
  }
}

/** a·b + c on scalars, rounded as one lane of `madd` (fused where the build's madd is). */
// @ts-ignore: decorator
@inline function madd1(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
}

/**
 * Columns [n0, n1) of C = A @ Wᵀ: W row j (K contiguous floats) at w + j·wRs floats, A rows
 * contiguous along K, `aRs` floats apart; C contiguous with row length N. Four columns at a time:
 * four k of four rows of W are loaded and transposed by shuffles into one vector per k, and each
 * row of A runs one madd chain per lane (column) and K slice; the last n1 − n0 mod 4 columns run
 * the chains on scalars.
 */
export function gemvT(a: usize, aRs: i32, w: usize, wRs: i32, c: usize, M: i32, N: i32, K: i32, n0: i32, n1: i32): void {
  const ldc = <usize>N << 2, lda = <usize>aRs << 2, ldw = <usize>wRs << 2;
  let j = n0;
  if (M == 1) {
    // One row (a decoding step's lm_head): eight columns a pass, so each value of A is loaded
    // once for two transposed blocks of W.
    for (; j + 8 <= n1; j += 8) {
      const w0 = w + <usize>j * ldw, w1 = w0 + ldw, w2 = w1 + ldw, w3 = w2 + ldw;
      const w4 = w3 + ldw, w5 = w4 + ldw, w6 = w5 + ldw, w7 = w6 + ldw;
      let total = f32x4.splat(0), total2 = f32x4.splat(0);
      for (let k0 = 0; k0 < K; k0 += KC) {
        const k1 = min(K, k0 + KC);
        const end4 = <usize>(k0 + ((k1 - k0) & ~3)) << 2, end = <usize>k1 << 2;
        let acc = f32x4.splat(0), acc2 = f32x4.splat(0);
        let o = <usize>k0 << 2;
        for (; o < end4; o += 16) {
          const x0 = v128.load32_splat(a + o), x1 = v128.load32_splat(a + o, 4), x2 = v128.load32_splat(a + o, 8), x3 = v128.load32_splat(a + o, 12);
          let r0 = v128.load(w0 + o), r1 = v128.load(w1 + o), r2 = v128.load(w2 + o), r3 = v128.load(w3 + o);
          let lo01 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), lo23 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
          let hi01 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), hi23 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          acc = madd(x0, i32x4.shuffle(lo01, lo23, 0, 1, 4, 5), acc);
          acc = madd(x1, i32x4.shuffle(lo01, lo23, 2, 3, 6, 7), acc);
          acc = madd(x2, i32x4.shuffle(hi01, hi23, 0, 1, 4, 5), acc);
          acc = madd(x3, i32x4.shuffle(hi01, hi23, 2, 3, 6, 7), acc);
          r0 = v128.load(w4 + o); r1 = v128.load(w5 + o); r2 = v128.load(w6 + o); r3 = v128.load(w7 + o);
          lo01 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); lo23 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
          hi01 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); hi23 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          acc2 = madd(x0, i32x4.shuffle(lo01, lo23, 0, 1, 4, 5), acc2);
          acc2 = madd(x1, i32x4.shuffle(lo01, lo23, 2, 3, 6, 7), acc2);
          acc2 = madd(x2, i32x4.shuffle(hi01, hi23, 0, 1, 4, 5), acc2);
          acc2 = madd(x3, i32x4.shuffle(hi01, hi23, 2, 3, 6, 7), acc2);
        }
        for (; o < end; o += 4) {
          const x = v128.load32_splat(a + o);
          let col = f32x4.splat(load<f32>(w0 + o));
          col = f32x4.replace_lane(col, 1, load<f32>(w1 + o));
          col = f32x4.replace_lane(col, 2, load<f32>(w2 + o));
          col = f32x4.replace_lane(col, 3, load<f32>(w3 + o));
          acc = madd(x, col, acc);
          col = f32x4.splat(load<f32>(w4 + o));
          col = f32x4.replace_lane(col, 1, load<f32>(w5 + o));
          col = f32x4.replace_lane(col, 2, load<f32>(w6 + o));
          col = f32x4.replace_lane(col, 3, load<f32>(w7 + o));
          acc2 = madd(x, col, acc2);
        }
        total = k0 == 0 ? acc : f32x4.add(total, acc);
        total2 = k0 == 0 ? acc2 : f32x4.add(total2, acc2);
      }
      v128.store(c + (<usize>j << 2), total);
      v128.store(c + (<usize>j << 2), total2, 16);
    }
  }
  for (; j + 4 <= n1; j += 4) {
    const w0 = w + <usize>j * ldw, w1 = w0 + ldw, w2 = w1 + ldw, w3 = w2 + ldw;
    for (let i = 0; i < M; i++) {
      const ai = a + <usize>i * lda;
      let total = f32x4.splat(0);
      for (let k0 = 0; k0 < K; k0 += KC) {
        const k1 = min(K, k0 + KC);
        const end4 = <usize>(k0 + ((k1 - k0) & ~3)) << 2, end = <usize>k1 << 2;
        let acc = f32x4.splat(0);
        let o = <usize>k0 << 2;
        for (; o < end4; o += 16) {
          const r0 = v128.load(w0 + o), r1 = v128.load(w1 + o), r2 = v128.load(w2 + o), r3 = v128.load(w3 + o);
          const lo01 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), lo23 = i32x4.shuffle(r2, r3, 0, 4, 1, 5); // k, k+1
          const hi01 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), hi23 = i32x4.shuffle(r2, r3, 2, 6, 3, 7); // k+2, k+3
          acc = madd(v128.load32_splat(ai + o), i32x4.shuffle(lo01, lo23, 0, 1, 4, 5), acc);
          acc = madd(v128.load32_splat(ai + o, 4), i32x4.shuffle(lo01, lo23, 2, 3, 6, 7), acc);
          acc = madd(v128.load32_splat(ai + o, 8), i32x4.shuffle(hi01, hi23, 0, 1, 4, 5), acc);
          acc = madd(v128.load32_splat(ai + o, 12), i32x4.shuffle(hi01, hi23, 2, 3, 6, 7), acc);
        }
        for (; o < end; o += 4) {
          let col = f32x4.splat(load<f32>(w0 + o));
          col = f32x4.replace_lane(col, 1, load<f32>(w1 + o));
          col = f32x4.replace_lane(col, 2, load<f32>(w2 + o));
          col = f32x4.replace_lane(col, 3, load<f32>(w3 + o));
          acc = madd(v128.load32_splat(ai + o), col, acc);
        }
        total = k0 == 0 ? acc : f32x4.add(total, acc);
      }
      v128.store(c + <usize>i * ldc + (<usize>j << 2), total);
    }
  }
  for (; j < n1; j++) {
    const wj = w + <usize>j * ldw;
    for (let i = 0; i < M; i++) {
      const ai = a + <usize>i * lda;
      let total: f32 = 0;
      for (let k0 = 0; k0 < K; k0 += KC) {
        const end = <usize>min(K, k0 + KC) << 2;
        let s: f32 = 0;
        for (let o = <usize>k0 << 2; o < end; o += 4) s = madd1(load<f32>(ai + o), load<f32>(wj + o), s);
        total = k0 == 0 ? s : total + s;
      }
      store<f32>(c + <usize>i * ldc + (<usize>j << 2), total);
    }
  }
}
