// Metrics, three kinds: functions on tensors returning a scalar tensor (accuracy, topKAccuracy,
// meanSquaredError ...), scikit-learn's functions on host arrays returning numbers (f1Score,
// rocAucScore, r2Score ...), and Keras metric objects that accumulate their state on the backend
// across the batches of an epoch (Precision, AUC, F1Score ...). Plus text reports.
//
// Which is which: a name that takes two Tensors returns a Tensor; the same name given arrays (or
// an array and a Tensor) returns a number, with scikit-learn's definition. Names ending in Score
// are host functions only and accept Tensors too (read synchronously).

import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { full, tensor } from '../tensor/creation.js';
import { abs, cast } from '../ops/unary.js';
import { add, equal, greater, mul, sub } from '../ops/binary.js';
import { argmax, max, mean, sum } from '../ops/reduce.js';
import { expand, reshape, select, squeeze, unsqueeze } from '../ops/movement.js';
import { oneHot } from '../ops/indexing.js';
import { fmtShape } from '../tensor/shape.js';
import { isFloat, type DType } from '../tensor/dtype.js';
import { supportsDType } from '../backends/backend.js';

type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

function mismatch(fn: string, yTrue: Tensor, yPred: Tensor): never {
  throw new Error(`${fn}: labels ${fmtShape(yTrue.shape)} do not fit predictions ${fmtShape(yPred.shape)}`);
}

/** Per-sample 0/1 correctness (float32) for a binary threshold on same-shape predictions. */
function binaryHits(yTrue: Tensor, yPred: Tensor, threshold = 0.5): Tensor {
  if (yTrue.size !== yPred.size) mismatch('binaryAccuracy', yTrue, yPred);
  const p = cast(greater(reshape(yPred, [-1]), threshold), 'float32');
  return cast(equal(p, cast(reshape(yTrue, [-1]), 'float32')), 'float32');
}

/** Integer labels [N, ...] for predictions [N, ..., C] (a trailing 1 is squeezed; floats are truncated). */
function sparseLabels(fn: string, yTrue: Tensor, yPred: Tensor): Tensor {
  let y = yTrue;
  if (y.ndim === yPred.ndim && y.shape[y.ndim - 1] === 1) y = squeeze(y, -1);
  if (y.ndim !== yPred.ndim - 1 || y.shape.some((d, i) => d !== yPred.shape[i])) mismatch(fn, yTrue, yPred);
  return cast(y, 'int32');
}

function sparseHits(yTrue: Tensor, yPred: Tensor): Tensor {
  return cast(equal(argmax(yPred, -1), sparseLabels('sparseCategoricalAccuracy', yTrue, yPred)), 'float32');
}

function categoricalHits(yTrue: Tensor, yPred: Tensor): Tensor {
  if (yTrue.ndim !== yPred.ndim || yTrue.shape.some((d, i) => d !== yPred.shape[i])) mismatch('categoricalAccuracy', yTrue, yPred);
  return cast(equal(argmax(yPred, -1), argmax(yTrue, -1)), 'float32');
}

function autoHits(yTrue: Tensor, yPred: Tensor): Tensor {
  if (!isFloat(yTrue.dtype) && yTrue.ndim === yPred.ndim - 1) return sparseHits(yTrue, yPred);
  if (yTrue.ndim === yPred.ndim && yPred.shape[yPred.ndim - 1] > 1 && yTrue.shape[yTrue.ndim - 1] === yPred.shape[yPred.ndim - 1]) return categoricalHits(yTrue, yPred);
  if (yTrue.ndim === yPred.ndim && yPred.shape[yPred.ndim - 1] > 1 && yTrue.shape[yTrue.ndim - 1] === 1) return sparseHits(yTrue, yPred);
  return binaryHits(yTrue, yPred);
}

/**
 * 1 where the label's score is among the top k, i.e. fewer than k classes score strictly higher
 * (tf.math.in_top_k: ties at the boundary count as in). The label is yTrue itself when it is an
 * integer tensor (or when `sparse`), else the argmax of one-hot yTrue.
 */
function topKHits(yTrue: Tensor, yPred: Tensor, k: number, sparse = !isFloat(yTrue.dtype)): Tensor {
  const labels = sparse ? sparseLabels('topKAccuracy', yTrue, yPred) : argmax(yTrue, -1);
  if (labels.ndim !== yPred.ndim - 1) mismatch('topKAccuracy', yTrue, yPred);
  const own = yPred.gather(-1, unsqueeze(labels, -1));
  const higher = sum(cast(greater(yPred, own), 'float32'), -1);
  return cast(greater(sub(k, higher), 0), 'float32');
}

const sqErr = (yTrue: Tensor, yPred: Tensor): Tensor => {
  const d = sub(cast(yPred, 'float32'), cast(reshape(yTrue, yPred.shape), 'float32'));
  return mean(reshape(mul(d, d), [yPred.shape[0] ?? 1, -1]), -1);
};
const absErr = (yTrue: Tensor, yPred: Tensor): Tensor =>
  mean(reshape(abs(sub(cast(yPred, 'float32'), cast(reshape(yTrue, yPred.shape), 'float32'))), [yPred.shape[0] ?? 1, -1]), -1);

/** Fraction correct; the kind (sparse, categorical, binary) is read from the shapes and dtypes. */
export const accuracy: MetricFn = (t, p) => mean(autoHits(t, p));
/**
 * Fraction of predictions on the right side of `threshold` (0.5): mean of (yPred > threshold) ==
 * yTrue, over all elements.
 */
export const binaryAccuracy = (t: Tensor, p: Tensor, threshold = 0.5): Tensor => mean(binaryHits(t, p, threshold));
/** Fraction of samples whose argmax of yPred matches the argmax of one-hot yTrue. */
export const categoricalAccuracy: MetricFn = (t, p) => mean(categoricalHits(t, p));
/** Fraction of samples whose argmax of yPred [N, C] equals the integer label yTrue [N]. */
export const sparseCategoricalAccuracy: MetricFn = (t, p) => mean(sparseHits(t, p));

/**
 * Fraction of samples whose label scores in the top k (ties at the boundary count as hits).
 * Tensors in: a scalar tensor (labels: int32 [N] or one-hot [N, C]). Arrays in: a number.
 * @example topKAccuracy(nb.tensor([2, 1], { dtype: 'int32' }), scores, 1)  // Tensor
 * @example topKAccuracy([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 1)     // 0.5
 */
export function topKAccuracy(yTrue: Tensor, yPred: Tensor, k?: number): Tensor;
export function topKAccuracy(yTrue: HostValues, yScore: HostValues, k?: number): number;
export function topKAccuracy(yTrue: HostValues, yPred: HostValues, k = 5): Tensor | number {
  if (yTrue instanceof Tensor && yPred instanceof Tensor) return mean(topKHits(yTrue, yPred, k));
  return topKHost('topKAccuracy', yTrue, yPred, k, 'inTopK') / toHost('topKAccuracy', 'yTrue', yTrue).data.length;
}

/**
 * Mean squared error. Tensors in: a scalar tensor. Arrays in: scikit-learn's mean_squared_error
 * (per output column, then averaged as `multioutput` says).
 * @example meanSquaredError([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) // 0.375
 */
