// Movement ops. Views (reshape, permute, expand, slice, squeeze) only change shape metadata and
// share storage; copy, concat and pad are primitives. Each has its gradient rule beside it.

import { Tensor, type IndexSpec } from '../tensor/tensor.js';
import { contiguousStrides, fmtShape, isContiguous, normAxis, sizeOf } from '../tensor/shape.js';
import { dispatch } from './dispatch.js';
import { record } from './tape.js';
import type { Rules } from './rule.js';

/**
 * Shape and dtype rules and vector-Jacobian products of the copy, concat and pad primitives (used
 * by dispatch).
 */
export const movementRules: Rules<'copy' | 'concat' | 'pad'> = {
  copy: {
    shape: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
    vjp: (g) => [g], // d copy(x) / dx = I
  },
  concat: {
    shape: (xs, { axis }) => {
      const shape = [...xs[0].shape];
      shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
      return { shape, dtype: xs[0].dtype };
    },
    // d concat / dx_i = the slice of the output that came from x_i
    vjp: (g, xs, _o, { axis }) => {
      let start = 0;
      return xs.map((x) => {
        const s = narrow(g, axis, start, x.shape[axis]);
        start += x.shape[axis];
        return s;
      });
    },
  },
  pad: {
    shape: ([x], { pads }) => ({ shape: x.shape.map((d, i) => d + pads[i][0] + pads[i][1]), dtype: x.dtype }),
    // d pad(x) / dx = crop back to the interior
    vjp: (g, [x], _o, { pads }) => {
      let r = g;
      pads.forEach(([before], d) => {
        if (r.shape[d] !== x.shape[d]) r = narrow(r, d, before, x.shape[d]);
      });
      return [r];
    },
  },
};

/** A view of x's storage with new metadata, recorded on the tape with its gradient rule. */
function makeView(name: string, x: Tensor, shape: number[], strides: number[], offset: number, vjp: (g: Tensor) => Tensor): Tensor {
  x.assertAlive(name);
  const t = new Tensor(x.storage, shape, strides, offset);
  record(name, [x], t, (g) => [vjp(g)]);
  return t;
}

