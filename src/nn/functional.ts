// nn.functional: layers as functions and the losses, with PyTorch's definitions and reductions.

import type { Tensor } from '../tensor/tensor.js';
import { add, div, greater, maximum, mul, sub, where, notEqual, less } from '../ops/binary.js';
import { abs, cast, log, log1p, exp, neg } from '../ops/unary.js';
import { mean, sum } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { gather } from '../ops/indexing.js';
import { reshape, squeeze, transpose, unsqueeze, permute, pad, slice, stack } from '../ops/movement.js';
import { logSoftmax } from '../ops/activation.js';
import { rand, type Generator } from '../ops/random.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { isFloat } from '../tensor/dtype.js';

export {
  relu, leakyRelu, elu, sigmoid, softplus, logSigmoid, silu, gelu, softmax, logSoftmax,
} from '../ops/activation.js';
export { tanh } from '../ops/unary.js';

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * log x clamped below at -100, as PyTorch's binary_cross_entropy does. Zeros are replaced by 1
 * before the log (and the result by -100 after), so x = 0 gives a zero gradient rather than 0/0.
 */
function clampLog(x: Tensor): Tensor {
  const pos = greater(x, 0);
  return where(pos, maximum(log(where(pos, x, 1)), -100), -100);
}

/** y = x Wᵀ + b with W [out, in] (PyTorch's layout). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new Error(`linear: input features ${x.shape[x.ndim - 1]} do not match weight ${fmtShape(weight.shape)}: input ${fmtShape(x.shape)}`);
  }
  const y = matmul(x, transpose(weight, 0, 1));
  return bias ? add(y, bias) : y;
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** Zero padding per side, or 'same' (stride 1: output size = input size) or 'valid' (none). */
  padding?: number | [number, number] | 'same' | 'valid';
  dilation?: number | [number, number];
  groups?: number;
}

const pair = (v: number | [number, number], what: string): [number, number] => {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (p.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`conv2d: ${what} must be non-negative integers, got ${JSON.stringify(v)}`);
  return p;
};

/**
 * 2-D convolution as PyTorch's conv2d: input [N, C, H, W], weight [Co, C, kh, kw], bias [Co].
 * Composed as im2col (kh·kw strided views of the padded input, stacked) and one batched matmul,
 * so its gradient comes from those ops' rules.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  if (x.ndim !== 4 || weight.ndim !== 4) throw new Error(`conv2d: expects input [N, C, H, W] and weight [Co, C, kh, kw], got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`);
  if ((opts.groups ?? 1) !== 1) throw new Error('conv2d: groups other than 1 are not supported yet');
  const [N, C, H, W] = x.shape, [Co, Ci, kh, kw] = weight.shape;
  if (C !== Ci) throw new Error(`conv2d: input has ${C} channels but weight ${fmtShape(weight.shape)} expects ${Ci}: input ${fmtShape(x.shape)}`);
  const [sh, sw] = pair(opts.stride ?? 1, 'stride'), [dh, dw] = pair(opts.dilation ?? 1, 'dilation');
  if (sh === 0 || sw === 0 || dh === 0 || dw === 0) throw new Error('conv2d: stride and dilation must be positive');
  let pt: number, pb: number, pl: number, pr: number;
  const padding = opts.padding ?? 0;
  if (padding === 'same') {
    if (sh !== 1 || sw !== 1) throw new Error("conv2d: padding 'same' needs stride 1, as in PyTorch");
    const th = dh * (kh - 1), tw = dw * (kw - 1);
    [pt, pb, pl, pr] = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else if (padding === 'valid') {
    [pt, pb, pl, pr] = [0, 0, 0, 0];
  } else {
    const [ph, pw] = pair(padding, 'padding');
    [pt, pb, pl, pr] = [ph, ph, pw, pw];
  }
  const Ho = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1, Wo = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  if (Ho <= 0 || Wo <= 0) throw new Error(`conv2d: kernel ${kh}x${kw} (dilation ${dh}x${dw}) is larger than the padded input ${fmtShape(x.shape)}`);
  const xp = pt || pb || pl || pr ? pad(x, [pl, pr, pt, pb]) : x;
  const cols: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const rows = slice(xp, 2, i * dh, i * dh + (Ho - 1) * sh + 1, sh);
      cols.push(slice(rows, 3, j * dw, j * dw + (Wo - 1) * sw + 1, sw)); // (N, C, Ho, Wo)
    }
  }
  const col = reshape(stack(cols, 2), [N, C * kh * kw, Ho * Wo]); // (N, C·kh·kw, Ho·Wo)
  const y = reshape(matmul(reshape(weight, [Co, C * kh * kw]), col), [N, Co, Ho, Wo]); // (N, Co, Ho, Wo)
  return bias ? add(y, reshape(bias, [1, Co, 1, 1])) : y;
}

/**
 * Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p).
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor {
  if (p < 0 || p > 1) throw new Error(`dropout: probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const keep = cast(greater(rand(x.shape, { generator, device: x.device, dtype: isFloat(x.dtype) ? x.dtype : 'float32' }), p), x.dtype);
  return mul(x, mul(keep, 1 / (1 - p)));
}

function reduce(loss: Tensor, reduction: Reduction, op: string): Tensor {
  switch (reduction) {
    case 'mean': return mean(loss);
    case 'sum': return sum(loss);
    case 'none': return loss;
    default: throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction as string}'`);
  }
}

function checkSame(op: string, input: Tensor, target: Tensor): void {
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(`${op}: input and target shapes differ: ${fmtShape(input.shape)} and ${fmtShape(target.shape)}`);
  }
}

/** Mean squared error (x - y)². */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  checkSame('mseLoss', input, target);
  const d = sub(input, target);
  return reduce(mul(d, d), opts.reduction ?? 'mean', 'mseLoss');
}