export function meanSquaredError(yTrue: Tensor, yPred: Tensor): Tensor;
export function meanSquaredError(yTrue: HostValues, yPred: HostValues, opts?: { multioutput?: Exclude<MultiOutput, 'raw_values'> }): number;
export function meanSquaredError(yTrue: HostValues, yPred: HostValues, opts: { multioutput: 'raw_values' }): number[];
export function meanSquaredError(yTrue: HostValues, yPred: HostValues, opts: { multioutput?: MultiOutput } = {}): Tensor | number | number[] {
  if (yTrue instanceof Tensor && yPred instanceof Tensor) return mean(sqErr(yTrue, yPred));
  return regressionError('meanSquaredError', yTrue, yPred, (d) => d * d, opts.multioutput);
}

/**
 * Mean absolute error. Tensors in: a scalar tensor. Arrays in: scikit-learn's mean_absolute_error.
 * @example meanAbsoluteError([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) // 0.5
 */
export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor): Tensor;
export function meanAbsoluteError(yTrue: HostValues, yPred: HostValues, opts?: { multioutput?: Exclude<MultiOutput, 'raw_values'> }): number;
export function meanAbsoluteError(yTrue: HostValues, yPred: HostValues, opts: { multioutput: 'raw_values' }): number[];
export function meanAbsoluteError(yTrue: HostValues, yPred: HostValues, opts: { multioutput?: MultiOutput } = {}): Tensor | number | number[] {
  if (yTrue instanceof Tensor && yPred instanceof Tensor) return mean(absErr(yTrue, yPred));
  return regressionError('meanAbsoluteError', yTrue, yPred, Math.abs, opts.multioutput);
}

// ---- Keras metric objects ----

/**
 * A Keras metric: updateState per batch, result() for the whole epoch so far, resetState() per
 * epoch. State lives on the backend; result() reads it once.
 */
export abstract class Metric {
  constructor(readonly name: string) {}
  abstract updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void;
  abstract result(): Promise<number>;
  abstract resultSync(): number;
  abstract resetState(): void;
  /** The entries the training loop logs: { [name]: result } (per-class metrics log one per class). */
  async resultLogs(): Promise<Record<string, number>> {
    return { [this.name]: await this.result() };
  }
}

/**
 * The dtype metric sums accumulate in: float64 on the backend, so counts stay exact over long
 * epochs; float32 where the backend has no float64 (webgpu: exact counts up to 2^24).
 */
function accDType(t: Tensor): DType {
  return supportsDType(t.storage.backend, 'float64') ? 'float64' : 'float32';
}

/**
 * A metric whose state is a list of tensors, each summed over batches (float64 on the backend,
 * so counts stay exact over long epochs).
 */
export abstract class SumStateMetric extends Metric {
  private state: Tensor[] | null = null;

  /** Add this batch's contributions (computed by `make`, freed after) to the state. */
  protected accumulate(make: () => Tensor[]): void {
    noGrad(() => {
      const next = scope(() => {
        const parts = make().map((t) => cast(t, accDType(t)));
        if (this.state && this.state.length !== parts.length) throw new Error(`${this.name}: state changed shape between batches`);
        return parts.map((p, i) => {
          const prev = this.state?.[i];
          if (prev && prev.size !== p.size) throw new Error(`${this.name}: this batch has ${p.size} classes but earlier batches had ${prev.size}`);
          // add(p, 0) makes a fresh tensor even if make() handed back one it did not create
          return prev ? add(prev, p) : add(p, 0);
        });
      });
      this.state?.forEach((t) => t.dispose());
      this.state = next.map((t) => t.keep());
    });
  }

  /** The metric from the summed state (null when no batch was seen). */
  protected abstract compute(state: Float64Array[] | null): number;

  protected async stateData(): Promise<Float64Array[] | null> {
    return this.state ? Promise.all(this.state.map(async (t) => Float64Array.from(await t.data()))) : null;
  }

  protected stateDataSync(): Float64Array[] | null {
    return this.state ? this.state.map((t) => Float64Array.from(t.dataSync())) : null;
  }

  async result(): Promise<number> { return this.compute(await this.stateData()); }
  resultSync(): number { return this.compute(this.stateDataSync()); }

  resetState(): void {
    this.state?.forEach((t) => t.dispose());
    this.state = null;
  }
}

/** Per-sample weights [N] as a float32 tensor broadcast to `shape` ([N, ...]). */
function weightsFor(name: string, sampleWeight: Tensor | undefined, shape: readonly number[]): Tensor | null {
  if (!sampleWeight) return null;
  const w = cast(reshape(sampleWeight, [-1]), 'float32');
  if (w.shape[0] !== shape[0]) throw new Error(`${name}: sampleWeight ${fmtShape(sampleWeight.shape)} does not fit ${shape[0]} samples`);
  return expand(reshape(w, [shape[0], ...shape.slice(1).map(() => 1)]), shape);
}

/** The weighted mean of per-sample values (Keras' MeanMetricWrapper): Σ v·w / Σ w. */
export abstract class MeanMetricWrapper extends SumStateMetric {
  /** Per-sample values to average. */
  protected abstract values(yTrue: Tensor, yPred: Tensor): Tensor;

  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    this.accumulate(() => {
      const v = cast(this.values(yTrue, yPred), 'float32');
      const flat = reshape(v, [v.shape[0] ?? 1, -1]);
      const w = weightsFor(this.name, sampleWeight, flat.shape);
      return w ? [sum(mul(flat, w)), sum(w)] : [sum(flat), full([], flat.size, { dtype: 'float32', device: v.device })];
    });
  }

  protected compute(s: Float64Array[] | null): number {
    return s && s[1][0] ? s[0][0] / s[1][0] : 0;
  }
}

/** Mean of the values given to updateState(values, weights?) (e.g. a loss per sample). */
export class Mean extends MeanMetricWrapper {
  constructor(name = 'mean') { super(name); }
  protected values(values: Tensor): Tensor { return values; }
  override updateState(values: Tensor, weights?: Tensor): void {
    super.updateState(values, values, weights);
  }
}

class FnMetric extends MeanMetricWrapper {
  constructor(name: string, private readonly fn: (t: Tensor, p: Tensor) => Tensor) { super(name); }
  protected values(t: Tensor, p: Tensor): Tensor { return this.fn(t, p); }
}

/**
 * keras.metrics.Accuracy as fit() reports it: the running fraction correct, the kind (sparse,
 * categorical, binary) read from the shapes and dtypes.
 */
export class Accuracy extends FnMetric { constructor(name = 'accuracy') { super(name, autoHits); } }
/**
 * keras.metrics.BinaryAccuracy: the running fraction of predictions on the right side of
 * `threshold` (0.5).
 */
export class BinaryAccuracy extends FnMetric {
  constructor(name = 'binary_accuracy', threshold = 0.5) { super(name, (t, p) => binaryHits(t, p, threshold)); }
}
/**
 * keras.metrics.CategoricalAccuracy: the running fraction of samples whose argmax matches that of
 * the one-hot label.
 */
export class CategoricalAccuracy extends FnMetric { constructor(name = 'categorical_accuracy') { super(name, categoricalHits); } }
/**
 * keras.metrics.SparseCategoricalAccuracy: the running fraction of samples whose argmax equals the
 * integer label.
 */
