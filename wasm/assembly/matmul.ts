// float32 GEMM on WebAssembly SIMD: C[M,N] = A[M,K] @ B[K,N] for any element strides of A and B
// (so transposed operands cost only their packing), in the loop order of BLIS/GotoBLAS.
//
//   for each NC-wide block of columns:                 B block (KC x NC) packed into NR-wide panels
//     for each KC-deep slice of K:                     (stays in L2)
//       for each MC-high block of rows:                A block (MC x KC) packed into MR-high panels
//         for each NR panel, for each MR panel:        5x8 register tile: 10 vector accumulators
//                                                      (the last rows of a block that do not fill
//                                                      one: 2x8 and 1x8 tiles)
//
// The first KC slice overwrites C, later ones add to it, so C needs no zeroing. Each element is
// thus: for each KC slice of k in order, a madd chain from 0 over its k ascending, the slices'
// sums added to C one after the other; whatever the tiles or the thread split. The few-row kernels
// (gemv.ts) compute the same, so a row's result does not depend on how many rows the product has.
// KC is exported for them: it is part of every product's rounding.

import { madd } from './fma';
import { storeTransposed4 } from './shuffle';

export const MR: i32 = 5;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 100;
export const NC: i32 = 512;

/** Bytes of scratch one thread needs for packing and edge tiles. */
export function matmulScratchBytes(): i32 {
  return (KC * NC + MC * KC + MR * NR) * 4 + 64;
}

// @ts-ignore: decorator
@inline function addr(base: usize, i: i32, rs: i32, j: i32, cs: i32): usize {
  return base + ((<usize>i * <usize>rs + <usize>j * <usize>cs) << 2);
}

/** Pack B[k0:k0+kc, j0:j0+nc] into ceil(nc/NR) panels of kc x NR floats, zero-padded. */
function packB(b: usize, bRs: i32, bCs: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const w = min(NR, nc - jp);
    const panel = dst + (<usize>jp * <usize>kc << 2);
    if (w == NR && bCs == 1) {
      for (let k = 0; k < kc; k++) {
        const src = addr(b, k0 + k, bRs, j0 + jp, 1);
        const d = panel + (<usize>k * NR << 2);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
      }
    } else if (bRs == 1 && w == NR) {
      // B is a transposed row-major matrix (x @ W^T): each panel column is a contiguous run of K.
      // Four columns by four k at a time: four loads, a 4x4 transpose by shuffles, four stores.
      const k4 = kc & ~3;
      for (let jj = 0; jj < NR; jj += 4) {
        const src = addr(b, k0, 1, j0 + jp + jj, bCs);
        const cs = <usize>bCs << 2;
        for (let k = 0; k < k4; k += 4) {
          const s = src + (<usize>k << 2);
          storeTransposed4(v128.load(s), v128.load(s + cs), v128.load(s + 2 * cs), v128.load(s + 3 * cs), panel + ((<usize>k * NR + jj) << 2), NR * 4);
        }
        for (let k = k4; k < kc; k++) {
          const d = panel + ((<usize>k * NR + jj) << 2);
          for (let q = 0; q < 4; q++) store<f32>(d + (<usize>q << 2), load<f32>(src + (<usize>q * cs) + (<usize>k << 2)));
        }
      }
    } else if (bRs == 1) {
      for (let jj = 0; jj < NR; jj++) {
        const d = panel + (<usize>jj << 2);
        if (jj < w) {
          const src = addr(b, k0, 1, j0 + jp + jj, bCs);
          for (let k = 0; k < kc; k++) store<f32>(d + (<usize>k * NR << 2), load<f32>(src + (<usize>k << 2)));
        } else {
          for (let k = 0; k < kc; k++) store<f32>(d + (<usize>k * NR << 2), 0);
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = panel + (<usize>k * NR << 2);
        for (let jj = 0; jj < NR; jj++) {
          store<f32>(d + (<usize>jj << 2), jj < w ? load<f32>(addr(b, k0 + k, bRs, j0 + jp + jj, bCs)) : 0);
        }
      }
    }
  }
}

