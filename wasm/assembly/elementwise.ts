// float32 elementwise kernels over "two-level" operands: the output is [outer, inner] contiguous and
// each input is addressed as base + o*outerStride + i*innerStride with innerStride 0 (broadcast)
// or 1 (contiguous). The host collapses any broadcast it can into this form. Op codes match
// src/backends/wasm/codes.ts.

import { exp4, log4, tanh4, erf4 } from './mathf';

// Unary op codes
const NEG = 0, EXP = 1, LOG = 2, SQRT = 3, RECIP = 4, SIN = 5, COS = 6, TANH = 7, ERF = 8, FLOOR = 9, ABS = 10;
// Binary op codes
const ADD = 0, SUB = 1, MUL = 2, DIV = 3, POW = 4, MAXIMUM = 5, MINIMUM = 6, LESS = 7, EQUAL = 8;

// @ts-ignore: decorator
@inline function unaryScalar(op: i32, x: f32): f32 {
  // exp, log, tanh, erf: one lane of the vector code, so an element's value does not depend on its position.
  switch (op) {
    case NEG: return -x;
    case EXP: return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
    case LOG: return f32x4.extract_lane(log4(f32x4.splat(x)), 0);
    case SQRT: return Mathf.sqrt(x);
    case RECIP: return <f32>1 / x;
    case SIN: return <f32>Math.sin(<f64>x);
    case COS: return <f32>Math.cos(<f64>x);
    case TANH: return f32x4.extract_lane(tanh4(f32x4.splat(x)), 0);
    case ERF: return f32x4.extract_lane(erf4(f32x4.splat(x)), 0);
    case FLOOR: return Mathf.floor(x);
    default: return Mathf.abs(x);
  }
}

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  if (op != SIN && op != COS) {
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      let r: v128;
      if (op == EXP) r = exp4(v);
      else if (op == LOG) r = log4(v);
      else if (op == TANH) r = tanh4(v);
      else if (op == ERF) r = erf4(v);
      else if (op == NEG) r = f32x4.neg(v);
      else if (op == SQRT) r = f32x4.sqrt(v);
      else if (op == RECIP) r = f32x4.div(f32x4.splat(1), v);
      else if (op == FLOOR) r = f32x4.floor(v);
      else r = f32x4.abs(v);
      v128.store(out + (<usize>i << 2), r);
    }
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), unaryScalar(op, load<f32>(x + (<usize>i << 2))));
}

/** out[i] = op(x[i]) for contiguous x. */
export function unary_f32(op: i32, x: usize, out: usize, n: i32): void {
  switch (op) {
    case NEG: unaryLoop(NEG, x, out, n); break;
    case EXP: unaryLoop(EXP, x, out, n); break;
    case LOG: unaryLoop(LOG, x, out, n); break;
    case SQRT: unaryLoop(SQRT, x, out, n); break;
    case RECIP: unaryLoop(RECIP, x, out, n); break;
    case SIN: unaryLoop(SIN, x, out, n); break;
    case COS: unaryLoop(COS, x, out, n); break;
    case TANH: unaryLoop(TANH, x, out, n); break;
    case ERF: unaryLoop(ERF, x, out, n); break;
    case FLOOR: unaryLoop(FLOOR, x, out, n); break;
    default: unaryLoop(ABS, x, out, n);
  }
}

// @ts-ignore: decorator
@inline function binScalar(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    case POW: return <f32>Math.pow(<f64>a, <f64>b);
    case MAXIMUM: return a != a || b != b ? NaN : (a > b ? a : b);
    default: return a != a || b != b ? NaN : (a < b ? a : b);
  }
}

// @ts-ignore: decorator
@inline function binVec(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case ADD: return f32x4.add(a, b);
    case SUB: return f32x4.sub(a, b);
    case MUL: return f32x4.mul(a, b);
    case DIV: return f32x4.div(a, b);
    // f32x4.max/min propagate NaN like PyTorch's maximum/minimum.
    case MAXIMUM: return f32x4.max(a, b);
    default: return f32x4.min(a, b);
  }
}

