// Keras metric objects: updateState per batch accumulates sums on the backend (float64 where it has
// it), result() reads them once for the whole epoch so far, resetState() starts the next epoch.
// Mean and the accuracy/error wrappers average per-sample values; Precision, Recall, F1Score, AUC and
// R2Score keep confusion counts or moments. getMetric turns a Keras name into one.

import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { full, tensor } from '../tensor/creation.js';
import { cast } from '../ops/unary.js';
import { add, equal, greater, mul, sub } from '../ops/binary.js';
import { max, sum } from '../ops/reduce.js';
import { expand, reshape, select, unsqueeze } from '../ops/movement.js';
import { oneHot } from '../ops/indexing.js';
import { fmtShape } from '../tensor/shape.js';
import type { DType } from '../tensor/dtype.js';
import { supportsDType } from '../backends/backend.js';
import { type MetricFn, autoHits, binaryHits, categoricalHits, mismatch, sparseHits, sparseLabels, topKHits } from './classification.js';
import { absErr, r2From, sqErr } from './regression.js';

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

  async result(): Promise<number> {
    return this.compute(await this.stateData());
  }
  resultSync(): number {
    return this.compute(this.stateDataSync());
  }

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
    return s?.[1][0] ? s[0][0] / s[1][0] : 0;
  }
}

/** Mean of the values given to updateState(values, weights?) (e.g. a loss per sample). */
export class Mean extends MeanMetricWrapper {
  constructor(name = 'mean') {
    super(name);
  }
  protected values(values: Tensor): Tensor {
    return values;
  }
  override updateState(values: Tensor, weights?: Tensor): void {
    super.updateState(values, values, weights);
  }
}

class FnMetric extends MeanMetricWrapper {
  constructor(
    name: string,
    private readonly fn: (t: Tensor, p: Tensor) => Tensor,
  ) {
    super(name);
  }
  protected values(t: Tensor, p: Tensor): Tensor {
    return this.fn(t, p);
  }
}

/**
 * keras.metrics.Accuracy as fit() reports it: the running fraction correct, the kind (sparse,
 * categorical, binary) read from the shapes and dtypes.
 */
export class Accuracy extends FnMetric {
  constructor(name = 'accuracy') {
    super(name, autoHits);
  }
}
/**
 * keras.metrics.BinaryAccuracy: the running fraction of predictions on the right side of
 * `threshold` (0.5).
 */
export class BinaryAccuracy extends FnMetric {
  constructor(name = 'binary_accuracy', threshold = 0.5) {
    super(name, (t, p) => binaryHits(t, p, threshold));
  }
}
/**
 * keras.metrics.CategoricalAccuracy: the running fraction of samples whose argmax matches that of
 * the one-hot label.
 */
export class CategoricalAccuracy extends FnMetric {
  constructor(name = 'categorical_accuracy') {
    super(name, categoricalHits);
  }
}
/**
 * keras.metrics.SparseCategoricalAccuracy: the running fraction of samples whose argmax equals the
 * integer label.
 */
export class SparseCategoricalAccuracy extends FnMetric {
  constructor(name = 'sparse_categorical_accuracy') {
    super(name, sparseHits);
  }
}
/** keras.metrics.TopKCategoricalAccuracy: one-hot labels (integer labels are accepted too). */
export class TopKCategoricalAccuracy extends FnMetric {
  constructor(k = 5, name = 'top_k_categorical_accuracy') {
    super(name, (t, p) => topKHits(t, p, k));
  }
}
/** keras.metrics.SparseTopKCategoricalAccuracy: integer labels [N] (or [N, 1], any dtype). */
export class SparseTopKCategoricalAccuracy extends FnMetric {
  constructor(k = 5, name = 'sparse_top_k_categorical_accuracy') {
    super(name, (t, p) => topKHits(t, p, k, true));
  }
}
/**
 * keras.metrics.MeanSquaredError: the running mean over samples of each sample's mean squared
 * error.
 */
