// Keras layer specs. Each builds the same nn modules PyTorch users get (Dense -> Linear + activation)
// once its input shape is known; the model owns the modules.

import type { Module } from '../nn/module.js';
import { Linear, Flatten as NnFlatten, Dropout as NnDropout } from '../nn/index.js';
import { activationModule } from './activations.js';
import * as init from '../nn/init.js';
import type { Tensor } from '../tensor/tensor.js';

export type Shape = (number | null)[];

export interface LayerConfig { className: string; config: Record<string, unknown> }

export interface Built {
  /** Modules in order (a Dense with an activation gives two). */
  modules: Module[];
  outputShape: number[];
  /** Weight tensors penalized by regularizers, with the penalty. */
  penalties?: { weight: Tensor; regularizer: Regularizer }[];
}

/** L1/L2 weight penalty (Keras regularizers.L1L2): l1·Σ|w| + l2·Σw². */
export interface Regularizer { l1: number; l2: number }

export abstract class Layer {
  /** The input shape without the batch dim, when this layer is the first one. */
  inputShape?: number[];
  readonly name: string;
  private static counters = new Map<string, number>();
  constructor(name?: string) {
    const base = this.constructor.name.toLowerCase();
    const n = Layer.counters.get(base) ?? 0;
    Layer.counters.set(base, n + 1);
    this.name = name ?? (n === 0 ? base : `${base}_${n}`);
  }
  abstract build(inputShape: number[]): Built;
  abstract getConfig(): LayerConfig;
}

export interface InputOptions { shape: number[]; name?: string }

/** Declares the input shape (without the batch dim), as keras.Input / InputLayer. */
export class Input extends Layer {
  constructor(opts: InputOptions) {
    super(opts.name);
    this.inputShape = [...opts.shape];
  }
  build(inputShape: number[]): Built {
    return { modules: [], outputShape: inputShape };
  }
  getConfig(): LayerConfig {
    return { className: 'Input', config: { shape: this.inputShape } };
  }
}

export type Initializer = 'glorot_uniform' | 'glorot_normal' | 'he_uniform' | 'he_normal' | 'zeros' | 'ones' | 'random_normal' | 'random_uniform' | 'torch';

function applyInit(t: Tensor, name: Initializer): void {
  switch (name) {
    case 'glorot_uniform': init.xavierUniform_(t); break;
    case 'glorot_normal': init.xavierNormal_(t); break;
    case 'he_uniform': init.kaimingUniform_(t, 0, 'fanIn', 'relu'); break;
    case 'he_normal': init.kaimingNormal_(t, 0, 'fanIn', 'relu'); break;
    case 'zeros': init.zeros_(t); break;
    case 'ones': init.ones_(t); break;
    case 'random_normal': init.normal_(t, 0, 0.05); break;
    case 'random_uniform': init.uniform_(t, -0.05, 0.05); break;
    case 'torch': break; // keep PyTorch's Linear default
    default: throw new Error(`initializer: unknown name '${name as string}'`);
  }
}

export interface DenseOptions {
  activation?: string | null;
  useBias?: boolean;
  inputShape?: number[];
  inputDim?: number;
  /** Keras' default is glorot_uniform; 'torch' keeps PyTorch's Linear init. */
  kernelInitializer?: Initializer;
  biasInitializer?: Initializer;
  kernelRegularizer?: Regularizer;
  name?: string;
}

/** Fully connected layer y = activation(x Wᵀ + b), built as nn.Linear (+ activation module). */
export class Dense extends Layer {
  constructor(readonly units: number, readonly opts: DenseOptions = {}) {
    super(opts.name);
    if (!Number.isInteger(units) || units <= 0) throw new Error(`Dense: units must be a positive integer, got ${units}`);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
    else if (opts.inputDim) this.inputShape = [opts.inputDim];
  }
  build(inputShape: number[]): Built {
    const inFeatures = inputShape[inputShape.length - 1];
    const lin = new Linear(inFeatures, this.units, { bias: this.opts.useBias ?? true });
    applyInit(lin.weight, this.opts.kernelInitializer ?? 'glorot_uniform');
    if (lin.bias) applyInit(lin.bias, this.opts.biasInitializer ?? 'zeros');
    const act = activationModule(this.opts.activation);
    return {
      modules: act ? [lin, act] : [lin],
      outputShape: [...inputShape.slice(0, -1), this.units],
      penalties: this.opts.kernelRegularizer ? [{ weight: lin.weight, regularizer: this.opts.kernelRegularizer }] : [],
    };
  }
  getConfig(): LayerConfig {
    const { kernelRegularizer, ...rest } = this.opts;
    return { className: 'Dense', config: { units: this.units, ...rest, kernelRegularizer, name: this.name } };
  }
}

export class Flatten extends Layer {
  constructor(opts: { inputShape?: number[]; name?: string } = {}) {
    super(opts.name);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
  }
  build(inputShape: number[]): Built {
    return { modules: [new NnFlatten()], outputShape: [inputShape.reduce((a, b) => a * b, 1)] };
  }
  getConfig(): LayerConfig {
    return { className: 'Flatten', config: { inputShape: this.inputShape, name: this.name } };
  }
}

export class Dropout extends Layer {
  constructor(readonly rate: number, opts: { name?: string } = {}) {
    super(opts.name);
    if (rate < 0 || rate >= 1) throw new Error(`Dropout: rate must be in [0, 1), got ${rate}`);
  }
  build(inputShape: number[]): Built {
    return { modules: [new NnDropout(this.rate)], outputShape: inputShape };
  }
  getConfig(): LayerConfig {
    return { className: 'Dropout', config: { rate: this.rate, name: this.name } };
  }
}

export class Activation extends Layer {
  constructor(readonly activation: string, opts: { name?: string; inputShape?: number[] } = {}) {
    super(opts.name);
    activationModule(activation); // validate the name now
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
  }
  build(inputShape: number[]): Built {
    const m = activationModule(this.activation);
    return { modules: m ? [m] : [], outputShape: inputShape };
  }
  getConfig(): LayerConfig {
    return { className: 'Activation', config: { activation: this.activation, name: this.name } };
  }
}

/** Keras regularizers: l1(0.01), l2(0.01), l1l2({l1, l2}). */
export const regularizers = {
  l1: (l1 = 0.01): Regularizer => ({ l1, l2: 0 }),
  l2: (l2 = 0.01): Regularizer => ({ l1: 0, l2 }),
  l1l2: ({ l1 = 0.01, l2 = 0.01 }: { l1?: number; l2?: number } = {}): Regularizer => ({ l1, l2 }),
};

const REGISTRY: Record<string, (c: any) => Layer> = {
  Input: (c) => new Input({ shape: c.shape }),
  Dense: (c) => new Dense(c.units, c),
  Flatten: (c) => new Flatten(c),
  Dropout: (c) => new Dropout(c.rate, c),
  Activation: (c) => new Activation(c.activation, c),
};

/** Rebuild a layer from getConfig() output (for loading saved Keras models). */
export function layerFromConfig(cfg: LayerConfig): Layer {
  const make = REGISTRY[cfg.className];
  if (!make) throw new Error(`layerFromConfig: unknown layer class '${cfg.className}'`);
  return make(cfg.config);
}
