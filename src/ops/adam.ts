// One Adam/AdamW step on a parameter as a fused op: the composed update (PyTorch's single-tensor
// path) and the backend's one-pass kernel over p, g, m and v. optim/adam.ts keeps the state.

import { allocTensor, type Tensor } from '../tensor/tensor.js';
import type { AdamStepArgs } from '../backends/backend.js';
import { dispatchFused } from './dispatch.js';
import { add, div, mul, sub } from './binary.js';
import { sqrt } from './unary.js';
import type { FusedRule } from './rule.js';

/** The hyperparameters of one step (t counts from 1). */
export interface AdamStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
  weightDecay: number;
  /** AdamW: p·(1 − lr·wd) instead of wd·p added to the gradient. */
  decoupled: boolean;
}

/**
 * The new parameter and moments [p′, m′, v′] after one Adam step from gradient g: g ← g (+ wd·p),
 * m′ = lerp(m, g, 1 − β₁), v′ = β₂v + (1 − β₂)g², p′ = p (·(1 − lr·wd)) − lr/(1 − β₁ᵗ)·m′ / (√v′/√(1 − β₂ᵗ) + ε).
 * A fused op: one pass instead of about eleven elementwise ops where the backend has the kernel.
 */
export function adamStep(p: Tensor, g: Tensor, m: Tensor, v: Tensor, o: AdamStepOptions): [Tensor, Tensor, Tensor] {
  const args: AdamStepArgs = {
    beta1: o.beta1,
    beta2: o.beta2,
    stepSize: o.lr / (1 - o.beta1 ** o.step),
    bc2Sqrt: Math.sqrt(1 - o.beta2 ** o.step),
    eps: o.eps,
    weightDecay: o.weightDecay,
    mode: o.weightDecay === 0 ? 0 : o.decoupled ? 2 : 1,
    decoupledScale: 1 - o.lr * o.weightDecay,
  };
  return dispatchFused(adamRule, [p, g, m, v], args);
}

/** torch.lerp's formula, branch included, so results match it to the last bit: a + w(b − a). */
export function lerp(a: Tensor, b: Tensor, w: number): Tensor {
  return Math.abs(w) < 0.5 ? add(a, mul(sub(b, a), w)) : sub(b, mul(sub(b, a), 1 - w));
}

const adamRule: FusedRule<[Tensor, Tensor, Tensor, Tensor], AdamStepArgs, [Tensor, Tensor, Tensor]> = {
  name: 'adam',
  kernel: 'adam',
  composed: ([p, grad, m, v], h) => {
    let g = grad,
      param = p;
    if (h.mode === 2)
      param = mul(p, h.decoupledScale); // param.mul_(1 − lr·wd)
    else if (h.mode === 1) g = add(g, mul(p, h.weightDecay)); // grad.add(param, alpha=wd)
    // exp_avg.lerp_(g, 1−β₁); exp_avg_sq.mul_(β₂).addcmul_(g, g, value=1−β₂)
    const m2 = lerp(m, g, 1 - h.beta1);
    const v2 = add(mul(v, h.beta2), mul(mul(g, 1 - h.beta2), g));
    const denom = add(div(sqrt(v2), h.bc2Sqrt), h.eps);
    return [add(param, div(mul(m2, -h.stepSize), denom)), m2, v2]; // param.addcdiv_(m, denom, value=−stepSize)
  },
  forward: (fused, backend, [p, g, m, v], h) => {
    const [pOut, mOut, vOut] = [0, 1, 2].map(() => allocTensor(backend, p.shape, p.dtype));
    if (fused.adam!(p, g, m, v, pOut.storage, mOut.storage, vOut.storage, h)) return { out: [pOut, mOut, vOut], saved: [] };
    for (const t of [pOut, mOut, vOut]) t.dispose();
    return null;
  },
  vjp: 'none', // an optimizer step runs under noGrad
};
