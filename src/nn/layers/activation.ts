// Activation layers: module forms of the functions in ops/activation.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import * as A from '../../ops/activation.js';
import { tanh } from '../../ops/unary.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return A.relu(x); }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return A.leakyRelu(x, this.negativeSlope); }
  override extraRepr(): string { return `negative_slope=${this.negativeSlope}`; }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); }
  forward(x: Tensor): Tensor { return A.elu(x, this.alpha); }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return A.sigmoid(x); }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor { return tanh(x); }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor { return A.silu(x); }
}

export class Softplus extends Module {
  forward(x: Tensor): Tensor { return A.softplus(x); }
}

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
  forward(x: Tensor): Tensor { return A.gelu(x, this.approximate); }
  override extraRepr(): string { return `approximate='${this.approximate}'`; }
}

export class Softmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return A.softmax(x, this.dim); }
  override extraRepr(): string { return `dim=${this.dim}`; }
}

export class LogSoftmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return A.logSoftmax(x, this.dim); }
  override extraRepr(): string { return `dim=${this.dim}`; }
}
