// Fused kernels for layer norm and cross-entropy (row kernels) and GELU (elementwise), forward and backward, the wasm side of
// backend.fused (src/backends/wasm/index.ts). The composed versions in src/nn are the reference
// (tests/backends/wasm-fused.test.ts compares them); each kernel follows their order of operations.
// Rows are given by a base address and a row stride in elements; columns are contiguous. Single
// threaded and in a fixed order, so results do not depend on the thread count.

import { erf4, exp4, tanh4 } from './mathf';

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** Address of element i of a float32 row at `base`. */
// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Start of row r with a row stride of `rs` elements (negative strides wrap, as wasm32 addresses do). */
// @ts-ignore: decorator
@inline function row(base: usize, r: i32, rs: i32): usize {
  return base + (<usize>(r * rs) << 2);
}

/**
 * Layer norm of R rows of n: mean = Σx/n, var = Σ(x − mean)²/n, rstd = 1/√(var + eps),
 * out = (x − mean)·rstd [·w] [+ b] (out contiguous); mean and rstd per row for the backward.
 * w and b are contiguous [n], or 0 when absent.
 */
export function layer_norm_f32(x: usize, xRs: i32, w: usize, b: usize, out: usize, mean: usize, rstd: usize, R: i32, n: i32, eps: f32): void {
  const n4 = n & ~3, fn = <f32>n;
  for (let r = 0; r < R; r++) {
    const px = row(x, r, xRs), po = row(out, r, n);
    let vs = f32x4.splat(0);
    let i = 0;
    for (; i < n4; i += 4) vs = f32x4.add(vs, v128.load(at(px, i)));
    let s = hsum(vs);
    for (; i < n; i++) s += load<f32>(at(px, i));
    const mu = s / fn, vmu = f32x4.splat(mu);
    let vq = f32x4.splat(0);
    for (i = 0; i < n4; i += 4) {
      const d = f32x4.sub(v128.load(at(px, i)), vmu);
      vq = f32x4.add(vq, f32x4.mul(d, d));
    }
    let q = hsum(vq);
    for (; i < n; i++) { const d = load<f32>(at(px, i)) - mu; q += d * d; }
    const rs = <f32>1 / Mathf.sqrt(q / fn + eps), vrs = f32x4.splat(rs);
    for (i = 0; i < n4; i += 4) {
      let y = f32x4.mul(f32x4.sub(v128.load(at(px, i)), vmu), vrs);
      if (w) y = f32x4.mul(y, v128.load(at(w, i)));
      if (b) y = f32x4.add(y, v128.load(at(b, i)));
      v128.store(at(po, i), y);
    }
    for (; i < n; i++) {
      let y = (load<f32>(at(px, i)) - mu) * rs;
      if (w) y *= load<f32>(at(w, i));
      if (b) y += load<f32>(at(b, i));
      store<f32>(at(po, i), y);
    }
    store<f32>(at(mean, r), mu);
    store<f32>(at(rstd, r), rs);
  }
}

/**
 * Layer norm's backward from the saved mean and rstd. With x̂ = (x − mean)·rstd and gw = g·w (g
 * without w): dx = rstd·((gw − mean(gw)) − x̂·mean(gw·x̂)) (contiguous); dw = Σ_rows g·x̂ and
 * db = Σ_rows g, summed over the rows in order (0 for one not wanted).
 */
