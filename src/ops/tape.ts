// The recording half of autograd, below it: grad mode (whether ops are recorded) and record(),
// which dispatch and the view ops call. backward (src/autograd) walks the nodes recorded here.

import type { Tensor } from '../tensor/tensor.js';
import { isFloat } from '../tensor/dtype.js';

let enabled = true;

/** Whether operations are being recorded for autograd (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Run `fn` with recording on or off, restoring the previous mode after (when a promise settles, for async fn). */
export function withGradMode<T>(mode: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = mode;
  try {
    const r = fn();
    if (r instanceof Promise) {
      // Restore only when the promise settles, so awaited work stays in the mode it was started in.
      return r.finally(() => {
        enabled = prev;
      }) as T;
    }
    enabled = prev;
    return r;
  } catch (e) {
    enabled = prev;
    throw e;
  }
}

/**
 * Attach a node to `out` if any input requires grad. Each input's graphRefs counts the nodes that
 * still need it, so a dispose of an intermediate waits until backward has used it.
 */
export function record(name: string, inputs: readonly Tensor[], out: Tensor, vjp: (g: Tensor) => (Tensor | null)[]): void {
  if (!enabled || !isFloat(out.dtype)) return;
  if (!inputs.some((t) => t.requiresGrad)) return;
  out.requiresGrad = true;
  for (const t of inputs) t.graphRefs++;
  out.gradNode = { name, inputs, vjp, released: false };
}
