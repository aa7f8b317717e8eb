// Normalization layers as PyTorch's: BatchNorm1d/2d/3d (with running statistics in buffers),
// LayerNorm, RMSNorm and GroupNorm, plus their functional forms.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { empty } from './util.js';
import { ones_, zeros_ } from '../init.js';
import { zeros, ones, scalar } from '../../tensor/creation.js';
import { add, sub, mul } from '../../ops/binary.js';
import { cast, reciprocal } from '../../ops/unary.js';
import { mean } from '../../ops/reduce.js';
import { reshape, contiguous } from '../../ops/movement.js';
import { invStd, layerNormLastDims } from '../../ops/layer-norm.js';
import { detach } from '../../autograd/tape.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { scope } from '../../tensor/memory.js';
import { fmtShape, shapesEqual } from '../../tensor/shape.js';
import type { DType } from '../../tensor/dtype.js';

// ---------------------------------------------------------------------------------------------
// Helpers

const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

/** A per-channel [C] tensor shaped to broadcast against [N, C, *] of rank `ndim`. */
const perChannel = (t: Tensor, ndim: number): Tensor => reshape(t, [1, t.shape[0], ...range(2, ndim).map(() => 1)]);

/** Python's repr of a float (1e-05, 0.1, 1.0, 1e+16), for extraRepr lines that read like PyTorch's. */
function pyFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  // Shortest round-trip digits, as both languages use; Python goes scientific below 1e-4 and from 1e16.
  const [mant, ex] = v.toExponential().split('e');
  const e = Number(ex);
  if (e < -4 || e >= 16) return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  const s = String(v);
  return s.includes('.') ? s : `${s}.0`;
}

const pyBool = (b: boolean): string => (b ? 'True' : 'False');
const pyTuple = (s: readonly number[]): string => (s.length === 1 ? `(${s[0]},)` : `(${s.join(', ')})`);

/** torch.finfo(dtype).eps: RMSNorm's eps when none is given. */
function finfoEps(dtype: DType): number {
  return dtype === 'float64' ? 2.220446049250313e-16 : 1.1920928955078125e-7;
}

/** buf ← (1 − f)·buf + f·stat, replacing buf's storage (the buffer stays the same Tensor object). */
function updateRunning(buf: Tensor, stat: Tensor, factor: number | Tensor): void {
  const keepW = typeof factor === 'number' ? 1 - factor : sub(1, factor);
  const next = add(mul(buf, keepW), mul(reshape(stat, buf.shape), factor));
  buf.assignStorage(contiguous(next.dtype === buf.dtype ? next : cast(next, buf.dtype)));
}

// ---------------------------------------------------------------------------------------------
// Functional forms

/**
 * Options of the functional {@link batchNorm}: affine weight and bias [C] (none by default),
 * training mode (false), momentum (0.1) and eps (1e-5).
 */
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Normalize with the batch's statistics (and update the running ones when given). */
  training?: boolean;
  /**
   * Weight of the new batch statistic in the running average (default 0.1); a scalar tensor is
   * accepted too (BatchNorm passes 1/num_batches_tracked for a cumulative average).
   */
  momentum?: number | Tensor;
  eps?: number;
}

