// js kernels that move elements by index: gather, scatterAdd, concat, pad, random.

import type { Kernel, View } from '../backend.js';
import { contiguousStrides } from '../../tensor/shape.js';
import { stridedOffsets, offsetsOf } from './strided.js';
import { arr, copyInto } from './elementwise.js';
import { philoxUniform } from '../../tensor/philox.js';

/**
 * Gathers and scatters that move runs: the index is constant along the dims after `axis` (stride 0
 * or size 1, as indexSelect and embeddings make it), and `rows` (x of a gather, src of a scatter)
 * has those dims laid out contiguously with the sizes `trailing`. Then each index element moves one
 * run of sizeOf(trailing) elements. The offsets of the index and of `rows` over the dims up to the
 * axis come back (for a gather the axis adds nothing to `rows`' offsets: the index value picks the
 * position along it), or null when the layout does not fit.
 */
function runs(index: View, rows: View, axis: number, lead: readonly number[], trailing: readonly number[], gather: boolean): { io: Int32Array; ro: Int32Array; inner: number } | null {
  if (!index.strides.every((st, d) => d <= axis || st === 0 || index.shape[d] === 1)) return null;
  let expect = 1;
  for (let k = trailing.length - 1; k >= 0; k--) {
    const d = axis + 1 + k;
    if (rows.shape[d] !== trailing[k] || (trailing[k] !== 1 && rows.strides[d] !== expect)) return null;
    expect *= trailing[k];
  }
  return {
    io: stridedOffsets(lead, index.strides.slice(0, axis + 1), index.offset),
    ro: stridedOffsets(
      lead,
      rows.strides.slice(0, axis + 1).map((st, d) => (gather && d === axis ? 0 : st)),
      rows.offset,
    ),
    inner: expect,
  };
}

/** torch.gather: out[p] = x[p with p[axis] replaced by index[p]]. */
export const gatherKernel: Kernel<'gather'> = ([x, index], { axis }, out, outShape) => {
  const r = runs(index, x, axis, outShape.slice(0, axis + 1), outShape.slice(axis + 1), true);
  if (r) {
    // out[..., i, :] = x[..., index[..., i], :], a run at a time (TypedArray.set for long runs).
    const xs = arr(x.storage),
      is = arr(index.storage),
      o = arr(out),
      len = x.shape[axis],
      st = x.strides[axis],
      { io, ro, inner } = r;
    for (let i = 0; i < io.length; i++) {
      const k = is[io[i]];
      if (k < 0 || k >= len) throw new Error(`gather: index ${k} is out of range for dimension ${axis} of size ${len}`);
      const src = ro[i] + k * st,
        dst = i * inner;
      if (inner >= 16) o.set(xs.subarray(src, src + inner), dst);
      else for (let j = 0; j < inner; j++) o[dst + j] = xs[src + j];
    }
    return;
  }
  const xs = arr(x.storage),
    is = arr(index.storage),
    o = arr(out);
  // x's offsets over the index's shape, with the gathered axis contributing nothing (added per element).
  const strides = x.strides.map((s, d) => (d === axis ? 0 : s));
  const xo = stridedOffsets(outShape, strides, x.offset);
  const io = offsetsOf(index);
  const len = x.shape[axis],
    st = x.strides[axis];
  for (let i = 0; i < o.length; i++) {
    const k = is[io ? io[i] : index.offset + i];
    if (k < 0 || k >= len) throw new Error(`gather: index ${k} is out of range for dimension ${axis} of size ${len}`);
    o[i] = xs[xo[i] + k * st];
  }
};

/** zeros(shape).scatter_add_(axis, index, src): the adjoint of gather. */
export const scatterAddKernel: Kernel<'scatterAdd'> = ([index, src], { axis, shape }, out) => {
  const ostr = contiguousStrides(shape);
  const trailing = shape.slice(axis + 1);
  const r = index.shape.slice(axis + 1).every((d, k) => d === trailing[k]) ? runs(index, src, axis, index.shape.slice(0, axis + 1), trailing, false) : null;
  if (r) {
    // out[..., index[..., i], :] += src[..., i, :], a run at a time. Each output element takes its
    // terms in the index's row-major order, as below, so the sums are the same bits.
    const ss = arr(src.storage),
      is = arr(index.storage),
      o = arr(out),
      len = shape[axis],
      { io, ro, inner } = r;
    const oo = stridedOffsets(
      index.shape.slice(0, axis + 1),
      ostr.slice(0, axis + 1).map((st, d) => (d === axis ? 0 : st)),
      0,
    );
    o.fill(0);
    for (let i = 0; i < io.length; i++) {
      const k = is[io[i]];
      if (k < 0 || k >= len) throw new Error(`scatterAdd: index ${k} is out of range for dimension ${axis} of size ${len}`);
      const d = oo[i] + k * ostr[axis],
        s0 = ro[i];
      for (let j = 0; j < inner; j++) o[d + j] += ss[s0 + j];
    }
    return;
  }
  const is = arr(index.storage),
    ss = arr(src.storage),
    o = arr(out);
  const oo = stridedOffsets(
    index.shape,
    ostr.map((s, d) => (d === axis ? 0 : s)),
    0,
  );
  const io = offsetsOf(index),
    so = offsetsOf(src);
  const len = shape[axis],
    st = ostr[axis];
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
    const xs = arr(x.storage),
      xo = offsetsOf(x);
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
