// nn.functional: layers as functions and the losses, with PyTorch's definitions and reductions.

import type { Tensor } from '../tensor/tensor.js';
import { add, div, greater, maximum, mul, sub, where, notEqual, less } from '../ops/binary.js';
import { abs, cast, log, log1p, exp, neg } from '../ops/unary.js';
import { max, mean, sum } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { gather } from '../ops/indexing.js';
import { reshape, squeeze, unsqueeze, permute, slice, stack, contiguous, pad } from '../ops/movement.js';
import { unfold, fold } from '../ops/conv.js';
import { logSoftmax } from '../ops/activation.js';
import { crossEntropyRows } from '../ops/cross-entropy.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { isFloat } from '../tensor/dtype.js';

export {
  relu,
  leakyRelu,
  elu,
  sigmoid,
  softplus,
  logSigmoid,
  silu,
  gelu,
  softmax,
  logSoftmax,
} from '../ops/activation.js';
export { tanh } from '../ops/unary.js';

/**
 * How a loss reduces its per-element values: their mean (default), their sum, or 'none' (the
 * values, unreduced).
 */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * log x clamped below at -100, as PyTorch's binary_cross_entropy does. Zeros are replaced by 1
 * before the log (and the result by -100 after), so x = 0 gives a zero gradient rather than 0/0.
 */
function clampLog(x: Tensor): Tensor {
  const pos = greater(x, 0);
  return where(pos, maximum(log(where(pos, x, 1)), -100), -100);
}

/**
 * Options of {@link conv2d}: stride (1), padding (0), dilation (1) and groups (1); numbers apply to
 * both dims, pairs are [h, w].
 */
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

