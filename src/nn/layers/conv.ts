// Conv1d and Conv2d (NCL / NCHW, weight [out, in/groups, ...kernel]) with PyTorch's defaults and init.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { empty } from './util.js';
import { defaultLayerInit_ } from '../init.js';
import { conv1d, conv2d, convTranspose2d } from '../functional.js';
import type { DType } from '../../tensor/dtype.js';

type Pair = number | [number, number];

/**
 * Options of {@link Conv2d}: stride (1), zero padding per side (0; 'same' keeps the size at stride
 * 1, 'valid' is none), dilation (1), groups (1: input and output channels must divide by it), bias
 * (true) and the parameters' dtype (float32). Numbers apply to both dims; pairs are [h, w].
 */
export interface Conv2dOptions {
  stride?: Pair;
  /** Zero padding per side, or 'same' / 'valid'. */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  dtype?: DType;
}

/** Options of {@link Conv1d}: as {@link Conv2dOptions} along the one length dim. */
export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
  bias?: boolean;
  dtype?: DType;
}

const pairOf = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Shared parameters and PyTorch's init: kaiming_uniform(a=√5) weight, bias U(±1/√fanIn). */
abstract class ConvNd extends Module {
  weight: Parameter;
  bias: Parameter | null;

  /** Weight [out, in/groups, ...kernel]; transposed convolutions store [in, out/groups, ...kernel]. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: number[],
    groups: number,
    bias: boolean,
    dtype: DType,
    transposed = false,
  ) {
    super();
    const name = this.constructor.name;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`${name}: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    const dims = transposed ? [inChannels, outChannels / groups] : [outChannels, inChannels / groups];
    this.weight = new Parameter(empty([...dims, ...kernel], dtype));
    this.bias = bias ? new Parameter(empty([outChannels], dtype)) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }
}

/**
 * 2-D convolution over [N, Cin, H, W] (nn.Conv2d): weight [Cout, Cin/groups, kh, kw], bias [Cout];
 * output [N, Cout, Ho, Wo] with Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1.
 */
export class Conv2d extends ConvNd {
  readonly kernelSize: [number, number];
  readonly opts: Required<Omit<Conv2dOptions, 'bias' | 'dtype'>>;

  /** @example const conv = new Conv2d(1, 32, 3, { padding: 1 }) // [N,1,H,W] → [N,32,H,W] */
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    const k = pairOf(kernelSize);
    super(inChannels, outChannels, k, opts.groups ?? 1, opts.bias ?? true, opts.dtype ?? 'float32');
    this.kernelSize = k;
    this.opts = { stride: opts.stride ?? 1, padding: opts.padding ?? 0, dilation: opts.dilation ?? 1, groups: opts.groups ?? 1 };
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }

  override extraRepr(): string {
    const o = this.opts;
    return (
      `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize}), stride=${o.stride}, padding=${o.padding}` +
      `${o.dilation !== 1 ? `, dilation=${o.dilation}` : ''}${o.groups !== 1 ? `, groups=${o.groups}` : ''}${this.bias ? '' : ', bias=False'}`
    );
  }
}

/**
 * 1-D convolution over [N, Cin, L] (nn.Conv1d): weight [Cout, Cin/groups, k], bias [Cout]; output
 * [N, Cout, Lo] with Lo = ⌊(L + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1.
 */
export class Conv1d extends ConvNd {
  readonly opts: Required<Omit<Conv1dOptions, 'bias' | 'dtype'>>;

  /** @example const conv = new Conv1d(16, 32, 5, { padding: 'same' }) // [N,16,L] → [N,32,L] */
  constructor(
    inChannels: number,
    outChannels: number,
    readonly kernelSize: number,
    opts: Conv1dOptions = {},
  ) {
    super(inChannels, outChannels, [kernelSize], opts.groups ?? 1, opts.bias ?? true, opts.dtype ?? 'float32');
    this.opts = { stride: opts.stride ?? 1, padding: opts.padding ?? 0, dilation: opts.dilation ?? 1, groups: opts.groups ?? 1 };
  }

  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, this.opts);
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize},), stride=${this.opts.stride}, padding=${this.opts.padding}`;
  }
}

/**
 * Options of {@link ConvTranspose2d}: stride (1), padding cropped from each side of the output (0),
 * outputPadding added on one side (0, smaller than the stride or the dilation), dilation (1),
 * groups (1), bias (true), dtype (float32).
 */
export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  dtype?: DType;
}

/**
 * Transposed 2-D convolution (nn.ConvTranspose2d; Keras Conv2DTranspose), weight [in, out/groups, kh, kw].
 * @example new ConvTranspose2d(16, 8, 2, { stride: 2 }) // [N,16,H,W] → [N,8,2H,2W]
 */
export class ConvTranspose2d extends ConvNd {
  readonly kernelSize: [number, number];
  readonly opts: Required<Omit<ConvTranspose2dOptions, 'bias' | 'dtype'>>;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: ConvTranspose2dOptions = {}) {
    const k = pairOf(kernelSize);
    super(inChannels, outChannels, k, opts.groups ?? 1, opts.bias ?? true, opts.dtype ?? 'float32', true);
    this.kernelSize = k;
    this.opts = { stride: opts.stride ?? 1, padding: opts.padding ?? 0, outputPadding: opts.outputPadding ?? 0, dilation: opts.dilation ?? 1, groups: opts.groups ?? 1 };
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, this.opts);
  }

  override extraRepr(): string {
    const o = this.opts;
    return (
      `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize}), stride=${o.stride}, padding=${o.padding}` +
      `${o.outputPadding !== 0 ? `, output_padding=${o.outputPadding}` : ''}${o.dilation !== 1 ? `, dilation=${o.dilation}` : ''}` +
      `${o.groups !== 1 ? `, groups=${o.groups}` : ''}${this.bias ? '' : ', bias=False'}`
    );
  }
}
