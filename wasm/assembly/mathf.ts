// float32 transcendental functions on four SIMD lanes, for the unary kernels (elementwise.ts) and
// the fused softmax. Each is within about 2 ulp of the correctly rounded result over the whole
// float32 range (checked against float64 Math in tests/backends/conformance.test.ts), propagates
// NaN, gives the limits at ±∞, and keeps subnormal inputs and results. Polynomials are Cephes'
// (exp, log) or minimax fits made for this file (erf).

import { madd } from './fma';

const LOG2E: f32 = 1.44269504;
// ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 significant bits so k·LN2_HI is exact (Cody–Waite).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const SIGN = 0x80000000;
/** 1.5·2^23 + 127: adding it rounds to an integer k and leaves k + 127 in the low mantissa bits. */
const ROUND: f32 = 12583039.0;
const ROUND_BITS = 0x4b40007f;

// @ts-ignore: decorator
@inline function splat(c: f32): v128 { return f32x4.splat(c); }

/** e^r − 1 = r + r²·P(r) (Cephes' expf polynomial) for r = x − k·ln2, k = round(x/ln2), |r| ≤ ln2/2. */
// @ts-ignore: decorator
@inline function expm1Reduced(x: v128, k: v128): v128 {
  let r = madd(k, splat(-LN2_HI), x);
  r = madd(k, splat(-LN2_LO), r);
  let p = splat(1.9875691500e-4);
  p = madd(p, r, splat(1.3981999507e-3));
  p = madd(p, r, splat(8.3334519073e-3));
  p = madd(p, r, splat(4.1665795894e-2));
  p = madd(p, r, splat(1.6666665459e-1));
  p = madd(p, r, splat(5.0000001201e-1));
  return madd(f32x4.mul(p, r), r, r);
}

/**
 * e^x: 2^k·e^r with x = k·ln2 + r. 2^k is applied as two factors so results between 2^−149 and
 * 2^−126 come out subnormal (rounded once) and e^x overflows to +∞ past ln(FLT_MAX) ≈ 88.72;
 * below −104 (−∞ included) the result is 0 without computing a subnormal.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const under = f32x4.lt(x, splat(-104.0));
  // NaN passes through (pmin keeps its first operand when the comparison is false) to the result.
  x = f32x4.pmin(v128.bitselect(splat(0), x, under), splat(89.0));
  const kr = madd(x, splat(LOG2E), splat(ROUND));
  const k = f32x4.sub(kr, splat(ROUND));
  const p = f32x4.add(expm1Reduced(x, k), splat(1));
  const ki = i32x4.sub(kr, i32x4.splat(ROUND_BITS));
  const k1 = i32x4.shr_s(ki, 1), k2 = i32x4.sub(ki, k1);
  const s1 = i32x4.shl(i32x4.add(k1, i32x4.splat(127)), 23), s2 = i32x4.shl(i32x4.add(k2, i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(f32x4.mul(p, s1), s2), under);
}

/**
 * e^x − 1 without the cancellation of exp(x) − 1 near 0: for |x| < ln2/2 the reduction has k = 0,
 * so it is the polynomial of r = x itself; beyond, |e^x − 1| > 0.29 and exp4(x) − 1 loses nothing.
 */
// @ts-ignore: decorator
@inline export function expm14(x: v128): v128 {
  const small = f32x4.lt(f32x4.abs(x), splat(0.34657359));
  return v128.bitselect(expm1Reduced(x, splat(0)), f32x4.sub(exp4(x), splat(1)), small);
}

/**
 * tanh x = −m/(m + 2)·sign(x) with m = e^(−2|x|) − 1, computed as (2^k − 1) + 2^k·(e^r − 1):
 * no cancellation for small |x| (there k = 0 and m = e^r − 1 straight from the polynomial).
 * Past |x| = 10 the result is ±1 in float32.
 */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const z = f32x4.pmax(f32x4.mul(f32x4.abs(x), splat(-2)), splat(-20)); // NaN passes through
  const kr = madd(z, splat(LOG2E), splat(ROUND));
  const k = f32x4.sub(kr, splat(ROUND));
  const t = i32x4.shl(kr, 23); // 2^k
  const m = madd(t, expm1Reduced(z, k), f32x4.sub(t, splat(1)));
  const y = f32x4.div(m, f32x4.add(m, splat(2))); // in (−1, 0]
  return v128.or(f32x4.abs(y), v128.and(x, i32x4.splat(SIGN)));
}