export class SparseCategoricalAccuracy extends FnMetric { constructor(name = 'sparse_categorical_accuracy') { super(name, sparseHits); } }
/** keras.metrics.TopKCategoricalAccuracy: one-hot labels (integer labels are accepted too). */
export class TopKCategoricalAccuracy extends FnMetric {
  constructor(k = 5, name = 'top_k_categorical_accuracy') { super(name, (t, p) => topKHits(t, p, k)); }
}
/** keras.metrics.SparseTopKCategoricalAccuracy: integer labels [N] (or [N, 1], any dtype). */
export class SparseTopKCategoricalAccuracy extends FnMetric {
  constructor(k = 5, name = 'sparse_top_k_categorical_accuracy') { super(name, (t, p) => topKHits(t, p, k, true)); }
}
/**
 * keras.metrics.MeanSquaredError: the running mean over samples of each sample's mean squared
 * error.
 */
export class MeanSquaredError extends FnMetric { constructor(name = 'mse') { super(name, sqErr); } }
/**
 * keras.metrics.MeanAbsoluteError: the running mean over samples of each sample's mean absolute
 * error.
 */
export class MeanAbsoluteError extends FnMetric { constructor(name = 'mae') { super(name, absErr); } }

/**
 * Flat 0/1 labels and scores for a binary metric, with per-element weights. With `classId`, the
 * column classId of [.., C] predictions against one-hot labels or integer labels == classId;
 * otherwise labels and predictions must have the same number of elements (multi-label is flattened,
 * as Keras does).
 */
function binaryParts(name: string, yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor | undefined, classId?: number): { y: Tensor; p: Tensor; w: Tensor | null } {
  let y: Tensor, p: Tensor;
  if (classId !== undefined) {
    const c = yPred.shape[yPred.ndim - 1];
    if (yPred.ndim < 2 || !Number.isInteger(classId) || classId < 0 || classId >= c) {
      throw new Error(`${name}: classId ${classId} is out of range for predictions ${fmtShape(yPred.shape)}`);
    }
    p = select(yPred, -1, classId);
    if (yTrue.size === yPred.size) y = select(reshape(yTrue, yPred.shape), -1, classId);
    else y = cast(equal(sparseLabels(name, yTrue, yPred), classId), 'float32');
  } else {
    if (yTrue.size !== yPred.size) {
      throw new Error(`${name}: labels ${fmtShape(yTrue.shape)} do not fit predictions ${fmtShape(yPred.shape)}; ` +
        `give labels of the same shape (one-hot for several classes)${name === 'auc' ? '' : ' or a classId'}`);
    }
    p = yPred;
    y = reshape(yTrue, yPred.shape);
  }
  const w = weightsFor(name, sampleWeight, p.ndim ? p.shape : [1]);
  return { y: reshape(cast(y, 'float32'), [-1]), p: reshape(cast(p, 'float32'), [-1]), w: w ? reshape(w, [-1]) : null };
}

const divNoNan = (a: number, b: number): number => (b === 0 ? 0 : a / b);

interface ConfusionOptions {
  /** Predictions strictly above this count as positive (default 0.5). */
  thresholds?: number;
  /** Score only this column of [N, C] predictions (labels one-hot or integers). */
  classId?: number;
  name?: string;
}

/** tp, fp, fn for one threshold; labels weigh y as positive and 1 − y as negative. */
abstract class ConfusionMetric extends SumStateMetric {
  readonly thresholds: number;
  readonly classId?: number;
  constructor(name: string, opts: ConfusionOptions) {
    super(opts.name ?? name);
    this.thresholds = opts.thresholds ?? 0.5;
    this.classId = opts.classId;
  }
  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    this.accumulate(() => {
      const { y, p, w } = binaryParts(this.name, yTrue, yPred, sampleWeight, this.classId);
      const pos = w ? mul(y, w) : y, neg = w ? mul(sub(1, y), w) : sub(1, y);
      const hit = cast(greater(p, this.thresholds), 'float32');
      return [sum(mul(hit, pos)), sum(mul(hit, neg)), sum(mul(sub(1, hit), pos))];
    });
  }
}

/**
 * keras.metrics.Precision: tp / (tp + fp) over the epoch, predictions above `thresholds` (0.5)
 * being positive; 0 when nothing was predicted positive.
 * @example compile({ loss: 'binary_crossentropy', metrics: ['precision'] })
 */
export class Precision extends ConfusionMetric {
  constructor(opts: ConfusionOptions = {}) { super('precision', opts); }
  protected compute(s: Float64Array[] | null): number { return s ? divNoNan(s[0][0], s[0][0] + s[1][0]) : 0; }
}

/** keras.metrics.Recall: tp / (tp + fn) over the epoch; 0 when there were no positives. */
export class Recall extends ConfusionMetric {
  constructor(opts: ConfusionOptions = {}) { super('recall', opts); }
  protected compute(s: Float64Array[] | null): number { return s ? divNoNan(s[0][0], s[0][0] + s[2][0]) : 0; }
}

/** Options of {@link F1Score} (Keras' arguments). */
export interface F1ScoreOptions {
  /** null (default, one score per class), 'micro', 'macro' or 'weighted' (by support). */
  average?: null | 'micro' | 'macro' | 'weighted';
  /** Predictions above it are positive (multi-label); default: the row's maximum is the prediction. */
  threshold?: number;
  /** Number of classes; checked against the predictions when given. */
  numClasses?: number;
  name?: string;
}

/**
 * keras.metrics.F1Score over [N, C] predictions and one-hot (or integer) labels, accumulated over
 * the epoch. With average null the training logs get one entry per class (f1_score_0, ...) and
 * the values come from resultPerClass(); result() needs an average.
 */
export class F1Score extends SumStateMetric {
  readonly average: null | 'micro' | 'macro' | 'weighted';
  readonly threshold?: number;
  readonly numClasses?: number;
  constructor(opts: F1ScoreOptions = {}) {
    super(opts.name ?? 'f1_score');
    const a = opts.average ?? null;
    if (a !== null && a !== 'micro' && a !== 'macro' && a !== 'weighted') throw new Error(`F1Score: average must be null, 'micro', 'macro' or 'weighted', got '${String(a)}'`);
    this.average = a;
    this.threshold = opts.threshold;
    this.numClasses = opts.numClasses;
  }

  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    this.accumulate(() => {
      const p2 = yPred.ndim === 1 ? reshape(yPred, [-1, 1]) : reshape(yPred, [-1, yPred.shape[yPred.ndim - 1]]);
      const c = p2.shape[1];
      if (this.numClasses !== undefined && c !== this.numClasses) throw new Error(`F1Score: predictions ${fmtShape(yPred.shape)} have ${c} classes, expected numClasses ${this.numClasses}`);
      const y2 = yTrue.size === yPred.size ? cast(reshape(yTrue, p2.shape), 'float32')
        : reshape(oneHot(sparseLabels('F1Score', yTrue, yPred), c), p2.shape);
      // Keras: threshold None marks the row maximum (every tied maximum) as predicted.
      const pb = this.threshold === undefined ? cast(equal(p2, max(p2, -1, true)), 'float32') : cast(greater(p2, this.threshold), 'float32');
      const w = weightsFor('F1Score', sampleWeight === undefined ? undefined : reshape(sampleWeight, [-1]), p2.shape);
      const yw = w ? mul(y2, w) : y2;
      const tp = sum(mul(pb, yw), 0), fp = sum(mul(pb, sub(w ?? 1, yw)), 0), fn = sum(mul(sub(1, pb), yw), 0);
      return [tp, fp, fn, sum(yw, 0)];
    });
  }

  private perClass(s: Float64Array[] | null): number[] {
    if (!s) return [];
    const [tp, fp, fn] = s;
    if (this.average === 'micro') {
      const t = tp.reduce((a, b) => a + b, 0), p = fp.reduce((a, b) => a + b, 0), n = fn.reduce((a, b) => a + b, 0);
      return [f1From(t, p, n)];
    }
    return Array.from(tp, (t, i) => f1From(t, fp[i], fn[i]));
  }

  protected compute(s: Float64Array[] | null): number {
    if (this.average === null) throw new Error(`F1Score '${this.name}': with average null there is one score per class; use resultPerClass() or set average`);
    const f = this.perClass(s);
    if (!s) return 0;
    if (this.average === 'micro') return f[0];
    if (this.average === 'macro') return f.reduce((a, b) => a + b, 0) / f.length;
    const support = s[3], total = support.reduce((a, b) => a + b, 0);
    return divNoNan(f.reduce((acc, v, i) => acc + v * support[i], 0), total);
  }

  /** One F1 per class (a single entry for average 'micro'; all averages are computed from these). */
  async resultPerClass(): Promise<number[]> { return this.perClass(await this.stateData()); }
  resultPerClassSync(): number[] { return this.perClass(this.stateDataSync()); }

  override async resultLogs(): Promise<Record<string, number>> {
    if (this.average !== null) return super.resultLogs();
    const f = await this.resultPerClass();
    return Object.fromEntries(f.map((v, i) => [`${this.name}_${i}`, v]));
  }
}