function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const neg = out.indexOf(-1);
  if (neg !== out.lastIndexOf(-1)) throw new Error(`${op}: only one dimension can be -1, got ${fmtShape(shape)}`);
  if (neg >= 0) {
    const rest = out.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    if (rest === 0 || x.size % rest !== 0) throw new Error(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    out[neg] = x.size / rest;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(out) !== x.size) {
    throw new Error(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
  }
  return out;
}

/**
 * Strides that give `shape` over the elements of a view (oldShape, oldStrides) in row-major order,
 * or null when no strides can (ATen's computeStride): each run of dims that are contiguous with
 * one another in memory may be split or merged, but not merged across a gap.
 */
export function viewStrides(oldShape: readonly number[], oldStrides: readonly number[], shape: readonly number[]): number[] | null {
  if (oldShape.length === 0) return shape.map(() => 1);
  const out = new Array<number>(shape.length).fill(0);
  if (sizeOf(oldShape) === 0) return contiguousStrides(shape);
  let viewD = shape.length - 1,
    chunkBase = oldStrides[oldStrides.length - 1],
    tensorNumel = 1,
    viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

/**
 * Same data, new shape (one dim may be -1), like torch.reshape: a view whenever x's strides allow
 * one (splitting or merging dims that are contiguous with each other, as a head split of a slice
 * does), else a contiguous copy.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = resolveShape('reshape', x, shape);
  return reshapeView(x, s) ?? reshapeView(contiguous(x), s)!;
}

/** Like reshape, but never copies: x's strides must allow the new shape (torch.Tensor.view). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const s = resolveShape('view', x, shape);
  const v = reshapeView(x, s);
  if (!v)
    throw new Error(`view: the strides of a tensor of shape ${fmtShape(x.shape)} (strides ${fmtShape(x.strides)}) do not allow shape ${fmtShape(s)} without a copy; use reshape()`);
  return v;
}

/** x as a view of (resolved) shape s, or null where its strides do not allow one. */
function reshapeView(x: Tensor, s: number[]): Tensor | null {
  const strides = isContiguous(x.shape, x.strides) ? contiguousStrides(s) : viewStrides(x.shape, x.strides, s);
  return strides && makeView('reshape', x, s, strides, x.offset, (g) => reshape(g, x.shape));
}

/**
 * Merge dims startDim..endDim (all by default) into one (torch.flatten); a view where the strides
 * allow, else a copy.
 * @example flatten(x, 1) // [N, C, H, W] → [N, C·H·W]
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startDim, x.ndim),
    e = normAxis('flatten', endDim, x.ndim);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Reorder dimensions (torch.permute). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const d = dims.map((a) => normAxis('permute', a, x.ndim));
  if (d.length !== x.ndim || new Set(d).size !== d.length) {
    throw new Error(`permute: dims ${fmtShape(dims)} are not a permutation of ${x.ndim} dimensions`);
  }
  const inv = new Array<number>(d.length);
  d.forEach((a, i) => {
    inv[a] = i;
  });
  return makeView(
    'permute',
    x,
    d.map((a) => x.shape[a]),
    d.map((a) => x.strides[a]),
    x.offset,
    (g) => permute(g, inv),
  );
}

/**
 * Swap two dims (the last two by default; torch.transpose), as a view; tensors of fewer than 2 dims
 * are returned as they are.
 */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  if (x.ndim < 2) return x;
  const a = normAxis('transpose', dim0, x.ndim),
    b = normAxis('transpose', dim1, x.ndim);
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Broadcast to a larger shape without copying (stride 0); -1 keeps a dim. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const n = shape.length,
    lead = n - x.ndim;
  if (lead < 0) throw new Error(`expand: cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`);
  const outShape: number[] = [],
    strides: number[] = [];
  for (let i = 0; i < n; i++) {
    const src = i - lead;
    const want = shape[i] === -1 && src >= 0 ? x.shape[src] : shape[i];
    if (src < 0) {
      outShape.push(want);
      strides.push(0);
      continue;
    }
    if (x.shape[src] === want) {
      outShape.push(want);
      strides.push(x.strides[src]);
    } else if (x.shape[src] === 1) {
      outShape.push(want);
      strides.push(0);
    } else throw new Error(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  if (outShape.every((d, i) => d === x.shape[i - lead]) && lead === 0) return x;
  return makeView('expand', x, outShape, strides, x.offset, (g) => sumTo(g, x.shape));
}

/** Sum a broadcast gradient back down to `shape` (the adjoint of expand). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  if (axes.length === 0) return g;
  const r = g.sum(axes, true); // a method: reduce.ts builds on this file
  return lead > 0 || r.ndim !== shape.length ? reshape(r, shape) : r;
}

/**
 * Drop size-1 dims (torch.squeeze), as a view: all of them, or those listed in `dim` (a listed
 * dim of another size is left as it is).
 */
export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  const dims =
    dim === undefined
      ? x.shape.map((_, i) => i).filter((i) => x.shape[i] === 1)
      : (Array.isArray(dim) ? dim : [dim]).map((d) => normAxis('squeeze', d, x.ndim)).filter((d) => x.shape[d] === 1);
  const keep = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  return makeView(
    'squeeze',
    x,
    keep.map((i) => x.shape[i]),
    keep.map((i) => x.strides[i]),
    x.offset,
    (g) => reshape(g, x.shape),
  );
}

/**
 * Insert a size-1 dim at position `dim` (negative counts from the end of the result), as a view
 * (torch.unsqueeze).
 * @example unsqueeze(x, 0) // [3, 4] → [1, 3, 4]
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normAxis('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape],
    strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return makeView('unsqueeze', x, shape, strides, x.offset, (g) => reshape(g, x.shape));
}

/**
 * x[start:end:step] along one dim (negative indices count from the end; step > 0), as a view.
 * @example slice(x, 1, 0, -1) // drop the last column
 */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normAxis('slice', dim, x.ndim),
    n = x.shape[d];
  if (!Number.isInteger(step) || step <= 0) throw new Error(`slice: step must be a positive integer, got ${step}`);
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = clamp(start),
    e = Math.max(s, clamp(end ?? n));
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape],
    strides = [...x.strides];
  shape[d] = len;
  strides[d] = x.strides[d] * step;
  if (s === 0 && len === n && step === 1) return x;
  return makeView('slice', x, shape, strides, x.offset + s * x.strides[d], (g) => unslice(g, x.shape, d, s, step));
}

/** The adjoint of slice: place g at positions start, start+step, ... of a zero tensor of xShape. */
function unslice(g: Tensor, xShape: readonly number[], d: number, start: number, step: number): Tensor {
  let r = g;
  const len = g.shape[d];
  if (step > 1) {
    // Interleave step-1 zeros after each element: [.., len, ..] -> [.., len, step, ..] -> [.., len*step, ..]
    const pads: [number, number][] = r.shape.map(() => [0, 0]);
    r = unsqueeze(r, d + 1);
    pads.splice(d + 1, 0, [0, step - 1]);
    r = pad(r, pads);
    const shape = [...g.shape];
    shape[d] = len * step;
    r = reshape(r, shape);
    r = narrow(r, d, 0, Math.min(len * step, xShape[d] - start));
  }
  const pads: [number, number][] = r.shape.map(() => [0, 0]);
  pads[d] = [start, xShape[d] - start - r.shape[d]];
  return pad(r, pads);
}

/** x.narrow(dim, start, length): `length` elements from `start`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normAxis('narrow', dim, x.ndim);
  if (start < 0) start += x.shape[d];
  if (start < 0 || length < 0 || start + length > x.shape[d]) {
    throw new Error(`narrow: range [${start}, ${start + length}) is out of bounds for dimension ${d} of size ${x.shape[d]}`);
  }
  return slice(x, d, start, start + length);
}

/** x[..., i, ...]: pick index i of dim, removing that dim. */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normAxis('select', dim, x.ndim),
    n = x.shape[d];
  const i = index < 0 ? index + n : index;
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`select: index ${index} is out of range for dimension ${d} of size ${n}`);
  return squeeze(slice(x, d, i, i + 1), d);
}