/**
 * ln x: x = 2^e·m with m in [√½, √2), then f = m − 1 and ln x = e·ln2 + f − f²/2 + f³·P(f)
 * (Cephes' logf). Subnormals are scaled up first; ln 0 = −∞, ln(+∞) = +∞, ln(x < 0) = NaN.
 */
// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  const sub = f32x4.lt(x, splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, splat(8388608.0)), x, sub); // · 2^23
  let e = i32x4.sub(i32x4.shr_u(xs, 23), v128.bitselect(i32x4.splat(126 + 23), i32x4.splat(126), sub));
  const m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const low = f32x4.lt(m, splat(0.707106781186547524));
  e = i32x4.add(e, low); // the mask is −1
  const f = f32x4.sub(f32x4.add(m, v128.and(m, low)), splat(1));
  const fe = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(f, f);
  let p = splat(7.0376836292e-2);
  p = madd(p, f, splat(-1.1514610310e-1));
  p = madd(p, f, splat(1.1676998740e-1));
  p = madd(p, f, splat(-1.2420140846e-1));
  p = madd(p, f, splat(1.4249322787e-1));
  p = madd(p, f, splat(-1.6668057665e-1));
  p = madd(p, f, splat(2.0000714765e-1));
  p = madd(p, f, splat(-2.4999993993e-1));
  p = madd(p, f, splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, f), z);
  y = madd(fe, splat(LN2_LO), y);
  y = madd(z, splat(-0.5), y);
  let r = madd(fe, splat(LN2_HI), f32x4.add(f, y));
  r = v128.bitselect(splat(Infinity), r, f32x4.eq(x, splat(Infinity)));
  r = v128.bitselect(splat(-Infinity), r, f32x4.eq(x, splat(0)));
  return v128.bitselect(r, splat(NaN), f32x4.ge(x, splat(0))); // x < 0 or NaN: NaN
}

/**
 * erf x. |x| < 1: x + x·Q(x²), Q a degree-6 minimax fit. Beyond: 1 − e^(−x²)·t·R(t) with
 * t = 1/(1 + |x|/2) and R a degree-5 fit of erfc(x)·e^(x²)/t on [1, 4]; erf is 1 in float32 past
 * 3.92. The sign is restored last.
 */
// @ts-ignore: decorator
@inline export function erf4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const x2 = f32x4.mul(ax, ax);
  let q = splat(7.853787246858701e-05);
  q = madd(q, x2, splat(-0.0008010173332877457));
  q = madd(q, x2, splat(0.005188325420022011));
  q = madd(q, x2, splat(-0.026853810995817184));
  q = madd(q, x2, splat(0.1128358542919159));
  q = madd(q, x2, splat(-0.3761262595653534));
  q = madd(q, x2, splat(0.12837916612625122));
  const small = madd(ax, q, ax);
  const a = f32x4.pmin(ax, splat(4)); // NaN passes through
  const t = f32x4.div(splat(1), madd(a, splat(0.5), splat(1)));
  let r = splat(-0.05100420489907265);
  r = madd(r, t, splat(-0.05373255908489227));
  r = madd(r, t, splat(0.3813411593437195));
  r = madd(r, t, splat(0.1312842071056366));
  r = madd(r, t, splat(0.31267473101615906));
  r = madd(r, t, splat(0.27891749143600464));
  const erfc = f32x4.mul(exp4(f32x4.neg(f32x4.mul(a, a))), f32x4.mul(r, t));
  const y = v128.bitselect(small, f32x4.sub(splat(1), erfc), f32x4.lt(ax, splat(1)));
  return v128.or(y, v128.and(x, i32x4.splat(SIGN)));
}
