// Regression metrics: mean squared and mean absolute error on tensors (a scalar tensor) or on host
// arrays (scikit-learn's, per output column then combined as `multioutput` says), and r2Score.

import { Tensor } from '../tensor/tensor.js';
import { abs, cast } from '../ops/unary.js';
import { mul, sub } from '../ops/binary.js';
import { mean } from '../ops/reduce.js';
import { reshape } from '../ops/movement.js';
import { fmtShape } from '../tensor/shape.js';
import { type Host, type HostValues, toHost } from './host-arrays.js';

/** Per-sample mean squared error [N] (the Keras objects average it over samples). */
export const sqErr = (yTrue: Tensor, yPred: Tensor): Tensor => {
  const d = sub(cast(yPred, 'float32'), cast(reshape(yTrue, yPred.shape), 'float32'));
  return mean(reshape(mul(d, d), [yPred.shape[0] ?? 1, -1]), -1);
};
/** Per-sample mean absolute error [N]. */
export const absErr = (yTrue: Tensor, yPred: Tensor): Tensor =>
  mean(reshape(abs(sub(cast(yPred, 'float32'), cast(reshape(yTrue, yPred.shape), 'float32'))), [yPred.shape[0] ?? 1, -1]), -1);

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

/** 'uniform_average' (default), 'raw_values' (one per output), 'variance_weighted' (r2Score only) or weights. */
export type MultiOutput = 'uniform_average' | 'raw_values' | 'variance_weighted' | readonly number[];

function regressionPair(op: string, yTrue: HostValues, yPred: HostValues): { t: Host; p: Host; n: number; outputs: number } {
  const t = toHost(op, 'yTrue', yTrue),
    p = toHost(op, 'yPred', yPred);
  const norm = (h: Host) => (h.shape.length === 1 ? [h.shape[0], 1] : h.shape);
  const ts = norm(t),
    ps = norm(p);
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
  return combineOutputs(
    op,
    per.map((v) => v / n),
    multioutput,
  );
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
  const scores: number[] = [],
    totals: number[] = [];
  for (let j = 0; j < outputs; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += t.data[i * outputs + j];
    m /= n;
    let res = 0,
      tot = 0;
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

/** 1 − residual/total with scikit-learn's force_finite (a constant target scores 1 or 0). */
export function r2From(residual: number, total: number): number {
  if (residual === 0) return 1;
  if (total === 0) return 0;
  return 1 - residual / total;
}