export class MeanSquaredError extends FnMetric {
  constructor(name = 'mse') {
    super(name, sqErr);
  }
}
/**
 * keras.metrics.MeanAbsoluteError: the running mean over samples of each sample's mean absolute
 * error.
 */
export class MeanAbsoluteError extends FnMetric {
  constructor(name = 'mae') {
    super(name, absErr);
  }
}

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
      throw new Error(
        `${name}: labels ${fmtShape(yTrue.shape)} do not fit predictions ${fmtShape(yPred.shape)}; ` +
          `give labels of the same shape (one-hot for several classes)${name === 'auc' ? '' : ' or a classId'}`,
      );
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
      const pos = w ? mul(y, w) : y,
        neg = w ? mul(sub(1, y), w) : sub(1, y);
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
  constructor(opts: ConfusionOptions = {}) {
    super('precision', opts);
  }
  protected compute(s: Float64Array[] | null): number {
    return s ? divNoNan(s[0][0], s[0][0] + s[1][0]) : 0;
  }
}

/** keras.metrics.Recall: tp / (tp + fn) over the epoch; 0 when there were no positives. */
export class Recall extends ConfusionMetric {
  constructor(opts: ConfusionOptions = {}) {
    super('recall', opts);
  }
  protected compute(s: Float64Array[] | null): number {
    return s ? divNoNan(s[0][0], s[0][0] + s[2][0]) : 0;
  }
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
      if (this.numClasses !== undefined && c !== this.numClasses)
        throw new Error(`F1Score: predictions ${fmtShape(yPred.shape)} have ${c} classes, expected numClasses ${this.numClasses}`);
      const y2 = yTrue.size === yPred.size ? cast(reshape(yTrue, p2.shape), 'float32') : reshape(oneHot(sparseLabels('F1Score', yTrue, yPred), c), p2.shape);
      // Keras: threshold None marks the row maximum (every tied maximum) as predicted.
      const pb = this.threshold === undefined ? cast(equal(p2, max(p2, -1, true)), 'float32') : cast(greater(p2, this.threshold), 'float32');
      const w = weightsFor('F1Score', sampleWeight === undefined ? undefined : reshape(sampleWeight, [-1]), p2.shape);
      const yw = w ? mul(y2, w) : y2;
      const tp = sum(mul(pb, yw), 0),
        fp = sum(mul(pb, sub(w ?? 1, yw)), 0),
        fn = sum(mul(sub(1, pb), yw), 0);
      return [tp, fp, fn, sum(yw, 0)];
    });
  }

  private perClass(s: Float64Array[] | null): number[] {
    if (!s) return [];
    const [tp, fp, fn] = s;
    if (this.average === 'micro') {
      const t = tp.reduce((a, b) => a + b, 0),
        p = fp.reduce((a, b) => a + b, 0),
        n = fn.reduce((a, b) => a + b, 0);
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
    const support = s[3],
      total = support.reduce((a, b) => a + b, 0);
    return divNoNan(
      f.reduce((acc, v, i) => acc + v * support[i], 0),
      total,
    );
  }

  /** One F1 per class (a single entry for average 'micro'; all averages are computed from these). */
  async resultPerClass(): Promise<number[]> {
    return this.perClass(await this.stateData());
  }
  resultPerClassSync(): number[] {
    return this.perClass(this.stateDataSync());
  }

  override async resultLogs(): Promise<Record<string, number>> {
    if (this.average !== null) return super.resultLogs();
    const f = await this.resultPerClass();
    return Object.fromEntries(f.map((v, i) => [`${this.name}_${i}`, v]));
  }
}

