// The in-place write of the js backend (Backend.copyInto): one strided view's elements into another
// view of an existing storage, as plain loops over materialized offsets. Used by the wasm backend for
// the dtypes its own copy does not take, since `arr` reads a wasm heap buffer as well.

import type { View } from '../backend.js';
import { stridedOffsets } from './strided.js';
import { arr } from './elementwise.js';

/** dst ← src element by element in row-major order of their (equal) shape. */
export function copyIntoKernel(src: View, dst: View): void {
  const from = arr(src.storage),
    to = arr(dst.storage);
  const so = stridedOffsets(src.shape, src.strides, src.offset),
    dOff = stridedOffsets(dst.shape, dst.strides, dst.offset);
  for (let i = 0; i < dOff.length; i++) to[dOff[i]] = from[so[i]];
}
