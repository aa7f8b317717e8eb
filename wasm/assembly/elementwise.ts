// float32 elementwise kernels over "two-level" operands: the output is [outer, inner] contiguous and
// each input is addressed as base + o*outerStride + i*innerStride with innerStride 0 (broadcast)
// or 1 (contiguous). The host collapses any broadcast it can into this form. The op codes (Unary,
// Binary, DType) and the entry points unary_f32/binary_f32 (op-loops.ts: one loop per op, with its op
// inlined) are generated from the primitive catalogue, src/backends/primitives.ts; a new op needs
// only its arithmetic here, in unary4 or binary4, and the build checks that every function
// dispatching on the codes handles each one and traps on others.

import { exp4, expm14, log4, tanh4, erf4 } from './mathf';
import { Unary, Binary, DType } from './codes';

// sin, cos and pow have no vector form here: float64 Math lane by lane, as for a single element.
// @ts-ignore: decorator
@inline function sin4(v: v128): v128 {
  let r = f32x4.splat(<f32>Math.sin(<f64>f32x4.extract_lane(v, 0)));
  r = f32x4.replace_lane(r, 1, <f32>Math.sin(<f64>f32x4.extract_lane(v, 1)));
  r = f32x4.replace_lane(r, 2, <f32>Math.sin(<f64>f32x4.extract_lane(v, 2)));
  return f32x4.replace_lane(r, 3, <f32>Math.sin(<f64>f32x4.extract_lane(v, 3)));
}
// @ts-ignore: decorator
@inline function cos4(v: v128): v128 {
  let r = f32x4.splat(<f32>Math.cos(<f64>f32x4.extract_lane(v, 0)));
  r = f32x4.replace_lane(r, 1, <f32>Math.cos(<f64>f32x4.extract_lane(v, 1)));
  r = f32x4.replace_lane(r, 2, <f32>Math.cos(<f64>f32x4.extract_lane(v, 2)));
  return f32x4.replace_lane(r, 3, <f32>Math.cos(<f64>f32x4.extract_lane(v, 3)));
}
// @ts-ignore: decorator
@inline function pow4(a: v128, b: v128): v128 {
  let r = f32x4.splat(<f32>Math.pow(<f64>f32x4.extract_lane(a, 0), <f64>f32x4.extract_lane(b, 0)));
  r = f32x4.replace_lane(r, 1, <f32>Math.pow(<f64>f32x4.extract_lane(a, 1), <f64>f32x4.extract_lane(b, 1)));
  r = f32x4.replace_lane(r, 2, <f32>Math.pow(<f64>f32x4.extract_lane(a, 2), <f64>f32x4.extract_lane(b, 2)));
  return f32x4.replace_lane(r, 3, <f32>Math.pow(<f64>f32x4.extract_lane(a, 3), <f64>f32x4.extract_lane(b, 3)));
}

/**
 * Each unary op on four lanes. A lone element (the tail) takes lane 0 of the same code, so an
 * element's value does not depend on its position.
 */
// @ts-ignore: decorator
@inline function unary4(op: i32, v: v128): v128 {
  if (op == Unary.NEG) return f32x4.neg(v);
  if (op == Unary.EXP) return exp4(v);
  if (op == Unary.LOG) return log4(v);
  if (op == Unary.SQRT) return f32x4.sqrt(v);
  if (op == Unary.RECIPROCAL) return f32x4.div(f32x4.splat(1), v);
  if (op == Unary.SIN) return sin4(v);
  if (op == Unary.COS) return cos4(v);
  if (op == Unary.TANH) return tanh4(v);
  if (op == Unary.ERF) return erf4(v);
  if (op == Unary.FLOOR) return f32x4.floor(v);
  if (op == Unary.ABS) return f32x4.abs(v);
  if (op == Unary.EXPM1) return expm14(v);
  if (op == Unary.SINH) return f32x4.mul(f32x4.sub(expm14(v), expm14(f32x4.neg(v))), f32x4.splat(0.5)); // (eˣ − 1 − (e⁻ˣ − 1)) / 2: no cancellation near 0
  unreachable(); return v;
}

