// webgpu kernels for unary, binary, where, cast and copy: one generated WGSL kernel per op, dtype and
// operand layout (contiguous, broadcast value or strided; see layout.ts), one thread per element.

import type { BinaryPrim, FusedKernels, Kernel, Storage, UnaryPrim, View } from '../backend.js';
import type { DType } from '../../tensor/dtype.js';
import { addressing, buf, wgslType } from './layout.js';
import { MAIN_1D, PRELUDE, WG, type GpuRuntime } from './runtime.js';

/** WGSL helpers the float unary ops use, with the edge cases the js reference has. */
const MATH = /* wgsl */ `
// NaN and ∞ cannot be WGSL constants (constant evaluation rejects them): built at run time.
fn nan_() -> f32 { return bitcast<f32>(0x7fc00000u | (prm[0] & 0u)); }
fn inf_() -> f32 { return bitcast<f32>(0x7f800000u | (prm[0] & 0u)); }
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// ln x with ln 0 = −∞ and ln(x < 0) = NaN (WGSL leaves both undefined).
fn log_(x: f32) -> f32 { if (x == 0.0) { return -inf_(); } if (!(x > 0.0)) { return nan_(); } return log(x); }
// tanh: an odd Taylor polynomial near 0 (no cancellation), (1 − e)/(1 + e) with e = e^(−2|x|) beyond;
// never overflows (the builtin does on some drivers).
fn tanh_(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.3) { let z = x * x; return x * (1.0 + z * (-1.0 / 3.0 + z * (2.0 / 15.0 + z * (-17.0 / 315.0 + z * (62.0 / 2835.0))))); }
  let e = exp(-2.0 * min(a, 20.0));
  return select(1.0, -1.0, x < 0.0) * (1.0 - e) / (1.0 + e);
}
// erf: the minimax fits of wasm/assembly/mathf.ts (|x| < 1: x + x·Q(x²); beyond: 1 − e^(−x²)·t·R(t)).
fn erf_(x: f32) -> f32 {
  let ax = abs(x);
  var y: f32;
  if (ax < 1.0) {
    let x2 = ax * ax;
    let q = ((((((7.853787246858701e-05 * x2 - 0.0008010173332877457) * x2 + 0.005188325420022011) * x2 - 0.026853810995817184) * x2
      + 0.1128358542919159) * x2 - 0.3761262595653534) * x2 + 0.12837916612625122);
    y = ax + ax * q;
  } else {
    let a = min(ax, 4.0);
    let t = 1.0 / (1.0 + 0.5 * a);
    let r = (((((-0.05100420489907265 * t - 0.05373255908489227) * t + 0.3813411593437195) * t + 0.1312842071056366) * t
      + 0.31267473101615906) * t + 0.27891749143600464);
    y = 1.0 - exp(-a * a) * r * t;
  }
  if (isnan_(x)) { return x; }
  return select(y, -y, x < 0.0);
}
// sin and cos with their own range reduction: x = k·π/2 + r, |r| ≤ π/4, π/2 split in three parts
// (Cody–Waite, Cephes' constants) so k·part is exact; Cephes' sinf/cosf polynomials on r. Drivers'
// builtins lose accuracy fast past |x| = π (SwiftShader's cos(3) is off by 2e-4). Past 8192 the
// reduction itself loses bits: the builtin is used there.
fn sinr_(r: f32) -> f32 { let z = r * r; return r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4)); }
fn cosr_(r: f32) -> f32 { let z = r * r; return 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5)); }
fn sincos_(x: f32, shift: i32) -> f32 {
  if (abs(x) > 8192.0) { return select(sin(x), cos(x), shift == 1); }
  let k = round(x * 0.63661977236758134);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
  let q = (i32(k) + shift) & 3;
  var v: f32;
  if ((q & 1) == 0) { v = sinr_(r); } else { v = cosr_(r); }
  return select(v, -v, q >= 2);
}
// x^y as Math.pow: negative bases with integer exponents keep their sign; 0^0 = 1.
fn pow_(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (x == 0.0) { return select(0.0, inf_(), y < 0.0); }
  let r = pow(abs(x), y);
  if (x > 0.0) { return r; }
  if (floor(y) != y) { return nan_(); }
  return select(r, -r, fract(y * 0.5) != 0.0);
}
// maximum/minimum propagate NaN as Math.max/min do.
fn max_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return nan_(); } return max(a, b); }
fn min_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return nan_(); } return min(a, b); }
`;