/** Pack A[i0:i0+mc, k0:k0+kc] into ceil(mc/MR) panels of kc x MR floats, zero-padded. */
function packA(a: usize, aRs: i32, aCs: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const h = min(MR, mc - ip);
    const panel = dst + (<usize>ip * <usize>kc << 2);
    if (h == MR && aCs == 1) {
      // Row-major A: four k at a time, rows 0-3 by a 4x4 transpose of four loads (one 16-byte
      // store per k), row 4 lane by lane; then the k % 4 left one by one.
      const r0 = addr(a, i0 + ip, aRs, k0, 1), rs = <usize>aRs << 2;
      const k4 = kc & ~3;
      for (let k = 0; k < k4; k += 4) {
        const s = r0 + (<usize>k << 2);
        const d = panel + (<usize>k * MR << 2);
        storeTransposed4(v128.load(s), v128.load(s + rs), v128.load(s + 2 * rs), v128.load(s + 3 * rs), d, MR * 4);
        const x4 = v128.load(s + 4 * rs);
        v128.store32_lane(d, x4, 0, 16);
        v128.store32_lane(d, x4, 1, MR * 4 + 16);
        v128.store32_lane(d, x4, 2, MR * 8 + 16);
        v128.store32_lane(d, x4, 3, MR * 12 + 16);
      }
      for (let k = k4; k < kc; k++) {
        const d = panel + (<usize>k * MR << 2);
        for (let ii = 0; ii < MR; ii++) store<f32>(d + (<usize>ii << 2), load<f32>(r0 + <usize>ii * rs + (<usize>k << 2)));
      }
    } else if (h == MR && aRs == 1) {
      // Transposed A (Xᵀ @ dY): the MR values of each k are contiguous.
      for (let k = 0; k < kc; k++) {
        const src = addr(a, i0 + ip, 1, k0 + k, aCs);
        const d = panel + (<usize>k * MR << 2);
        v128.store(d, v128.load(src));
        store<f32>(d + 16, load<f32>(src + 16));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = panel + (<usize>k * MR << 2);
        const src = addr(a, i0 + ip, aRs, k0 + k, aCs);
        for (let ii = 0; ii < MR; ii++) {
          store<f32>(d + (<usize>ii << 2), ii < h ? load<f32>(src + (<usize>ii * <usize>aRs << 2)) : 0);
        }
      }
    }
  }
}

/**
 * 5x8 tile: acc = Ap(kc x 5) · Bp(kc x 8); written (or added, when `accumulate`) to C at (c, ldc).
 * Sized for V8's x64 backend, which has 15 allocatable XMM registers: 10 accumulators, 2 B vectors,
 * A's first four rows as one vector and one broadcast fit without spills. A 6x8 tile (12
 * accumulators) spilled two to four accumulators to the stack inside the k loop and ran at half
 * the speed. Rows 0-3 of A are broadcast by shuffles of one load, row 4 by load32_splat (five
 * broadcast loads were all hoisted above the FMAs and spilled). Alone on packed panels in L1 it
 * runs at ~54 GFLOP/s a thread on the 3.6 GHz EPYC here, as do 4x8, 3x12 and 2x16 tiles: about the
 * 128-bit FMA peak (2 FMAs x 4 lanes x 2 flops a cycle); a whole GEMM reaches ~47.
 */
function micro(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    const a = v128.load(ap); // rows 0-3 (the 16 bytes stay inside the 20-byte step)
    let x = i32x4.shuffle(a, a, 0, 0, 0, 0);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = i32x4.shuffle(a, a, 1, 1, 1, 1);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = i32x4.shuffle(a, a, 2, 2, 2, 2);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = i32x4.shuffle(a, a, 3, 3, 3, 3);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    x = v128.load32_splat(ap, 16);
    c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
    ap += MR << 2;
    bp += NR << 2;
  }
  const ld = <usize>ldc << 2;
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ld)); c11 = f32x4.add(c11, v128.load(c + ld, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ld)); c21 = f32x4.add(c21, v128.load(c + 2 * ld, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ld)); c31 = f32x4.add(c31, v128.load(c + 3 * ld, 16));
    c40 = f32x4.add(c40, v128.load(c + 4 * ld)); c41 = f32x4.add(c41, v128.load(c + 4 * ld, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ld, c10); v128.store(c + ld, c11, 16);
  v128.store(c + 2 * ld, c20); v128.store(c + 2 * ld, c21, 16);
  v128.store(c + 3 * ld, c30); v128.store(c + 3 * ld, c31, 16);
  v128.store(c + 4 * ld, c40); v128.store(c + 4 * ld, c41, 16);
}

