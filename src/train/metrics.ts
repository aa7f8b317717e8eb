// Metrics: plain functions on tensors, Keras-style stateful metric objects that accumulate on the
// backend (read once per logging step), and host-side reports (confusion matrix, precision/recall/F1).

import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { abs, cast } from '../ops/unary.js';
import { add, equal, greater, mul, sub } from '../ops/binary.js';
import { argmax, mean, sum } from '../ops/reduce.js';
import { reshape, squeeze, unsqueeze } from '../ops/movement.js';
import { fmtShape } from '../tensor/shape.js';
import { isFloat } from '../tensor/dtype.js';
import { detach } from '../autograd/tape.js';

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

function sparseHits(yTrue: Tensor, yPred: Tensor): Tensor {
  let y = yTrue;
  if (y.ndim === yPred.ndim && y.shape[y.ndim - 1] === 1) y = squeeze(y, -1);
  if (y.ndim !== yPred.ndim - 1 || y.shape.some((d, i) => d !== yPred.shape[i])) mismatch('sparseCategoricalAccuracy', yTrue, yPred);
  return cast(equal(argmax(yPred, -1), cast(y, 'int32')), 'float32');
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

function topKHits(yTrue: Tensor, yPred: Tensor, k: number): Tensor {
  // The label's score is among the top k when fewer than k classes score strictly higher.
  const labels = !isFloat(yTrue.dtype) ? (yTrue.ndim === yPred.ndim ? squeeze(yTrue, -1) : yTrue) : argmax(yTrue, -1);
  if (labels.ndim !== yPred.ndim - 1) mismatch('topKAccuracy', yTrue, yPred);
  const idx = unsqueeze(cast(labels, 'int32'), -1);
  const own = yPred.gather(-1, idx);
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
export const binaryAccuracy = (t: Tensor, p: Tensor, threshold = 0.5): Tensor => mean(binaryHits(t, p, threshold));
export const categoricalAccuracy: MetricFn = (t, p) => mean(categoricalHits(t, p));
export const sparseCategoricalAccuracy: MetricFn = (t, p) => mean(sparseHits(t, p));
export const topKAccuracy = (t: Tensor, p: Tensor, k = 5): Tensor => mean(topKHits(t, p, k));
export const meanSquaredError: MetricFn = (t, p) => mean(sqErr(t, p));
export const meanAbsoluteError: MetricFn = (t, p) => mean(absErr(t, p));

/** A Keras metric: updateState per batch, result() when logging, resetState() per epoch. */
export abstract class Metric {
  private total: Tensor | null = null;
  private count = 0;
  constructor(readonly name: string) {}

  /** Per-sample values to average. */
  protected abstract values(yTrue: Tensor, yPred: Tensor): Tensor;

  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => {
      const next = scope(() => {
        let v = reshape(this.values(yTrue, yPred), [-1]);
        let w = v.shape[0];
        if (sampleWeight) {
          const sw = cast(reshape(sampleWeight, [-1]), 'float32');
          v = mul(v, sw);
          w = sum(sw).itemSync();
        }
        const s = sum(cast(v, 'float32'));
        this.count += w;
        return this.total ? add(this.total, s) : detach(s);
      });
      this.total?.dispose();
      this.total = next.keep();
    });
  }

  async result(): Promise<number> {
    return this.total && this.count ? (await this.total.item()) / this.count : 0;
  }

  resultSync(): number {
    return this.total && this.count ? this.total.itemSync() / this.count : 0;
  }

  resetState(): void {
    this.total?.dispose();
    this.total = null;
    this.count = 0;
  }
}

/** Mean of the values given to updateState(values, weights?) (e.g. a loss per sample). */
export class Mean extends Metric {
  constructor(name = 'mean') { super(name); }
  protected values(values: Tensor): Tensor { return values; }
  override updateState(values: Tensor, weights?: Tensor): void {
    super.updateState(values, values, weights);
  }
}

class FnMetric extends Metric {
  constructor(name: string, private readonly fn: (t: Tensor, p: Tensor) => Tensor) { super(name); }
  protected values(t: Tensor, p: Tensor): Tensor { return this.fn(t, p); }
}

export class Accuracy extends FnMetric { constructor(name = 'accuracy') { super(name, autoHits); } }
export class BinaryAccuracy extends FnMetric {
  constructor(name = 'binary_accuracy', threshold = 0.5) { super(name, (t, p) => binaryHits(t, p, threshold)); }
}
export class CategoricalAccuracy extends FnMetric { constructor(name = 'categorical_accuracy') { super(name, categoricalHits); } }
export class SparseCategoricalAccuracy extends FnMetric { constructor(name = 'sparse_categorical_accuracy') { super(name, sparseHits); } }
export class TopKCategoricalAccuracy extends FnMetric {
  constructor(k = 5, name = 'top_k_categorical_accuracy') { super(name, (t, p) => topKHits(t, p, k)); }
}
export class MeanSquaredError extends FnMetric { constructor(name = 'mse') { super(name, sqErr); } }
export class MeanAbsoluteError extends FnMetric { constructor(name = 'mae') { super(name, absErr); } }