const UNARY_F32: Record<UnaryPrim, string> = {
  neg: '-x0',
  exp: 'exp(x0)',
  log: 'log_(x0)',
  sqrt: 'select(sqrt(x0), nan_(), x0 < 0.0)',
  reciprocal: '1.0 / x0',
  sin: 'sincos_(x0, 0)',
  cos: 'sincos_(x0, 1)',
  tanh: 'tanh_(x0)',
  erf: 'erf_(x0)',
  floor: 'floor(x0)',
  abs: 'abs(x0)',
  // e^x − 1: its Taylor series to x⁴ near 0, where exp(x) − 1 cancels
  sinh: 'select(sinh(x0), x0 * (1.0 + x0 * x0 * (0.16666667 + x0 * x0 * 0.008333334)), abs(x0) < 0.1)',
  expm1: 'select(exp(x0) - 1.0, x0 * (1.0 + x0 * (0.5 + x0 * (0.16666667 + x0 * 0.041666668))), abs(x0) < 0.1)',
};
const UNARY_I32: Partial<Record<UnaryPrim, string>> = { neg: '-x0', abs: 'abs(x0)', floor: 'x0' };

const BINARY_F32: Record<BinaryPrim, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'pow_(a, b)',
  maximum: 'max_(a, b)',
  minimum: 'min_(a, b)',
  less: 'u32(a < b)',
  equal: 'u32(a == b)',
};
// Integer division truncates toward zero, as storing a/b in an Int32Array does; x/0 gives 0.
const BINARY_INT: Partial<Record<BinaryPrim, string>> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'select(a / b, 0, b == 0)',
  maximum: 'max(a, b)',
  minimum: 'min(a, b)',
  less: 'u32(a < b)',
  equal: 'u32(a == b)',
};

/**
 * Runs `expr` (over operands x0, x1, ... read at their views) into out, element by element.
 * `types` are the WGSL element types of the inputs; `outType` the output's.
 */
export function mapKernel(
  rt: GpuRuntime,
  name: string,
  expr: string,
  views: readonly View[],
  types: string[],
  out: Storage,
  outType: string,
  outShape: readonly number[],
  prelude = '',
  statements = '',
): void {
  const a = addressing(outShape, views);
  if (a.meta[0] === 0) return;
  const key = `${name}:${types.join(',')}>${outType}:${a.key}`;
  const pipeline = rt.pipeline(
    key,
    () => `${PRELUDE}${prelude}
${views.map((_, j) => `@group(0) @binding(${j + 1}) var<storage, read> x${j}s: array<${types[j]}>;`).join('\n')}
@group(0) @binding(${views.length + 1}) var<storage, read_write> y: array<${outType}>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  ${a.wgsl}
  ${views.map((_, j) => `let x${j} = x${j}s[o${j}];`).join(' ')}
  ${statements}
  y[i] = ${expr};
}`,
  );
  rt.dispatch(pipeline, [...views.map((v) => buf(v.storage)), buf(out)], a.meta, Math.ceil(a.meta[0] / WG));
}

export function unaryKernel(rt: GpuRuntime, op: UnaryPrim): Kernel<UnaryPrim> {
  return ([x], _p, out, shape) => {
    const t = wgslType(x.dtype, op);
    const body = t === 'f32' ? UNARY_F32[op] : UNARY_I32[op];
    if (!body) throw new Error(`${op}: webgpu has no ${x.dtype} kernel (the op layer casts to float first)`);
    // NaN in, NaN out, whatever the driver's builtins do with it (SwiftShader's exp(NaN) is ∞).
    const expr = t === 'f32' && op !== 'neg' && op !== 'abs' ? `select(${body}, x0, isnan_(x0))` : body;
    mapKernel(rt, op, expr, [x], [t], out, t, shape, t === 'f32' ? MATH : '');
  };
}

