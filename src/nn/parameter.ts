// Parameter: a leaf tensor that requires grad, is kept across scopes, and is found by Module.

import { Tensor } from '../tensor/tensor.js';
import { isFloat } from '../tensor/dtype.js';

/**
 * A tensor that a {@link Module} trains: a leaf that requires grad, is kept across `scope()`, and
 * is found by `parameters()`.
 */
export class Parameter extends Tensor {
  /**
   * Wrap a tensor's data as a trainable parameter (shares its storage).
   * @example this.weight = new Parameter(zeros([out, inp]))
   */
  constructor(data: Tensor, requiresGrad = true) {
    data.assertAlive('Parameter');
    super(data.storage, data.shape, data.strides, data.offset);
    if (requiresGrad && !isFloat(data.dtype)) throw new Error(`Parameter: only floating-point tensors can require gradients, got ${data.dtype}`);
    this.requiresGrad = requiresGrad;
    this.keep();
  }
}
