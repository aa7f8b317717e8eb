// float32 reductions over the middle axis of a contiguous [outer, r, inner] block: sum and max.

/** out[o, i] = Σ_k x[o, k, i] (op 0) or max_k (op 1; NaN propagates). */
export function reduce_f32(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    const base = x + (<usize>o * <usize>r * <usize>inner << 2);
    const po = out + (<usize>o * <usize>inner << 2);
    if (inner == 1) {
      // Reduce a contiguous row: four vector accumulators, then a fixed-order horizontal step.
      let a0 = f32x4.splat(op == 0 ? 0 : -Infinity), a1 = a0, a2 = a0, a3 = a0;
      let k = 0;
      for (; k + 16 <= r; k += 16) {
        const p = base + (<usize>k << 2);
        if (op == 0) {
          a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
          a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
        } else {
          a0 = f32x4.max(a0, v128.load(p)); a1 = f32x4.max(a1, v128.load(p, 16));
          a2 = f32x4.max(a2, v128.load(p, 32)); a3 = f32x4.max(a3, v128.load(p, 48));
        }
      }
      let s: f32;
      if (op == 0) {
        const v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
        s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
        for (; k < r; k++) s += load<f32>(base + (<usize>k << 2));
      } else {
        const v = f32x4.max(f32x4.max(a0, a1), f32x4.max(a2, a3));
        s = -Infinity;
        // f32.max propagates NaN, like PyTorch's max
        s = max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
        for (; k < r; k++) s = max(s, load<f32>(base + (<usize>k << 2)));
      }
      store<f32>(po, s);
    } else {
      // Accumulate whole rows of `inner` values, vectorized along inner.
      memory.copy(po, base, <usize>inner << 2);
      for (let k = 1; k < r; k++) {
        const row = base + (<usize>k * <usize>inner << 2);
        let i = 0;
        for (; i + 4 <= inner; i += 4) {
          const q = po + (<usize>i << 2);
          const v = v128.load(row + (<usize>i << 2));
          v128.store(q, op == 0 ? f32x4.add(v128.load(q), v) : f32x4.max(v128.load(q), v));
        }
        for (; i < inner; i++) {
          const q = po + (<usize>i << 2);
          const e = load<f32>(row + (<usize>i << 2)), s = load<f32>(q);
          store<f32>(q, op == 0 ? s + e : max(s, e));
        }
      }
    }
  }
}
