// Index-driven primitives gather and scatterAdd (each other's adjoints), and indexSelect / oneHot on them.

import type { Tensor } from '../tensor/tensor.js';
import { dispatch } from './dispatch.js';
import { fmtShape, normAxis } from '../tensor/shape.js';
import type { Rules } from './rule.js';
import { expand, reshape, unsqueeze } from './movement.js';
import { arange } from '../tensor/creation.js';
import { cast } from './unary.js';
import { equal } from './binary.js';

/**
 * Shape and dtype rules and vector-Jacobian products of the gather and scatterAdd primitives (used
 * by dispatch).
 */
export const indexRules: Rules<'gather' | 'scatterAdd'> = {
  gather: {
    shape: ([x, index]) => ({ shape: [...index.shape], dtype: x.dtype }),
    // out = x[index] along axis: its adjoint adds g back at the gathered positions
    vjp: (g, [x, index], _o, { axis }) => [scatterAdd(index, g, axis, x.shape), null],
  },
  scatterAdd: {
    shape: ([, src], { shape }) => ({ shape: [...shape], dtype: src.dtype }),
    // out[index] += src: each src element's gradient is g read back at its target
    vjp: (g, [index], _o, { axis }) => [null, gather(g, axis, index)],
  },
};

function checkIndex(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') throw new Error(`${op}: index must be int32, got ${index.dtype}`);
}

/**
 * torch.gather: out[i][j] = x[index[i][j]][j] for dim 0 (index has x's rank; other dims ≤ x's).
 * @example gather(logProbs, 1, unsqueeze(targets, 1)) // pick each row's target column
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex('gather', index);
  const axis = normAxis('gather', dim, x.ndim);
  if (index.ndim !== x.ndim || index.shape.some((d, i) => i !== axis && d > x.shape[i])) {
    throw new Error(`gather: index shape ${fmtShape(index.shape)} does not fit input ${fmtShape(x.shape)} at dimension ${axis}`);
  }
  return dispatch(indexRules, 'gather', [x, index], { axis });
}

/** zeros(shape).scatter_add_(dim, index, src) (torch.Tensor.scatter_add on a zero tensor). */
export function scatterAdd(index: Tensor, src: Tensor, dim: number, shape: readonly number[]): Tensor {
  checkIndex('scatterAdd', index);
  const axis = normAxis('scatterAdd', dim, shape.length);
  if (index.ndim !== src.ndim || index.ndim !== shape.length || index.shape.some((d, i) => d > src.shape[i] || (i !== axis && d > shape[i]))) {
    throw new Error(`scatterAdd: index ${fmtShape(index.shape)}, src ${fmtShape(src.shape)} and output ${fmtShape(shape)} do not fit`);
  }
  return dispatch(indexRules, 'scatterAdd', [index, src], { axis, shape: [...shape] });
}

/**
 * Rows (or slices along dim) picked by a 1-D or N-D index: x.index_select, or an embedding lookup
 * when dim = 0 and index is [B, T]. Built on gather with a stride-0 expanded index.
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex('indexSelect', index);
  const axis = normAxis('indexSelect', dim, x.ndim);
  const flat = reshape(index, [-1]);
  // index [n] -> shape of x with axis replaced by n, broadcast over the other dims
  const idxShape = x.shape.map((_d, i) => (i === axis ? flat.shape[0] : 1));
  const outShape = x.shape.map((d, i) => (i === axis ? flat.shape[0] : d));
  const r = gather(x, axis, expand(reshape(flat, idxShape), outShape));
  if (index.ndim === 1) return r;
  return reshape(r, [...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)]);
}

/** One-hot encoding of int32 class indices: [...] -> [..., numClasses] (float32 by default). */
export function oneHot(index: Tensor, numClasses: number, dtype: 'float32' | 'float64' | 'int32' = 'float32'): Tensor {
  checkIndex('oneHot', index);
  const classes = arange(0, numClasses, 1, { dtype: 'int32', device: index.device });
  return cast(equal(unsqueeze(index, -1), classes), dtype);
}
