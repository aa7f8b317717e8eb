// Tape handles for autograd: alias (an identity node, so one gradient can be stored twice) and
// detach. Recording itself is below, in ops/tape.ts, where dispatch calls it.

import { Tensor } from '../tensor/tensor.js';
import { record } from '../ops/tape.js';

/** A second handle on the same storage (identity op on the tape when recording). */
export function alias(t: Tensor): Tensor {
  const a = new Tensor(t.storage, t.shape, t.strides, t.offset);
  record('alias', [t], a, (g) => [g]);
  return a;
}

/** The same values, cut from the tape: no gradient flows back through the result. */
export function detach(t: Tensor): Tensor {
  return t.detach();
}