/** Mean absolute error |x - y|. */
export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  checkSame('l1Loss', input, target);
  return reduce(abs(sub(input, target)), opts.reduction ?? 'mean', 'l1Loss');
}

/** Huber / smooth L1 with threshold beta. */
export function smoothL1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction; beta?: number } = {}): Tensor {
  checkSame('smoothL1Loss', input, target);
  const beta = opts.beta ?? 1;
  const d = abs(sub(input, target));
  const l = beta === 0 ? d : where(less(d, beta), div(mul(mul(d, d), 0.5), beta), sub(d, 0.5 * beta));
  return reduce(l, opts.reduction ?? 'mean', 'smoothL1Loss');
}

/** -(y log p + (1-y) log(1-p)), logs clamped at -100 as in PyTorch. Input must be probabilities. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: { weight?: Tensor; reduction?: Reduction } = {}): Tensor {
  checkSame('binaryCrossEntropy', input, target);
  let l = neg(add(mul(target, clampLog(input)), mul(sub(1, target), clampLog(sub(1, input)))));
  if (opts.weight) l = mul(l, opts.weight);
  return reduce(l, opts.reduction ?? 'mean', 'binaryCrossEntropy');
}

/**
 * BCE on logits, stable: (1-y)x + (1+(pw-1)y)(log(1+e^{-|x|}) + max(-x, 0)).
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor, target: Tensor, opts: { weight?: Tensor; posWeight?: Tensor | number; reduction?: Reduction } = {},
): Tensor {
  checkSame('binaryCrossEntropyWithLogits', input, target);
  const softplusNeg = add(log1p(exp(neg(abs(input)))), maximum(neg(input), 0)); // log(1 + e^{-x})
  const pw = opts.posWeight;
  const coef = pw === undefined ? null : add(mul(typeof pw === 'number' ? pw - 1 : sub(pw, 1), target), 1);
  let l = add(mul(sub(1, target), input), coef ? mul(coef, softplusNeg) : softplusNeg);
  if (opts.weight) l = mul(l, opts.weight);
  return reduce(l, opts.reduction ?? 'mean', 'binaryCrossEntropyWithLogits');
}

export interface NllOptions {
  weight?: Tensor;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Move the class dim last and flatten: [N, C, d1, ...] -> [N·d1·..., C]; targets [N, d1, ...] -> [N·d1·...]. */
function classLast(input: Tensor, target: Tensor | null): [Tensor, Tensor | null] {
  if (input.ndim <= 2) return [input, target];
  const perm = [0, ...Array.from({ length: input.ndim - 2 }, (_, i) => i + 2), 1];
  const x = reshape(permute(input, perm), [-1, input.shape[1]]);
  return [x, target ? reshape(target, [-1]) : null];
}