export function layer_norm_backward_f32(g: usize, gRs: i32, x: usize, xRs: i32, w: usize, mean: usize, rstd: usize,
  dx: usize, dw: usize, db: usize, R: i32, n: i32): void {
  const n4 = n & ~3, fn = <f32>n;
  if (dw) memory.fill(dw, 0, <usize>n << 2);
  if (db) memory.fill(db, 0, <usize>n << 2);
  for (let r = 0; r < R; r++) {
    const pg = row(g, r, gRs), px = row(x, r, xRs), pd = row(dx, r, n);
    const mu = load<f32>(at(mean, r)), rs = load<f32>(at(rstd, r));
    const vmu = f32x4.splat(mu), vrs = f32x4.splat(rs);
    let va = f32x4.splat(0), vb = f32x4.splat(0);
    let i = 0;
    for (; i < n4; i += 4) {
      const gv = v128.load(at(pg, i));
      const xh = f32x4.mul(f32x4.sub(v128.load(at(px, i)), vmu), vrs);
      const gw = w ? f32x4.mul(gv, v128.load(at(w, i))) : gv;
      va = f32x4.add(va, gw);
      vb = f32x4.add(vb, f32x4.mul(gw, xh));
      if (dw) v128.store(at(dw, i), f32x4.add(v128.load(at(dw, i)), f32x4.mul(gv, xh)));
      if (db) v128.store(at(db, i), f32x4.add(v128.load(at(db, i)), gv));
    }
    let sa = hsum(va), sb = hsum(vb);
    for (; i < n; i++) {
      const gv = load<f32>(at(pg, i));
      const xh = (load<f32>(at(px, i)) - mu) * rs;
      const gw = w ? gv * load<f32>(at(w, i)) : gv;
      sa += gw;
      sb += gw * xh;
      if (dw) store<f32>(at(dw, i), load<f32>(at(dw, i)) + gv * xh);
      if (db) store<f32>(at(db, i), load<f32>(at(db, i)) + gv);
    }
    const a = sa / fn, bm = sb / fn, va2 = f32x4.splat(a), vb2 = f32x4.splat(bm);
    for (i = 0; i < n4; i += 4) {
      const gv = v128.load(at(pg, i));
      const xh = f32x4.mul(f32x4.sub(v128.load(at(px, i)), vmu), vrs);
      const gw = w ? f32x4.mul(gv, v128.load(at(w, i))) : gv;
      v128.store(at(pd, i), f32x4.mul(vrs, f32x4.sub(f32x4.sub(gw, va2), f32x4.mul(xh, vb2))));
    }
    for (; i < n; i++) {
      const gv = load<f32>(at(pg, i));
      const xh = (load<f32>(at(px, i)) - mu) * rs;
      const gw = w ? gv * load<f32>(at(w, i)) : gv;
      store<f32>(at(pd, i), rs * ((gw - a) - xh * bm));
    }
  }
}

/** Max of a row of n (NaN propagates), −∞ for a row of −∞. */
// @ts-ignore: decorator
@inline function rowMax(px: usize, n: i32): f32 {
  let vm = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) vm = f32x4.max(vm, v128.load(at(px, i)));
  let m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
  for (; i < n; i++) m = max(m, load<f32>(at(px, i)));
  return m;
}

/**
 * Cross-entropy of N rows of C logits against int32 classes t (stride tS): lse = m + log Σe^(x − m)
 * (m the row's max) and loss = log Σ − (x[t] − m), the composed −log_softmax(x)[t]; 0 where
 * t = ignore, NaN for a class out of range.
 */
export function cross_entropy_f32(x: usize, xRs: i32, t: usize, tS: i32, loss: usize, lse: usize, N: i32, C: i32, ignore: i32): void {
  for (let r = 0; r < N; r++) {
    const px = row(x, r, xRs);
    let m = rowMax(px, C);
    if (m == -Infinity) m = 0; // every exp is 0: log Σ = −∞ and the loss NaN, as composed
    const vm = f32x4.splat(m);
    let vs = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= C; i += 4) vs = f32x4.add(vs, exp4(f32x4.sub(v128.load(at(px, i)), vm)));
    let s = hsum(vs);
    for (; i < C; i++) s += exp1(load<f32>(at(px, i)) - m);
    const ls = <f32>Math.log(<f64>s);
    store<f32>(at(lse, r), m + ls);
    const c = load<i32>(row(t, r, tS));
    let l: f32;
    if (c == ignore) l = 0;
    else if (c < 0 || c >= C) l = NaN;
    else l = ls - (load<f32>(at(px, c)) - m);
    store<f32>(at(loss, r), l);
  }
}

/**
 * Its backward: dx = g[r]·(e^(x − lse) − onehot(t)) (contiguous), 0 on ignored rows; g has
 * stride gS (0 when it is a broadcast scalar, as from a mean).
 */
