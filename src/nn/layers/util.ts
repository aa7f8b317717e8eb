// Helpers for layer constructors.

import type { Tensor } from '../../tensor/tensor.js';
import { zeros } from '../../tensor/creation.js';
import type { DType } from '../../tensor/dtype.js';

/** Storage for a parameter that its layer's init fills right after. */
export function empty(shape: number[], dtype: DType): Tensor {
  return zeros(shape, { dtype });
}
