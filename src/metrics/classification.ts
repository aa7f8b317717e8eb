// Classification metrics: per-sample hits and the accuracy functions on tensors (a scalar tensor,
// computed on the backend), and scikit-learn's confusion matrix, accuracy, top-k accuracy and ROC AUC
// on host arrays (numbers). Precision, recall and F1 are in precision-recall.ts.
//
// Which is which: a name that takes two Tensors returns a Tensor; the same name given arrays (or
// an array and a Tensor) returns a number, with scikit-learn's definition. Names ending in Score
// are host functions only and accept Tensors too (read synchronously).

import { Tensor } from '../tensor/tensor.js';
import { cast } from '../ops/unary.js';
import { equal, greater, sub } from '../ops/binary.js';
import { argmax, mean, sum } from '../ops/reduce.js';
import { reshape, squeeze, unsqueeze } from '../ops/movement.js';
import { fmtShape } from '../tensor/shape.js';
import { isFloat } from '../tensor/dtype.js';
import { type HostValues, type LabelOptions, pairOfLabels, resolveLabels, sortedUnique, toHost, toLabels } from './host-arrays.js';

/** A tensor metric: labels and predictions in, a tensor out (a scalar, or one value per sample). */
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Throws `fn: labels [..] do not fit predictions [..]`. */
export function mismatch(fn: string, yTrue: Tensor, yPred: Tensor): never {
  throw new Error(`${fn}: labels ${fmtShape(yTrue.shape)} do not fit predictions ${fmtShape(yPred.shape)}`);
}

/** Per-sample 0/1 correctness (float32) for a binary threshold on same-shape predictions. */
export function binaryHits(yTrue: Tensor, yPred: Tensor, threshold = 0.5): Tensor {
  if (yTrue.size !== yPred.size) mismatch('binaryAccuracy', yTrue, yPred);
  const p = cast(greater(reshape(yPred, [-1]), threshold), 'float32');
  return cast(equal(p, cast(reshape(yTrue, [-1]), 'float32')), 'float32');
}

/** Integer labels [N, ...] for predictions [N, ..., C] (a trailing 1 is squeezed; floats are truncated). */
export function sparseLabels(fn: string, yTrue: Tensor, yPred: Tensor): Tensor {
  let y = yTrue;
  if (y.ndim === yPred.ndim && y.shape[y.ndim - 1] === 1) y = squeeze(y, -1);
  if (y.ndim !== yPred.ndim - 1 || y.shape.some((d, i) => d !== yPred.shape[i])) mismatch(fn, yTrue, yPred);
  return cast(y, 'int32');
}

/** Per-sample 0/1 (float32): the argmax of yPred [N, C] equals the integer label yTrue [N]. */
export function sparseHits(yTrue: Tensor, yPred: Tensor): Tensor {
  return cast(equal(argmax(yPred, -1), sparseLabels('sparseCategoricalAccuracy', yTrue, yPred)), 'float32');
}

/** Per-sample 0/1 (float32): the argmax of yPred equals the argmax of one-hot yTrue. */
export function categoricalHits(yTrue: Tensor, yPred: Tensor): Tensor {
  if (yTrue.ndim !== yPred.ndim || yTrue.shape.some((d, i) => d !== yPred.shape[i])) mismatch('categoricalAccuracy', yTrue, yPred);
  return cast(equal(argmax(yPred, -1), argmax(yTrue, -1)), 'float32');
}

/** Per-sample 0/1 (float32) with the kind (sparse, categorical, binary) read from shapes and dtypes, as Keras' 'accuracy'. */
export function autoHits(yTrue: Tensor, yPred: Tensor): Tensor {
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
export function topKHits(yTrue: Tensor, yPred: Tensor, k: number, sparse = !isFloat(yTrue.dtype)): Tensor {
  const labels = sparse ? sparseLabels('topKAccuracy', yTrue, yPred) : argmax(yTrue, -1);
  if (labels.ndim !== yPred.ndim - 1) mismatch('topKAccuracy', yTrue, yPred);
  const own = yPred.gather(-1, unsqueeze(labels, -1));
  const higher = sum(cast(greater(yPred, own), 'float32'), -1);
  return cast(greater(sub(k, higher), 0), 'float32');
}

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

// ---- host-side (scikit-learn) ----

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
    const a = at.get(t[i]),
      b = at.get(p[i]);
    if (a !== undefined && b !== undefined) m[a][b]++;
  }
  return m;
}

/** scikit-learn's accuracy_score: the fraction (or with normalize false, the count) of exact matches. */
export function accuracyScore(yTrue: HostValues, yPred: HostValues, opts: { normalize?: boolean } = {}): number {
  const [t, p] = pairOfLabels('accuracyScore', yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < t.length; i++) if (t[i] === p[i]) hits++;
  return opts.normalize === false ? hits : t.length ? hits / t.length : 0;
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
  let rankSumPos = 0,
    nPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // 1-based average rank of the tie group
    for (let q = i; q <= j; q++)
      if (positive[order[q]]) {
        rankSumPos += avgRank;
        nPos++;
      }
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
    return binaryAuc(
      op,
      Array.from(t, (v) => v === pos && present.length === 2),
      score,
    );
  }
  const classes = opts.labels ? [...opts.labels] : present;
  if (classes.length !== cols) throw new Error(`${op}: yTrue has ${classes.length} classes but yScore has ${cols} columns`);
  const aucs: number[] = [],
    weights: number[] = [];
  for (let j = 0; j < cols; j++) {
    const positive = Array.from(t, (v) => v === classes[j]);
    aucs.push(
      binaryAuc(
        `${op} (class ${classes[j]} vs rest)`,
        positive,
        Float64Array.from({ length: t.length }, (_, i) => s.data[i * cols + j]),
      ),
    );
    weights.push(positive.filter(Boolean).length);
  }
  const w = opts.average === 'weighted' ? weights : aucs.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  return aucs.reduce((a, v, j) => a + v * w[j], 0) / total;
}