/**
 * F.batch_norm over input [N, C, *]: per channel, (x − mean) / √(var + eps) · weight + bias.
 * Training uses the batch mean and biased variance and, when running stats are given, updates them
 * in place (storage swapped, objects kept) with the batch mean and the unbiased variance, without
 * recording on the tape. Otherwise the running statistics are used.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  const where = 'batchNorm';
  const training = opts.training ?? false,
    momentum = opts.momentum ?? 0.1,
    eps = opts.eps ?? 1e-5;
  if (x.ndim < 2) throw new Error(`${where}: expected input of shape [N, C, *], got ${fmtShape(x.shape)}`);
  const C = x.shape[1];
  for (const [name, t] of [
    ['runningMean', runningMean],
    ['runningVar', runningVar],
    ['weight', opts.weight],
    ['bias', opts.bias],
  ] as const) {
    if (t && !shapesEqual(t.shape, [C])) {
      throw new Error(`${where}: ${name} ${fmtShape(t.shape)} does not match the ${C} channels of input ${fmtShape(x.shape)}`);
    }
  }
  const axes = [0, ...range(2, x.ndim)];
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  let y: Tensor;
  if (training || !runningMean || !runningVar) {
    if (training && n <= 1) throw new Error(`${where}: expected more than 1 value per channel when training, got input ${fmtShape(x.shape)}`);
    const mu = mean(x, axes, true);
    const d = sub(x, mu);
    const v = mean(mul(d, d), axes, true); // biased, as used for normalization
    y = mul(d, invStd(v, eps));
    if (training && (runningMean || runningVar)) {
      noGrad(() =>
        scope(() => {
          if (runningMean) updateRunning(runningMean, mu, momentum);
          if (runningVar) updateRunning(runningVar, mul(v, n / (n - 1)), momentum); // unbiased, as PyTorch
        }),
      );
    }
  } else {
    // Detached handles: a later update swaps the buffers' storage without touching this graph.
    const rm = perChannel(detach(runningMean), x.ndim),
      rv = perChannel(detach(runningVar), x.ndim);
    y = mul(sub(x, rm), invStd(rv, eps));
  }
  if (opts.weight) y = mul(y, perChannel(opts.weight, x.ndim));
  if (opts.bias) y = add(y, perChannel(opts.bias, x.ndim));
  return y;
}

/** Check that x ends in normalizedShape; returns the normalized (trailing) axes. */
function trailingAxes(where: string, x: Tensor, normalizedShape: readonly number[]): number[] {
  const k = normalizedShape.length;
  if (x.ndim < k || !shapesEqual(x.shape.slice(x.ndim - k), normalizedShape)) {
    throw new Error(`${where}: input ${fmtShape(x.shape)} does not end in normalizedShape ${fmtShape(normalizedShape)} (expected [*,${normalizedShape.join(',')}])`);
  }
  return range(x.ndim - k, x.ndim);
}

function checkAffine(where: string, name: string, t: Tensor | null | undefined, shape: readonly number[]): void {
  if (t && !shapesEqual(t.shape, shape)) throw new Error(`${where}: ${name} ${fmtShape(t.shape)} does not match normalizedShape ${fmtShape(shape)}`);
}

/**
 * F.layer_norm: (x − mean) / √(var + eps) · weight + bias over the trailing normalizedShape dims
 * (biased variance); one fused kernel where the backend has it (ops/layer-norm.ts).
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  trailingAxes('layerNorm', x, normalizedShape);
  checkAffine('layerNorm', 'weight', weight, normalizedShape);
  checkAffine('layerNorm', 'bias', bias, normalizedShape);
  return layerNormLastDims(x, normalizedShape.length, weight ?? null, bias ?? null, eps);
}

/** F.rms_norm: x / √(mean(x²) + eps) · weight over the trailing dims; eps defaults to finfo(x.dtype).eps. */
export function rmsNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, eps?: number | null): Tensor {
  const axes = trailingAxes('rmsNorm', x, normalizedShape);
  checkAffine('rmsNorm', 'weight', weight, normalizedShape);
  const e = eps ?? finfoEps(x.dtype);
  let y = mul(x, invStd(mean(mul(x, x), axes, true), e));
  if (weight) y = mul(y, weight);
  return y;
}

/** F.group_norm over input [N, C, *]: channels split into numGroups groups, each normalized over its channels and positions. */
export function groupNorm(x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  if (x.ndim < 2) throw new Error(`groupNorm: expected input of shape [N, C, *], got ${fmtShape(x.shape)}`);
  const [N, C] = x.shape;
  if (C % numGroups !== 0) throw new Error(`groupNorm: ${C} channels of input ${fmtShape(x.shape)} are not divisible into ${numGroups} groups`);
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && !shapesEqual(t.shape, [C])) throw new Error(`groupNorm: ${name} ${fmtShape(t.shape)} does not match the ${C} channels of input ${fmtShape(x.shape)}`);
  }
  const g = reshape(x, [N, numGroups, -1]);
  const d = sub(g, mean(g, 2, true));
  let y = reshape(mul(d, invStd(mean(mul(d, d), 2, true), eps)), x.shape);
  if (weight) y = mul(y, perChannel(weight, x.ndim));
  if (bias) y = add(y, perChannel(bias, x.ndim));
  return y;
}

