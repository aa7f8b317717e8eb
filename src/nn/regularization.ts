// Weight penalties to add to a loss, PyTorch style: λ·Σ|w| (L1, sparsity) and λ·Σw² (L2), both
// differentiable compositions, so `loss + l2Penalty(model, 1e-4)` trains with the penalty.
//
// Note the factor: the gradient of λ·Σw² is 2λ·w, while an optimizer's weightDecay wd adds wd·w,
// so weightDecay wd matches l2Penalty with λ = wd / 2 (for SGD; Adam's weightDecay is not a penalty).

import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { abs } from '../ops/unary.js';
import { add, mul } from '../ops/binary.js';
import { sum } from '../ops/reduce.js';
import { zeros } from '../tensor/creation.js';
import { fmtShape } from '../tensor/shape.js';

/** Options of {@link l1Penalty}, {@link l2Penalty} and {@link l1l2Penalty}. */
export interface PenaltyOptions {
  /** Leave out parameters with fewer than two dimensions: biases and normalization scales (default false). */
  skip1d?: boolean;
}

/** The tensors to penalize: a module's parameters (those that require grad) or the given tensors. */
function penalized(op: string, params: Iterable<Tensor> | Module, opts: PenaltyOptions): Tensor[] {
  const list = params instanceof Module ? params.parameters().filter((p) => p.requiresGrad) : [...params];
  list.forEach((p, i) => {
    if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new Error(`${op}: tensor ${i} ${fmtShape(p.shape)} is ${p.dtype}; penalties apply to floating-point weights`);
  });
  return opts.skip1d ? list.filter((p) => p.ndim >= 2) : list;
}

function checkLambda(op: string, lambda: number): void {
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) throw new Error(`${op}: lambda must be a finite number >= 0, got ${lambda}`);
}

/** λ · Σ_p f(p), as a scalar tensor (a float32 zero when nothing is penalized). */
function penalty(op: string, params: Iterable<Tensor> | Module, lambda: number, opts: PenaltyOptions, f: (p: Tensor) => Tensor): Tensor {
  checkLambda(op, lambda);
  const list = penalized(op, params, opts);
  if (list.length === 0) return zeros([]);
  let total = sum(f(list[0]));
  for (let i = 1; i < list.length; i++) total = add(total, sum(f(list[i])));
  return mul(total, lambda);
}

/**
 * λ·Σ|w| over the parameters (a Module's, or any tensors): the L1 penalty (Keras' l1 regularizer).
 * @example const loss = add(crossEntropy(model.forward(x), y), l1Penalty(model, 1e-5, { skip1d: true }))
 */
export function l1Penalty(params: Iterable<Tensor> | Module, lambda: number, opts: PenaltyOptions = {}): Tensor {
  return penalty('l1Penalty', params, lambda, opts, abs);
}

/**
 * λ·Σw² over the parameters: the L2 penalty (Keras' l2 regularizer; gradient 2λw).
 * @example const loss = add(mseLoss(model.forward(x), y), l2Penalty(model.parameters(), 1e-4))
 */
export function l2Penalty(params: Iterable<Tensor> | Module, lambda: number, opts: PenaltyOptions = {}): Tensor {
  return penalty('l2Penalty', params, lambda, opts, (p) => mul(p, p));
}

/** l1·Σ|w| + l2·Σw² (Keras' L1L2 regularizer); a term whose factor is 0 is skipped. */
export function l1l2Penalty(params: Iterable<Tensor> | Module, factors: { l1?: number; l2?: number }, opts: PenaltyOptions = {}): Tensor {
  const l1 = factors.l1 ?? 0,
    l2 = factors.l2 ?? 0;
  checkLambda('l1l2Penalty', l1);
  checkLambda('l1l2Penalty', l2);
  const list = penalized('l1l2Penalty', params, opts);
  if (l1 && l2) return add(l1Penalty(list, l1), l2Penalty(list, l2));
  return l1 ? l1Penalty(list, l1) : l2Penalty(list, l2);
}
