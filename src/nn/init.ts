// Weight initialization as torch.nn.init, writing into parameters in place (values replaced, object kept).

import type { Tensor } from '../tensor/tensor.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { full } from '../tensor/creation.js';
import { uniform, randn, type Generator } from '../ops/random.js';
import { mul, add } from '../ops/binary.js';
import { cast } from '../ops/unary.js';

function fill(t: Tensor, make: () => Tensor): Tensor {
  noGrad(() =>
    scope(() => {
      t.assignStorage(cast(make(), t.dtype));
    }),
  );
  return t;
}

/** fan_in and fan_out of a weight [out, in, ...kernel] (torch.nn.init._calculate_fan_in_and_fan_out). */
export function calculateFans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new Error(`init: fan in and fan out need at least 2 dimensions, got [${t.shape}]`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

/** Recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: string, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const s = param ?? 0.01;
      return Math.sqrt(2 / (1 + s * s));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity '${nonlinearity}'`);
  }
}

/** Options of the random initializers: the generator to draw from (default the global one). */
export interface InitOptions {
  generator?: Generator;
}

/** Fill `t` in place with values from U(a, b) (default U(0, 1)); returns `t`. */
export const uniform_ = (t: Tensor, a = 0, b = 1, o: InitOptions = {}): Tensor => fill(t, () => uniform(t.shape, a, b, { generator: o.generator, dtype: t.dtype, device: t.device }));
/** Fill `t` in place with values from N(mean, std²) (default N(0, 1)); returns `t`. */
export const normal_ = (t: Tensor, mean = 0, std = 1, o: InitOptions = {}): Tensor =>
  fill(t, () => add(mul(randn(t.shape, { generator: o.generator, dtype: t.dtype, device: t.device }), std), mean));
/** Fill `t` in place with `v`; returns `t`. */
export const constant_ = (t: Tensor, v: number): Tensor => fill(t, () => full(t.shape, v, { dtype: t.dtype, device: t.device }));
/** Fill `t` in place with zeros; returns `t`. */
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
/** Fill `t` in place with ones; returns `t`. */
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** U(-b, b) with b = gain·√(6/(fan_in+fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1, o: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFans(t);
  const b = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -b, b, o);
}

/** Glorot normal init in place: N(0, std²) with std = gain·√(2/(fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1, o: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), o);
}

/** U(-b, b) with b = gain·√(3/fan), gain for leaky_relu with slope a (PyTorch's Linear default uses a=√5). */
export function kaimingUniform_(t: Tensor, a = 0, mode: 'fanIn' | 'fanOut' = 'fanIn', nonlinearity = 'leaky_relu', o: InitOptions = {}): Tensor {
  const fans = calculateFans(t);
  const fan = mode === 'fanIn' ? fans.fanIn : fans.fanOut;
  const bound = calculateGain(nonlinearity, a) * Math.sqrt(3 / fan);
  return uniform_(t, -bound, bound, o);
}

/**
 * He normal init in place: N(0, std²) with std = gain/√fan, fan = fan_in or fan_out (`mode`), gain
 * for `nonlinearity` with slope a.
 */
export function kaimingNormal_(t: Tensor, a = 0, mode: 'fanIn' | 'fanOut' = 'fanIn', nonlinearity = 'leaky_relu', o: InitOptions = {}): Tensor {
  const fans = calculateFans(t);
  const fan = mode === 'fanIn' ? fans.fanIn : fans.fanOut;
  return normal_(t, 0, calculateGain(nonlinearity, a) / Math.sqrt(fan), o);
}

/**
 * PyTorch's default init of Linear and ConvNd (their reset_parameters): weight kaiming_uniform with
 * a = √5, i.e. U(±1/√fanIn), and the bias U(±1/√fanIn).
 */
export function defaultLayerInit_(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, Math.sqrt(5));
  if (bias) {
    const { fanIn } = calculateFans(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}
