// The 4×4 transpose by shuffles that the GEMM packing (matmul.ts) and the attention kernels
// (attention.ts) use to turn rows into columns.

/**
 * Stores the 4×4 block whose rows are r0..r3 transposed: lane j of every row, i.e. column j, as
 * four floats at byte address d + j·ld.
 */
// @ts-ignore: decorator
@inline export function storeTransposed4(r0: v128, r1: v128, r2: v128, r3: v128, d: usize, ld: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(d, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(d + ld, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(d + 2 * ld, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(d + 3 * ld, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}
