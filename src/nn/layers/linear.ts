// Linear (y = xWᵀ + b, weight [out, in]) and its functional form, Identity and Flatten.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { empty } from './util.js';
import { defaultLayerInit_ } from '../init.js';
import { add } from '../../ops/binary.js';
import { matmul } from '../../ops/matmul.js';
import { flatten, reshape, transpose } from '../../ops/movement.js';
import { fmtShape } from '../../tensor/shape.js';
import type { DType } from '../../tensor/dtype.js';

/** y = x Wᵀ + b with W [out, in] (PyTorch's layout). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new Error(`linear: input features ${x.shape[x.ndim - 1]} do not match weight ${fmtShape(weight.shape)}: input ${fmtShape(x.shape)}`);
  }
  if (x.ndim > 2) {
    // (..., in) as one (rows, in) product: one large GEMM instead of a batch of small ones
    const lead = x.shape.slice(0, -1);
    const y = linear(reshape(x, [-1, x.shape[x.ndim - 1]]), weight, bias); // (rows, out)
    return reshape(y, [...lead, weight.shape[0]]);
  }
  const y = matmul(x, transpose(weight, 0, 1));
  return bias ? add(y, bias) : y;
}

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
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
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
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
