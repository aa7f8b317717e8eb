// Gradient clipping by global norm and by value (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).

import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { abs, cast, sqrt } from '../ops/unary.js';
import { scalar } from '../tensor/creation.js';
import { add, clamp, div, minimum, mul, pow } from '../ops/binary.js';
import { max, sum } from '../ops/reduce.js';
import { maximum } from '../ops/binary.js';

/**
 * Scale all gradients together so their global p-norm is at most maxNorm; returns the norm before
 * clipping as a scalar tensor (read it only when needed: no host sync happens here). As in PyTorch
 * the factor is min(1, maxNorm / (norm + 1e-6)).
 * @example clipGradNorm(model.parameters(), 1.0)
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  const withGrad = [...params].filter((p) => p.grad);
  if (withGrad.length === 0) return scalar(0);
  return noGrad(() => {
    const total = scope(() => {
      if (normType === Infinity) return withGrad.map((p) => max(abs(p.grad!))).reduce((a, b) => maximum(a, b));
      const s = withGrad.map((p) => sum(pow(abs(p.grad!), normType))).reduce((a, b) => add(a, b));
      return normType === 2 ? sqrt(s) : pow(s, 1 / normType);
    });
    scope(() => {
      const coef = minimum(div(maxNorm, add(total, 1e-6)), 1);
      for (const p of withGrad) p.grad!.assignStorage(mul(p.grad!, cast(coef, p.grad!.dtype)));
    });
    return total;
  });
}

/** Clamp every gradient element to [-clip, clip]. */
export function clipGradValue(params: Iterable<Tensor>, clip: number): void {
  noGrad(() => {
    for (const p of params) if (p.grad) scope(() => p.grad!.assignStorage(clamp(p.grad!, -clip, clip)));
  });
}
