// float32 products with few rows, C[M,N] = A[M,K] @ B[K,N] for M ≤ 4 (token-by-token generation:
// one activation row times a weight matrix). GEMM would pack all of B for a handful of rows; these
// read B once, straight from where it lies, so they run at the speed of memory. Two layouts:
//
//   gemvN  B row-major, rows contiguous (x·W, HF's Conv1D): C[i,:] += A[i,k]·B[k,:], SIMD over N,
//          with a block of C kept in L1 while rows of B stream past.
//   gemvT  B is the transpose of a row-major W [N, K] (x·Wᵀ, Linear, lm_head): C[i,j] = A[i,:]·W[j,:],
//          SIMD over K with four accumulators.
//
// Each output element is computed in an order fixed by (i, j, K, N) alone, never by which column
// range a call covers, so any split of the columns between threads gives the same bits.

import { madd } from './fma';

/** Columns of C per block in gemvN: at most 4 rows x 512 floats (8 KiB) stay in L1. */
const JB: i32 = 512;

/**
 * Columns [n0, n1) of C = A @ B, B with contiguous rows `bRs` floats apart, A with any element
 * strides (aRs, aCs); C contiguous with row length N. n0 must be a multiple of 4.
 * Element (i, j) with j < N & ~3: zero, then madd over k ascending (SIMD lane j % 4); the last N % 4
 * columns: a scalar sum over k ascending.
 */
export function gemvN(
  a: usize, aRs: i32, aCs: i32, b: usize, bRs: i32, c: usize, M: i32, N: i32, K: i32, n0: i32, n1: i32,
): void {
  const N4 = N & ~3;
  const ldc = <usize>N << 2, ldb = <usize>bRs << 2;
  const v1 = min(n1, N4);
  for (let j0 = n0; j0 < v1; j0 += JB) {
    const bytes = <usize>(min(v1, j0 + JB) - j0) << 2;
    const cb = c + (<usize>j0 << 2), bb = b + (<usize>j0 << 2);
    for (let i = 0; i < M; i++) memory.fill(cb + <usize>i * ldc, 0, bytes);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      // Four rows of B per pass over the block: C is loaded and stored once per four madds.
      const r0 = bb + <usize>k * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
      for (let i = 0; i < M; i++) {
        const ai = a + ((<usize>i * <usize>aRs + <usize>k * <usize>aCs) << 2), st = <usize>aCs << 2;
        const s0 = v128.load32_splat(ai), s1 = v128.load32_splat(ai + st);
        const s2 = v128.load32_splat(ai + 2 * st), s3 = v128.load32_splat(ai + 3 * st);
        const ci = cb + <usize>i * ldc;
        for (let o: usize = 0; o < bytes; o += 16) {
          let acc = v128.load(ci + o);
          acc = madd(s0, v128.load(r0 + o), acc);
          acc = madd(s1, v128.load(r1 + o), acc);
          acc = madd(s2, v128.load(r2 + o), acc);
          acc = madd(s3, v128.load(r3 + o), acc);
          v128.store(ci + o, acc);
        }
      }
    }
    for (; k < K; k++) {
      const r0 = bb + <usize>k * ldb;
      for (let i = 0; i < M; i++) {
        const s0 = v128.load32_splat(a + ((<usize>i * <usize>aRs + <usize>k * <usize>aCs) << 2));
        const ci = cb + <usize>i * ldc;
        for (let o: usize = 0; o < bytes; o += 16) v128.store(ci + o, madd(s0, v128.load(r0 + o), v128.load(ci + o)));
      }
    }
  }
  for (let j = max(n0, N4); j < n1; j++) {
    for (let i = 0; i < M; i++) {
      let s: f32 = 0;
      for (let k = 0; k < K; k++) {
        s += load<f32>(a + ((<usize>i * <usize>aRs + <usize>k * <usize>aCs) << 2)) * load<f32>(b + ((<usize>k * <usize>bRs + <usize>j) << 2));
      }
      store<f32>(c + <usize>i * ldc + (<usize>j << 2), s);
    }
  }
}

/** x·y over K contiguous floats: four accumulators over 16-float steps, then 4-float steps, then scalars. */
// @ts-ignore: decorator
@inline function dot(x: usize, y: usize, K: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  const end16 = <usize>(K & ~15) << 2, end4 = <usize>(K & ~3) << 2;
  let o: usize = 0;
  for (; o < end16; o += 64) {
    acc0 = madd(v128.load(x + o), v128.load(y + o), acc0);
    acc1 = madd(v128.load(x + o, 16), v128.load(y + o, 16), acc1);
    acc2 = madd(v128.load(x + o, 32), v128.load(y + o, 32), acc2);
    acc3 = madd(v128.load(x + o, 48), v128.load(y + o, 48), acc3);
  }
  for (; o < end4; o += 16) acc0 = madd(v128.load(x + o), v128.load(y + o), acc0);
  const v = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
  let s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  const end = <usize>K << 2;
  for (; o < end; o += 4) s += load<f32>(x + o) * load<f32>(y + o);
  return s;
}

/**
 * Columns [n0, n1) of C = A @ Wᵀ: W row j (K contiguous floats) at w + j·wRs floats, A rows
 * contiguous along K, `aRs` floats apart; C contiguous with row length N.
 */
export function gemvT(a: usize, aRs: i32, w: usize, wRs: i32, c: usize, M: i32, N: i32, K: i32, n0: i32, n1: i32): void {
  const ldc = <usize>N << 2, lda = <usize>aRs << 2, ldw = <usize>wRs << 2;
  for (let j = n0; j < n1; j++) {
    const wj = w + <usize>j * ldw, cj = c + (<usize>j << 2);
    for (let i = 0; i < M; i++) store<f32>(cj + <usize>i * ldc, dot(a + <usize>i * lda, wj, K));
  }
}
