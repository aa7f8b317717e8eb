// Batched matrix multiplication: the primitive and its rule; 1-D operands and batch broadcasting
// are handled here, so kernels only ever see [...B, M, K] @ [...B, K, N] with equal batch dims.

import type { Tensor } from '../tensor/tensor.js';
import { dispatch } from './dispatch.js';
import { broadcastShapes, fmtShape } from '../tensor/shape.js';
import { promote } from '../tensor/dtype.js';
import type { Rules } from './rule.js';
import { expand, reshape, squeeze, transpose, unsqueeze } from './movement.js';
import { cast } from './unary.js';

/** Shape and dtype rule and vector-Jacobian product of the matmul primitive (used by dispatch). */
export const matmulRules: Rules<'matmul'> = {
  matmul: {
    shape: ([a, b]) => ({ shape: [...a.shape.slice(0, -1), b.shape[b.ndim - 1]], dtype: a.dtype }),
    // C = AB: dA = G Bᵀ, dB = Aᵀ G (transposes are views; kernels read them strided)
    // Each gradient is produced in its input's layout: for a transposed view (the Wᵀ of
    // Linear) compute (Bᵀ... )ᵀ so that the weight's own gradient comes out contiguous.
    vjp: (g, [a, b], _o, _p, needs) => [
      needs[0] ? (isTransposed(a) ? transpose(matmulRaw(b, transpose(g))) : matmulRaw(g, transpose(b))) : null,
      needs[1] ? (isTransposed(b) ? transpose(matmulRaw(transpose(g), a)) : matmulRaw(transpose(a), g)) : null,
    ],
  },
};

/** Whether the last two dims are a transposed contiguous matrix (column-major), as x.T is. */
function isTransposed(t: Tensor): boolean {
  const n = t.ndim,
    s = t.strides,
    sh = t.shape;
  return n >= 2 && sh[n - 1] > 1 && sh[n - 2] > 1 && s[n - 2] === 1 && s[n - 1] === sh[n - 2];
}

function matmulRaw(a: Tensor, b: Tensor): Tensor {
  return dispatch(matmulRules, 'matmul', [a, b], {});
}

/**
 * Matrix product with NumPy/PyTorch semantics: 1-D operands are promoted and squeezed, batch dims
 * broadcast. @example matmul(x, transpose(w)) // [B, in] @ [in, out]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new Error(`matmul: both arguments need at least 1 dimension, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  const k1 = a.shape[a.ndim - 1],
    k2 = b.shape[b.ndim === 1 ? 0 : b.ndim - 2];
  if (k1 !== k2) throw new Error(`matmul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  const dtype = promote(a.dtype, b.dtype);
  let x = cast(a, dtype),
    y = cast(b, dtype);
  const aVec = x.ndim === 1,
    bVec = y.ndim === 1;
  if (aVec) x = unsqueeze(x, 0);
  if (bVec) y = unsqueeze(y, 1);
  const batch = broadcastShapes('matmul', x.shape.slice(0, -2), y.shape.slice(0, -2));
  x = expand(x, [...batch, ...x.shape.slice(-2)]);
  y = expand(y, [...batch, ...y.shape.slice(-2)]);
  let r = matmulRaw(x, y);
  if (aVec) r = squeeze(r, -2);
  if (bVec) r = squeeze(r, -1);
  return r;
}

/** 2-D only (torch.mm). */
export function mm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2) throw new Error(`mm: expected 2-D tensors, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  return matmul(a, b);
}

/** 3-D batches of equal size (torch.bmm). */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    throw new Error(`bmm: expected [B,M,K] @ [B,K,N], got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  }
  return matmul(a, b);
}

/** Outer product of two vectors. */
export function outer(a: Tensor, b: Tensor): Tensor {
  return matmul(reshape(a, [-1, 1]), reshape(b, [1, -1]));
}