export function cross_entropy_backward_f32(x: usize, xRs: i32, t: usize, tS: i32, lse: usize, g: usize, gS: i32,
  dx: usize, N: i32, C: i32, ignore: i32): void {
  for (let r = 0; r < N; r++) {
    const px = row(x, r, xRs), pd = row(dx, r, C);
    const c = load<i32>(row(t, r, tS));
    if (c == ignore) {
      memory.fill(pd, 0, <usize>C << 2);
      continue;
    }
    const gr = load<f32>(row(g, r, gS)), l = load<f32>(at(lse, r));
    const vg = f32x4.splat(gr), vl = f32x4.splat(l);
    let i = 0;
    for (; i + 4 <= C; i += 4) v128.store(at(pd, i), f32x4.mul(vg, exp4(f32x4.sub(v128.load(at(px, i)), vl))));
    for (; i < C; i++) store<f32>(at(pd, i), gr * exp1(load<f32>(at(px, i)) - l));
    if (c >= 0 && c < C) store<f32>(at(pd, c), gr * (exp1(load<f32>(at(px, c)) - l) - 1));
  }
}

// ---------------------------------------------------------------------------------------------
// GELU: one pass instead of the composed form's nine (ops/activation.ts, which the tests compare).
// Tanh form (GPT-2): y = ½x(1 + t), t = tanh(k(x + 0.044715x³)), k = √(2/π);
//   y' = ½(1 + t) + ½x(1 − t²)·k(1 + 3·0.044715x²).
// Exact: y = ½x(1 + erf(x/√2)); y' = ½(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π).

const GK: f32 = 0.7978845608028654;
const GC: f32 = 0.044715;

// @ts-ignore: decorator
@inline function gelu4(x: v128, approx: i32): v128 {
  const half = f32x4.mul(x, f32x4.splat(0.5));
  if (approx) {
    const x3 = f32x4.mul(f32x4.mul(x, x), x);
    const t = tanh4(f32x4.mul(f32x4.add(x, f32x4.mul(x3, f32x4.splat(GC))), f32x4.splat(GK)));
    return f32x4.mul(half, f32x4.add(t, f32x4.splat(1)));
  }
  return f32x4.mul(half, f32x4.add(erf4(f32x4.mul(x, f32x4.splat(0.7071067811865476))), f32x4.splat(1)));
}

// @ts-ignore: decorator
@inline function geluGrad4(g: v128, x: v128, approx: i32): v128 {
  const x2 = f32x4.mul(x, x);
  if (approx) {
    const t = tanh4(f32x4.mul(f32x4.add(x, f32x4.mul(f32x4.mul(x2, x), f32x4.splat(GC))), f32x4.splat(GK)));
    const du = f32x4.mul(f32x4.add(f32x4.mul(x2, f32x4.splat(3 * GC)), f32x4.splat(1)), f32x4.splat(GK));
    const a = f32x4.mul(f32x4.add(t, f32x4.splat(1)), f32x4.splat(0.5));
    const b = f32x4.mul(f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), f32x4.sub(f32x4.splat(1), f32x4.mul(t, t))), du);
    return f32x4.mul(g, f32x4.add(a, b));
  }
  const cdf = f32x4.mul(f32x4.add(erf4(f32x4.mul(x, f32x4.splat(0.7071067811865476))), f32x4.splat(1)), f32x4.splat(0.5));
  const pdf = f32x4.mul(exp4(f32x4.mul(x2, f32x4.splat(-0.5))), f32x4.splat(0.3989422804014327));
  return f32x4.mul(g, f32x4.add(cdf, f32x4.mul(x, pdf)));
}

/** out = GELU(x) over n contiguous elements (approx 1: the tanh form). */
export function gelu_f32(x: usize, out: usize, n: i32, approx: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(at(out, i), gelu4(v128.load(at(x, i)), approx));
  for (let i = n4; i < n; i++) store<f32>(at(out, i), f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(at(x, i))), approx), 0));
}

/** dx = g·GELU'(x) over n contiguous elements. */
export function gelu_backward_f32(g: usize, x: usize, dx: usize, n: i32, approx: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(at(dx, i), geluGrad4(v128.load(at(g, i)), v128.load(at(x, i)), approx));
  for (let i = n4; i < n; i++) {
    const v = geluGrad4(f32x4.splat(load<f32>(at(g, i))), f32x4.splat(load<f32>(at(x, i))), approx);
    store<f32>(at(dx, i), f32x4.extract_lane(v, 0));
  }
}