/** F1 from counts, as Keras' F1Score: 2PR / (P + R) with P, R and the ratio 0 where undefined. */
function f1From(tp: number, fp: number, fn: number): number {
  const p = divNoNan(tp, tp + fp),
    r = divNoNan(tp, tp + fn);
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
      const pos = w ? mul(y, w) : y,
        neg = w ? mul(sub(1, y), w) : sub(1, y);
      const thr = tensor(this.thresholds, { device: p.device, shape: [1, this.numThresholds] });
      const above = cast(greater(unsqueeze(p, 1), thr), 'float32'); // [M, T]
      return [sum(mul(above, unsqueeze(pos, 1)), 0), sum(mul(above, unsqueeze(neg, 1)), 0), sum(pos), sum(neg)];
    });
  }

  protected compute(s: Float64Array[] | null): number {
    if (!s) return 0;
    const [tp, fp] = s,
      P = s[2][0],
      N = s[3][0],
      n = this.numThresholds;
    let auc = 0;
    for (let i = 0; i < n - 1; i++) {
      const r0 = divNoNan(tp[i], P),
        r1 = divNoNan(tp[i + 1], P);
      const x0 = divNoNan(fp[i], N),
        x1 = divNoNan(fp[i + 1], N);
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
    const scores: number[] = [],
      totals: number[] = [];
    for (let j = 0; j < sy.length; j++) {
      const total = syy[j] - (sy[j] * sy[j]) / count[j];
      totals.push(total);
      scores.push(r2From(res[j], total));
    }
    let r2: number;
    const totalWeight = totals.reduce((a, b) => a + b, 0);
    if (this.classAggregation === 'variance_weighted' && totalWeight > 0) r2 = scores.reduce((a, v, j) => a + v * totals[j], 0) / totalWeight;
    else r2 = scores.reduce((a, b) => a + b, 0) / scores.length;
    const n = count[0],
      k = this.numRegressors;
    if (k > 0 && k < n - 1) r2 = 1 - ((1 - r2) * (n - 1)) / (n - k - 1);
    return r2;
  }
}

const NAMED: Record<string, () => Metric> = {
  binary_accuracy: () => new BinaryAccuracy(),
  binaryAccuracy: () => new BinaryAccuracy(),
  categorical_accuracy: () => new CategoricalAccuracy(),
  categoricalAccuracy: () => new CategoricalAccuracy(),
  sparse_categorical_accuracy: () => new SparseCategoricalAccuracy(),
  sparseCategoricalAccuracy: () => new SparseCategoricalAccuracy(),
  top_k_categorical_accuracy: () => new TopKCategoricalAccuracy(),
  topKCategoricalAccuracy: () => new TopKCategoricalAccuracy(),
  sparse_top_k_categorical_accuracy: () => new SparseTopKCategoricalAccuracy(),
  sparseTopKCategoricalAccuracy: () => new SparseTopKCategoricalAccuracy(),
  mse: () => new MeanSquaredError(),
  mean_squared_error: () => new MeanSquaredError('mean_squared_error'),
  meanSquaredError: () => new MeanSquaredError(),
  mae: () => new MeanAbsoluteError(),
  mean_absolute_error: () => new MeanAbsoluteError('mean_absolute_error'),
  meanAbsoluteError: () => new MeanAbsoluteError(),
  precision: () => new Precision(),
  recall: () => new Recall(),
  auc: () => new AUC(),
  f1_score: () => new F1Score(),
  f1Score: () => new F1Score(),
  r2_score: () => new R2Score(),
  r2Score: () => new R2Score(),
};

/**
 * A metric object from a Keras name, an object or a function. 'accuracy' follows the loss as in
 * Keras: sparse categorical for sparse_categorical_crossentropy, and so on.
 */
export function getMetric(spec: string | Metric | MetricFn, lossName?: string): Metric {
  if (spec instanceof Metric) return spec;
  if (typeof spec === 'function') return new FnMetric(spec.name || 'metric', spec);
  if (spec === 'accuracy' || spec === 'acc') {
    const inner =
      lossName === 'sparse_categorical_crossentropy'
        ? sparseHits
        : lossName === 'categorical_crossentropy'
          ? categoricalHits
          : lossName === 'binary_crossentropy'
            ? binaryHits
            : autoHits;
    return new FnMetric('accuracy', inner);
  }
  const make = Object.hasOwn(NAMED, spec) ? NAMED[spec] : undefined;
  if (!make) throw new Error(`metrics: unknown metric '${spec}', expected accuracy, acc, ${Object.keys(NAMED).join(', ')} or a function`);
  return make();
}