/** F1 from counts, as Keras' F1Score: 2PR / (P + R) with P, R and the ratio 0 where undefined. */
function f1From(tp: number, fp: number, fn: number): number {
  const p = divNoNan(tp, tp + fp), r = divNoNan(tp, tp + fn);
  return divNoNan(2 * p * r, p + r);
}

/** Options of {@link AUC} (Keras' arguments). */
export interface AUCOptions {
  /** Thresholds evenly spread over [0, 1] (default 200, as Keras). */
  numThresholds?: number;
  /** Only 'ROC' (the default) is supported. */
  curve?: 'ROC';
  /** 'interpolation' (trapezoids, default), 'minoring' or 'majoring' (lower / upper Riemann sums). */
  summationMethod?: 'interpolation' | 'minoring' | 'majoring';
  name?: string;
}

/**
 * keras.metrics.AUC (ROC): confusion counts at numThresholds thresholds (−ε, 1/(n−1), ..., 1+ε,
 * prediction > threshold is positive) summed over the epoch, then the area under the
 * (false-positive rate, recall) curve. Predictions should be probabilities; multi-column labels
 * and predictions are flattened (Keras' multi_label=false).
 */
export class AUC extends SumStateMetric {
  readonly numThresholds: number;
  readonly summationMethod: 'interpolation' | 'minoring' | 'majoring';
  private readonly thresholds: Float32Array;
  constructor(opts: AUCOptions = {}) {
    super(opts.name ?? 'auc');
    const n = opts.numThresholds ?? 200;
    if (!Number.isInteger(n) || n < 2) throw new Error(`AUC: numThresholds must be an integer > 1, got ${n}`);
    if (opts.curve !== undefined && opts.curve !== 'ROC') throw new Error(`AUC: curve '${String(opts.curve)}' is not supported; only 'ROC' is`);
    const m = opts.summationMethod ?? 'interpolation';
    if (m !== 'interpolation' && m !== 'minoring' && m !== 'majoring') throw new Error(`AUC: unknown summationMethod '${String(m)}'`);
    this.numThresholds = n;
    this.summationMethod = m;
    const eps = 1e-7; // Keras' backend epsilon
    this.thresholds = Float32Array.from({ length: n }, (_, i) => (i === 0 ? -eps : i === n - 1 ? 1 + eps : i / (n - 1)));
  }

  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    this.accumulate(() => {
      const { y, p, w } = binaryParts(this.name, yTrue, yPred, sampleWeight);
      const pos = w ? mul(y, w) : y, neg = w ? mul(sub(1, y), w) : sub(1, y);
      const thr = tensor(this.thresholds, { device: p.device, shape: [1, this.numThresholds] });
      const above = cast(greater(unsqueeze(p, 1), thr), 'float32'); // [M, T]
      return [sum(mul(above, unsqueeze(pos, 1)), 0), sum(mul(above, unsqueeze(neg, 1)), 0), sum(pos), sum(neg)];
    });
  }

  protected compute(s: Float64Array[] | null): number {
    if (!s) return 0;
    const [tp, fp] = s, P = s[2][0], N = s[3][0], n = this.numThresholds;
    let auc = 0;
    for (let i = 0; i < n - 1; i++) {
      const r0 = divNoNan(tp[i], P), r1 = divNoNan(tp[i + 1], P);
      const x0 = divNoNan(fp[i], N), x1 = divNoNan(fp[i + 1], N);
      const h = this.summationMethod === 'interpolation' ? (r0 + r1) / 2 : this.summationMethod === 'minoring' ? Math.min(r0, r1) : Math.max(r0, r1);
      auc += (x0 - x1) * h;
    }
    return auc;
  }
}

/** Options of {@link R2Score} (Keras' arguments). */
export interface R2ScoreOptions {
  /** 'uniform_average' (default) or 'variance_weighted' over output columns. */
  classAggregation?: 'uniform_average' | 'variance_weighted';
  /** Adjusted R² for this many regressors (default 0: plain R²). */
  numRegressors?: number;
  name?: string;
}

/**
 * keras.metrics.R2Score: 1 − Σ(y − ŷ)² / Σ(y − ȳ)² per output column over the whole epoch (sums
 * kept in float64), then averaged. A constant target scores 1 when predicted exactly and 0
 * otherwise (scikit-learn's force_finite; Keras gives NaN / 0 there).
 */
export class R2Score extends SumStateMetric {
  readonly classAggregation: 'uniform_average' | 'variance_weighted';
  readonly numRegressors: number;
  constructor(opts: R2ScoreOptions = {}) {
    super(opts.name ?? 'r2_score');
    this.classAggregation = opts.classAggregation ?? 'uniform_average';
    this.numRegressors = opts.numRegressors ?? 0;
  }

  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    this.accumulate(() => {
      const acc = accDType(yPred);
      const p = cast(yPred.ndim === 1 ? reshape(yPred, [-1, 1]) : reshape(yPred, [yPred.shape[0], -1]), acc);
      if (yTrue.size !== yPred.size) mismatch('R2Score', yTrue, yPred);
      const y = cast(reshape(yTrue, p.shape), acc);
      const w = weightsFor('R2Score', sampleWeight, p.shape);
      const wd = w ? cast(w, acc) : null;
      const d = sub(y, p);
      const yw = wd ? mul(y, wd) : y;
      return [sum(yw, 0), sum(mul(yw, y), 0), sum(wd ? mul(mul(d, d), wd) : mul(d, d), 0), wd ? sum(wd, 0) : full([p.shape[1]], p.shape[0], { device: p.device, dtype: acc })];
    });
  }

  protected compute(s: Float64Array[] | null): number {
    if (!s) return 0;
    const [sy, syy, res, count] = s;
    const scores: number[] = [], totals: number[] = [];
    for (let j = 0; j < sy.length; j++) {
      const total = syy[j] - (sy[j] * sy[j]) / count[j];
      totals.push(total);
      scores.push(r2From(res[j], total));
    }
    let r2: number;
    const totalWeight = totals.reduce((a, b) => a + b, 0);
    if (this.classAggregation === 'variance_weighted' && totalWeight > 0) r2 = scores.reduce((a, v, j) => a + v * totals[j], 0) / totalWeight;
    else r2 = scores.reduce((a, b) => a + b, 0) / scores.length;
    const n = count[0], k = this.numRegressors;
    if (k > 0 && k < n - 1) r2 = 1 - ((1 - r2) * (n - 1)) / (n - k - 1);
    return r2;
  }
}