/**
 * Negative log likelihood of class indices given log-probabilities [N, C] (or [N, C, d...]).
 * Mean reduction divides by the total weight of non-ignored targets, as PyTorch does.
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  if (target.dtype !== 'int32') throw new Error(`nllLoss: target must hold int32 class indices, got ${target.dtype}`);
  const N = input.ndim === 1 ? 1 : input.shape[0];
  if (input.ndim >= 2 && (target.shape[0] !== N || target.ndim !== input.ndim - 1)) {
    throw new Error(`nllLoss: expected target of shape ${fmtShape([N, ...input.shape.slice(2)])} for input ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`);
  }
  const outShape = target.shape;
  const [x, t] = input.ndim === 1 ? [unsqueeze(input, 0), reshape(target, [1])] : classLast(input, target);
  const ignore = opts.ignoreIndex ?? -100;
  const valid = notEqual(t!, ignore);
  const safeT = where(valid, t!, 0);
  const picked = squeeze(gather(x, 1, unsqueeze(cast(safeT, 'int32'), 1)), 1);
  let w = cast(valid, x.dtype);
  if (opts.weight) w = mul(w, gather(opts.weight, 0, cast(safeT, 'int32')));
  const l = neg(mul(picked, w));
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return reshape(l, outShape);
  if (reduction === 'sum') return sum(l);
  return div(sum(l), sum(w));
}

export interface CrossEntropyOptions extends NllOptions {
  labelSmoothing?: number;
}

/**
 * Cross-entropy from logits: class-index targets (int32 [N]) or class probabilities (float [N, C]),
 * with weight, ignoreIndex, reduction and labelSmoothing exactly as torch.nn.functional.cross_entropy.
 * @example crossEntropy(logits, labels) // logits [B, 10], labels int32 [B]
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const eps = opts.labelSmoothing ?? 0;
  if (eps < 0 || eps > 1) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const reduction = opts.reduction ?? 'mean';
  const classDim = input.ndim === 1 ? 0 : 1;
  const C = input.shape[classDim];
  const logp = logSoftmax(input, classDim);
  if (isFloat(target.dtype)) {
    // Probability targets: -Σ_c w_c y_c log p_c; mean divides by the number of samples.
    checkSame('crossEntropy', input, target);
    const y = eps > 0 ? add(mul(target, 1 - eps), eps / C) : target;
    let prod = mul(logp, y);
    if (opts.weight) prod = mul(prod, reshape(opts.weight, [C, ...Array(Math.max(0, input.ndim - 2)).fill(1)]));
    const l = neg(sum(prod, classDim));
    if (reduction === 'none') return l;
    if (reduction === 'sum') return sum(l);
    return mean(l); // PyTorch divides by the number of samples (N·d1·...), not by weights
  }
  const nll = nllLoss(logp, target, { ...opts, reduction });
  if (eps === 0) return nll;
  // Label smoothing: (1-ε)·nll + ε·(-Σ_c w_c log p_c)/C over non-ignored targets.
  const [x, t] = input.ndim === 1 ? [unsqueeze(logp, 0), reshape(target, [1])] : classLast(logp, target);
  const valid = cast(notEqual(t!, opts.ignoreIndex ?? -100), x.dtype);
  const wlogp = opts.weight ? mul(x, opts.weight) : x;
  const smooth = mul(neg(sum(wlogp, 1)), valid);
  let smoothRed: Tensor;
  if (reduction === 'none') smoothRed = reshape(smooth, target.shape);
  else if (reduction === 'sum') smoothRed = sum(smooth);
  else {
    const safeT = cast(where(cast(valid, 'bool'), t!, 0), 'int32');
    const denom = opts.weight ? sum(mul(gather(opts.weight, 0, safeT), valid)) : sum(valid);
    smoothRed = div(sum(smooth), denom);
  }
  return add(mul(nll, 1 - eps), mul(smoothRed, eps / C));
}

/** KL divergence with log-probability input (reduction 'batchmean' divides by the batch size). */
export function klDiv(input: Tensor, target: Tensor, opts: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  const l = opts.logTarget ? mul(exp(target), sub(target, input)) : mul(target, sub(clampLog(target), input));
  if (opts.reduction === 'batchmean') return div(sum(l), input.shape[0]);
  return reduce(l, (opts.reduction ?? 'mean') as Reduction, 'klDiv');
}
