// Linear (y = xWᵀ + b, weight [out, in]), Identity and Flatten.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { empty } from './util.js';
import { defaultLayerInit_ } from '../init.js';
import { linear } from '../functional.js';
import { flatten } from '../../ops/movement.js';
import type { DType } from '../../tensor/dtype.js';

/** Options of {@link Linear}: `bias` (default true) and the parameters' `dtype` (float32). */
export interface LinearOptions {
  bias?: boolean;
  dtype?: DType;
}

/**
 * Fully connected layer (nn.Linear): y = x Wᵀ + b with W [outFeatures, inFeatures]; input [*,
 * inFeatures] → [*, outFeatures].
 */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  /**
   * PyTorch's default init: W ~ U(-1/√in, 1/√in) (kaiming_uniform with a=√5), b likewise.
   * @example const fc = new Linear(784, 512)
   */
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    const dtype = opts.dtype ?? 'float32';
    this.weight = new Parameter(empty([outFeatures, inFeatures], dtype));
    this.bias = (opts.bias ?? true) ? new Parameter(empty([outFeatures], dtype)) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}

/** Returns its input unchanged (nn.Identity); a placeholder where a layer is optional. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flatten dims startDim..endDim (defaults keep the batch dim, as nn.Flatten). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