/** 1 − residual/total with scikit-learn's force_finite (a constant target scores 1 or 0). */
function r2From(residual: number, total: number): number {
  if (residual === 0) return 1;
  if (total === 0) return 0;
  return 1 - residual / total;
}

const NAMED: Record<string, () => Metric> = {
  binary_accuracy: () => new BinaryAccuracy(), binaryAccuracy: () => new BinaryAccuracy(),
  categorical_accuracy: () => new CategoricalAccuracy(), categoricalAccuracy: () => new CategoricalAccuracy(),
  sparse_categorical_accuracy: () => new SparseCategoricalAccuracy(), sparseCategoricalAccuracy: () => new SparseCategoricalAccuracy(),
  top_k_categorical_accuracy: () => new TopKCategoricalAccuracy(), topKCategoricalAccuracy: () => new TopKCategoricalAccuracy(),
  sparse_top_k_categorical_accuracy: () => new SparseTopKCategoricalAccuracy(), sparseTopKCategoricalAccuracy: () => new SparseTopKCategoricalAccuracy(),
  mse: () => new MeanSquaredError(), mean_squared_error: () => new MeanSquaredError('mean_squared_error'), meanSquaredError: () => new MeanSquaredError(),
  mae: () => new MeanAbsoluteError(), mean_absolute_error: () => new MeanAbsoluteError('mean_absolute_error'), meanAbsoluteError: () => new MeanAbsoluteError(),
  precision: () => new Precision(), recall: () => new Recall(), auc: () => new AUC(),
  f1_score: () => new F1Score(), f1Score: () => new F1Score(),
  r2_score: () => new R2Score(), r2Score: () => new R2Score(),
};

/**
 * A metric object from a Keras name, an object or a function. 'accuracy' follows the loss as in
 * Keras: sparse categorical for sparse_categorical_crossentropy, and so on.
 */
export function getMetric(spec: string | Metric | MetricFn, lossName?: string): Metric {
  if (spec instanceof Metric) return spec;
  if (typeof spec === 'function') return new FnMetric(spec.name || 'metric', spec);
  if (spec === 'accuracy' || spec === 'acc') {
    const inner = lossName === 'sparse_categorical_crossentropy' ? sparseHits
      : lossName === 'categorical_crossentropy' ? categoricalHits
      : lossName === 'binary_crossentropy' ? binaryHits : autoHits;
    return new FnMetric('accuracy', inner);
  }
  const make = Object.hasOwn(NAMED, spec) ? NAMED[spec] : undefined;
  if (!make) throw new Error(`metrics: unknown metric '${spec}', expected accuracy, acc, ${Object.keys(NAMED).join(', ')} or a function`);
  return make();
}

// ---- host-side (scikit-learn) ----

/** Values for the host functions: a Tensor (read synchronously), a flat array, or rows. */
export type HostValues = Tensor | ArrayLike<number> | readonly ArrayLike<number>[];

interface Host { data: Float64Array; shape: number[] }

function toHost(op: string, what: string, v: HostValues): Host {
  if (v instanceof Tensor) return { data: Float64Array.from(v.dataSync()), shape: [...v.shape] };
  const n = v.length;
  if (n > 0 && typeof v[0] === 'object' && v[0] !== null) {
    const rows = v as readonly ArrayLike<number>[];
    const c = rows[0].length;
    const data = new Float64Array(n * c);
    rows.forEach((r, i) => {
      if (r.length !== c) throw new Error(`${op}: ${what} row ${i} has ${r.length} values but row 0 has ${c}`);
      for (let j = 0; j < c; j++) {
        if (typeof r[j] !== 'number') throw new Error(`${op}: ${what}[${i}][${j}] is not a number (at most two dimensions)`);
        data[i * c + j] = r[j];
      }
    });
    return { data, shape: [n, c] };
  }
  return { data: Float64Array.from(v as ArrayLike<number>, Number), shape: [n] };
}

/** Class labels as a flat array ([N] or [N, 1]). */
function toLabels(op: string, what: string, v: HostValues): Float64Array {
  const h = toHost(op, what, v);
  if (h.shape.length > 2 || (h.shape.length === 2 && h.shape[1] !== 1)) {
    throw new Error(`${op}: ${what} must be 1-D class labels, got shape ${fmtShape(h.shape)} (take the argmax of scores or one-hot rows first)`);
  }
  for (let i = 0; i < h.data.length; i++) if (!Number.isFinite(h.data[i])) throw new Error(`${op}: ${what}[${i}] is ${h.data[i]}, not a class label`);
  return h.data;
}

function pairOfLabels(op: string, yTrue: HostValues, yPred: HostValues): [Float64Array, Float64Array] {
  const t = toLabels(op, 'yTrue', yTrue), p = toLabels(op, 'yPred', yPred);
  if (t.length !== p.length) throw new Error(`${op}: ${t.length} labels but ${p.length} predictions`);
  return [t, p];
}

const sortedUnique = (...arrays: ArrayLike<number>[]): number[] =>
  [...new Set(arrays.flatMap((a) => Array.from(a)))].sort((a, b) => a - b);

/** Which labels to score: given ones, 0..numClasses−1, or every label seen (sorted, as scikit-learn). */
function resolveLabels(op: string, t: Float64Array, p: Float64Array, opts: { labels?: readonly number[]; numClasses?: number }): number[] {
  if (opts.labels) {
    if (new Set(opts.labels).size !== opts.labels.length) throw new Error(`${op}: labels [${opts.labels.join(', ')}] repeat a value`);
    return [...opts.labels];
  }
  if (opts.numClasses !== undefined) {
    const n = opts.numClasses;
    for (const [what, a] of [['yTrue', t], ['yPred', p]] as const) {
      for (let i = 0; i < a.length; i++) {
        if (!Number.isInteger(a[i]) || a[i] < 0 || a[i] >= n) throw new Error(`${op}: ${what}[${i}] = ${a[i]} is not a class in 0..${n - 1}`);
      }
    }
    return Array.from({ length: n }, (_, i) => i);
  }
  return sortedUnique(t, p);
}

/**
 * Which labels a scikit-learn-style metric reports, and in what order (default: every label seen,
 * sorted).
 */
export interface LabelOptions {
  /** The labels to report, in this order (scikit-learn's `labels`); others are ignored. */
  labels?: readonly number[];
  /** Shorthand for labels 0..numClasses−1 (then every label must be one of them). */
  numClasses?: number;
}

/**
 * counts[i][j]: samples of true label labels[i] predicted as labels[j] (scikit-learn's
 * confusion_matrix). Labels default to every label seen, sorted, so with classes 0..K−1 all present
 * row i is class i; pass numClasses (or { numClasses }) to fix that layout.
 * @example confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]) // [[2,0,0],[0,0,1],[1,0,2]]
 */
