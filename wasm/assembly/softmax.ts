// Row-wise softmax and log-softmax of a contiguous [rows, n] float32 block, in one pass per row for
// the max and one for the sum of exponentials (the fused kernel behind softmax, logSoftmax and so
// crossEntropy; the composed version in src/ops/activation.ts is the reference).

import { exp4 } from './mathf';

// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** out = softmax(x) (log = 0) or log-softmax(x) (log = 1) over the last axis of [rows, n]. */
export function softmax_rows_f32(x: usize, out: usize, rows: i32, n: i32, log: i32): void {
  for (let r = 0; r < rows; r++) {
    const px = x + (<usize>r * <usize>n << 2), po = out + (<usize>r * <usize>n << 2);
    // max (NaN propagates through f32x4.max)
    let vm = f32x4.splat(-Infinity);
    let i = 0;
    for (; i + 4 <= n; i += 4) vm = f32x4.max(vm, v128.load(px + (<usize>i << 2)));
    let m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
    for (; i < n; i++) { const v = load<f32>(px + (<usize>i << 2)); m = v != v || m != m ? NaN : max(m, v); }
    if (m == -Infinity) m = 0; // a row of -inf: every exp is 0 and the result NaN, as composed
    const vmax = f32x4.splat(m);
    // Σ e^(x − max); softmax keeps the exponentials in out for the last pass.
    let vs = f32x4.splat(0);
    i = 0;
    for (; i + 4 <= n; i += 4) {
      const e = exp4(f32x4.sub(v128.load(px + (<usize>i << 2)), vmax));
      if (!log) v128.store(po + (<usize>i << 2), e);
      vs = f32x4.add(vs, e);
    }
    let s = f32x4.extract_lane(vs, 0) + f32x4.extract_lane(vs, 1) + f32x4.extract_lane(vs, 2) + f32x4.extract_lane(vs, 3);
    for (; i < n; i++) {
      const e = exp1(load<f32>(px + (<usize>i << 2)) - m);
      if (!log) store<f32>(po + (<usize>i << 2), e);
      s += e;
    }
    i = 0;
    if (log) {
      // (x − max) − log Σ, in the composed version's order
      const ls = <f32>Math.log(<f64>s), vls = f32x4.splat(ls);
      for (; i + 4 <= n; i += 4) v128.store(po + (<usize>i << 2), f32x4.sub(f32x4.sub(v128.load(px + (<usize>i << 2)), vmax), vls));
      for (; i < n; i++) store<f32>(po + (<usize>i << 2), (load<f32>(px + (<usize>i << 2)) - m) - ls);
    } else {
      const inv = f32x4.splat(<f32>1 / s);
      for (; i + 4 <= n; i += 4) v128.store(po + (<usize>i << 2), f32x4.mul(v128.load(po + (<usize>i << 2)), inv));
      const is = <f32>1 / s;
      for (; i < n; i++) store<f32>(po + (<usize>i << 2), load<f32>(po + (<usize>i << 2)) * is);
    }
  }
}
