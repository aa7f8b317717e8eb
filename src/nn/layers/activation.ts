// Activation layers: module forms of the functions in ops/activation.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import * as A from '../../ops/activation.js';
import { tanh } from '../../ops/unary.js';

/** max(x, 0) elementwise (nn.ReLU); any shape. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return A.relu(x);
  }
}

/** x where x > 0, else negativeSlope·x (nn.LeakyReLU, default slope 0.01); any shape. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** x where x > 0, else α·(eˣ − 1) (nn.ELU, default α = 1); any shape. */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.elu(x, this.alpha);
  }
}

/** σ(x) = 1 / (1 + e⁻ˣ) elementwise (nn.Sigmoid); any shape. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return A.sigmoid(x);
  }
}

/** tanh(x) elementwise (nn.Tanh); any shape. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** x·σ(x) elementwise (nn.SiLU, swish); any shape. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return A.silu(x);
  }
}

/** log(1 + eˣ) elementwise (nn.Softplus with β = 1); any shape. */
export class Softplus extends Module {
  forward(x: Tensor): Tensor {
    return A.softplus(x);
  }
}

/**
 * x·Φ(x) elementwise (nn.GELU): exact (erf) by default, or the tanh approximation with `'tanh'`
 * (GPT-2); any shape.
 */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.gelu(x, this.approximate);
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** eˣ / Σ eˣ along `dim` (default the last; nn.Softmax); output has the input's shape. */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * log softmax(x) along `dim` (default the last; nn.LogSoftmax), computed stably; output has the
 * input's shape.
 */
export class LogSoftmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return A.logSoftmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