// @ts-ignore: decorator
@inline function binLoop(op: i32, a: usize, aO: i32, aI: i32, b: usize, bO: i32, bI: i32, out: usize, outer: i32, inner: i32): void {
  const vec = op != POW;
  for (let o = 0; o < outer; o++) {
    const pa = a + (<usize>o * <usize>aO << 2), pb = b + (<usize>o * <usize>bO << 2);
    const po = out + (<usize>o * <usize>inner << 2);
    let i = 0;
    if (vec) {
      if (aI == 1 && bI == 1) {
        for (; i + 4 <= inner; i += 4) v128.store(po + (<usize>i << 2), binVec(op, v128.load(pa + (<usize>i << 2)), v128.load(pb + (<usize>i << 2))));
      } else if (aI == 1) {
        const y = v128.load32_splat(pb);
        for (; i + 4 <= inner; i += 4) v128.store(po + (<usize>i << 2), binVec(op, v128.load(pa + (<usize>i << 2)), y));
      } else if (bI == 1) {
        const x = v128.load32_splat(pa);
        for (; i + 4 <= inner; i += 4) v128.store(po + (<usize>i << 2), binVec(op, x, v128.load(pb + (<usize>i << 2))));
      }
    }
    for (; i < inner; i++) {
      store<f32>(po + (<usize>i << 2), binScalar(op, load<f32>(pa + (<usize>(i * aI) << 2)), load<f32>(pb + (<usize>(i * bI) << 2))));
    }
  }
}

/** out[o, i] = op(a[o, i], b[o, i]) over two-level operands (see the file comment). */
export function binary_f32(op: i32, a: usize, aO: i32, aI: i32, b: usize, bO: i32, bI: i32, out: usize, outer: i32, inner: i32): void {
  switch (op) {
    case ADD: binLoop(ADD, a, aO, aI, b, bO, bI, out, outer, inner); break;
    case SUB: binLoop(SUB, a, aO, aI, b, bO, bI, out, outer, inner); break;
    case MUL: binLoop(MUL, a, aO, aI, b, bO, bI, out, outer, inner); break;
    case DIV: binLoop(DIV, a, aO, aI, b, bO, bI, out, outer, inner); break;
    case POW: binLoop(POW, a, aO, aI, b, bO, bI, out, outer, inner); break;
    case MAXIMUM: binLoop(MAXIMUM, a, aO, aI, b, bO, bI, out, outer, inner); break;
    default: binLoop(MINIMUM, a, aO, aI, b, bO, bI, out, outer, inner);
  }
}

/** Comparisons to bool (one byte per element): out[o, i] = a < b, or a == b. */
export function compare_f32(op: i32, a: usize, aO: i32, aI: i32, b: usize, bO: i32, bI: i32, out: usize, outer: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    const pa = a + (<usize>o * <usize>aO << 2), pb = b + (<usize>o * <usize>bO << 2);
    const po = out + <usize>o * <usize>inner;
    if (op == LESS) {
      for (let i = 0; i < inner; i++) store<u8>(po + i, <u8>(load<f32>(pa + (<usize>(i * aI) << 2)) < load<f32>(pb + (<usize>(i * bI) << 2))));
    } else {
      for (let i = 0; i < inner; i++) store<u8>(po + i, <u8>(load<f32>(pa + (<usize>(i * aI) << 2)) == load<f32>(pb + (<usize>(i * bI) << 2))));
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

/** Casts between float32 (0), int32 (1) and bool (2) for contiguous input; float to int truncates. */
export function cast(from: i32, to: i32, x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    let v: f64;
    if (from == 0) v = <f64>load<f32>(x + (<usize>i << 2));
    else if (from == 1) v = <f64>load<i32>(x + (<usize>i << 2));
    else v = <f64>load<u8>(x + i);
    if (to == 0) store<f32>(out + (<usize>i << 2), <f32>v);
    else if (to == 1) store<i32>(out + (<usize>i << 2), <i32>v);
    else store<u8>(out + i, v != 0 ? 1 : 0);
  }
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
