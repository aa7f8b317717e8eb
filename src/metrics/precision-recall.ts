// Precision, recall and F1 as scikit-learn computes them on host arrays: per label, or averaged
// ('binary', 'micro', 'macro', 'weighted'), with precision_recall_fscore_support and the text of
// classification_report laid out exactly as scikit-learn prints it.

import { type HostValues, type LabelOptions, pairOfLabels, resolveLabels, sortedUnique } from './host-arrays.js';

interface Counts {
  labels: number[];
  tp: number[];
  pred: number[];
  true: number[];
}

function countLabels(t: Float64Array, p: Float64Array, labels: number[]): Counts {
  const at = new Map(labels.map((l, i) => [l, i]));
  const c: Counts = { labels, tp: labels.map(() => 0), pred: labels.map(() => 0), true: labels.map(() => 0) };
  for (let i = 0; i < t.length; i++) {
    const a = at.get(t[i]),
      b = at.get(p[i]);
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

interface PRFArrays {
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

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
  const keep = v.map((_x, i) => i).filter((i) => !Number.isNaN(v[i]));
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
    const tp = c.tp.reduce((a, b) => a + b, 0),
      pr = c.pred.reduce((a, b) => a + b, 0);
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

/**
 * Precision, recall and F1 of one label (or their average), and its support: the number of true
 * samples of that label (the total for averages).
 */
export interface PRF {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/**
 * Precision, recall, F1 and support (scikit-learn's precision_recall_fscore_support, zero_division
 * 0 unless given): per label ('none' or null, in label order), or averaged 'macro' (the default
 * here), 'micro', 'weighted' (by support) or 'binary'. Averages report the total support.
 */
export function precisionRecallF1(yTrue: HostValues, yPred: HostValues, opts: Omit<ScoreOptions, 'average'> & { average?: Average | 'none' } = {}): PRF | PRF[] {
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
  yTrue: HostValues,
  yPred: HostValues,
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
