// js reductions: sum (float64 accumulation, fixed order), max (NaN propagates), argmax (first maximum).

import type { Kernel, View } from '../backend.js';
import { stridedOffsets, offsetsOf } from './strided.js';
import { arr } from './elementwise.js';

/** For each input element (row-major), the index of the output element it reduces into. */
function outIndex(x: View, axes: number[]): Int32Array {
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const strides: number[] = [];
  let s = 1;
  for (let i = outShape.length - 1; i >= 0; i--) {
    strides[i] = axes.includes(i) ? 0 : s;
    s *= outShape[i];
  }
  return stridedOffsets(x.shape, strides, 0);
}

export const sumKernel: Kernel<'sum'> = ([x], { axes }, out) => {
  const xs = arr(x.storage),
    o = arr(out),
    ix = offsetsOf(x),
    oi = outIndex(x, axes);
  const acc = new Float64Array(out.size);
  const n = oi.length;
  for (let i = 0; i < n; i++) acc[oi[i]] += xs[ix ? ix[i] : x.offset + i];
  for (let i = 0; i < out.size; i++) o[i] = acc[i];
};

export const maxKernel: Kernel<'max'> = ([x], { axes }, out) => {
  const xs = arr(x.storage),
    o = arr(out),
    ix = offsetsOf(x),
    oi = outIndex(x, axes);
  const acc = new Float64Array(out.size).fill(-Infinity);
  const n = oi.length;
  for (let i = 0; i < n; i++) {
    const v = xs[ix ? ix[i] : x.offset + i],
      j = oi[i];
    if (v > acc[j] || v !== v) acc[j] = v;
    else if (acc[j] !== acc[j]) continue;
  }
  for (let i = 0; i < out.size; i++) o[i] = acc[i];
};

export const argmaxKernel: Kernel<'argmax'> = ([x], { axis }, out) => {
  const xs = arr(x.storage),
    o = arr(out),
    ix = offsetsOf(x),
    oi = outIndex(x, [axis]);
  const best = new Float64Array(out.size).fill(-Infinity);
  const seen = new Uint8Array(out.size);
  // Position along `axis` of element i in row-major order.
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1),
    len = x.shape[axis];
  for (let i = 0; i < oi.length; i++) {
    const v = xs[ix ? ix[i] : x.offset + i],
      j = oi[i];
    if (best[j] !== best[j]) continue; // a NaN already won, as in PyTorch
    if (!seen[j] || v > best[j] || v !== v) {
      best[j] = v;
      o[j] = Math.floor(i / inner) % len;
      seen[j] = 1;
    }
  }
};
