// Elementwise unary primitives (and cast), each with its derivative, plus the composites built on them.
// The lowest op family: arithmetic with other tensors goes through Tensor methods (x.mul(y)), so
// binary.ts, which casts with this file's cast, can import it without a cycle.

import type { Tensor } from '../tensor/tensor.js';
import type { UnaryPrim } from '../backends/backend.js';
import { dispatch } from './dispatch.js';
import { isFloat, type DType } from '../tensor/dtype.js';
import { zerosLike } from '../tensor/creation.js';
import type { Rule, Rules } from './rule.js';
import { floatDType } from './util.js';

const same: Rule<UnaryPrim>['shape'] = ([x]) => ({ shape: [...x.shape], dtype: x.dtype });
const floating: Rule<UnaryPrim>['shape'] = ([x]) => ({ shape: [...x.shape], dtype: floatDType(x.dtype) });

/**
 * Shape and dtype rules and vector-Jacobian products of the unary primitives and cast (used by
 * dispatch).
 */
export const unaryRules: Rules<UnaryPrim | 'cast'> = {
  neg: { shape: same, vjp: (g) => [neg(g)] }, // d(-x) = -1
  exp: { shape: floating, vjp: (g, _x, out) => [g.mul(out)] }, // d e^x = e^x
  log: { shape: floating, vjp: (g, [x]) => [g.div(x)] }, // d ln x = 1/x
  sqrt: { shape: floating, vjp: (g, _x, out) => [g.div(out.mul(2))] }, // d √x = 1/(2√x)
  reciprocal: { shape: floating, vjp: (g, _x, out) => [neg(g.mul(out.mul(out)))] }, // d 1/x = -1/x²
  sin: { shape: floating, vjp: (g, [x]) => [g.mul(cos(x))] }, // d sin = cos
  cos: { shape: floating, vjp: (g, [x]) => [neg(g.mul(sin(x)))] }, // d cos = -sin
  tanh: { shape: floating, vjp: (g, _x, out) => [g.mul(neg(out.mul(out)).add(1))] }, // d tanh = 1 - tanh²
  erf: { shape: floating, vjp: (g, [x]) => [g.mul(exp(neg(x.mul(x))).mul(2 / Math.sqrt(Math.PI)))] }, // d erf = 2/√π e^{-x²}
  floor: { shape: same, vjp: (g) => [zerosLike(g)] }, // piecewise constant
  abs: { shape: same, vjp: (g, [x]) => [g.mul(sign(x))] }, // d|x| = sign(x)
  expm1: { shape: floating, vjp: (g, _x, out) => [g.mul(out.add(1))] }, // d (e^x − 1) = e^x
  sinh: { shape: floating, vjp: (g, [x]) => [g.mul(x.exp().add(x.neg().exp()).mul(0.5))] }, // d sinh = cosh
  cast: {
    shape: ([x], { dtype }) => ({ shape: [...x.shape], dtype }),
    vjp: (g, [x]) => [isFloat(x.dtype) ? cast(g, x.dtype) : null], // identity on values
  },
};

function unary(op: UnaryPrim, x: Tensor): Tensor {
  // Integer inputs of transcendental functions compute in float32, as PyTorch does.
  const wantsFloat = !['neg', 'floor', 'abs'].includes(op);
  const input = wantsFloat && !isFloat(x.dtype) ? cast(x, 'float32') : x;
  return dispatch(unaryRules, op, [input], {});
}

/** Elementwise −x. */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** Elementwise eˣ (integer inputs compute in float32, as every transcendental op here). */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Elementwise natural logarithm ln x. */
export const log = (x: Tensor): Tensor => unary('log', x);
/** Elementwise √x. */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** Elementwise 1/x. */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** Elementwise sine (radians). */
export const sin = (x: Tensor): Tensor => unary('sin', x);
/** Elementwise cosine (radians). */
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** Elementwise hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/**
 * Elementwise e^x − 1 (torch.expm1), exact near 0 where `exp(x) - 1` loses every digit.
 * @example expm1(tensor([1e-10])) // [1e-10]; exp(x).sub(1) gives 0 in float32
 */
export const expm1 = (x: Tensor): Tensor => unary('expm1', x);
/**
 * Elementwise hyperbolic sine (torch.sinh), exact near 0 where `(exp(x) - exp(-x)) / 2` cancels.
 * @example sinh(tensor([1e-4, 1e-10])) // [1e-4, 1e-10]; the composite gives [1.0001659e-4, 0] in float32
 */
export const sinh = (x: Tensor): Tensor => unary('sinh', x);
/** Elementwise Gauss error function erf x = 2/√π ∫₀ˣ e^(−t²) dt. */
export const erf = (x: Tensor): Tensor => unary('erf', x);
/** Elementwise ⌊x⌋ (integer tensors are returned as they are); its gradient is 0. */
export const floor = (x: Tensor): Tensor => (isFloat(x.dtype) ? unary('floor', x) : x);
/** Elementwise |x|; the gradient is sign(x) (0 at 0). */
export const abs = (x: Tensor): Tensor => unary('abs', x);

/** Convert to another dtype (float→int truncates toward zero; nonzero→true). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return dispatch(unaryRules, 'cast', [x], { dtype });
}

// ---- composites ----

/** Elementwise 1/√x. */
export const rsqrt = (x: Tensor): Tensor => reciprocal(sqrt(x));
/** Elementwise x². */
export const square = (x: Tensor): Tensor => x.mul(x);
/** Elementwise ⌈x⌉; its gradient is 0. */
export const ceil = (x: Tensor): Tensor => neg(floor(neg(x)));
/** Round half to even, like torch.round. */
export function round(x: Tensor): Tensor {
  const f = floor(x),
    diff = x.sub(f);
  const half = floor(f.mul(0.5)).mul(2); // f is even when half == f
  // 1 above ½, 0 below; on a tie, 1 where f is odd (masks as float32, as where(c, 1, 0) gives)
  const up = diff
    .gt(0.5)
    .float()
    .add(diff.eq(0.5).float().mul(f.sub(half).gt(0).float()));
  return f.add(up);
}
/** Elementwise ln(1 + x), computed as log(x + 1). */
export const log1p = (x: Tensor): Tensor => log(x.add(1));
/** Elementwise base-2 logarithm. */
export const log2 = (x: Tensor): Tensor => log(x).mul(1 / Math.LN2);
/** Elementwise tangent sin x / cos x (radians). */
export const tan = (x: Tensor): Tensor => sin(x).div(cos(x));
/** -1, 0 or 1 (no gradient). */
export function sign(x: Tensor): Tensor {
  return x.gt(0).float().sub(x.lt(0).float()).detach(); // float32, as where(c, 1, -1) gives
}