// @ts-ignore: decorator
@inline export function unaryLoop(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), unary4(op, v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), f32x4.extract_lane(unary4(op, v128.load32_splat(x + (<usize>i << 2))), 0));
}

/**
 * Each binary op on four lanes: arithmetic gives float32 lanes, a comparison lane masks (all ones
 * where true). A lone element takes lane 0 of the same code.
 */
// @ts-ignore: decorator
@inline function binary4(op: i32, a: v128, b: v128): v128 {
  if (op == Binary.ADD) return f32x4.add(a, b);
  if (op == Binary.SUB) return f32x4.sub(a, b);
  if (op == Binary.MUL) return f32x4.mul(a, b);
  if (op == Binary.DIV) return f32x4.div(a, b);
  if (op == Binary.POW) return pow4(a, b);
  // f32x4.max/min propagate NaN like PyTorch's maximum/minimum.
  if (op == Binary.MAXIMUM) return f32x4.max(a, b);
  if (op == Binary.MINIMUM) return f32x4.min(a, b);
  if (op == Binary.LESS) return f32x4.lt(a, b);
  if (op == Binary.EQUAL) return f32x4.eq(a, b);
  unreachable(); return a;
}

/** Store four results at element i of a row: float32s, or (compare) lane masks as bytes 0/1. */
// @ts-ignore: decorator
@inline function store4(po: usize, i: i32, r: v128, compare: bool): void {
  if (compare) {
    const bytes = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(r, r), i16x8.splat(0));
    store<u32>(po + <usize>i, i32x4.extract_lane(v128.and(bytes, i8x16.splat(1)), 0));
  } else {
    v128.store(po + (<usize>i << 2), r);
  }
}

/** Store lane 0 of r at element i of a row. */
// @ts-ignore: decorator
@inline function store1(po: usize, i: i32, r: v128, compare: bool): void {
  if (compare) store<u8>(po + <usize>i, <u8>(i32x4.extract_lane(r, 0) & 1));
  else store<f32>(po + (<usize>i << 2), f32x4.extract_lane(r, 0));
}

// @ts-ignore: decorator
@inline export function binLoop(op: i32, compare: bool, a: usize, aO: i32, aI: i32, b: usize, bO: i32, bI: i32, out: usize, outer: i32, inner: i32): void {
  const outShift: usize = compare ? 0 : 2;
  for (let o = 0; o < outer; o++) {
    const pa = a + (<usize>o * <usize>aO << 2), pb = b + (<usize>o * <usize>bO << 2);
    const po = out + (<usize>o * <usize>inner << outShift);
    let i = 0;
    if (aI == 1 && bI == 1) {
      for (; i + 4 <= inner; i += 4) store4(po, i, binary4(op, v128.load(pa + (<usize>i << 2)), v128.load(pb + (<usize>i << 2))), compare);
    } else if (aI == 1) {
      const y = v128.load32_splat(pb);
      for (; i + 4 <= inner; i += 4) store4(po, i, binary4(op, v128.load(pa + (<usize>i << 2)), y), compare);
    } else if (bI == 1) {
      const x = v128.load32_splat(pa);
      for (; i + 4 <= inner; i += 4) store4(po, i, binary4(op, x, v128.load(pb + (<usize>i << 2))), compare);
    }
    for (; i < inner; i++) {
      store1(po, i, binary4(op, v128.load32_splat(pa + (<usize>(i * aI) << 2)), v128.load32_splat(pb + (<usize>(i * bI) << 2))), compare);
    }
  }
}

