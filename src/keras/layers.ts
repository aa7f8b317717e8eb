// Keras layer specs. Each builds the same nn modules PyTorch users get (Dense -> Linear + activation)
// once its input shape is known; the model owns the modules.

import type { Module } from '../nn/module.js';
import {
  Linear,
  Flatten as NnFlatten,
  Dropout as NnDropout,
  Conv1d,
  Conv2d,
  MaxPool1d,
  MaxPool2d,
  AvgPool1d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  Embedding as NnEmbedding,
  RNN,
  LSTM as NnLSTM,
  GRU as NnGRU,
  Sequential as NnSequential,
} from '../nn/index.js';
import { ChannelsLast, RecurrentOutput, SpatialPad, MeanOver } from './modules.js';
import { activationModule } from './activations.js';
import * as init from '../nn/init.js';
import type { Tensor } from '../tensor/tensor.js';

/** A Keras shape: sizes, with null for one not known in advance (the batch dim). */
export type Shape = (number | null)[];

/**
 * A layer's serialized form, as Keras' get_config: the class name and its constructor arguments
 * (rebuilt by `layerFromConfig`).
 */
export interface LayerConfig {
  className: string;
  config: Record<string, unknown>;
}

/**
 * What `Layer.build` makes for an input shape: the nn modules, the output shape (without the batch
 * dim) and any weight penalties.
 */
export interface Built {
  /** Modules in order (a Dense with an activation gives two). */
  modules: Module[];
  outputShape: number[];
  /** Weight tensors penalized by regularizers, with the penalty. */
  penalties?: { weight: Tensor; regularizer: Regularizer }[];
}

/** L1/L2 weight penalty (Keras regularizers.L1L2): l1·Σ|w| + l2·Σw². */
export interface Regularizer {
  l1: number;
  l2: number;
}

/**
 * A Keras layer spec: it holds the layer's settings and builds the nn modules once the input shape
 * is
 * known (`build`), so a {@link Sequential} model owns ordinary PyTorch-style modules. Names default
 * to
 * the class name, numbered (`dense`, `dense_1`, ...).
 */
export abstract class Layer {
  /** The input shape without the batch dim, when this layer is the first one. */
  inputShape?: number[];
  readonly name: string;
  private static counters = new Map<string, number>();
  /** @internal start the default names over (clearSession). */
  static resetNames(): void {
    Layer.counters.clear();
  }
  constructor(name?: string) {
    const base = this.constructor.name.toLowerCase();
    const n = Layer.counters.get(base) ?? 0;
    Layer.counters.set(base, n + 1);
    this.name = name ?? (n === 0 ? base : `${base}_${n}`);
  }
  abstract build(inputShape: number[]): Built;
  abstract getConfig(): LayerConfig;
}

/**
 * Start the default layer names over, as Keras' `keras.backend.clear_session()`: the next Dense is
 * `dense` again, not `dense_3`.
 * @example keras.clearSession(); new keras.Dense(4).name // 'dense'
 */
export function clearSession(): void {
  Layer.resetNames();
}

/** Options of {@link Input}: the input shape without the batch dim, and the layer name. */
export interface InputOptions {
  shape: number[];
  name?: string;
}

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

/**
 * Weight initializer names (Keras'): glorot (Xavier) and he (Kaiming) uniform or normal, zeros,
 * ones, random_normal N(0, 0.05²), random_uniform U(−0.05, 0.05), or 'torch' to keep PyTorch's
 * default.
 */
export type Initializer = 'glorot_uniform' | 'glorot_normal' | 'he_uniform' | 'he_normal' | 'zeros' | 'ones' | 'random_normal' | 'random_uniform' | 'torch';

function applyInit(t: Tensor, name: Initializer): void {
  switch (name) {
    case 'glorot_uniform':
      init.xavierUniform_(t);
      break;
    case 'glorot_normal':
      init.xavierNormal_(t);
      break;
    case 'he_uniform':
      init.kaimingUniform_(t, 0, 'fanIn', 'relu');
      break;
    case 'he_normal':
      init.kaimingNormal_(t, 0, 'fanIn', 'relu');
      break;
    case 'zeros':
      init.zeros_(t);
      break;
    case 'ones':
      init.ones_(t);
      break;
    case 'random_normal':
      init.normal_(t, 0, 0.05);
      break;
    case 'random_uniform':
      init.uniform_(t, -0.05, 0.05);
      break;
    case 'torch':
      break; // keep PyTorch's Linear default
    default:
      throw new Error(`initializer: unknown name '${name as string}'`);
  }
}

