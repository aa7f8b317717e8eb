// Small helpers shared by the op families: numbers as tensors, float promotion.

import type { Scalar, Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { isFloat } from '../tensor/dtype.js';
import { full } from '../tensor/creation.js';

export function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'gradNode' in v && 'storage' in v;
}

/** The dtype a plain number takes next to a tensor (PyTorch: a float beside an int tensor makes float32). */
export function scalarDType(v: Scalar, other: DType): DType {
  if (typeof v === 'boolean') return other;
  if (!isFloat(other) && !Number.isInteger(v)) return 'float32';
  if (other === 'bool' && typeof v === 'number') return Number.isInteger(v) ? 'int32' : 'float32';
  return other;
}

/** A scalar tensor for a number used in an op beside a tensor on `device` (default: current backend). */
export function scalarFor(v: Scalar, dtype: DType, device?: string): Tensor {
  return full([], typeof v === 'boolean' ? Number(v) : v, { dtype, device });
}

export function floatDType(dtype: DType): DType {
  return isFloat(dtype) ? dtype : 'float32';
}
