// Pooling layers over NCHW / NCL inputs: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool2d.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { maxPool1d, maxPool2d, avgPool1d, avgPool2d, adaptiveAvgPool2d, type Pool2dOptions } from '../functional.js';

type Pair = number | [number, number];

/**
 * Max over windows of [N, C, H, W] (nn.MaxPool2d); padding counts as −∞. The stride defaults to
 * the kernel size; output [N, C, Ho, Wo] with Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1) /
 * stride⌋ + 1.
 */
export class MaxPool2d extends Module {
  /** @example new MaxPool2d(2) // halves H and W */
  constructor(
    readonly kernelSize: Pair,
    readonly opts: Pool2dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}, padding=${this.opts.padding ?? 0}`;
  }
}

/**
 * Mean over windows of [N, C, H, W] (nn.AvgPool2d, padding counted as zeros); the stride defaults
 * to the kernel size; output [N, C, Ho, Wo] as {@link MaxPool2d}.
 */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: Pool2dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}, padding=${this.opts.padding ?? 0}`;
  }
}

/** Max over windows of [N, C, L] (nn.MaxPool1d); the stride defaults to the kernel size. */
export class MaxPool1d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly opts: { stride?: number; padding?: number; dilation?: number } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool1d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}`;
  }
}

/**
 * Mean over windows of [N, C, L] (nn.AvgPool1d, padding counted as zeros); the stride defaults to
 * the kernel size.
 */
export class AvgPool1d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly opts: { stride?: number; padding?: number } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool1d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}`;
  }
}

/** Output size [oh, ow] whatever the input size; 1 is global average pooling. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${this.outputSize}`;
  }
}
