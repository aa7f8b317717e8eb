// Reductions: sum, max and argmax primitives with their derivatives, and mean/var/logsumexp built on them.

import type { Tensor } from '../tensor/tensor.js';
import { dispatch } from './dispatch.js';
import { normAxes, normAxis } from '../tensor/shape.js';
import { isFloat } from '../tensor/dtype.js';
import type { Rules } from './rule.js';
import { expand, narrow, reshape, squeeze } from './movement.js';
import { div, equal, mul, sub, add } from './binary.js';
import { cast, exp, log, neg, sqrt } from './unary.js';

const keepShape = (x: Tensor, axes: number[]) => x.shape.map((d, i) => (axes.includes(i) ? 1 : d));

/**
 * Shape and dtype rules and vector-Jacobian products of the reduction primitives (used by
 * dispatch).
 */
export const reduceRules: Rules<'sum' | 'max' | 'argmax'> = {
  sum: {
    shape: ([x], { axes }) => ({ shape: keepShape(x, axes), dtype: x.dtype === 'bool' ? 'int32' : x.dtype }),
    vjp: (g, [x]) => [expand(g, x.shape)], // d Σx / dx_i = 1
  },
  max: {
    shape: ([x], { axes }) => ({ shape: keepShape(x, axes), dtype: x.dtype }),
    // d max / dx_i = 1 at the maxima, shared evenly among ties (torch.amax)
    vjp: (g, [x], out, { axes }) => {
      const hit = cast(equal(x, expand(out, x.shape)), x.dtype);
      const count = dispatch(reduceRules, 'sum', [hit], { axes });
      return [mul(hit, expand(div(g, count), x.shape))];
    },
  },
  argmax: { shape: ([x], { axis }) => ({ shape: keepShape(x, [axis]), dtype: 'int32' }), vjp: 'none' }, // an index: no gradient
};

type Axes = number | readonly number[] | null | undefined;

function dropAxes(r: Tensor, axes: number[], keepdim: boolean): Tensor {
  if (keepdim) return r;
  return reshape(
    r,
    r.shape.filter((_, i) => !axes.includes(i)),
  );
}

/** Sum over `dim` (all dims when omitted). @example sum(x, 1, true) */
export function sum(x: Tensor, dim?: Axes, keepdim = false): Tensor {
  const axes = normAxes('sum', dim, x.ndim);
  if (x.ndim === 0) return x.dtype === 'bool' ? cast(x, 'int32') : x;
  return dropAxes(dispatch(reduceRules, 'sum', [x], { axes }), axes, keepdim);
}

/** Mean over `dim`; integer inputs give float32. */
export function mean(x: Tensor, dim?: Axes, keepdim = false): Tensor {
  const axes = normAxes('mean', dim, x.ndim);
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  const xf = isFloat(x.dtype) ? x : cast(x, 'float32');
  return div(sum(xf, axes, keepdim), n);
}

/** Largest value over `dim` (torch.amax; all dims when omitted). */
export function max(x: Tensor, dim?: Axes, keepdim = false): Tensor {
  const axes = normAxes('max', dim, x.ndim);
  if (x.ndim === 0) return x;
  if (axes.some((a) => x.shape[a] === 0)) throw new Error(`max: cannot reduce over an empty dimension of shape [${x.shape}]`);
  return dropAxes(dispatch(reduceRules, 'max', [x], { axes }), axes, keepdim);
}

/** Smallest value over `dim` (torch.amin; all dims when omitted). */
export function min(x: Tensor, dim?: Axes, keepdim = false): Tensor {
  return neg(max(neg(x), dim, keepdim));
}

/** Index of the largest value along `dim` (first one on ties); over the flattened tensor when omitted. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) return argmax(reshape(x, [-1]), 0);
  const axis = normAxis('argmax', dim, x.ndim);
  const r = dispatch(reduceRules, 'argmax', [x], { axis });
  return keepdim ? r : squeeze(r, axis);
}

/**
 * Index of the smallest value along `dim` (first one on ties); over the flattened tensor when
 * omitted.
 */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argmax(neg(x), dim, keepdim);
}

/** Variance with Bessel's correction by default (torch.var, correction=1). */
export function variance(x: Tensor, dim?: Axes, keepdim = false, correction = 1): Tensor {
  const axes = normAxes('var', dim, x.ndim);
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  const d = sub(x, mean(x, axes, true));
  return div(sum(mul(d, d), axes, keepdim), Math.max(0, n - correction));
}

/** Standard deviation √variance, with Bessel's correction by default (torch.std, correction=1). */
export function std(x: Tensor, dim?: Axes, keepdim = false, correction = 1): Tensor {
  return sqrt(variance(x, dim, keepdim, correction));
}

/** log Σ exp(x), stable: the max is subtracted first (and detached: its gradient cancels). */
export function logsumexp(x: Tensor, dim?: Axes, keepdim = false): Tensor {
  const axes = normAxes('logsumexp', dim, x.ndim);
  const m = max(x, axes, true).detach();
  const r = add(log(sum(exp(sub(x, m)), axes, true)), m);
  return dropAxes(r, axes, keepdim);
}

/** Product over `dim` by repeated multiplication (keeps exact zeros and signs). */
export function prod(x: Tensor, dim?: Axes, keepdim = false): Tensor {
  const axes = normAxes('prod', dim, x.ndim);
  let r = x;
  for (const a of axes) {
    let acc = narrow(r, a, 0, 1);
    for (let i = 1; i < r.shape[a]; i++) acc = mul(acc, narrow(r, a, i, 1));
    r = acc;
  }
  return dropAxes(r, axes, keepdim);
}
