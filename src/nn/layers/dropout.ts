// Dropout: active in training mode only (inverted scaling, as nn.Dropout).

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { dropout } from '../functional.js';

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
