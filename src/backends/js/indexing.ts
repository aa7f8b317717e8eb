// js kernels that move elements by index: gather, scatterAdd, concat, pad, random.

import type { Kernel, View } from '../backend.js';
import { contiguousStrides, isContiguous, sizeOf } from '../../tensor/shape.js';
import { stridedOffsets, offsetsOf } from './strided.js';
import { arr, copyInto } from './elementwise.js';
import { philoxUniform } from './philox.js';

/**
 * An index that is one vector along `axis` broadcast over the other dims (indexSelect, embeddings),
 * as large as `full` (the gathered or scattered-into shape) in each of them: its n values and the
 * sizes before and after the axis; else null. Such gathers and scatters move
 * whole runs of `inner` elements.
 */
function rowIndex(index: View, axis: number, full: readonly number[]): { n: number; at: (i: number) => number; outer: number; inner: number } | null {
  if (!index.strides.every((s, d) => d === axis || ((s === 0 || index.shape[d] === 1) && index.shape[d] === full[d]))) return null;
  const is = arr(index.storage), st = index.strides[axis], off = index.offset;
  return {
    n: index.shape[axis], at: (i) => is[off + i * st],
    outer: sizeOf(index.shape.slice(0, axis)), inner: sizeOf(index.shape.slice(axis + 1)),
  };
}

/** torch.gather: out[p] = x[p with p[axis] replaced by index[p]]. */
export const gatherKernel: Kernel<'gather'> = ([x, index], { axis }, out, outShape) => {
  const r = rowIndex(index, axis, x.shape);
  if (r && isContiguous(x.shape, x.strides)) {
    // Runs of `inner` elements: out[o, i, :] = x[o, index[i], :], copied with TypedArray.set.
    const xs = arr(x.storage), o = arr(out), len = x.shape[axis], { n, outer, inner } = r;
    for (let a = 0; a < outer; a++) {
      for (let i = 0; i < n; i++) {
        const k = r.at(i);
        if (k < 0 || k >= len) throw new Error(`gather: index ${k} is out of range for dimension ${axis} of size ${len}`);
        const src = x.offset + (a * len + k) * inner;
        o.set(xs.subarray(src, src + inner), (a * n + i) * inner);
      }
    }
    return;
  }
  const xs = arr(x.storage), is = arr(index.storage), o = arr(out);
  // x's offsets over the index's shape, with the gathered axis contributing nothing (added per element).
  const strides = x.strides.map((s, d) => (d === axis ? 0 : s));
  const xo = stridedOffsets(outShape, strides, x.offset);
  const io = offsetsOf(index);
  const len = x.shape[axis], st = x.strides[axis];
  for (let i = 0; i < o.length; i++) {
    const k = is[io ? io[i] : index.offset + i];
    if (k < 0 || k >= len) throw new Error(`gather: index ${k} is out of range for dimension ${axis} of size ${len}`);
    o[i] = xs[xo[i] + k * st];
  }
};

/** zeros(shape).scatter_add_(axis, index, src): the adjoint of gather. */
export const scatterAddKernel: Kernel<'scatterAdd'> = ([index, src], { axis, shape }, out) => {
  const r = rowIndex(index, axis, shape);
  if (r && isContiguous(src.shape, src.strides)) {
    // Runs of `inner` elements: out[o, index[i], :] += src[o, i, :], in the same order as below
    // (each output element takes its terms by increasing i), so the sums are the same bits.
    const ss = arr(src.storage), o = arr(out), len = shape[axis], { n, outer, inner } = r;
    o.fill(0);
    for (let a = 0; a < outer; a++) {
      for (let i = 0; i < n; i++) {
        const k = r.at(i);
        if (k < 0 || k >= len) throw new Error(`scatterAdd: index ${k} is out of range for dimension ${axis} of size ${len}`);
        const d = (a * len + k) * inner, s0 = src.offset + (a * n + i) * inner;
        for (let j = 0; j < inner; j++) o[d + j] += ss[s0 + j];
      }
    }
    return;
  }
  const is = arr(index.storage), ss = arr(src.storage), o = arr(out);
  const ostr = contiguousStrides(shape);
  const oo = stridedOffsets(index.shape, ostr.map((s, d) => (d === axis ? 0 : s)), 0);
  const io = offsetsOf(index), so = offsetsOf(src);
  const len = shape[axis], st = ostr[axis];
  o.fill(0);
  for (let i = 0; i < oo.length; i++) {
    const k = is[io ? io[i] : index.offset + i];
    if (k < 0 || k >= len) throw new Error(`scatterAdd: index ${k} is out of range for dimension ${axis} of size ${len}`);
    o[oo[i] + k * st] += ss[so ? so[i] : src.offset + i];
  }
};

export const concatKernel: Kernel<'concat'> = (inputs, { axis }, out, outShape) => {
  const o = arr(out);
  const ostr = contiguousStrides(outShape);
  let pos = 0;
  for (const x of inputs) {
    const dst = stridedOffsets(x.shape, ostr, pos * ostr[axis]);
    const xs = arr(x.storage), xo = offsetsOf(x);
    for (let i = 0; i < dst.length; i++) o[dst[i]] = xs[xo ? xo[i] : x.offset + i];
    pos += x.shape[axis];
  }
};

export const padKernel: Kernel<'pad'> = ([x], { pads, value }, out, outShape) => {
  const o = arr(out);
  o.fill(value);
  const ostr = contiguousStrides(outShape);
  const start = pads.reduce((s, [before], d) => s + before * ostr[d], 0);
  const dst = stridedOffsets(x.shape, ostr, start);
  const tmp = new (o.constructor as Float64ArrayConstructor)(dst.length);
  copyInto(x, tmp);
  for (let i = 0; i < dst.length; i++) o[dst[i]] = tmp[i];
};

export const randomKernel: Kernel<'random'> = (_inputs, { key, counter }, out) => {
  philoxUniform(key, counter, arr(out) as Float32Array | Float64Array);
};
