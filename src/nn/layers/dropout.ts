// Dropout: active in training mode only (inverted scaling, as nn.Dropout), and its functional form.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { mul, greater } from '../../ops/binary.js';
import { cast } from '../../ops/unary.js';
import { rand, type Generator } from '../../ops/random.js';
import { isFloat } from '../../tensor/dtype.js';

/**
 * Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p).
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor {
  if (p < 0 || p > 1) throw new Error(`dropout: probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const keep = cast(greater(rand(x.shape, { generator, device: x.device, dtype: isFloat(x.dtype) ? x.dtype : 'float32' }), p), x.dtype);
  return mul(x, mul(keep, 1 / (1 - p)));
}

/**
 * In training mode zeroes each element with probability `p` (default 0.5) and scales the rest by
 * 1/(1 − p) (nn.Dropout); in eval mode the identity. Any shape.
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p > 1) throw new Error(`Dropout: probability must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
