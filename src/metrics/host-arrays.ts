// The inputs of the scikit-learn-style host functions: HostValues (a Tensor read synchronously, a flat
// array, or rows) read into Float64Arrays, class labels checked, and which labels a score reports.

import { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';

/** Values for the host functions: a Tensor (read synchronously), a flat array, or rows. */
export type HostValues = Tensor | ArrayLike<number> | readonly ArrayLike<number>[];

/** Host values read: the numbers in row-major order and their shape ([N] or [N, C]). */
export interface Host {
  data: Float64Array;
  shape: number[];
}

/** HostValues as a Float64Array and its shape; `op` and `what` name the function and argument in errors. */
export function toHost(op: string, what: string, v: HostValues): Host {
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
export function toLabels(op: string, what: string, v: HostValues): Float64Array {
  const h = toHost(op, what, v);
  if (h.shape.length > 2 || (h.shape.length === 2 && h.shape[1] !== 1)) {
    throw new Error(`${op}: ${what} must be 1-D class labels, got shape ${fmtShape(h.shape)} (take the argmax of scores or one-hot rows first)`);
  }
  for (let i = 0; i < h.data.length; i++) if (!Number.isFinite(h.data[i])) throw new Error(`${op}: ${what}[${i}] is ${h.data[i]}, not a class label`);
  return h.data;
}

/** Labels and predictions as flat arrays of one length. */
export function pairOfLabels(op: string, yTrue: HostValues, yPred: HostValues): [Float64Array, Float64Array] {
  const t = toLabels(op, 'yTrue', yTrue),
    p = toLabels(op, 'yPred', yPred);
  if (t.length !== p.length) throw new Error(`${op}: ${t.length} labels but ${p.length} predictions`);
  return [t, p];
}

/** The distinct values of the arrays, ascending. */
export const sortedUnique = (...arrays: ArrayLike<number>[]): number[] => [...new Set(arrays.flatMap((a) => Array.from(a)))].sort((a, b) => a - b);

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

/** Which labels to score: given ones, 0..numClasses−1, or every label seen (sorted, as scikit-learn). */
export function resolveLabels(op: string, t: Float64Array, p: Float64Array, opts: { labels?: readonly number[]; numClasses?: number }): number[] {
  if (opts.labels) {
    if (new Set(opts.labels).size !== opts.labels.length) throw new Error(`${op}: labels [${opts.labels.join(', ')}] repeat a value`);
    return [...opts.labels];
  }
  if (opts.numClasses !== undefined) {
    const n = opts.numClasses;
    for (const [what, a] of [
      ['yTrue', t],
      ['yPred', p],
    ] as const) {
      for (let i = 0; i < a.length; i++) {
        if (!Number.isInteger(a[i]) || a[i] < 0 || a[i] >= n) throw new Error(`${op}: ${what}[${i}] = ${a[i]} is not a class in 0..${n - 1}`);
      }
    }
    return Array.from({ length: n }, (_, i) => i);
  }
  return sortedUnique(t, p);
}
