// Elementwise binary primitives with NumPy broadcasting and dtype promotion, where(), and their
// derivatives. Broadcast inputs reach kernels as stride-0 views; expand's own rule sums gradients back.

import type { Tensor, TensorOrScalar } from '../tensor/tensor.js';
import { type BinaryPrim, isComparison } from '../backends/backend.js';
import { dispatch } from './dispatch.js';
import { broadcastShapes } from '../tensor/shape.js';
import { isFloat, promote, type DType } from '../tensor/dtype.js';
import type { Rules } from './rule.js';
import { expand } from './movement.js';
import { cast, log, neg } from './unary.js';
import { isTensor, scalarDType, scalarFor } from './util.js';

const elementwise = ([a]: Tensor[]) => ({ shape: [...a.shape], dtype: a.dtype });
const compare = ([a]: Tensor[]) => ({ shape: [...a.shape], dtype: 'bool' as DType });

/**
 * Shape and dtype rules and vector-Jacobian products of the binary primitives and where (used by
 * dispatch).
 */
export const binaryRules: Rules<BinaryPrim | 'where'> = {
  add: { shape: elementwise, vjp: (g) => [g, g] }, // d(a+b) = (1, 1)
  sub: { shape: elementwise, vjp: (g) => [g, neg(g)] }, // d(a-b) = (1, -1)
  mul: { shape: elementwise, vjp: (g, [a, b]) => [mul(g, b), mul(g, a)] }, // d(ab) = (b, a)
  div: { shape: elementwise, vjp: (g, [, b], out) => [div(g, b), neg(div(mul(g, out), b))] }, // d(a/b) = (1/b, -a/b²)
  pow: {
    shape: elementwise,
    // d a^b = (b·a^(b-1), a^b·ln a); the exponent's gradient is 0 where a = 0 (PyTorch's convention)
    vjp: (g, [a, b], out) => [mul(g, mul(b, pow(a, sub(b, 1)))), mul(g, where(equal(a, 0), 0, mul(out, log(a))))],
  },
  // d max(a,b): to the larger input; ties split the gradient in half (as torch.maximum does)
  maximum: { shape: elementwise, vjp: (g, [a, b]) => splitTies(g, greater(a, b), equal(a, b)) },
  minimum: { shape: elementwise, vjp: (g, [a, b]) => splitTies(g, less(a, b), equal(a, b)) },
  less: { shape: compare, vjp: 'none' }, // a bool output: no gradient
  equal: { shape: compare, vjp: 'none' },
  // d where(c, a, b) = (-, [c], [!c])
  where: {
    shape: ([, a]) => ({ shape: [...a.shape], dtype: a.dtype }),
    vjp: (g, [c]) => [null, where(c, g, 0), where(c, 0, g)],
  },
};

function splitTies(g: Tensor, first: Tensor, tie: Tensor): Tensor[] {
  const wa = where(first, 1, where(tie, 0.5, 0));
  const half = mul(g, wa);
  return [half, sub(g, half)];
}

/** Broadcast two operands (numbers take the tensor's dtype) and promote to a common dtype. */
function operands(op: string, a: TensorOrScalar, b: TensorOrScalar, floatOnly = false): [Tensor, Tensor] {
  let ta: Tensor, tb: Tensor;
  if (isTensor(a) && isTensor(b)) {
    ta = a;
    tb = b;
  } else if (isTensor(a)) {
    ta = a;
    tb = scalarFor(b as number, scalarDType(b as number, a.dtype), a.device);
  } else if (isTensor(b)) {
    tb = b;
    ta = scalarFor(a as number, scalarDType(a as number, b.dtype), b.device);
  } else throw new Error(`${op}: at least one operand must be a tensor`);
  let dtype = promote(ta.dtype, tb.dtype);
  if (floatOnly && !isFloat(dtype)) dtype = 'float32';
  ta = cast(ta, dtype);
  tb = cast(tb, dtype);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return [expand(ta, shape), expand(tb, shape)];
}

function binary(op: BinaryPrim, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const arith = op === 'add' || op === 'sub' || op === 'mul' || op === 'maximum' || op === 'minimum';
  const [x, y] = operands(op, a, b, !arith && !isComparison(op));
  // bool arithmetic is done in int32 (true + true = 2), except where PyTorch keeps bool logic.
  if (arith && x.dtype === 'bool') return dispatch(binaryRules, op, [cast(x, 'int32'), cast(y, 'int32')], {});
  return dispatch(binaryRules, op, [x, y], {});
}

/** a + b with broadcasting. @example add(x, 1) */
export const add = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('add', a, b);
/** a − b with broadcasting. */
export const sub = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('sub', a, b);
/** a · b elementwise, with broadcasting. */
export const mul = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('mul', a, b);
/** True division; integer inputs give float32 (torch.div). */
export const div = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('div', a, b);
/** aᵇ elementwise, with broadcasting; integer inputs give float32. */
export const pow = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('pow', a, b);
/**
 * Elementwise max(a, b) with broadcasting (torch.maximum); on ties the gradient is split evenly.
 */
export const maximum = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('maximum', a, b);
/**
 * Elementwise min(a, b) with broadcasting (torch.minimum); on ties the gradient is split evenly.
 */
export const minimum = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('minimum', a, b);
/** a < b elementwise, with broadcasting; a bool tensor. */
export const less = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('less', a, b);
/** a == b elementwise, with broadcasting; a bool tensor. */
export const equal = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('equal', a, b);
/** a > b elementwise, with broadcasting; a bool tensor. */
export const greater = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('less', b, a);
/** a ≤ b elementwise, with broadcasting; a bool tensor. */
export const lessEqual = (a: TensorOrScalar, b: TensorOrScalar): Tensor => logicalNot(greater(a, b));
/** a ≥ b elementwise, with broadcasting; a bool tensor. */
export const greaterEqual = (a: TensorOrScalar, b: TensorOrScalar): Tensor => logicalNot(less(a, b));
/** a ≠ b elementwise, with broadcasting; a bool tensor. */
export const notEqual = (a: TensorOrScalar, b: TensorOrScalar): Tensor => logicalNot(equal(a, b));
/** Elementwise NOT of a as booleans (nonzero is true); a bool tensor. */
export const logicalNot = (a: Tensor): Tensor => equal(cast(a, 'bool'), false);
/** Elementwise AND of a and b as booleans (nonzero is true), with broadcasting; a bool tensor. */
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => cast(mul(cast(a, 'bool'), cast(b, 'bool')), 'bool');
/** Elementwise OR of a and b as booleans (nonzero is true), with broadcasting; a bool tensor. */
export const logicalOr = (a: Tensor, b: Tensor): Tensor => cast(add(cast(a, 'bool'), cast(b, 'bool')), 'bool');
/**
 * Clip x to [min, max] elementwise (torch.clamp); a null or missing bound is not applied.
 * @example clamp(x, 0, 1)
 */
export const clamp = (x: Tensor, min?: number | null, max?: number | null): Tensor => {
  let r = x;
  if (min !== undefined && min !== null) r = maximum(r, min);
  if (max !== undefined && max !== null) r = minimum(r, max);
  return r;
};

/** Elementwise choice: cond ? a : b, with broadcasting of all three. */
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  let [x, y] = isTensor(a) || isTensor(b) ? operands('where', a, b) : [scalarFor(a as number, 'float32', cond.device), scalarFor(b as number, 'float32', cond.device)];
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const c = expand(cast(cond, 'bool'), shape);
  x = expand(x, shape);
  y = expand(y, shape);
  return dispatch(binaryRules, 'where', [c, x, y], {});
}