/**
 * Multi-dimensional basic indexing, like Python's x[1, 2:5, :, ::2].
 * @example index(x, 0, [1, 3], null) // x[0, 1:3, :]
 */
export function index(x: Tensor, ...specs: IndexSpec[]): Tensor {
  if (specs.length > x.ndim) throw new Error(`index: ${specs.length} indices for a tensor with ${x.ndim} dimensions`);
  let r = x,
    d = 0;
  for (const s of specs) {
    if (s === null) {
      d++;
      continue;
    }
    if (typeof s === 'number') {
      r = select(r, d, s);
      continue;
    }
    r = slice(r, d, s[0] ?? 0, s[1] ?? undefined, s[2] ?? 1);
    d++;
  }
  return r;
}

/** A contiguous tensor with the same values (x itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  if (isContiguous(x.shape, x.strides)) return x;
  return dispatch(movementRules, 'copy', [x], {});
}

/** A contiguous copy that never shares storage with x (torch.clone). */
export function clone(x: Tensor): Tensor {
  return dispatch(movementRules, 'copy', [x], {});
}

/** Join tensors along an existing dim (torch.cat). */
export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const first = xs[0],
    d = normAxis('concat', dim, first.ndim);
  for (const x of xs) {
    if (x.ndim !== first.ndim || x.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new Error(`concat: shapes ${fmtShape(first.shape)} and ${fmtShape(x.shape)} differ outside dimension ${d}`);
    }
    if (x.dtype !== first.dtype) throw new Error(`concat: dtypes differ: ${first.dtype} and ${x.dtype}`);
  }
  if (xs.length === 1) return xs[0];
  return dispatch(movementRules, 'concat', [...xs], { axis: d });
}

/** Join tensors along a new dim (torch.stack). */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  for (const x of xs) {
    if (x.shape.length !== xs[0].shape.length || x.shape.some((s, i) => s !== xs[0].shape[i])) {
      throw new Error(`stack: all tensors must have the same shape, got ${fmtShape(xs[0].shape)} and ${fmtShape(x.shape)}`);
    }
  }
  const d = normAxis('stack', dim, xs[0].ndim + 1);
  return concat(
    xs.map((x) => unsqueeze(x, d)),
    d,
  );
}

/** Split into pieces of `size` along dim (the last may be smaller), or into the given sizes. */
export function split(x: Tensor, size: number | readonly number[], dim = 0): Tensor[] {
  const d = normAxis('split', dim, x.ndim),
    n = x.shape[d];
  const sizes = typeof size === 'number' ? Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size)) : [...size];
  if (sizes.reduce((a, b) => a + b, 0) !== n) throw new Error(`split: sizes ${fmtShape(sizes)} do not add up to ${n}`);
  let start = 0;
  return sizes.map((s) => {
    const r = narrow(x, d, start, s);
    start += s;
    return r;
  });
}

/** Split into `chunks` nearly equal pieces (torch.chunk). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const n = x.shape[normAxis('chunk', dim, x.ndim)];
  return split(x, Math.ceil(n / chunks), dim);
}

/**
 * Constant padding. `pads` is PyTorch's F.pad order: [lastBefore, lastAfter, prevBefore, prevAfter, ...].
 * A list of [before, after] pairs, one per dim from the first, is also accepted.
 */
export function pad(x: Tensor, pads: readonly number[] | readonly [number, number][], value = 0): Tensor {
  let perDim: [number, number][];
  if (pads.length > 0 && Array.isArray(pads[0])) {
    perDim = (pads as [number, number][]).map(([a, b]) => [a, b]);
    if (perDim.length !== x.ndim) throw new Error(`pad: ${perDim.length} pairs for a tensor with ${x.ndim} dimensions`);
  } else {
    const flat = pads as number[];
    if (flat.length % 2 !== 0 || flat.length / 2 > x.ndim) throw new Error(`pad: padding length ${flat.length} must be even and at most ${2 * x.ndim}`);
    perDim = x.shape.map(() => [0, 0]);
    for (let i = 0; i < flat.length / 2; i++) perDim[x.ndim - 1 - i] = [flat[2 * i], flat[2 * i + 1]];
  }
  if (perDim.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b))) throw new Error('pad: paddings must be integers');
  // Negative padding crops, as in PyTorch.
  let r = x;
  perDim.forEach(([a, b], d) => {
    if (a < 0 || b < 0) r = slice(r, d, Math.max(0, -a), r.shape[d] - Math.max(0, -b));
  });
  const pos = perDim.map(([a, b]) => [Math.max(0, a), Math.max(0, b)] as [number, number]);
  if (pos.every(([a, b]) => a === 0 && b === 0)) return r;
  return dispatch(movementRules, 'pad', [r], { pads: pos, value });
}
