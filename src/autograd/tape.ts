// Recording on the tape, and freeing graph nodes by reference count when they can no longer be used.

import { Tensor, releaseNode } from '../tensor/tensor.js';
import { isFloat } from '../tensor/dtype.js';
import { isGradEnabled } from './grad-mode.js';

export { releaseNode };

/**
 * Attach a node to `out` if any input requires grad. Each input's graphRefs counts the nodes that
 * still need it, so a dispose of an intermediate waits until backward has used it.
 */
export function record(name: string, inputs: readonly Tensor[], out: Tensor, vjp: (g: Tensor) => (Tensor | null)[]): void {
  if (!isGradEnabled() || !isFloat(out.dtype)) return;
  if (!inputs.some((t) => t.requiresGrad)) return;
  out.requiresGrad = true;
  for (const t of inputs) t.graphRefs++;
  out.gradNode = { name, inputs, vjp, released: false };
}

/** A second handle on the same storage (identity op on the tape when recording). */
export function alias(t: Tensor): Tensor {
  const a = new Tensor(t.storage, t.shape, t.strides, t.offset);
  record('alias', [t], a, (g) => [g]);
  return a;
}

/** The same values, cut from the tape: no gradient flows back through the result. */
export function detach(t: Tensor): Tensor {
  t.assertAlive('detach');
  return new Tensor(t.storage, t.shape, t.strides, t.offset);
}
