// Per-row cross-entropy of logits against class indices as a fused op: the composed definition
// (log-softmax, then the target's entry), the backend's kernel saving each row's logsumexp, and
// its backward (softmax − one-hot).

import { allocTensor, type Tensor } from '../tensor/tensor.js';
import { arange } from '../tensor/creation.js';
import { dispatchFused } from './dispatch.js';
import { equal, mul, notEqual, sub, where } from './binary.js';
import { cast, neg } from './unary.js';
import { reshape, squeeze, unsqueeze } from './movement.js';
import { gather } from './indexing.js';
import { logSoftmax, softmax } from './activation.js';
import type { FusedRule } from './rule.js';

/**
 * The loss of each row of logits x [N, C] (N, C > 0) against int32 classes t [N]:
 * logsumexp(x) − x[t], 0 where t = ignoreIndex; the reduction is left to the caller
 * (nn.functional.crossEntropy). A fused op: one pass per row where the backend has the kernel.
 */
export function crossEntropyRows(x: Tensor, t: Tensor, ignoreIndex: number): Tensor {
  return dispatchFused(crossEntropyRule, [x, t], { ignoreIndex });
}

/**
 * Composed as nllLoss of logSoftmax (the same ops, so the same values as the unfused loss); fused,
 * it saves the logsumexp for the backward g ↦ (softmax(x) − onehot(t))·g, zero on ignored rows:
 * the backend's kernel when the backward is not itself recorded, else composed (differentiable).
 */
const crossEntropyRule: FusedRule<[Tensor, Tensor], { ignoreIndex: number }> = {
  name: 'crossEntropy',
  kernel: 'crossEntropy',
  composed: ([x, t], { ignoreIndex }) => {
    const valid = notEqual(t, ignoreIndex);
    const picked = squeeze(gather(logSoftmax(x, 1), 1, unsqueeze(cast(where(valid, t, 0), 'int32'), 1)), 1);
    return neg(mul(picked, cast(valid, x.dtype)));
  },
  forward: (fused, backend, [x, t], { ignoreIndex }) => {
    const N = x.shape[0];
    const out = allocTensor(backend, [N], x.dtype),
      lse = allocTensor(backend, [N], x.dtype);
    let ran = false;
    try {
      ran = fused.crossEntropy!(x, t, ignoreIndex, out.storage, lse.storage);
    } finally {
      if (!ran) {
        out.dispose();
        lse.dispose();
      } // declined, or threw (a target out of range)
    }
    return ran ? { out, saved: [lse] } : null;
  },
  vjp: (g, [x, t], _out, [lse], { ignoreIndex }, fused) => {
    const C = x.shape[1];
    if (fused?.crossEntropyBackward) {
      const dx = allocTensor(x.storage.backend, x.shape, x.dtype);
      if (fused.crossEntropyBackward(x, t, lse, g, ignoreIndex, dx.storage)) return [dx, null];
      dx.dispose();
    }
    const valid = cast(notEqual(t, ignoreIndex), x.dtype);
    const onehot = cast(equal(reshape(arange(0, C, 1, { device: x.device, dtype: 'int32' }), [1, C]), unsqueeze(t, 1)), x.dtype);
    return [mul(sub(softmax(x, 1), onehot), unsqueeze(mul(g, valid), 1)), null];
  },
};