/**
 * 2x8 tile of rows `ap` and `ap + 4` bytes of an A panel (MR floats per k): as micro's rows, the
 * same madd chain per element, so a row computes the same bits in either.
 */
function micro2(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(ap, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    ap += MR << 2;
    bp += NR << 2;
  }
  const ld = <usize>ldc << 2;
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ld)); c11 = f32x4.add(c11, v128.load(c + ld, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ld, c10); v128.store(c + ld, c11, 16);
}

/** 1x8 tile: one row of an A panel, as micro2. */
function micro1(kc: i32, ap: usize, bp: usize, c: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(ap);
    c00 = madd(x, v128.load(bp), c00); c01 = madd(x, v128.load(bp, 16), c01);
    ap += MR << 2;
    bp += NR << 2;
  }
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
}

/**
 * C[m0:m1, n0:n1] of C = A @ B, C contiguous with row length N. A and B are given by element
 * strides (aRs, aCs), (bRs, bCs). `scratch` holds matmulScratchBytes() bytes private to the caller.
 */
export function gemm(
  a: usize, aRs: i32, aCs: i32, b: usize, bRs: i32, bCs: i32, c: usize, N: i32, K: i32,
  m0: i32, m1: i32, n0: i32, n1: i32, scratch: usize,
): void {
  if (m1 <= m0 || n1 <= n0) return;
  const base = (scratch + 63) & ~(<usize>63);
  const bPack = base;
  const aPack = bPack + (<usize>KC * NC << 2);
  const edge = aPack + (<usize>MC * KC << 2);
  if (K == 0) {
    for (let i = m0; i < m1; i++) memory.fill(c + ((<usize>i * N + n0) << 2), 0, <usize>(n1 - n0) << 2);
    return;
  }
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const acc = pc > 0;
      packB(b, bRs, bCs, pc, kc, jc, nc, bPack);
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        packA(a, aRs, aCs, ic, mc, pc, kc, aPack);
        for (let jr = 0; jr < nc; jr += NR) {
          const w = min(NR, nc - jr);
          const bp = bPack + (<usize>jr * kc << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const h = min(MR, mc - ir);
            const ap = aPack + (<usize>ir * kc << 2);
            const ct = c + ((<usize>(ic + ir) * N + <usize>(jc + jr)) << 2);
            if (h == MR && w == NR) {
              micro(kc, ap, bp, ct, N, acc);
            } else if (w == NR) {
              // The last h < MR rows (16 decoding sequences are 3 tiles and 1 row): tiles of two
              // rows and one, not a whole 5-row tile of which most is thrown away.
              let r = 0;
              for (; r + 2 <= h; r += 2) micro2(kc, ap + (<usize>r << 2), bp, ct + ((<usize>r * N) << 2), N, acc);
              if (r < h) micro1(kc, ap + (<usize>r << 2), bp, ct + ((<usize>r * N) << 2), acc);
            } else {
              // Edge tile: compute the full tile into scratch, then copy (or add) the valid part.
              micro(kc, ap, bp, edge, NR, false);
              for (let ii = 0; ii < h; ii++) {
                for (let jj = 0; jj < w; jj++) {
                  const d = ct + ((<usize>ii * N + jj) << 2);
                  const v = load<f32>(edge + ((<usize>ii * NR + jj) << 2));
                  store<f32>(d, acc ? load<f32>(d) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}
