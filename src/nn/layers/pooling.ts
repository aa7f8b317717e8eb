// Pooling layers over NCHW / NCL inputs: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool2d.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { maxPool1d, maxPool2d, avgPool1d, avgPool2d, adaptiveAvgPool2d, type Pool2dOptions } from '../functional.js';

type Pair = number | [number, number];

export class MaxPool2d extends Module {
  /** @example new MaxPool2d(2) // halves H and W */
  constructor(readonly kernelSize: Pair, readonly opts: Pool2dOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernelSize, this.opts); }
  override extraRepr(): string { return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}, padding=${this.opts.padding ?? 0}`; }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: Pool2dOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return avgPool2d(x, this.kernelSize, this.opts); }
  override extraRepr(): string { return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}, padding=${this.opts.padding ?? 0}`; }
}

export class MaxPool1d extends Module {
  constructor(readonly kernelSize: number, readonly opts: { stride?: number; padding?: number; dilation?: number } = {}) { super(); }
  forward(x: Tensor): Tensor { return maxPool1d(x, this.kernelSize, this.opts); }
  override extraRepr(): string { return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}`; }
}

export class AvgPool1d extends Module {
  constructor(readonly kernelSize: number, readonly opts: { stride?: number; padding?: number } = {}) { super(); }
  forward(x: Tensor): Tensor { return avgPool1d(x, this.kernelSize, this.opts); }
  override extraRepr(): string { return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}`; }
}

/** Output size [oh, ow] whatever the input size; 1 is global average pooling. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) { super(); }
  forward(x: Tensor): Tensor { return adaptiveAvgPool2d(x, this.outputSize); }
  override extraRepr(): string { return `output_size=${this.outputSize}`; }
}