export function binaryKernel(rt: GpuRuntime, op: BinaryPrim): Kernel<BinaryPrim> {
  return ([a, b], _p, out, shape) => {
    const t = wgslType(a.dtype, op);
    const body = t === 'f32' ? BINARY_F32[op] : BINARY_INT[op];
    if (!body || b.dtype !== a.dtype) throw new Error(`${op}: webgpu has no kernel for ${a.dtype} and ${b.dtype}`);
    const ot = wgslType(out.dtype, op);
    mapKernel(rt, op, `${ot}(${body.replace(/\ba\b/g, 'x0').replace(/\bb\b/g, 'x1')})`, [a, b], [t, t], out, ot, shape, t === 'f32' ? MATH : '');
  };
}

export function whereKernel(rt: GpuRuntime): Kernel<'where'> {
  return ([c, a, b], _p, out, shape) => {
    const t = wgslType(a.dtype, 'where');
    mapKernel(rt, 'where', 'select(x2, x1, x0 != 0u)', [c, a, b], ['u32', t, t], out, t, shape);
  };
}

/** Conversions as the js backend does them: float to int truncates toward zero; to bool is x ≠ 0. */
function castExpr(from: DType, to: DType): string {
  if (from === to) return 'x0';
  if (to === 'bool') return from === 'float32' ? 'u32(x0 != 0.0)' : 'u32(x0 != 0)';
  if (to === 'float32') return 'f32(x0)';
  if (from === 'float32') return 'select(i32(trunc(x0)), 0, x0 != x0)';
  return 'i32(x0)';
}

export function castKernel(rt: GpuRuntime): Kernel<'cast'> {
  return ([x], { dtype }, out, shape) => {
    const from = wgslType(x.dtype, 'cast'),
      to = wgslType(dtype, 'cast');
    mapKernel(rt, `cast`, castExpr(x.dtype, dtype), [x], [from], out, to, shape);
  };
}

export function copyKernel(rt: GpuRuntime): Kernel<'copy'> {
  return ([x], _p, out, shape) => {
    const t = wgslType(x.dtype, 'copy');
    mapKernel(rt, 'copy', 'x0', [x], [t], out, t, shape);
  };
}

// GELU in one pass (fused: ops/activation.ts has the composed form and the test compares them).
// k = √(2/π); the tanh form is GPT-2's.
const GELU = {
  tanh: 'let u = 0.7978845608028654 * (x0 + 0.044715 * x0 * x0 * x0); let y_ = 0.5 * x0 * (1.0 + tanh_(u));',
  none: 'let y_ = 0.5 * x0 * (1.0 + erf_(x0 * 0.7071067811865476));',
};
const GELU_GRAD = {
  tanh: `let x2 = x1 * x1; let t = tanh_(0.7978845608028654 * (x1 + 0.044715 * x2 * x1));
  let y_ = x0 * (0.5 * (1.0 + t) + 0.5 * x1 * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 0.134145 * x2));`,
  none: 'let y_ = x0 * (0.5 * (1.0 + erf_(x1 * 0.7071067811865476)) + x1 * exp(-0.5 * x1 * x1) * 0.3989422804014327);',
};

export function fusedGelu(rt: GpuRuntime): NonNullable<FusedKernels['gelu']> {
  return (x, out, approximate) => {
    if (x.dtype !== 'float32') return false;
    mapKernel(rt, `gelu_${approximate}`, 'y_', [x], ['f32'], out, 'f32', x.shape, MATH, GELU[approximate]);
    return true;
  };
}

export function fusedGeluBackward(rt: GpuRuntime): NonNullable<FusedKernels['geluBackward']> {
  return (g, x, dx, approximate) => {
    if (x.dtype !== 'float32' || g.dtype !== 'float32') return false;
    mapKernel(rt, `gelu_grad_${approximate}`, 'y_', [g, x], ['f32', 'f32'], dx, 'f32', x.shape, MATH, GELU_GRAD[approximate]);
    return true;
  };
}
