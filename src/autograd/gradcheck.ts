// gradcheck: compare the tape's gradients with central finite differences in float64.

import type { Tensor } from '../tensor/tensor.js';
import { fromTypedArray } from '../tensor/creation.js';
import { runBackward } from './backward.js';
import { enableGrad, noGrad } from './grad-mode.js';
import { philoxUniform } from '../tensor/philox.js';

/**
 * Options of {@link gradcheck}: finite-difference step `eps` (1e-6) and tolerances: an element
 * passes when |analytic − numeric| ≤ atol (1e-5) + rtol (1e-3)·|numeric|.
 */
export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Indices of inputs not to check (integer indices, masks). */
  skip?: number[];
}

/** What {@link gradcheck} found: `ok` when every checked element is within tolerance. */
export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic - numeric| over all checked elements. */
  maxError: number;
  /** Description of the first mismatch, if any. */
  message: string;
}

/**
 * Check d f(inputs) against central differences. The output is reduced with a fixed random
 * cotangent w (L = Σ w·f), so every entry of the vector-Jacobian product is exercised.
 * Inputs should be float64; integer inputs are passed through unchecked.
 * @example gradcheck((x) => tanh(x), [randn([3, 4], { dtype: 'float64' })])
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6,
    atol = opts.atol ?? 1e-5,
    rtol = opts.rtol ?? 1e-3;
  const hostInputs = inputs.map((t) => t.dataSync());
  const checked = inputs.map((t, i) => !(opts.skip ?? []).includes(i) && (t.dtype === 'float64' || t.dtype === 'float32'));
  const make = (i: number, data: ArrayLike<number>) => fromTypedArray(data as Float64Array, inputs[i].shape, inputs[i].dtype);
  // Fixed cotangent in [-1, 1) from a seeded stream.
  let w: Float64Array | null = null;
  const loss = (xs: Tensor[]): number =>
    noGrad(() => {
      const y = f(...xs);
      const yd = y.dataSync();
      if (!w) {
        w = new Float64Array(yd.length);
        philoxUniform([1234, 5678], 0, w);
        for (let k = 0; k < w.length; k++) w[k] = 2 * w[k] - 1;
      }
      let s = 0;
      for (let k = 0; k < yd.length; k++) s += w[k] * yd[k];
      return s;
    });
  loss(inputs.map((_, i) => make(i, hostInputs[i])));
  // Analytic gradients.
  const leaves = inputs.map((_, i) => {
    const l = make(i, hostInputs[i]);
    if (checked[i]) l.requiresGrad = true;
    return l;
  });
  const analytic = enableGrad(() => {
    const y = f(...leaves);
    if (!y.requiresGrad) return leaves.map(() => null);
    return runBackward(y, fromTypedArray(w!, y.shape, y.dtype), {}, leaves);
  });
  let maxError = 0;
  for (let i = 0; i < inputs.length; i++) {
    if (!checked[i]) continue;
    const an = analytic[i] ? analytic[i]!.dataSync() : new Float64Array(hostInputs[i].length);
    const x = Float64Array.from(hostInputs[i]);
    for (let k = 0; k < x.length; k++) {
      const orig = x[k];
      x[k] = orig + eps;
      const up = loss(inputs.map((_, j) => (j === i ? make(j, x) : make(j, hostInputs[j]))));
      x[k] = orig - eps;
      const down = loss(inputs.map((_, j) => (j === i ? make(j, x) : make(j, hostInputs[j]))));
      x[k] = orig;
      const num = (up - down) / (2 * eps);
      const err = Math.abs(an[k] - num);
      maxError = Math.max(maxError, err);
      if (!(err <= atol + rtol * Math.abs(num))) {
        return { ok: false, maxError, message: `input ${i}, element ${k}: analytic ${an[k]} vs numeric ${num}` };
      }
    }
  }
  return { ok: true, maxError, message: '' };
}