export function confusionMatrix(yTrue: HostValues, yPred: HostValues, opts: number | LabelOptions = {}): number[][] {
  const o = typeof opts === 'number' ? { numClasses: opts } : opts;
  const [t, p] = pairOfLabels('confusionMatrix', yTrue, yPred);
  const labels = resolveLabels('confusionMatrix', t, p, o);
  const at = new Map(labels.map((l, i) => [l, i]));
  const m = labels.map(() => new Array<number>(labels.length).fill(0));
  for (let i = 0; i < t.length; i++) {
    const a = at.get(t[i]), b = at.get(p[i]);
    if (a !== undefined && b !== undefined) m[a][b]++;
  }
  return m;
}

interface Counts { labels: number[]; tp: number[]; pred: number[]; true: number[] }

function countLabels(t: Float64Array, p: Float64Array, labels: number[]): Counts {
  const at = new Map(labels.map((l, i) => [l, i]));
  const c: Counts = { labels, tp: labels.map(() => 0), pred: labels.map(() => 0), true: labels.map(() => 0) };
  for (let i = 0; i < t.length; i++) {
    const a = at.get(t[i]), b = at.get(p[i]);
    if (a !== undefined) c.true[a]++;
    if (b !== undefined) c.pred[b]++;
    if (a !== undefined && a === b) c.tp[a]++;
  }
  return c;
}

/**
 * How scikit-learn-style scores combine per-label values: 'binary' (the positive class only),
 * 'micro' (from the total counts), 'macro' (the unweighted mean over labels), 'weighted' (the mean
 * weighted by support), or null (one value per label).
 */
export type Average = 'binary' | 'micro' | 'macro' | 'weighted' | null;

/**
 * Options of the scikit-learn-style precision, recall and F1 functions: the labels, the averaging,
 * the positive class and the zero-division value.
 */
export interface ScoreOptions extends LabelOptions {
  /** 'binary' (default: the posLabel class only), 'micro', 'macro', 'weighted' or null (per label). */
  average?: Average;
  /** The positive class for average 'binary' (default 1). */
  posLabel?: number;
  /** Value of a ratio whose denominator is 0: 0 (default, scikit-learn's 'warn'), 1 or NaN (left out of averages). */
  zeroDivision?: number;
}

interface PRFArrays { precision: number[]; recall: number[]; f1: number[]; support: number[] }

/** Per-label precision, recall and F1 (the labels already chosen), scikit-learn's definitions. */
function prfPerLabel(c: Counts, zd: number): PRFArrays {
  const div = (a: number, b: number) => (b === 0 ? zd : a / b);
  return {
    precision: c.tp.map((tp, i) => div(tp, c.pred[i])),
    recall: c.tp.map((tp, i) => div(tp, c.true[i])),
    f1: c.tp.map((tp, i) => div(2 * tp, c.pred[i] + c.true[i])),
    support: [...c.true],
  };
}

/** np.average ignoring NaN entries (scikit-learn's _nanaverage); equal weights when all are zero. */
function nanAverage(v: number[], w?: number[]): number {
  const keep = v.map((x, i) => i).filter((i) => !Number.isNaN(v[i]));
  if (keep.length === 0) return NaN;
  const ws = keep.map((i) => (w ? w[i] : 1));
  const total = ws.reduce((a, b) => a + b, 0);
  if (total === 0) return keep.reduce((a, i) => a + v[i], 0) / keep.length;
  return keep.reduce((a, i, k) => a + v[i] * ws[k], 0) / total;
}

type Averaged = { precision: number; recall: number; f1: number; support: number };

/** The core of precision_recall_fscore_support: labels, counts, then the average asked for. */
function prfCompute(op: string, yTrue: HostValues, yPred: HostValues, opts: ScoreOptions, average: Average): PRFArrays | Averaged {
  const [t, p] = pairOfLabels(op, yTrue, yPred);
  const zd = opts.zeroDivision ?? 0;
  let labels: number[];
  if (average === 'binary') {
    const present = sortedUnique(t, p);
    const pos = opts.posLabel ?? 1;
    if (present.length > 2) {
      throw new Error(`${op}: the labels are multiclass (${present.join(', ')}) but average is 'binary'; choose average null, 'micro', 'macro' or 'weighted'`);
    }
    if (!present.includes(pos) && present.length === 2) throw new Error(`${op}: posLabel ${pos} is not a valid label; it should be one of ${present.join(', ')}`);
    labels = [pos];
  } else {
    labels = resolveLabels(op, t, p, opts);
  }
  const c = countLabels(t, p, labels);
  const total = c.true.reduce((a, b) => a + b, 0);
  if (average === 'micro') {
    const tp = c.tp.reduce((a, b) => a + b, 0), pr = c.pred.reduce((a, b) => a + b, 0);
    const div = (a: number, b: number) => (b === 0 ? zd : a / b);
    return { precision: div(tp, pr), recall: div(tp, total), f1: div(2 * tp, pr + total), support: total };
  }
  const per = prfPerLabel(c, zd);
  if (average === null) return per;
  if (average === 'weighted' && total === 0) {
    // scikit-learn: no true samples among the labels, so every weight is 0.
    const nothingPredicted = c.pred.every((x) => x === 0);
    return nothingPredicted ? { precision: zd, recall: zd, f1: zd, support: 0 } : { precision: 0, recall: zd, f1: 0, support: 0 };
  }
  const w = average === 'weighted' ? per.support : undefined;
  return { precision: nanAverage(per.precision, w), recall: nanAverage(per.recall, w), f1: nanAverage(per.f1, w), support: total };
}

function scoreOf(op: string, key: 'precision' | 'recall' | 'f1', yTrue: HostValues, yPred: HostValues, opts: ScoreOptions): number | number[] {
  const average = opts.average === undefined ? 'binary' : opts.average;
  const r = prfCompute(op, yTrue, yPred, opts, average);
  return Array.isArray(r[key]) ? (r as PRFArrays)[key] : (r as Averaged)[key];
}

/**
 * scikit-learn's precision_score: tp / (tp + fp). average 'binary' (default) scores class
 * posLabel (1); null gives one value per label.
 * @example precisionScore([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], { average: 'macro' }) // 0.2222
 */
export function precisionScore(yTrue: HostValues, yPred: HostValues, opts?: ScoreOptions & { average?: Exclude<Average, null> }): number;
export function precisionScore(yTrue: HostValues, yPred: HostValues, opts: ScoreOptions & { average: null }): number[];
export function precisionScore(yTrue: HostValues, yPred: HostValues, opts: ScoreOptions = {}): number | number[] {
  return scoreOf('precisionScore', 'precision', yTrue, yPred, opts);
}

/** scikit-learn's recall_score: tp / (tp + fn); averages as precisionScore. */
export function recallScore(yTrue: HostValues, yPred: HostValues, opts?: ScoreOptions & { average?: Exclude<Average, null> }): number;
export function recallScore(yTrue: HostValues, yPred: HostValues, opts: ScoreOptions & { average: null }): number[];
export function recallScore(yTrue: HostValues, yPred: HostValues, opts: ScoreOptions = {}): number | number[] {
  return scoreOf('recallScore', 'recall', yTrue, yPred, opts);
}

/**
 * scikit-learn's f1_score: 2·tp / (2·tp + fp + fn) per label, averaged as precisionScore.
 * @example f1Score([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], { average: null }) // [0.8, 0, 0]
 */