/** Resolve 2-D padding to [top, bottom, left, right]; 'same' needs stride 1, as in PyTorch. */
function pads2d(padding: Conv2dOptions['padding'], kh: number, kw: number, dh: number, dw: number, stride: [number, number], where: string): [number, number, number, number] {
  const p = padding ?? 0;
  if (p === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new Error(`${where}: padding 'same' needs stride 1, as in PyTorch`);
    const th = dh * (kh - 1),
      tw = dw * (kw - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (p === 'valid') return [0, 0, 0, 0];
  const [ph, pw] = pair(p, 'padding');
  return [ph, ph, pw, pw];
}

/**
 * 2-D convolution as PyTorch's conv2d: input [N, C, H, W], weight [Co, C/groups, kh, kw], bias [Co].
 * im2col (`unfold`: patches [N, Ho, Wo, C, kh, kw]) and one batched matmul per group; the
 * gradient comes from matmul's and unfold's rules (fold is unfold's adjoint).
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  if (x.ndim !== 4 || weight.ndim !== 4) throw new Error(`conv2d: expects input [N, C, H, W] and weight [Co, C/groups, kh, kw], got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`);
  const groups = opts.groups ?? 1;
  const [N, C] = x.shape,
    [Co, Cg, kh, kw] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || Co % groups !== 0) {
    throw new Error(`conv2d: groups ${groups} must divide the input channels ${C} and output channels ${Co}`);
  }
  if (C / groups !== Cg) throw new Error(`conv2d: input has ${C} channels but weight ${fmtShape(weight.shape)} expects ${Cg * groups} (groups ${groups}): input ${fmtShape(x.shape)}`);
  const stride = pair(opts.stride ?? 1, 'stride'),
    dilation = pair(opts.dilation ?? 1, 'dilation');
  if (stride[0] === 0 || stride[1] === 0 || dilation[0] === 0 || dilation[1] === 0) throw new Error('conv2d: stride and dilation must be positive');
  const pads = pads2d(opts.padding, kh, kw, dilation[0], dilation[1], stride, 'conv2d');
  const patches = unfold(x, { kernel: [kh, kw], stride, dilation, pads, value: 0 }); // (N, Ho, Wo, C, kh, kw)
  const [, Ho, Wo] = patches.shape;
  const K = Cg * kh * kw;
  const col = permute(reshape(patches, [N, Ho * Wo, groups, K]), [0, 2, 3, 1]); // (N, G, K, Ho·Wo) view
  const w = reshape(weight, [groups, Co / groups, K]); // (G, Co/G, K)
  const y = reshape(matmul(w, col), [N, Co, Ho, Wo]); // (N, G, Co/G, Ho·Wo) → (N, Co, Ho, Wo)
  return bias ? add(y, reshape(bias, [1, Co, 1, 1])) : y;
}

/**
 * Options of {@link convTranspose2d}: stride (1), padding (0), outputPadding (0), dilation (1) and
 * groups (1); numbers apply to both dims, pairs are [h, w].
 */
export interface ConvTranspose2dOptions {
  stride?: number | [number, number];
  /** As PyTorch: the full transposed output is cropped by `padding` on each side. */
  padding?: number | [number, number];
  /** Extra rows/columns added on one side of the output (less than the stride or the dilation). */
  outputPadding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

/**
 * Transposed convolution as PyTorch's conv_transpose2d: input [N, Ci, H, W], weight
 * [Ci, Co/groups, kh, kw], output [N, Co, (H−1)·s − 2p + d·(kh−1) + op + 1, ...]. It is the
 * gradient of conv2d with respect to its input: each input pixel scatters weight·x into a window
 * (`fold`, col2im), after one batched matmul per group.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const where = 'convTranspose2d';
  if (x.ndim !== 4 || weight.ndim !== 4)
    throw new Error(`${where}: expects input [N, Ci, H, W] and weight [Ci, Co/groups, kh, kw], got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`);
  const groups = opts.groups ?? 1;
  const [N, C, H, W] = x.shape,
    [Ci, Cg, kh, kw] = weight.shape;
  if (C !== Ci) throw new Error(`${where}: input has ${C} channels but weight ${fmtShape(weight.shape)} expects ${Ci}: input ${fmtShape(x.shape)}`);
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) throw new Error(`${where}: groups ${groups} must divide the input channels ${C}`);
  const Co = Cg * groups;
  const stride = pair(opts.stride ?? 1, 'stride'),
    dilation = pair(opts.dilation ?? 1, 'dilation');
  const [ph, pw] = pair(opts.padding ?? 0, 'padding'),
    [oph, opw] = pair(opts.outputPadding ?? 0, 'output padding');
  if (stride[0] === 0 || stride[1] === 0 || dilation[0] === 0 || dilation[1] === 0) throw new Error(`${where}: stride and dilation must be positive`);
  if (oph >= Math.max(stride[0], dilation[0]) || opw >= Math.max(stride[1], dilation[1])) {
    throw new Error(`${where}: output padding ${oph}x${opw} must be smaller than the stride ${stride.join('x')} or the dilation ${dilation.join('x')}`);
  }
  const Ho = (H - 1) * stride[0] - 2 * ph + dilation[0] * (kh - 1) + oph + 1;
  const Wo = (W - 1) * stride[1] - 2 * pw + dilation[1] * (kw - 1) + opw + 1;
  if (Ho <= 0 || Wo <= 0) throw new Error(`${where}: output size ${Ho}x${Wo} is not positive for input ${fmtShape(x.shape)}, kernel ${kh}x${kw} and padding ${ph}x${pw}`);
  const K = Cg * kh * kw;
  const w = permute(reshape(weight, [groups, C / groups, K]), [0, 2, 1]); // (G, K, Ci/G)
  const xs = reshape(x, [N, groups, C / groups, H * W]); // (N, G, Ci/G, H·W)
  const cols = matmul(w, xs); // (N, G, K, H·W): K = (Co/G, kh, kw)
  const patches = permute(reshape(cols, [N, groups, Cg, kh, kw, H, W]), [0, 5, 6, 1, 2, 3, 4]); // (N, H, W, G, Co/G, kh, kw)
  // The output padding rows are the first cropped ones (pads p − op at the bottom/right); beyond the
  // full output (op > p) they get nothing and are zeros.
  const pb = ph - oph,
    pr = pw - opw;
  let y = fold(reshape(patches, [N, H, W, Co, kh, kw]), [N, Co, Ho + Math.min(pb, 0), Wo + Math.min(pr, 0)], {
    kernel: [kh, kw],
    stride,
    dilation,
    pads: [ph, Math.max(pb, 0), pw, Math.max(pr, 0)],
  });
  if (pb < 0 || pr < 0)
    y = pad(y, [
      [0, 0],
      [0, 0],
      [0, -Math.min(pb, 0)],
      [0, -Math.min(pr, 0)],
    ]);
  return bias ? add(y, reshape(bias, [1, Co, 1, 1])) : y;
}

/** 1-D convolution (torch conv1d): input [N, C, L], weight [Co, C/groups, k]; a conv2d with height 1. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  if (x.ndim !== 3 || weight.ndim !== 3) throw new Error(`conv1d: expects input [N, C, L] and weight [Co, C/groups, k], got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`);
  const p = opts.padding ?? 0;
  const y = conv2d(unsqueeze(x, 2), unsqueeze(weight, 2), bias, {
    stride: [1, opts.stride ?? 1],
    dilation: [1, opts.dilation ?? 1],
    groups: opts.groups,
    padding: typeof p === 'number' ? [0, p] : p,
  });
  return squeeze(y, 2);
}

/**
 * Options of {@link conv1d}: stride (1), zero padding per side (0, or 'same' / 'valid'), dilation
 * (1) and groups (1).
 */
export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

/**
 * Options of {@link maxPool2d} and {@link avgPool2d}: stride (default the kernel size), padding per
 * side (at most half the kernel; 0) and dilation (1); numbers apply to both dims, pairs are [h, w].
 */
export interface Pool2dOptions {
  /** Default: the kernel size (non-overlapping windows), as in PyTorch. */
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
}

/** Patches [N, Ho, Wo, C, kh·kw] of the windows of x (padding reads `value`). */
function poolPatches(x: Tensor, kernel: number | [number, number], opts: Pool2dOptions, value: number, where: string): Tensor {
  if (x.ndim !== 4) throw new Error(`${where}: expects input [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [kh, kw] = pair(kernel, 'kernel size');
  const stride = pair(opts.stride ?? [kh, kw], 'stride'),
    dilation = pair(opts.dilation ?? 1, 'dilation');
  const [ph, pw] = pair(opts.padding ?? 0, 'padding');
  if (ph > kh / 2 || pw > kw / 2) throw new Error(`${where}: padding ${ph}x${pw} must be at most half the kernel ${kh}x${kw}`);
  const patches = unfold(x, { kernel: [kh, kw], stride, dilation, pads: [ph, ph, pw, pw], value }); // (N, Ho, Wo, C, kh, kw)
  const [N, Ho, Wo, C] = patches.shape;
  return reshape(patches, [N, Ho, Wo, C, kh * kw]);
}

/** Max over each window (torch max_pool2d); padding counts as −∞. Ties share the gradient evenly. */
export function maxPool2d(x: Tensor, kernel: number | [number, number], opts: Pool2dOptions = {}): Tensor {
  const m = max(poolPatches(x, kernel, opts, -Infinity, 'maxPool2d'), -1); // (N, Ho, Wo, C)
  return contiguous(permute(m, [0, 3, 1, 2])); // (N, C, Ho, Wo)
}

/** Mean over each window (torch avg_pool2d with count_include_pad=True: padding counts as 0). */
export function avgPool2d(x: Tensor, kernel: number | [number, number], opts: Pool2dOptions = {}): Tensor {
  const m = mean(poolPatches(x, kernel, opts, 0, 'avgPool2d'), -1); // (N, Ho, Wo, C)
  return contiguous(permute(m, [0, 3, 1, 2])); // (N, C, Ho, Wo)
}

/** torch max_pool1d on [N, C, L]. */
export function maxPool1d(x: Tensor, kernel: number, opts: { stride?: number; padding?: number; dilation?: number } = {}): Tensor {
  if (x.ndim !== 3) throw new Error(`maxPool1d: expects input [N, C, L], got ${fmtShape(x.shape)}`);
  return squeeze(maxPool2d(unsqueeze(x, 2), [1, kernel], { stride: [1, opts.stride ?? kernel], padding: [0, opts.padding ?? 0], dilation: [1, opts.dilation ?? 1] }), 2);
}

/** torch avg_pool1d on [N, C, L]. */
export function avgPool1d(x: Tensor, kernel: number, opts: { stride?: number; padding?: number } = {}): Tensor {
  if (x.ndim !== 3) throw new Error(`avgPool1d: expects input [N, C, L], got ${fmtShape(x.shape)}`);
  return squeeze(avgPool2d(unsqueeze(x, 2), [1, kernel], { stride: [1, opts.stride ?? kernel], padding: [0, opts.padding ?? 0] }), 2);
}

/**
 * torch adaptive_avg_pool2d: output [N, C, oh, ow], window i spanning [⌊i·H/oh⌋, ⌈(i+1)·H/oh⌉).
 * Output 1x1 is global average pooling.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number, number]): Tensor {
  if (x.ndim !== 4) throw new Error(`adaptiveAvgPool2d: expects input [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [oh, ow] = pair(outputSize, 'output size');
  const [, , H, W] = x.shape;
  if (oh === 1 && ow === 1) return mean(x, [2, 3], true);
  if (H % oh === 0 && W % ow === 0) return avgPool2d(x, [H / oh, W / ow]);
  const rows: Tensor[] = [];
  for (let i = 0; i < oh; i++) {
    const h0 = Math.floor((i * H) / oh),
      h1 = Math.ceil(((i + 1) * H) / oh);
    const cells: Tensor[] = [];
    for (let j = 0; j < ow; j++) {
      const w0 = Math.floor((j * W) / ow),
        w1 = Math.ceil(((j + 1) * W) / ow);
      cells.push(mean(slice(slice(x, 2, h0, h1), 3, w0, w1), [2, 3])); // (N, C)
    }
    rows.push(stack(cells, 2)); // (N, C, ow)
  }
  return stack(rows, 2); // (N, C, oh, ow)
}

function reduce(loss: Tensor, reduction: Reduction, op: string): Tensor {
  switch (reduction) {
    case 'mean':
      return mean(loss);
    case 'sum':
      return sum(loss);
    case 'none':
      return loss;
    default:
      throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction as string}'`);
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
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: { weight?: Tensor; posWeight?: Tensor | number; reduction?: Reduction } = {}): Tensor {
  checkSame('binaryCrossEntropyWithLogits', input, target);
  const softplusNeg = add(log1p(exp(neg(abs(input)))), maximum(neg(input), 0)); // log(1 + e^{-x})
  const pw = opts.posWeight;
  const coef = pw === undefined ? null : add(mul(typeof pw === 'number' ? pw - 1 : sub(pw, 1), target), 1);
  let l = add(mul(sub(1, target), input), coef ? mul(coef, softplusNeg) : softplusNeg);
  if (opts.weight) l = mul(l, opts.weight);
  return reduce(l, opts.reduction ?? 'mean', 'binaryCrossEntropyWithLogits');
}

/**
 * Options of {@link nllLoss}: per-class weights [C], a target value that is skipped (ignoreIndex,
 * default −100) and the reduction ('mean').
 */
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

/**
 * Options of {@link crossEntropy}: those of {@link nllLoss}, and labelSmoothing ε in [0, 1]
 * (default 0) mixing the target with the uniform distribution.
 */
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
  if (
    eps === 0 &&
    !opts.weight &&
    target.dtype === 'int32' &&
    input.ndim === 2 &&
    target.ndim === 1 &&
    target.shape[0] === input.shape[0] &&
    input.size > 0 &&
    (reduction === 'none' || reduction === 'sum' || reduction === 'mean')
  ) {
    // Class indices into [N, C] logits: one fused op per row (ops/cross-entropy.ts), then the reduction.
    const ignoreIndex = opts.ignoreIndex ?? -100;
    const l = crossEntropyRows(input, target, ignoreIndex);
    if (reduction === 'none') return l;
    if (reduction === 'sum') return sum(l);
    return div(sum(l), sum(cast(notEqual(target, ignoreIndex), l.dtype)));
  }
  const logp = logSoftmax(input, classDim);
  if (isFloat(target.dtype)) {
    // Probability targets: -Σ_c w_c y_c log p_c; mean divides by the number of samples.
    const indexShape = input.shape.filter((_, d) => d !== classDim);
    if (!shapesEqual(target.shape, input.shape) && shapesEqual(target.shape, indexShape)) {
      throw new Error(
        `crossEntropy: the target is ${target.dtype} with shape ${fmtShape(target.shape)}, the shape of class indices, which must be int32 ` +
          `(target.int()); a float target holds class probabilities of the input's shape ${fmtShape(input.shape)}`,
      );
    }
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

export { linear } from './layers/linear.js';
export { dropout } from './layers/dropout.js';
export { scaledDotProductAttention, multiHeadAttentionForward } from './layers/attention.js';
export { embedding } from './layers/embedding.js';
export { batchNorm, layerNorm, rmsNorm, groupNorm } from './layers/norm.js';
