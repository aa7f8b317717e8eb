// Activations and normalizers composed from primitives: relu, sigmoid, gelu, softmax, logSoftmax, ...

import type { Tensor } from '../tensor/tensor.js';
import { add, div, greater, less, mul, sub, where, maximum } from './binary.js';
import { erf, exp, log, tanh, neg, log1p, abs } from './unary.js';
import { max, sum } from './reduce.js';
import { detach, record } from '../autograd/tape.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { allocTensor } from '../backends/dispatch.js';

/**
 * max(x, 0) as torch.relu: NaN stays NaN (a diverging run stays visible) and −0 stays −0; the
 * gradient is 0 where x ≤ 0, as PyTorch's (and 0 at NaN, where PyTorch passes the gradient on).
 */
export function relu(x: Tensor): Tensor {
  const y = noGrad(() => where(less(x, 0), 0, x));
  record('relu', [x], y, (g) => [where(greater(x, 0), g, 0)]);
  return y;
}

/** x where x > 0, else negativeSlope·x (torch leaky_relu). */
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => where(greater(x, 0), x, mul(x, negativeSlope));

/** x where x > 0, else α·(eˣ − 1) (torch elu). */
export const elu = (x: Tensor, alpha = 1): Tensor => where(greater(x, 0), x, mul(sub(exp(x), 1), alpha));

/** 1 / (1 + e^{-x}) via e = e^{-|x|} ∈ (0, 1]: 1/(1+e) for x ≥ 0, e/(1+e) below; nothing overflows. */
export function sigmoid(x: Tensor): Tensor {
  const e = exp(neg(abs(x)));
  const denom = add(e, 1);
  return where(greater(x, -0), div(1, denom), div(e, denom));
}

/** log(1 + e^x) = max(x, 0) + log1p(e^{-|x|}), stable for large |x|. */
export const softplus = (x: Tensor): Tensor => add(maximum(x, 0), log1p(exp(neg(abs(x)))));

/** log σ(x) = -softplus(-x). */
export const logSigmoid = (x: Tensor): Tensor => neg(softplus(neg(x)));

/** x·σ(x), the sigmoid-weighted linear unit (also called swish). */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));

/**
 * GELU: x·Φ(x) with the exact erf form (PyTorch's default) or the tanh approximation
 * 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) used by GPT-2.
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  const fused = fusedGelu(x, approximate);
  if (fused) return fused;
  if (approximate === 'tanh') {
    const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/** Force the composed GELU (composedOnly), or the fused forward with the composed backward (tests). */
export const geluOptions = { composedOnly: false, composedBackward: false };

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU'(x), composed (differentiable). Exact: Φ(x) + x·φ(x). Tanh form, u = √(2/π)(x + 0.044715x³),
 * t = tanh u: ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
 */
function geluGrad(x: Tensor, approximate: 'none' | 'tanh'): Tensor {
  if (approximate === 'tanh') {
    const x2 = mul(x, x);
    const t = tanh(mul(add(x, mul(mul(x2, x), 0.044715)), SQRT_2_OVER_PI));
    const du = mul(add(mul(x2, 3 * 0.044715), 1), SQRT_2_OVER_PI);
    return add(mul(add(t, 1), 0.5), mul(mul(mul(x, 0.5), sub(1, mul(t, t))), du));
  }
  const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
  const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return add(cdf, mul(x, pdf));
}

/**
 * The backend's fused GELU where it has one (one pass instead of about nine), with its fused
 * backward when the backward is not itself recorded, else the composed derivative.
 */
function fusedGelu(x: Tensor, approximate: 'none' | 'tanh'): Tensor | null {
  const backend = x.storage.backend;
  const kernel = backend.fused?.gelu;
  if (!kernel || geluOptions.composedOnly) return null;
  const out = allocTensor(backend, x.shape, x.dtype);
  if (!kernel(x, out.storage, approximate)) {
    out.dispose();
    return null;
  }
  record('gelu', [x], out, (g) => {
    const back = backend.fused?.geluBackward;
    if (back && !isGradEnabled() && !geluOptions.composedBackward) {
      const dx = allocTensor(backend, x.shape, x.dtype);
      if (back(g, x, dx.storage, approximate)) return [dx];
      dx.dispose();
    }
    return [mul(g, geluGrad(x, approximate))];
  });
  return out;
}

/** e^{x_i} / Σ e^{x_j} along dim; the max is subtracted first (its gradient cancels, so detached). */
export function softmax(x: Tensor, dim = -1): Tensor {
  const fused = fusedSoftmax(x, dim, false);
  if (fused) return fused;
  const e = exp(sub(x, detach(max(x, dim, true))));
  return div(e, sum(e, dim, true));
}

/** x - log Σ e^x along dim, stable. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  const fused = fusedSoftmax(x, dim, true);
  if (fused) return fused;
  const shifted = sub(x, detach(max(x, dim, true)));
  return sub(shifted, log(sum(exp(shifted), dim, true)));
}

/** Force the composed softmax/logSoftmax (tests compare them with the fused kernels). */
export const softmaxOptions = { composedOnly: false };

/**
 * The backend's fused kernel for the last axis, where it has one, with the composed versions'
 * gradients: softmax y: g ↦ y·(g − Σ g·y); log-softmax y: g ↦ g − e^y·Σ g.
 */
function fusedSoftmax(x: Tensor, dim: number, isLog: boolean): Tensor | null {
  const kernel = x.storage.backend.fused?.softmax;
  if (!kernel || softmaxOptions.composedOnly || x.ndim === 0) return null;
  if ((dim < 0 ? dim + x.ndim : dim) !== x.ndim - 1) return null;
  const out = allocTensor(x.storage.backend, x.shape, x.dtype);
  if (!kernel(x, out.storage, isLog)) {
    out.dispose();
    return null;
  }
  record(isLog ? 'logSoftmax' : 'softmax', [x], out, (g) => [isLog
    ? sub(g, mul(exp(out), sum(g, -1, true)))
    : mul(out, sub(g, sum(mul(g, out), -1, true)))]);
  return out;
}