export function f1Score(yTrue: HostValues, yPred: HostValues, opts?: ScoreOptions & { average?: Exclude<Average, null> }): number;
export function f1Score(yTrue: HostValues, yPred: HostValues, opts: ScoreOptions & { average: null }): number[];
export function f1Score(yTrue: HostValues, yPred: HostValues, opts: ScoreOptions = {}): number | number[] {
  return scoreOf('f1Score', 'f1', yTrue, yPred, opts);
}

/** scikit-learn's accuracy_score: the fraction (or with normalize false, the count) of exact matches. */
export function accuracyScore(yTrue: HostValues, yPred: HostValues, opts: { normalize?: boolean } = {}): number {
  const [t, p] = pairOfLabels('accuracyScore', yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < t.length; i++) if (t[i] === p[i]) hits++;
  return opts.normalize === false ? hits : t.length ? hits / t.length : 0;
}

/**
 * Precision, recall and F1 of one label (or their average), and its support: the number of true
 * samples of that label (the total for averages).
 */
export interface PRF { precision: number; recall: number; f1: number; support: number }

/**
 * Precision, recall, F1 and support (scikit-learn's precision_recall_fscore_support, zero_division
 * 0 unless given): per label ('none' or null, in label order), or averaged 'macro' (the default
 * here), 'micro', 'weighted' (by support) or 'binary'. Averages report the total support.
 */
export function precisionRecallF1(
  yTrue: HostValues, yPred: HostValues,
  opts: Omit<ScoreOptions, 'average'> & { average?: Average | 'none' } = {},
): PRF | PRF[] {
  const average = opts.average === undefined ? 'macro' : opts.average === 'none' ? null : opts.average;
  const r = prfCompute('precisionRecallF1', yTrue, yPred, { ...opts, average }, average);
  if (!Array.isArray(r.precision)) return r as Averaged;
  const per = r as PRFArrays;
  return per.precision.map((precision, i) => ({ precision, recall: per.recall[i], f1: per.f1[i], support: per.support[i] }));
}

/** Python's '{:.Nf}' (round half to even on the exact binary value), not JS toFixed (half up). */
function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const s = x.toFixed(digits);
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 30));
  const tail = exact.slice(exact.indexOf('.') + 1 + digits);
  if (!/^50*$/.test(tail)) return s;
  // An exact tie: toFixed rounded away from zero; keep it only when that made the last digit even.
  const lastDigit = Number(s[s.length - 1]);
  if (lastDigit % 2 === 0) return s;
  const step = 10 ** -digits;
  return (x > 0 ? Math.abs(x) - step / 2 : -(Math.abs(x) - step / 2)).toFixed(digits);
}

/**
 * A text report laid out exactly like scikit-learn's classification_report: precision, recall,
 * f1-score and support per label, then accuracy (or micro avg when some labels are left out),
 * macro avg and weighted avg. targetNames name the labels (when given without labels/numClasses,
 * the labels are 0..targetNames.length−1).
 */
export function classificationReport(
  yTrue: HostValues, yPred: HostValues,
  opts: LabelOptions & { targetNames?: readonly string[]; digits?: number; zeroDivision?: number } = {},
): string {
  const op = 'classificationReport';
  const digits = opts.digits ?? 2;
  const [t, p] = pairOfLabels(op, yTrue, yPred);
  const labelsGiven = opts.labels !== undefined || opts.numClasses !== undefined;
  const lo: LabelOptions = labelsGiven ? opts : opts.targetNames ? { numClasses: opts.targetNames.length } : {};
  const labels = resolveLabels(op, t, p, lo);
  const names = opts.targetNames ? [...opts.targetNames] : labels.map(String);
  if (names.length !== labels.length) throw new Error(`${op}: ${labels.length} labels but ${names.length} target names`);
  const so: ScoreOptions = { labels, zeroDivision: opts.zeroDivision };
  const per = precisionRecallF1(t, p, { ...so, average: null }) as PRF[];
  // micro avg equals accuracy when every label seen is reported.
  const seen = sortedUnique(t, p);
  const microIsAccuracy = !labelsGiven || seen.every((l) => labels.includes(l));
  const width = Math.max(...names.map((n) => n.length), 'weighted avg'.length, digits);
  const num = (v: number) => ' ' + pyFixed(v, digits).padStart(9);
  const txt = (v: string) => ' ' + v.padStart(9);
  const row = (name: string, x: PRF) => name.padStart(width) + ' ' + num(x.precision) + num(x.recall) + num(x.f1) + txt(String(x.support)) + '\n';
  let report = ' '.repeat(width) + ' ' + ['precision', 'recall', 'f1-score', 'support'].map(txt).join('') + '\n\n';
  for (let i = 0; i < per.length; i++) report += row(names[i], per[i]);
  report += '\n';
  const total = per.reduce((s, x) => s + x.support, 0);
  for (const average of ['micro', 'macro', 'weighted'] as const) {
    const a = precisionRecallF1(t, p, { ...so, average }) as PRF;
    if (average === 'micro' && microIsAccuracy) {
      report += 'accuracy'.padStart(width) + ' ' + txt('') + txt('') + num(a.f1) + txt(String(total)) + '\n';
    } else {
      report += row(`${average} avg`, { ...a, support: total });
    }
  }
  return report;
}

/** Sum over samples of 1 when the label is in the top k of its score row. */
function topKHost(op: string, yTrue: HostValues, yScore: HostValues, k: number, ties: 'inTopK' | 'sklearn', labels?: readonly number[]): number {
  const t = toLabels(op, 'yTrue', yTrue);
  const s = toHost(op, 'yScore', yScore);
  if (s.shape.length !== 2 || s.shape[0] !== t.length) throw new Error(`${op}: scores ${fmtShape(s.shape)} do not fit ${t.length} labels; expected [${t.length}, classes]`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`${op}: k must be a positive integer, got ${k}`);
  const c = s.shape[1];
  const classes = labels ? [...labels] : Array.from({ length: c }, (_, i) => i);
  if (classes.length !== c) throw new Error(`${op}: ${classes.length} labels but scores have ${c} columns`);
  const col = new Map(classes.map((l, i) => [l, i]));
  let hits = 0;
  for (let i = 0; i < t.length; i++) {
    const j = col.get(t[i]);
    if (j === undefined) throw new Error(`${op}: label ${t[i]} at position ${i} is not one of the ${c} score columns`);
    const own = s.data[i * c + j];
    let above = 0;
    for (let q = 0; q < c; q++) {
      const v = s.data[i * c + q];
      // scikit-learn ranks by a stable argsort: among equal scores the higher column ranks first.
      if (v > own || (ties === 'sklearn' && v === own && q > j)) above++;
    }
    if (above < k) hits++;
  }
  return hits;
}

/**
 * scikit-learn's top_k_accuracy_score (k = 2 by default; ties broken as its stable argsort does:
 * the higher column wins). Scores are [N, C] with column j for label j (or for labels[j]).
 * @example topKAccuracyScore([0, 1, 2, 2], [[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3], [0.7, 0.2, 0.1]], { k: 2 }) // 0.75
 */
export function topKAccuracyScore(yTrue: HostValues, yScore: HostValues, opts: { k?: number; normalize?: boolean; labels?: readonly number[] } = {}): number {
  const hits = topKHost('topKAccuracyScore', yTrue, yScore, opts.k ?? 2, 'sklearn', opts.labels);
  const n = toLabels('topKAccuracyScore', 'yTrue', yTrue).length;
  return opts.normalize === false ? hits : n ? hits / n : 0;
}