/** out[o, i] = cond[o, i] ? a[o, i] : b[o, i], cond one byte per element. */
export function where_f32(c: usize, cO: i32, cI: i32, a: usize, aO: i32, aI: i32, b: usize, bO: i32, bI: i32, out: usize, outer: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    const pc = c + <usize>o * <usize>cO, pa = a + (<usize>o * <usize>aO << 2), pb = b + (<usize>o * <usize>bO << 2);
    const po = out + (<usize>o * <usize>inner << 2);
    let i = 0;
    if (cI == 1) {
      // Four condition bytes widen to four lane masks; a and b are loaded or splatted.
      const zero = i32x4.splat(0);
      const sa = v128.load32_splat(pa), sb = v128.load32_splat(pb);
      for (; i + 4 <= inner; i += 4) {
        const bytes = v128.load32_zero(pc + <usize>i);
        const mask = i32x4.ne(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes)), zero);
        const va = aI == 1 ? v128.load(pa + (<usize>i << 2)) : sa;
        const vb = bI == 1 ? v128.load(pb + (<usize>i << 2)) : sb;
        v128.store(po + (<usize>i << 2), v128.bitselect(va, vb, mask));
      }
    }
    for (; i < inner; i++) {
      store<f32>(po + (<usize>i << 2), load<u8>(pc + <usize>(i * cI)) ? load<f32>(pa + (<usize>(i * aI) << 2)) : load<f32>(pb + (<usize>(i * bI) << 2)));
    }
  }
}

/** Element i of x, of the dtype with code `dtype`. */
// @ts-ignore: decorator
@inline function loadAs(dtype: i32, x: usize, i: i32): f64 {
  if (dtype == DType.FLOAT32) return <f64>load<f32>(x + (<usize>i << 2));
  if (dtype == DType.INT32) return <f64>load<i32>(x + (<usize>i << 2));
  if (dtype == DType.BOOL) return <f64>load<u8>(x + i);
  unreachable(); return 0;
}

/** Store v as element i of out, of the dtype with code `dtype` (float to int truncates, nonzero is true). */
// @ts-ignore: decorator
@inline function storeAs(dtype: i32, out: usize, i: i32, v: f64): void {
  if (dtype == DType.FLOAT32) store<f32>(out + (<usize>i << 2), <f32>v);
  else if (dtype == DType.INT32) store<i32>(out + (<usize>i << 2), <i32>v);
  else if (dtype == DType.BOOL) store<u8>(out + i, v != 0 ? 1 : 0);
  else unreachable();
}

/** Casts between the dtypes with a DType code (float32, int32, bool) for contiguous input. */
export function cast(from: i32, to: i32, x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) storeAs(to, out, i, loadAs(from, x, i));
}

/**
 * Strided copy of 4-byte elements into a contiguous output: shape and strides (in elements) of up
 * to four dims, outermost first, padded with size-1 dims.
 */
export function copy4(x: usize, out: usize, d0: i32, d1: i32, d2: i32, d3: i32, s0: i32, s1: i32, s2: i32, s3: i32): void {
  let po = out;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        const src = x + ((<usize>i0 * s0 + <usize>i1 * s1 + <usize>i2 * s2) << 2);
        if (s3 == 1) {
          memory.copy(po, src, <usize>d3 << 2);
        } else {
          for (let i3 = 0; i3 < d3; i3++) store<u32>(po + (<usize>i3 << 2), load<u32>(src + (<usize>i3 * s3 << 2)));
        }
        po += <usize>d3 << 2;
      }
    }
  }
}

/**
 * Strided copy of 4-byte elements between two strided layouts (both in elements), four dims
 * outermost first: concat writes each input into its block of the output, pad into the interior.
 */
export function copy4to(x: usize, out: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  s0: i32, s1: i32, s2: i32, s3: i32, t0: i32, t1: i32, t2: i32, t3: i32): void {
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        const src = x + ((<usize>i0 * s0 + <usize>i1 * s1 + <usize>i2 * s2) << 2);
        const dst = out + ((<usize>i0 * t0 + <usize>i1 * t1 + <usize>i2 * t2) << 2);
        if (s3 == 1 && t3 == 1) {
          memory.copy(dst, src, <usize>d3 << 2);
        } else {
          for (let i3 = 0; i3 < d3; i3++) store<u32>(dst + (<usize>i3 * t3 << 2), load<u32>(src + (<usize>i3 * s3 << 2)));
        }
      }
    }
  }
}

/** out[0..n) = the 4-byte pattern `bits` (a float32 or int32 value). */
export function fill4(out: usize, n: i32, bits: u32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<u32>(out + (<usize>i << 2), bits);
}
