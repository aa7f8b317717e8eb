// Activations and normalizers composed from primitives: relu, sigmoid, gelu, softmax, logSoftmax, ...
// GELU, softmax and log-softmax are fused ops: a backend may run each as one kernel (dispatchFused).

import { allocTensor, type Tensor } from '../tensor/tensor.js';
import { add, div, greater, less, mul, sub, where, maximum } from './binary.js';
import { erf, exp, log, tanh, neg, log1p, abs } from './unary.js';
import { max, sum } from './reduce.js';
import { record, withGradMode } from './tape.js';
import { dispatchFused } from './dispatch.js';
import type { FusedRule } from './rule.js';

/**
 * max(x, 0) as torch.relu: NaN stays NaN (a diverging run stays visible) and −0 stays −0; the
 * gradient is 0 where x ≤ 0, as PyTorch's (and 0 at NaN, where PyTorch passes the gradient on).
 */
export function relu(x: Tensor): Tensor {
  const y = withGradMode(false, () => where(less(x, 0), 0, x));
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
 * 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) used by GPT-2. A fused op: one kernel pass where the
 * backend has one, instead of about nine.
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return dispatchFused(geluRule, [x], { approximate });
}

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

/** GELU as a fused op: the backend's kernel and its backward kernel, else the composed forms. */
const geluRule: FusedRule<[Tensor], { approximate: 'none' | 'tanh' }> = {
  name: 'gelu',
  kernel: 'gelu',
  composed: ([x], { approximate }) => {
    if (approximate === 'tanh') {
      const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
      return mul(mul(x, 0.5), add(tanh(inner), 1));
    }
    return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
  },
  forward: (fused, backend, [x], { approximate }) => {
    const out = allocTensor(backend, x.shape, x.dtype);
    if (fused.gelu!(x, out.storage, approximate)) return { out, saved: [] };
    out.dispose();
    return null;
  },
  vjp: (g, [x], _out, _saved, { approximate }, fused) => {
    if (fused?.geluBackward) {
      const dx = allocTensor(x.storage.backend, x.shape, x.dtype);
      if (fused.geluBackward(g, x, dx.storage, approximate)) return [dx];
      dx.dispose();
    }
    return [mul(g, geluGrad(x, approximate))];
  },
};

/** e^{x_i} / Σ e^{x_j} along dim; the max is subtracted first (its gradient cancels, so detached). */
export function softmax(x: Tensor, dim = -1): Tensor {
  return lastAxis(x, dim) ? dispatchFused(softmaxRule, [x], {}) : composedSoftmax(x, dim);
}

/** x - log Σ e^x along dim, stable. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return lastAxis(x, dim) ? dispatchFused(logSoftmaxRule, [x], {}) : composedLogSoftmax(x, dim);
}

function composedSoftmax(x: Tensor, dim: number): Tensor {
  const e = exp(sub(x, max(x, dim, true).detach()));
  return div(e, sum(e, dim, true));
}

function composedLogSoftmax(x: Tensor, dim: number): Tensor {
  const shifted = sub(x, max(x, dim, true).detach());
  return sub(shifted, log(sum(exp(shifted), dim, true)));
}

/** Whether dim is x's last axis: the case the fused kernels take. */
const lastAxis = (x: Tensor, dim: number): boolean => x.ndim > 0 && (dim < 0 ? dim + x.ndim : dim) === x.ndim - 1;

/**
 * Softmax (or log-softmax) over the last axis as a fused op: the backend's kernel, with the
 * composed versions' gradients: softmax y: g ↦ y·(g − Σ g·y); log-softmax y: g ↦ g − e^y·Σ g.
 */
function softmaxRuleOf(isLog: boolean): FusedRule<[Tensor], {}> {
  return {
    name: isLog ? 'logSoftmax' : 'softmax',
    kernel: 'softmax',
    composed: ([x]) => (isLog ? composedLogSoftmax : composedSoftmax)(x, -1),
    forward: (fused, backend, [x]) => {
      const out = allocTensor(backend, x.shape, x.dtype);
      if (fused.softmax!(x, out.storage, isLog)) return { out, saved: [] };
      out.dispose();
      return null;
    },
    vjp: (g, _x, out) => [isLog ? sub(g, mul(exp(out), sum(g, -1, true))) : mul(out, sub(g, sum(mul(g, out), -1, true)))],
  };
}
const softmaxRule = softmaxRuleOf(false),
  logSoftmaxRule = softmaxRuleOf(true);
