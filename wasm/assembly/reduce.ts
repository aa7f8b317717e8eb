// float32 reductions over the middle axis of a contiguous [outer, r, inner] block: sum and max.
// The op codes (Reduce) are generated; the build checks that every function dispatching on them
// handles each code and traps on others.

import { Reduce } from './codes';

/** The value a reduction starts from. */
// @ts-ignore: decorator
@inline function identity(op: i32): f32 {
  if (op == Reduce.SUM) return 0;
  if (op == Reduce.MAX) return -Infinity;
  unreachable(); return 0;
}

/** Combine two partial results lane by lane (f32x4.max propagates NaN, like PyTorch's max). */
// @ts-ignore: decorator
@inline function combine4(op: i32, a: v128, b: v128): v128 {
  if (op == Reduce.SUM) return f32x4.add(a, b);
  if (op == Reduce.MAX) return f32x4.max(a, b);
  unreachable(); return a;
}

/** Combine two partial results (f32.max propagates NaN). */
// @ts-ignore: decorator
@inline function combine1(op: i32, a: f32, b: f32): f32 {
  if (op == Reduce.SUM) return a + b;
  if (op == Reduce.MAX) return max(a, b);
  unreachable(); return a;
}

// @ts-ignore: decorator
@inline function reduceLoop(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    const base = x + (<usize>o * <usize>r * <usize>inner << 2);
    const po = out + (<usize>o * <usize>inner << 2);
    if (inner == 1) {
      // Reduce a contiguous row: four vector accumulators, then a fixed-order horizontal step.
      let a0 = f32x4.splat(identity(op)), a1 = a0, a2 = a0, a3 = a0;
      let k = 0;
      for (; k + 16 <= r; k += 16) {
        const p = base + (<usize>k << 2);
        a0 = combine4(op, a0, v128.load(p)); a1 = combine4(op, a1, v128.load(p, 16));
        a2 = combine4(op, a2, v128.load(p, 32)); a3 = combine4(op, a3, v128.load(p, 48));
      }
      const v = combine4(op, combine4(op, a0, a1), combine4(op, a2, a3));
      let s = combine1(op, combine1(op, combine1(op, f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), f32x4.extract_lane(v, 2)), f32x4.extract_lane(v, 3));
      for (; k < r; k++) s = combine1(op, s, load<f32>(base + (<usize>k << 2)));
      store<f32>(po, s);
    } else {
      // Accumulate whole rows of `inner` values, vectorized along inner.
      memory.copy(po, base, <usize>inner << 2);
      for (let k = 1; k < r; k++) {
        const row = base + (<usize>k * <usize>inner << 2);
        let i = 0;
        for (; i + 4 <= inner; i += 4) {
          const q = po + (<usize>i << 2);
          v128.store(q, combine4(op, v128.load(q), v128.load(row + (<usize>i << 2))));
        }
        for (; i < inner; i++) {
          const q = po + (<usize>i << 2);
          store<f32>(q, combine1(op, load<f32>(q), load<f32>(row + (<usize>i << 2))));
        }
      }
    }
  }
}

/** out[o, i] = Σ_k x[o, k, i] (Reduce.SUM) or max_k (Reduce.MAX; NaN propagates). */
export function reduce_f32(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  // One loop per op, with its op inlined.
  if (op == Reduce.SUM) reduceLoop(Reduce.SUM, x, out, outer, r, inner);
  else if (op == Reduce.MAX) reduceLoop(Reduce.MAX, x, out, outer, r, inner);
  else unreachable();
}