/** AUC of one binary problem by the Mann–Whitney U statistic: ties between a positive and a negative count ½. */
function binaryAuc(op: string, positive: ArrayLike<boolean>, scores: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0, nPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // 1-based average rank of the tie group
    for (let q = i; q <= j; q++) if (positive[order[q]]) { rankSumPos += avgRank; nPos++; }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) throw new Error(`${op}: only one class present in yTrue; ROC AUC is not defined in that case`);
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * scikit-learn's roc_auc_score. Binary: yScore [N] (or [N, 1], or [N, 2] whose column 1 is used)
 * scores the greater of the two labels. Multi-class: yScore [N, C] (probabilities, column j for
 * the j-th sorted label or labels[j]) gives one-vs-rest AUCs averaged 'macro' (default) or
 * 'weighted' by prevalence (scikit-learn needs multi_class='ovr' said; here it is the default).
 * Tied scores count ½ (the trapezoidal ROC area).
 * @example rocAucScore([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) // 0.75
 */
export function rocAucScore(yTrue: HostValues, yScore: HostValues, opts: { average?: 'macro' | 'weighted'; multiClass?: 'ovr'; labels?: readonly number[] } = {}): number {
  const op = 'rocAucScore';
  if (opts.multiClass !== undefined && opts.multiClass !== 'ovr') throw new Error(`${op}: multiClass must be 'ovr', got '${String(opts.multiClass)}'`);
  const t = toLabels(op, 'yTrue', yTrue);
  const s = toHost(op, 'yScore', yScore);
  if (s.shape[0] !== t.length) throw new Error(`${op}: ${t.length} labels but ${s.shape[0]} score rows`);
  const cols = s.shape.length === 1 ? 1 : s.shape[1];
  if (s.shape.length > 2) throw new Error(`${op}: yScore must be [N] or [N, classes], got ${fmtShape(s.shape)}`);
  const present = sortedUnique(t);
  if (cols <= 2 && !opts.labels && present.length <= 2) {
    const score = cols === 1 ? s.data : Float64Array.from({ length: t.length }, (_, i) => s.data[i * 2 + 1]);
    const pos = present[present.length - 1];
    return binaryAuc(op, Array.from(t, (v) => v === pos && present.length === 2), score);
  }
  const classes = opts.labels ? [...opts.labels] : present;
  if (classes.length !== cols) throw new Error(`${op}: yTrue has ${classes.length} classes but yScore has ${cols} columns`);
  const aucs: number[] = [], weights: number[] = [];
  for (let j = 0; j < cols; j++) {
    const positive = Array.from(t, (v) => v === classes[j]);
    aucs.push(binaryAuc(`${op} (class ${classes[j]} vs rest)`, positive, Float64Array.from({ length: t.length }, (_, i) => s.data[i * cols + j])));
    weights.push(positive.filter(Boolean).length);
  }
  const w = opts.average === 'weighted' ? weights : aucs.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  return aucs.reduce((a, v, j) => a + v * w[j], 0) / total;
}

/** 'uniform_average' (default), 'raw_values' (one per output), 'variance_weighted' (r2Score only) or weights. */
export type MultiOutput = 'uniform_average' | 'raw_values' | 'variance_weighted' | readonly number[];

function regressionPair(op: string, yTrue: HostValues, yPred: HostValues): { t: Host; p: Host; n: number; outputs: number } {
  const t = toHost(op, 'yTrue', yTrue), p = toHost(op, 'yPred', yPred);
  const norm = (h: Host) => (h.shape.length === 1 ? [h.shape[0], 1] : h.shape);
  const ts = norm(t), ps = norm(p);
  if (ts.length !== 2 || ps.length !== 2 || ts[0] !== ps[0] || ts[1] !== ps[1]) {
    throw new Error(`${op}: yTrue ${fmtShape(t.shape)} and yPred ${fmtShape(p.shape)} must have the same [samples] or [samples, outputs] shape`);
  }
  return { t, p, n: ts[0], outputs: ts[1] };
}

function combineOutputs(op: string, values: number[], multioutput: MultiOutput | undefined, varianceWeights?: number[]): number | number[] {
  const m = multioutput ?? 'uniform_average';
  if (m === 'raw_values') return values;
  let w: readonly number[] | undefined;
  if (typeof m !== 'string') {
    if (m.length !== values.length) throw new Error(`${op}: ${m.length} multioutput weights for ${values.length} outputs`);
    w = m;
  } else if (m === 'variance_weighted') {
    if (!varianceWeights) throw new Error(`${op}: multioutput 'variance_weighted' is only defined for r2Score`);
    if (varianceWeights.some((x) => x !== 0)) w = varianceWeights;
  } else if (m !== 'uniform_average') {
    throw new Error(`${op}: unknown multioutput '${m}'`);
  }
  const ws = w ?? values.map(() => 1);
  const total = ws.reduce((a, b) => a + b, 0);
  return values.reduce((a, v, j) => a + v * ws[j], 0) / total;
}

function regressionError(op: string, yTrue: HostValues, yPred: HostValues, f: (d: number) => number, multioutput?: MultiOutput): number | number[] {
  const { t, p, n, outputs } = regressionPair(op, yTrue, yPred);
  const per = new Array<number>(outputs).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < outputs; j++) per[j] += f(t.data[i * outputs + j] - p.data[i * outputs + j]);
  return combineOutputs(op, per.map((v) => v / n), multioutput);
}

/**
 * scikit-learn's r2_score: 1 − Σ(y − ŷ)² / Σ(y − ȳ)² per output, then averaged per `multioutput`.
 * With forceFinite (default) a constant target scores 1 when predicted exactly, else 0; NaN for
 * fewer than two samples.
 * @example r2Score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) // 0.9486
 */
export function r2Score(yTrue: HostValues, yPred: HostValues, opts?: { multioutput?: Exclude<MultiOutput, 'raw_values'>; forceFinite?: boolean }): number;
export function r2Score(yTrue: HostValues, yPred: HostValues, opts: { multioutput: 'raw_values'; forceFinite?: boolean }): number[];
export function r2Score(yTrue: HostValues, yPred: HostValues, opts: { multioutput?: MultiOutput; forceFinite?: boolean } = {}): number | number[] {
  const op = 'r2Score';
  const { t, p, n, outputs } = regressionPair(op, yTrue, yPred);
  if (n < 2) return opts.multioutput === 'raw_values' ? new Array<number>(outputs).fill(NaN) : NaN;
  const scores: number[] = [], totals: number[] = [];
  for (let j = 0; j < outputs; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += t.data[i * outputs + j];
    m /= n;
    let res = 0, tot = 0;
    for (let i = 0; i < n; i++) {
      const y = t.data[i * outputs + j];
      res += (y - p.data[i * outputs + j]) ** 2;
      tot += (y - m) ** 2;
    }
    totals.push(tot);
    scores.push(opts.forceFinite === false ? 1 - res / tot : r2From(res, tot));
  }
  return combineOutputs(op, scores, opts.multioutput, totals);
}

// Corpus and sentence BLEU (sacreBLEU's defaults) live with the text tools; re-exported here with the other metrics.
export { corpusBleu, sentenceBleu, type BleuScore } from '../text/bleu.js';
