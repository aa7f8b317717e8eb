// js unfold (im2col) and fold (col2im) over [N, C, H, W] images and [N, Ho, Wo, C, kh, kw] patches.

import type { Kernel, View } from '../backend.js';
import { copyInto, arr } from './elementwise.js';
import { arrayFor, type TypedArray } from '../../tensor/dtype.js';
import { isContiguous, sizeOf } from '../../tensor/shape.js';

/** The view's elements in row-major order (the storage itself when already so). */
function contiguous(v: View): TypedArray {
  const a = arr(v.storage);
  if (v.offset === 0 && isContiguous(v.shape, v.strides)) return a;
  const c = arrayFor(v.dtype, sizeOf(v.shape));
  copyInto(v, c);
  return c;
}

export const unfoldKernel: Kernel<'unfold'> = ([x], p, out, outShape) => {
  const xs = contiguous(x),
    o = arr(out);
  const [, , H, W] = x.shape;
  const [N, Ho, Wo, C, kh, kw] = outShape;
  const [sh, sw] = p.stride,
    [dh, dw] = p.dilation,
    [pt, , pl] = p.pads;
  let k = 0;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let c = 0; c < C; c++) {
          const base = (n * C + c) * H * W;
          for (let i = 0; i < kh; i++) {
            const y = oy * sh - pt + i * dh;
            for (let j = 0; j < kw; j++) {
              const xx = ox * sw - pl + j * dw;
              o[k++] = y >= 0 && y < H && xx >= 0 && xx < W ? xs[base + y * W + xx] : p.value;
            }
          }
        }
};

export const foldKernel: Kernel<'fold'> = ([g], p, out) => {
  const gs = contiguous(g),
    o = arr(out);
  const [N, C, H, W] = p.shape;
  const [, Ho, Wo, , kh, kw] = g.shape;
  const [sh, sw] = p.stride,
    [dh, dw] = p.dilation,
    [pt, , pl] = p.pads;
  o.fill(0);
  let k = 0;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let c = 0; c < C; c++) {
          const base = (n * C + c) * H * W;
          for (let i = 0; i < kh; i++) {
            const y = oy * sh - pt + i * dh;
            for (let j = 0; j < kw; j++, k++) {
              const xx = ox * sw - pl + j * dw;
              if (y >= 0 && y < H && xx >= 0 && xx < W) o[base + y * W + xx] += gs[k];
            }
          }
        }
};