const NAMED: Record<string, () => Metric> = {
  binary_accuracy: () => new BinaryAccuracy(), binaryAccuracy: () => new BinaryAccuracy(),
  categorical_accuracy: () => new CategoricalAccuracy(), categoricalAccuracy: () => new CategoricalAccuracy(),
  sparse_categorical_accuracy: () => new SparseCategoricalAccuracy(), sparseCategoricalAccuracy: () => new SparseCategoricalAccuracy(),
  top_k_categorical_accuracy: () => new TopKCategoricalAccuracy(), topKCategoricalAccuracy: () => new TopKCategoricalAccuracy(),
  mse: () => new MeanSquaredError(), mean_squared_error: () => new MeanSquaredError('mean_squared_error'), meanSquaredError: () => new MeanSquaredError(),
  mae: () => new MeanAbsoluteError(), mean_absolute_error: () => new MeanAbsoluteError('mean_absolute_error'), meanAbsoluteError: () => new MeanAbsoluteError(),
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
  const make = NAMED[spec];
  if (!make) throw new Error(`metrics: unknown metric '${spec}', expected accuracy, acc, ${Object.keys(NAMED).join(', ')} or a function`);
  return make();
}

// ---- host-side reports ----

/** counts[true][predicted] (scikit-learn's confusion_matrix layout). */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses?: number): number[][] {
  if (yTrue.length !== yPred.length) throw new Error(`confusionMatrix: ${yTrue.length} labels but ${yPred.length} predictions`);
  let n = numClasses ?? 0;
  if (numClasses === undefined) for (let i = 0; i < yTrue.length; i++) n = Math.max(n, yTrue[i] + 1, yPred[i] + 1);
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

export interface PRF { precision: number; recall: number; f1: number; support: number }

/**
 * Precision, recall and F1 as scikit-learn defines them (zero_division = 0): per class ('none'),
 * or averaged 'macro', 'micro' or 'weighted' (by support).
 */
export function precisionRecallF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, opts: { average?: 'macro' | 'micro' | 'weighted' | 'none'; numClasses?: number } = {}): PRF | PRF[] {
  const m = confusionMatrix(yTrue, yPred, opts.numClasses);
  const n = m.length;
  const per: PRF[] = [];
  let tpAll = 0, predAll = 0, trueAll = 0;
  for (let c = 0; c < n; c++) {
    const tp = m[c][c];
    const predicted = m.reduce((s, row) => s + row[c], 0);
    const support = m[c].reduce((s, v) => s + v, 0);
    const precision = predicted ? tp / predicted : 0, recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    per.push({ precision, recall, f1, support });
    tpAll += tp; predAll += predicted; trueAll += support;
  }
  const average = opts.average ?? 'macro';
  if (average === 'none') return per;
  if (average === 'micro') {
    const p = predAll ? tpAll / predAll : 0, r = trueAll ? tpAll / trueAll : 0;
    return { precision: p, recall: r, f1: p + r ? (2 * p * r) / (p + r) : 0, support: trueAll };
  }
  const total = per.reduce((s, x) => s + x.support, 0);
  const w = (x: PRF) => (average === 'weighted' ? (total ? x.support / total : 0) : 1 / Math.max(1, n));
  return {
    precision: per.reduce((s, x) => s + w(x) * x.precision, 0),
    recall: per.reduce((s, x) => s + w(x) * x.recall, 0),
    f1: per.reduce((s, x) => s + w(x) * x.f1, 0),
    support: total,
  };
}

/** A text report laid out like scikit-learn's classification_report. */
export function classificationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, opts: { targetNames?: string[]; digits?: number; numClasses?: number } = {}): string {
  const digits = opts.digits ?? 4;
  const per = precisionRecallF1(yTrue, yPred, { average: 'none', numClasses: opts.numClasses }) as PRF[];
  const names = opts.targetNames ?? per.map((_, i) => String(i));
  const macro = precisionRecallF1(yTrue, yPred, { average: 'macro', numClasses: opts.numClasses }) as PRF;
  const weighted = precisionRecallF1(yTrue, yPred, { average: 'weighted', numClasses: opts.numClasses }) as PRF;
  const total = per.reduce((s, x) => s + x.support, 0);
  const correct = per.reduce((s, x) => s + x.recall * x.support, 0);
  const width = Math.max('weighted avg'.length, ...names.map((n) => n.length), digits);
  const col = (v: string) => v.padStart(Math.max(9, digits + 2));
  const f = (v: number) => col(v.toFixed(digits));
  const head = ' '.repeat(width) + ['precision', 'recall', 'f1-score', 'support'].map(col).join(' ');
  const row = (name: string, x: PRF) => name.padStart(width) + [f(x.precision), f(x.recall), f(x.f1), col(String(x.support))].join(' ');
  const lines = [head, '', ...per.map((x, i) => row(names[i], x)), ''];
  lines.push('accuracy'.padStart(width) + [col(''), col(''), f(total ? correct / total : 0), col(String(total))].join(' '));
  lines.push(row('macro avg', macro), row('weighted avg', weighted));
  return lines.join('\n');
}

