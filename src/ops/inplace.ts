// In-place writes, outside autograd. copy_ (PyTorch's Tensor.copy_) writes a tensor's values into
// a view of another tensor's storage, so a buffer allocated once can be filled piece by piece: the
// generation caches (models/kv-cache.ts) take each new position this way instead of growing by
// concatenation. Nothing is recorded on the tape, so tensors that need gradients are refused.

import type { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, fmtShape, shapesEqual } from '../tensor/shape.js';
import { isGradEnabled } from './tape.js';
import { dispatchInPlace } from './dispatch.js';
import { clone, expand } from './movement.js';

/**
 * Write `src` (broadcast to dst's shape) into `dst` in place and return dst. dst is usually a view
 * (slice, select, permute) of a larger tensor, whose storage is what changes. Same dtype and
 * backend; dst may not repeat elements (an expanded view). Not differentiable: refused while
 * gradients are recorded for either tensor.
 * @example
 * const cache = zeros([4, 16]);
 * copy_(cache.slice(0, 1, 3), rows); // rows [2, 16] into rows 1 and 2
 */
export function copy_(dst: Tensor, src: Tensor): Tensor {
  if (isGradEnabled() && (dst.requiresGrad || src.requiresGrad)) {
    throw new Error('copy_: in-place writes are not recorded for autograd; run it under noGrad() on tensors that do not need gradients');
  }
  if (src.dtype !== dst.dtype) throw new Error(`copy_: source dtype ${src.dtype} differs from the destination's ${dst.dtype}; cast it first`);
  if (!shapesEqual(broadcastShapes('copy_', src.shape, dst.shape), dst.shape)) {
    throw new Error(`copy_: source ${fmtShape(src.shape)} does not broadcast to the destination ${fmtShape(dst.shape)}`);
  }
  if (dst.shape.some((n, d) => n > 1 && dst.strides[d] === 0)) {
    throw new Error(`copy_: the destination ${fmtShape(dst.shape)} repeats elements (an expanded view); write into a view whose elements are distinct`);
  }
  const temps: Tensor[] = [];
  let s = src;
  if (!shapesEqual(src.shape, dst.shape)) temps.push((s = expand(src, dst.shape)));
  // Reading and writing one storage could overlap: read from a copy.
  if (s.storage === dst.storage) temps.push((s = clone(s)));
  try {
    dispatchInPlace('copy_', [dst, s], (backend) => {
      if (!backend.copyInto) throw new Error(`copy_: backend '${backend.name}' has no in-place copy (Backend.copyInto)`);
      backend.copyInto(s, dst);
    });
  } finally {
    for (const t of temps) t.dispose();
  }
  return dst;
}
