// js kernels for unary, binary, where, cast and copy: flat loops over materialized offsets.

import type { BinaryPrim, Kernel, Storage, UnaryPrim, View } from '../backend.js';
import type { TypedArray } from '../../tensor/dtype.js';
import { offsetsOf } from './strided.js';
import { isContiguous } from '../../tensor/shape.js';
import { BINARY_REFERENCE, UNARY_REFERENCE } from '../primitives.js';

/**
 * The elements of a storage as a typed array: the js backend's own array, or a view into another
 * CPU backend's memory (the wasm heap), so js kernels also serve as that backend's general path.
 */
export const arr = (s: Storage): TypedArray => {
  const h = s.handle as TypedArray | { readonly array: TypedArray };
  return ArrayBuffer.isView(h) ? h : h.array;
};

export function unaryKernel(op: UnaryPrim): Kernel<UnaryPrim> {
  const f = UNARY_REFERENCE[op]; // the primitive's definition (../primitives.ts)
  return ([x], _p, out) => {
    const xs = arr(x.storage),
      o = arr(out),
      ix = offsetsOf(x),
      n = out.size,
      xo = x.offset;
    if (ix === null) for (let i = 0; i < n; i++) o[i] = f(xs[xo + i]);
    else for (let i = 0; i < n; i++) o[i] = f(xs[ix[i]]);
  };
}

/** A view whose every element is the same stored value (a broadcast scalar). */
function isScalarView(v: View): boolean {
  return v.strides.every((st, i) => st === 0 || v.shape[i] === 1);
}

export function binaryKernel(op: BinaryPrim): Kernel<BinaryPrim> {
  const f = BINARY_REFERENCE[op];
  return ([a, b], _p, out) => {
    const as = arr(a.storage),
      bs = arr(b.storage),
      o = arr(out),
      n = out.size;
    const ao = a.offset,
      bo = b.offset;
    // A tensor with a broadcast scalar (x * 0.5, x + b) is the common case in optimizers and
    // composites: read the scalar once instead of materializing n offsets.
    if (isScalarView(b) && isContiguousFrom(a)) {
      const y = bs[bo];
      switch (op) {
        case 'add':
          for (let i = 0; i < n; i++) o[i] = as[ao + i] + y;
          return;
        case 'sub':
          for (let i = 0; i < n; i++) o[i] = as[ao + i] - y;
          return;
        case 'mul':
          for (let i = 0; i < n; i++) o[i] = as[ao + i] * y;
          return;
        case 'div':
          for (let i = 0; i < n; i++) o[i] = as[ao + i] / y;
          return;
        default:
          for (let i = 0; i < n; i++) o[i] = f(as[ao + i], y);
          return;
      }
    }
    if (isScalarView(a) && isContiguousFrom(b)) {
      const x = as[ao];
      switch (op) {
        case 'add':
          for (let i = 0; i < n; i++) o[i] = x + bs[bo + i];
          return;
        case 'sub':
          for (let i = 0; i < n; i++) o[i] = x - bs[bo + i];
          return;
        case 'mul':
          for (let i = 0; i < n; i++) o[i] = x * bs[bo + i];
          return;
        case 'div':
          for (let i = 0; i < n; i++) o[i] = x / bs[bo + i];
          return;
        default:
          for (let i = 0; i < n; i++) o[i] = f(x, bs[bo + i]);
          return;
      }
    }
    const ia = offsetsOf(a),
      ib = offsetsOf(b);
    // The common cases get their own loops so V8 sees monomorphic, bounds-friendly code.
    if (ia === null && ib === null) {
      switch (op) {
        case 'add':
          for (let i = 0; i < n; i++) o[i] = as[ao + i] + bs[bo + i];
          return;
        case 'sub':
          for (let i = 0; i < n; i++) o[i] = as[ao + i] - bs[bo + i];
          return;
        case 'mul':
          for (let i = 0; i < n; i++) o[i] = as[ao + i] * bs[bo + i];
          return;
        case 'div':
          for (let i = 0; i < n; i++) o[i] = as[ao + i] / bs[bo + i];
          return;
        default:
          for (let i = 0; i < n; i++) o[i] = f(as[ao + i], bs[bo + i]);
          return;
      }
    } else if (ia === null) {
      for (let i = 0; i < n; i++) o[i] = f(as[ao + i], bs[ib![i]]);
    } else if (ib === null) {
      for (let i = 0; i < n; i++) o[i] = f(as[ia[i]], bs[bo + i]);
    } else {
      for (let i = 0; i < n; i++) o[i] = f(as[ia[i]], bs[ib[i]]);
    }
  };
}

function isContiguousFrom(v: View): boolean {
  return isContiguous(v.shape, v.strides);
}

export const whereKernel: Kernel<'where'> = ([c, a, b], _p, out) => {
  const cs = arr(c.storage),
    as = arr(a.storage),
    bs = arr(b.storage),
    o = arr(out),
    n = out.size;
  const ic = offsetsOf(c),
    ia = offsetsOf(a),
    ib = offsetsOf(b);
  for (let i = 0; i < n; i++) {
    const cond = cs[ic ? ic[i] : c.offset + i];
    o[i] = cond ? as[ia ? ia[i] : a.offset + i] : bs[ib ? ib[i] : b.offset + i];
  }
};

export const castKernel: Kernel<'cast'> = ([x], { dtype }, out) => {
  const xs = arr(x.storage),
    o = arr(out),
    ix = offsetsOf(x),
    n = out.size;
  const at = (i: number) => xs[ix ? ix[i] : x.offset + i];
  if (dtype === 'bool') for (let i = 0; i < n; i++) o[i] = at(i) !== 0 ? 1 : 0;
  // Float to int truncates toward zero, as C and PyTorch do.
  else if (dtype === 'int32') for (let i = 0; i < n; i++) o[i] = Math.trunc(at(i));
  else for (let i = 0; i < n; i++) o[i] = at(i);
};

export const copyKernel: Kernel<'copy'> = ([x], _p, out) => copyInto(x, arr(out));

export function copyInto(x: View, o: TypedArray): void {
  const xs = arr(x.storage),
    ix = offsetsOf(x),
    n = o.length;
  if (ix === null) o.set(xs.subarray(x.offset, x.offset + n));
  else for (let i = 0; i < n; i++) o[i] = xs[ix[i]];
}