/**
 * Options of {@link Dense}: activation name (none by default), bias (true), the input shape or
 * its last size (inputDim) for a first layer, initializers (glorot_uniform kernel, zeros bias), a
 * kernel regularizer and the layer name.
 */
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
  constructor(
    readonly units: number,
    readonly opts: DenseOptions = {},
  ) {
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

/** Flattens each example to one dim: [d1, d2, ...] → [d1·d2·...] (keras.layers.Flatten). */
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

/**
 * Zeroes inputs with probability `rate` in training and scales the rest by 1/(1 − rate)
 * (keras.layers.Dropout).
 */
export class Dropout extends Layer {
  constructor(
    readonly rate: number,
    opts: { name?: string } = {},
  ) {
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

/**
 * Applies an activation by name ('relu', 'softmax', ...) to its input (keras.layers.Activation).
 */
export class Activation extends Layer {
  constructor(
    readonly activation: string,
    opts: { name?: string; inputShape?: number[] } = {},
  ) {
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

// ---- convolution and pooling (channels last, as Keras' default data format) ----

type Pad = 'valid' | 'same';
const tuple = (v: number | number[], n: number): number[] => (typeof v === 'number' ? new Array(n).fill(v) : [...v]);

/** Keras' output size and the [before, after] padding of one spatial dim. */
function kerasPad(size: number, k: number, s: number, d: number, padding: Pad): { out: number; pads: [number, number] } {
  const span = (k - 1) * d + 1;
  if (padding === 'valid') return { out: Math.floor((size - span) / s) + 1, pads: [0, 0] };
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + span - size, 0);
  return { out, pads: [Math.floor(total / 2), total - Math.floor(total / 2)] };
}

/**
 * Options of {@link Conv1D} and {@link Conv2D}: strides (1), 'valid' (default) or 'same' padding,
 * dilationRate (1), activation, bias (true), initializers (glorot_uniform kernel, zeros bias), a
 * kernel
 * regularizer, the input shape (channels last) for a first layer, and the layer name.
 */
export interface ConvOptions {
  strides?: number | number[];
  padding?: Pad;
  dilationRate?: number | number[];
  activation?: string | null;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  biasInitializer?: Initializer;
  kernelRegularizer?: Regularizer;
  inputShape?: number[];
  name?: string;
}

/** Conv1D / Conv2D on channels-last inputs ([steps, channels] / [rows, cols, channels]), built as nn.Conv1d/Conv2d. */
abstract class ConvND extends Layer {
  constructor(
    readonly rank: 1 | 2,
    readonly filters: number,
    readonly kernelSize: number | number[],
    readonly opts: ConvOptions = {},
  ) {
    super(opts.name);
    if (!Number.isInteger(filters) || filters <= 0) throw new Error(`${this.constructor.name}: filters must be a positive integer, got ${filters}`);
    if (opts.padding && !['valid', 'same'].includes(opts.padding)) throw new Error(`${this.constructor.name}: padding must be 'valid' or 'same', got '${opts.padding}'`);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
  }
  build(inputShape: number[]): Built {
    const r = this.rank,
      cls = this.constructor.name;
    if (inputShape.length !== r + 1) throw new Error(`${cls}: expects inputs of ${r + 1} dims per example (channels last), got [${inputShape}]`);
    const k = tuple(this.kernelSize, r),
      s = tuple(this.opts.strides ?? 1, r),
      d = tuple(this.opts.dilationRate ?? 1, r);
    const geo = inputShape.slice(0, r).map((n, i) => kerasPad(n, k[i], s[i], d[i], this.opts.padding ?? 'valid'));
    if (geo.some((g) => g.out <= 0)) throw new Error(`${cls}: kernel ${k.join('x')} does not fit the input [${inputShape}]`);
    const cin = inputShape[r];
    const conv =
      r === 2
        ? new Conv2d(cin, this.filters, k as [number, number], { stride: s as [number, number], dilation: d as [number, number], bias: this.opts.useBias ?? true })
        : new Conv1d(cin, this.filters, k[0], { stride: s[0], dilation: d[0], bias: this.opts.useBias ?? true });
    applyInit(conv.weight, this.opts.kernelInitializer ?? 'glorot_uniform');
    if (conv.bias) applyInit(conv.bias, this.opts.biasInitializer ?? 'zeros');
    const padded = geo.some((g) => g.pads[0] || g.pads[1]);
    const inner: Module[] = padded ? [new SpatialPad(geo.map((g) => g.pads)), conv] : [conv];
    const act = activationModule(this.opts.activation);
    return {
      modules: [new ChannelsLast(inner.length === 1 ? conv : new NnSequential(...inner)), ...(act ? [act] : [])],
      outputShape: [...geo.map((g) => g.out), this.filters],
      penalties: this.opts.kernelRegularizer ? [{ weight: conv.weight, regularizer: this.opts.kernelRegularizer }] : [],
    };
  }
  getConfig(): LayerConfig {
    return { className: this.constructor.name, config: { filters: this.filters, kernelSize: this.kernelSize, ...this.opts, name: this.name } };
  }
}

/** 2-D convolution over [rows, cols, channels] images (keras.layers.Conv2D). */
export class Conv2D extends ConvND {
  constructor(filters: number, kernelSize: number | [number, number], opts: ConvOptions = {}) {
    super(2, filters, kernelSize, opts);
  }
}

/** 1-D convolution over [steps, channels] sequences (keras.layers.Conv1D). */
export class Conv1D extends ConvND {
  constructor(filters: number, kernelSize: number, opts: ConvOptions = {}) {
    super(1, filters, kernelSize, opts);
  }
}

/**
 * Options of the pooling layers: window size (poolSize, 2), strides (default the pool size),
 * 'valid' (default) or 'same' padding (max pooling only), the input shape for a first layer, the
 * name.
 */
export interface PoolOptions {
  poolSize?: number | number[];
  strides?: number | number[] | null;
  padding?: Pad;
  inputShape?: number[];
  name?: string;
}

abstract class PoolND extends Layer {
  constructor(
    readonly rank: 1 | 2,
    readonly kind: 'max' | 'avg',
    readonly opts: PoolOptions = {},
  ) {
    super(opts.name);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
    if (kind === 'avg' && opts.padding === 'same') throw new Error(`${this.constructor.name}: padding 'same' is not supported (Keras averages over the valid cells only); use 'valid'`);
  }
  build(inputShape: number[]): Built {
    const r = this.rank,
      cls = this.constructor.name;
    if (inputShape.length !== r + 1) throw new Error(`${cls}: expects inputs of ${r + 1} dims per example (channels last), got [${inputShape}]`);
    const k = tuple(this.opts.poolSize ?? 2, r),
      s = tuple(this.opts.strides ?? k, r);
    const geo = inputShape.slice(0, r).map((n, i) => kerasPad(n, k[i], s[i], 1, this.opts.padding ?? 'valid'));
    if (geo.some((g) => g.out <= 0)) throw new Error(`${cls}: pool ${k.join('x')} does not fit the input [${inputShape}]`);
    const pool =
      r === 2
        ? this.kind === 'max'
          ? new MaxPool2d(k as [number, number], { stride: s as [number, number] })
          : new AvgPool2d(k as [number, number], { stride: s as [number, number] })
        : this.kind === 'max'
          ? new MaxPool1d(k[0], { stride: s[0] })
          : new AvgPool1d(k[0], { stride: s[0] });
    const padded = geo.some((g) => g.pads[0] || g.pads[1]);
    const inner = padded
      ? new NnSequential(
          new SpatialPad(
            geo.map((g) => g.pads),
            -Infinity,
          ),
          pool,
        )
      : pool;
    return { modules: [new ChannelsLast(inner)], outputShape: [...geo.map((g) => g.out), inputShape[r]] };
  }
  getConfig(): LayerConfig {
    return { className: this.constructor.name, config: { ...this.opts, name: this.name } };
  }
}

/** Max over poolSize windows of [rows, cols, channels] examples (keras.layers.MaxPooling2D). */
export class MaxPooling2D extends PoolND {
  constructor(opts: PoolOptions = {}) {
    super(2, 'max', opts);
  }
}
/**
 * Mean over poolSize windows of [rows, cols, channels] examples (keras.layers.AveragePooling2D).
 */
export class AveragePooling2D extends PoolND {
  constructor(opts: PoolOptions = {}) {
    super(2, 'avg', opts);
  }
}
/** Max over poolSize windows of [steps, channels] examples (keras.layers.MaxPooling1D). */
export class MaxPooling1D extends PoolND {
  constructor(opts: PoolOptions = {}) {
    super(1, 'max', opts);
  }
}
/** Mean over poolSize windows of [steps, channels] examples (keras.layers.AveragePooling1D). */
export class AveragePooling1D extends PoolND {
  constructor(opts: PoolOptions = {}) {
    super(1, 'avg', opts);
  }
}

/** Mean over all spatial positions: [rows, cols, channels] → [channels] (keras.layers.GlobalAveragePooling2D). */
export class GlobalAveragePooling2D extends Layer {
  constructor(opts: { inputShape?: number[]; name?: string } = {}) {
    super(opts.name);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
  }
  build(inputShape: number[]): Built {
    if (inputShape.length !== 3) throw new Error(`GlobalAveragePooling2D: expects [rows, cols, channels] per example, got [${inputShape}]`);
    return { modules: [new MeanOver([1, 2])], outputShape: [inputShape[2]] };
  }
  getConfig(): LayerConfig {
    return { className: 'GlobalAveragePooling2D', config: { name: this.name } };
  }
}

// ---- normalization, embedding, recurrent ----

/** Normalizes the last axis with batch statistics (keras.layers.BatchNormalization; momentum 0.99 = PyTorch's 0.01). */
export class BatchNormalization extends Layer {
  constructor(readonly opts: { momentum?: number; epsilon?: number; inputShape?: number[]; name?: string } = {}) {
    super(opts.name);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
  }
  build(inputShape: number[]): Built {
    const c = inputShape[inputShape.length - 1];
    const o = { momentum: 1 - (this.opts.momentum ?? 0.99), eps: this.opts.epsilon ?? 1e-3 };
    if (inputShape.length === 1) return { modules: [new BatchNorm1d(c, o)], outputShape: inputShape };
    if (inputShape.length === 2) return { modules: [new ChannelsLast(new BatchNorm1d(c, o))], outputShape: inputShape };
    if (inputShape.length === 3) return { modules: [new ChannelsLast(new BatchNorm2d(c, o))], outputShape: inputShape };
    throw new Error(`BatchNormalization: expects 1 to 3 dims per example, got [${inputShape}]`);
  }
  getConfig(): LayerConfig {
    return { className: 'BatchNormalization', config: { ...this.opts, name: this.name } };
  }
}

/** Normalizes each example over its last axis (keras.layers.LayerNormalization, epsilon 1e-3). */
export class LayerNormalization extends Layer {
  constructor(readonly opts: { epsilon?: number; inputShape?: number[]; name?: string } = {}) {
    super(opts.name);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
  }
  build(inputShape: number[]): Built {
    return { modules: [new LayerNorm([inputShape[inputShape.length - 1]], { eps: this.opts.epsilon ?? 1e-3 })], outputShape: inputShape };
  }
  getConfig(): LayerConfig {
    return { className: 'LayerNormalization', config: { ...this.opts, name: this.name } };
  }
}

/** Integer ids [T] → vectors [T, outputDim] (keras.layers.Embedding, init U(−0.05, 0.05)). */
export class Embedding extends Layer {
  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    readonly opts: { inputLength?: number; inputShape?: number[]; name?: string } = {},
  ) {
    super(opts.name);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
    else if (opts.inputLength) this.inputShape = [opts.inputLength];
  }
  build(inputShape: number[]): Built {
    const emb = new NnEmbedding(this.inputDim, this.outputDim);
    init.uniform_(emb.weight, -0.05, 0.05);
    return { modules: [emb], outputShape: [...inputShape, this.outputDim] };
  }
  getConfig(): LayerConfig {
    return { className: 'Embedding', config: { inputDim: this.inputDim, outputDim: this.outputDim, ...this.opts, name: this.name } };
  }
}

/**
 * Options of {@link SimpleRNN}, {@link LSTM} and {@link GRU}: return the whole sequence
 * [timesteps, units] instead of the last output [units] (returnSequences, false), the input shape
 * for a
 * first layer, the name, and SimpleRNN's activation ('tanh').
 */
export interface RecurrentOptions {
  returnSequences?: boolean;
  inputShape?: number[];
  name?: string;
  activation?: 'tanh' | 'relu';
}

/** SimpleRNN / LSTM / GRU over [timesteps, features], built as PyTorch's batch-first RNN/LSTM/GRU (PyTorch's init). */
abstract class Recurrent extends Layer {
  constructor(
    readonly kind: 'rnn' | 'lstm' | 'gru',
    readonly units: number,
    readonly opts: RecurrentOptions = {},
  ) {
    super(opts.name);
    if (!Number.isInteger(units) || units <= 0) throw new Error(`${this.constructor.name}: units must be a positive integer, got ${units}`);
    if (opts.inputShape) this.inputShape = [...opts.inputShape];
  }
  build(inputShape: number[]): Built {
    if (inputShape.length !== 2) throw new Error(`${this.constructor.name}: expects [timesteps, features] per example, got [${inputShape}]`);
    const [T, F] = inputShape;
    const o = { batchFirst: true };
    const rnn =
      this.kind === 'lstm'
        ? new NnLSTM(F, this.units, o)
        : this.kind === 'gru'
          ? new NnGRU(F, this.units, o)
          : new RNN(F, this.units, { ...o, nonlinearity: this.opts.activation ?? 'tanh' });
    const seq = this.opts.returnSequences ?? false;
    return { modules: [new RecurrentOutput(rnn, seq)], outputShape: seq ? [T, this.units] : [this.units] };
  }
  getConfig(): LayerConfig {
    return { className: this.constructor.name, config: { units: this.units, ...this.opts, name: this.name } };
  }
}

/**
 * A fully connected recurrent layer over [timesteps, features] examples (keras.layers.SimpleRNN),
 * built as nn.RNN.
 */
export class SimpleRNN extends Recurrent {
  constructor(units: number, opts: RecurrentOptions = {}) {
    super('rnn', units, opts);
  }
}
/**
 * Long short-term memory over [timesteps, features] examples (keras.layers.LSTM), built as nn.LSTM.
 */
export class LSTM extends Recurrent {
  constructor(units: number, opts: RecurrentOptions = {}) {
    super('lstm', units, opts);
  }
}
/** Gated recurrent unit over [timesteps, features] examples (keras.layers.GRU), built as nn.GRU. */
export class GRU extends Recurrent {
  constructor(units: number, opts: RecurrentOptions = {}) {
    super('gru', units, opts);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a layer's saved config, checked by its constructor
const REGISTRY: Record<string, (c: any) => Layer> = {
  Conv2D: (c) => new Conv2D(c.filters, c.kernelSize, c),
  Conv1D: (c) => new Conv1D(c.filters, c.kernelSize, c),
  MaxPooling2D: (c) => new MaxPooling2D(c),
  AveragePooling2D: (c) => new AveragePooling2D(c),
  MaxPooling1D: (c) => new MaxPooling1D(c),
  AveragePooling1D: (c) => new AveragePooling1D(c),
  GlobalAveragePooling2D: (c) => new GlobalAveragePooling2D(c),
  BatchNormalization: (c) => new BatchNormalization(c),
  LayerNormalization: (c) => new LayerNormalization(c),
  Embedding: (c) => new Embedding(c.inputDim, c.outputDim, c),
  SimpleRNN: (c) => new SimpleRNN(c.units, c),
  LSTM: (c) => new LSTM(c.units, c),
  GRU: (c) => new GRU(c.units, c),
  Input: (c) => new Input({ shape: c.shape }),
  Dense: (c) => new Dense(c.units, c),
  Flatten: (c) => new Flatten(c),
  Dropout: (c) => new Dropout(c.rate, c),
  Activation: (c) => new Activation(c.activation, c),
};

/** Rebuild a layer from getConfig() output (for loading saved Keras models). */
export function layerFromConfig(cfg: LayerConfig): Layer {
  const make = Object.hasOwn(REGISTRY, cfg.className) ? REGISTRY[cfg.className] : undefined;
  if (!make) throw new Error(`layerFromConfig: unknown layer class '${cfg.className}'`);
  return make(cfg.config);
}
