// Offsets of every element of a strided view, in row-major order of its shape (the js backend's one iterator).

import type { View } from '../backend.js';
import { isContiguous, sizeOf } from '../../tensor/shape.js';

/**
 * Element offsets of `view` in row-major order, or null when the view is contiguous from `offset`
 * (then element i lives at offset + i). Materializing offsets keeps every kernel a flat loop.
 */
export function offsetsOf(view: Pick<View, 'shape' | 'strides' | 'offset'>): Int32Array | null {
  if (isContiguous(view.shape, view.strides)) return null;
  return stridedOffsets(view.shape, view.strides, view.offset);
}

export function stridedOffsets(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const n = sizeOf(shape);
  const out = new Int32Array(n);
  const nd = shape.length;
  if (n === 0) return out;
  if (nd === 0) {
    out[0] = offset;
    return out;
  }
  // Odometer over all but the last dim; the last dim is a tight inner loop.
  const last = nd - 1;
  const inner = shape[last],
    innerStride = strides[last];
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  let k = 0;
  for (;;) {
    for (let j = 0, o = base; j < inner; j++, o += innerStride) out[k++] = o;
    let d = last - 1;
    while (d >= 0) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}