// ---------------------------------------------------------------------------------------------
// Modules

export interface BatchNormOptionsModule {
  eps?: number;
  /** Weight of each batch in the running averages; null for a cumulative (equal-weight) average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
  dtype?: DType;
}

/**
 * Shared by BatchNorm1d/2d/3d (PyTorch's _BatchNorm): parameters weight (ones) and bias (zeros),
 * buffers running_mean (zeros), running_var (ones) and num_batches_tracked (int32 0).
 */
export abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;
  readonly eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptionsModule = {},
  ) {
    super();
    const name = this.constructor.name;
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`${name}: numFeatures must be a positive integer, got ${numFeatures}`);
    const dtype = opts.dtype ?? 'float32';
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? new Parameter(empty([numFeatures], dtype)) : null;
    this.bias = this.affine ? new Parameter(empty([numFeatures], dtype)) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures], { dtype }));
      this.registerBuffer('running_var', ones([numFeatures], { dtype }));
      this.registerBuffer('num_batches_tracked', scalar(0, 'int32'));
    } else {
      this.registerBuffer('running_mean', null);
      this.registerBuffer('running_var', null);
      this.registerBuffer('num_batches_tracked', null);
    }
    this.resetParameters();
  }

  /** Running mean 0, running variance 1, num_batches_tracked 0. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    zeros_(this.running_mean!);
    ones_(this.running_var!);
    noGrad(() => scope(() => this.num_batches_tracked!.assignStorage(scalar(0, 'int32', this.num_batches_tracked!.device))));
  }

  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** Throw unless the input's rank fits this layer (BatchNorm1d: 2 or 3, BatchNorm2d: 4, BatchNorm3d: 5). */
  protected abstract checkInputDim(x: Tensor): void;

  forward(x: Tensor): Tensor {
    this.checkInputDim(x);
    const name = this.constructor.name;
    if (x.shape[1] !== this.numFeatures) {
      const want = x.ndim === 2 ? `[N,${this.numFeatures}]` : `[N,${this.numFeatures},${x.ndim === 3 ? 'L' : x.ndim === 4 ? 'H,W' : 'D,H,W'}]`;
      throw new Error(`${name}: expected input of shape ${want} (numFeatures ${this.numFeatures}), got ${fmtShape(x.shape)}`);
    }
    let factor: number | Tensor = this.momentum ?? 0;
    const nbt = this.num_batches_tracked;
    if (this.training && this.trackRunningStats && nbt) {
      noGrad(() => scope(() => nbt.assignStorage(add(nbt, 1))));
      // momentum null: cumulative moving average with factor 1/num_batches_tracked (kept on the device).
      if (this.momentum === null) factor = noGrad(() => reciprocal(cast(nbt, this.running_mean?.dtype ?? 'float32')));
    }
    const useBatchStats = this.training || (!this.running_mean && !this.running_var);
    const track = !this.training || this.trackRunningStats;
    return batchNorm(x, track ? this.running_mean : null, track ? this.running_var : null, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: factor,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, ` +
      `affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`
    );
  }
}

/**
 * Batch normalization over [N, C] or [N, C, L] (nn.BatchNorm1d).
 * @example const bn = new BatchNorm1d(64) // after a Linear(…, 64)
 */
export class BatchNorm1d extends BatchNormBase {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) {
      throw new Error(`BatchNorm1d: expected 2D or 3D input of shape [N,${this.numFeatures}] or [N,${this.numFeatures},L], got ${x.ndim}D input ${fmtShape(x.shape)}`);
    }
  }
}

/**
 * Batch normalization over [N, C, H, W] per channel (nn.BatchNorm2d).
 * @example const bn = new BatchNorm2d(32) // after a Conv2d(…, 32, 3)
 */
export class BatchNorm2d extends BatchNormBase {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 4) throw new Error(`BatchNorm2d: expected 4D input of shape [N,${this.numFeatures},H,W], got ${x.ndim}D input ${fmtShape(x.shape)}`);
  }
}

/** Batch normalization over [N, C, D, H, W] per channel (nn.BatchNorm3d). */
export class BatchNorm3d extends BatchNormBase {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 5) throw new Error(`BatchNorm3d: expected 5D input of shape [N,${this.numFeatures},D,H,W], got ${x.ndim}D input ${fmtShape(x.shape)}`);
  }
}

/**
 * Options of {@link LayerNorm}: eps added to the variance (1e-5), learn a weight and bias
 * (elementwiseAffine, true), bias (true) and dtype (float32).
 */
export interface LayerNormOptions {
  eps?: number;
  elementwiseAffine?: boolean;
  /** Learn a bias (with elementwiseAffine); PyTorch 2.1's `bias` argument. */
  bias?: boolean;
  dtype?: DType;
}

const shapeOf = (where: string, s: number | readonly number[]): number[] => {
  const shape = typeof s === 'number' ? [s] : [...s];
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`${where}: normalizedShape must hold positive integers, got ${JSON.stringify(s)}`);
  return shape;
};

/**
 * Layer normalization over the trailing normalizedShape dims (nn.LayerNorm): weight ones, bias zeros.
 * @example const ln = new LayerNorm(768) // x [B, T, 768]
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = shapeOf('LayerNorm', normalizedShape);
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const dtype = opts.dtype ?? 'float32';
    this.weight = this.elementwiseAffine ? new Parameter(empty(this.normalizedShape, dtype)) : null;
    this.bias = this.elementwiseAffine && (opts.bias ?? true) ? new Parameter(empty(this.normalizedShape, dtype)) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    trailingAxes('LayerNorm', x, this.normalizedShape);
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

/**
 * Options of {@link RMSNorm}: eps, learn a weight (elementwiseAffine, true) and dtype (float32).
 */
export interface RMSNormOptions {
  /** Added to the mean square; when omitted, torch.finfo(input dtype).eps (2⁻²³ for float32, 2⁻⁵² for float64), as PyTorch. */
  eps?: number | null;
  elementwiseAffine?: boolean;
  dtype?: DType;
}

/**
 * Root-mean-square normalization over the trailing normalizedShape dims (nn.RMSNorm): weight ones.
 * @example const norm = new RMSNorm(512)
 */
export class RMSNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number | null;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;

  constructor(normalizedShape: number | number[], opts: RMSNormOptions = {}) {
    super();
    this.normalizedShape = shapeOf('RMSNorm', normalizedShape);
    this.eps = opts.eps ?? null;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? new Parameter(empty(this.normalizedShape, opts.dtype ?? 'float32')) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
  }

  forward(x: Tensor): Tensor {
    trailingAxes('RMSNorm', x, this.normalizedShape);
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${this.eps === null ? 'None' : pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

/**
 * Options of {@link GroupNorm}: eps added to the variance (1e-5), learn a per-channel weight and
 * bias (affine, true) and dtype (float32).
 */
export interface GroupNormOptions {
  eps?: number;
  affine?: boolean;
  dtype?: DType;
}

/**
 * Group normalization over [N, C, *] (nn.GroupNorm): per-channel weight ones and bias zeros.
 * @example const gn = new GroupNorm(8, 64)
 */
export class GroupNorm extends Module {
  readonly eps: number;
  readonly affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    opts: GroupNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || !Number.isInteger(numChannels) || numChannels < 1) {
      throw new Error(`GroupNorm: numGroups and numChannels must be positive integers, got ${numGroups} and ${numChannels}`);
    }
    if (numChannels % numGroups !== 0) throw new Error(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    this.eps = opts.eps ?? 1e-5;
    this.affine = opts.affine ?? true;
    const dtype = opts.dtype ?? 'float32';
    this.weight = this.affine ? new Parameter(empty([numChannels], dtype)) : null;
    this.bias = this.affine ? new Parameter(empty([numChannels], dtype)) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new Error(`GroupNorm: expected input of shape [N,${this.numChannels},*], got ${fmtShape(x.shape)}`);
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}`;
  }
}
