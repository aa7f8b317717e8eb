// keras.Sequential: compile / fit / evaluate / predict / summary over an nn.Sequential of the same
// modules PyTorch users build, trained by the Trainer (fit and evaluate configure it through
// train/supervised.ts).

import type { Tensor } from '../tensor/tensor.js';
import { Sequential as NnSequential, Softmax, Sigmoid } from '../nn/index.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Layer, type Built, type Regularizer } from './layers.js';
import { lossFunction, resolveLossName, type LossFn, type LossName } from './losses.js';
import * as F from '../nn/functional.js';
import { l1l2Penalty } from '../nn/regularization.js';
import { makeOptimizer, type OptimizerSpec } from './optimizers.js';
import { fitLoop, evaluateLoop, type Batches, type ClassWeight, type StepFns } from '../train/supervised.js';
import { ProgressBar } from '../train/progress.js';
import type { Callback, History, Logs } from '../train/callbacks.js';
import { getMetric, type Metric } from '../metrics/stateful.js';
import { TensorDataset, DataLoader } from '../data/index.js';
import { Generator, defaultGenerator } from '../ops/random.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { add, clamp, div, mul } from '../ops/binary.js';
import { cast, log, neg } from '../ops/unary.js';
import { mean, sum } from '../ops/reduce.js';
import { concat, narrow, permute, reshape, squeeze, unsqueeze } from '../ops/movement.js';
import { gather } from '../ops/indexing.js';
import { logSoftmax } from '../ops/activation.js';
import { fmtShape } from '../tensor/shape.js';
import { saveCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { layerFromConfig, type LayerConfig } from './layers.js';
import { Optimizer as OptimizerClass } from '../optim/optimizer.js';
import { smokeCaps } from '../train/smoke.js';

/**
 * Options of `Sequential.compile`: the optimizer (a name such as 'adam', a spec from
 * `keras.optimizers`, or an Optimizer; default 'rmsprop'), the loss (a Keras name or a function
 * (yTrue, yPred) → loss) and the metrics to report (names, Metric objects or functions).
 */
export interface CompileOptions {
  optimizer?: string | OptimizerSpec | Optimizer;
  loss: string | LossFn;
  metrics?: (string | Metric | ((yTrue: Tensor, yPred: Tensor) => Tensor))[];
}

/**
 * Options of `Sequential.fit`: epochs (default 1), batchSize (32), shuffle each epoch (true),
 * callbacks, initialEpoch, and the fields below.
 */
export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the data, taken from the end before shuffling (as Keras), held out for validation. */
  validationSplit?: number;
  /** [x, y] or [x, y, sampleWeight]. */
  validationData?: [Tensor, Tensor] | [Tensor, Tensor, Tensor];
  shuffle?: boolean;
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar (plain lines when not a TTY), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  initialEpoch?: number;
  /** Seed for shuffling and dropout; defaults to a draw from the global generator (manualSeed). */
  seed?: number;
  /** Clip the global gradient norm (Keras' optimizer clipnorm). */
  clipNorm?: number;
  /**
   * Weight per class for the training loss, e.g. { 0: 1, 1: 5 } (Keras' class_weight): each
   * sample's loss is multiplied by its class's weight (classes not listed weigh 1) and the batch
   * loss is the weighted sum divided by the batch size. Labels are integers, or one-hot rows.
   */
  classWeight?: ClassWeight;
  /** Weight per training sample, [N] (Keras' sample_weight); multiplies with classWeight. */
  sampleWeight?: Tensor;
}

/**
 * A Keras Sequential model: a stack of layers built into an nn.Sequential of PyTorch-style modules,
 * trained with `compile` / `fit` / `evaluate` / `predict`, described by `summary`.
 * @example
 * const model = new Sequential([new Dense(128, { activation: 'relu', inputShape: [784] }), new Dense(10, { activation: 'softmax' })]);
 * model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
 * await model.fit(x, y, { epochs: 5, batchSize: 128 });
 */
export class Sequential {
  readonly layers: Layer[] = [];
  /** The built PyTorch-style module (children 0, 1, ... as in nn.Sequential). */
  module: NnSequential | null = null;
  optimizer: Optimizer | null = null;
  private optimizerSpec: string | OptimizerSpec | Optimizer = 'rmsprop';
  private lossName: LossName | null = null;
  private customLoss: LossFn | null = null;
  private metricSpecs: CompileOptions['metrics'] = [];
  private shapes: { layer: Layer; built: Built; inputShape: number[] }[] = [];
  private penalties: { weight: Tensor; regularizer: Regularizer }[] = [];
  compiled = false;
  /** Set by callbacks to stop fit() after the current epoch. */
  stopTraining = false;

  constructor(
    layers: Layer[] = [],
    readonly name = 'sequential',
  ) {
    for (const l of layers) this.add(l);
  }

  add(layer: Layer): this {
    if (!(layer instanceof Layer)) throw new Error('Sequential.add: expected a keras layer (Dense, Flatten, Dropout, Activation, Input)');
    if (this.module) throw new Error('Sequential.add: the model is already built');
    this.layers.push(layer);
    return this;
  }

  /** Create the modules for an input shape (without the batch dim); called by fit/predict when needed. */
  build(inputShape?: number[]): this {
    if (this.module) return this;
    // A declared input shape wins over the data's, so a mismatch is reported rather than silently built.
    let shape = this.layers[0]?.inputShape ?? inputShape;
    if (!shape) throw new Error('Sequential.build: the input shape is unknown; give the first layer inputShape or start with keras.Input');
    const modules: Module[] = [];
    for (const layer of this.layers) {
      const built = layer.build(shape);
      this.shapes.push({ layer, built, inputShape: shape });
      modules.push(...built.modules);
      this.penalties.push(...(built.penalties ?? []));
      shape = built.outputShape;
    }
    this.module = new NnSequential(...modules);
    return this;
  }

  private get net(): NnSequential {
    if (!this.module) throw new Error('Sequential: the model is not built yet; call fit, predict or build(inputShape) first');
    return this.module;
  }

  compile(opts: CompileOptions): this {
    if (typeof opts.loss === 'function') {
      this.customLoss = opts.loss;
      this.lossName = null;
    } else {
      this.lossName = resolveLossName(opts.loss);
      this.customLoss = null;
    }
    this.optimizerSpec = opts.optimizer ?? 'rmsprop';
    this.metricSpecs = opts.metrics ?? [];
    this.optimizer = null;
    this.compiled = true;
    return this;
  }

  /** The final softmax/sigmoid, when the loss is computed from logits instead. */
  private fusedActivation(): Module | null {
    const kids = [...this.net.children()];
    const last = kids[kids.length - 1];
    if (this.lossName === 'sparse_categorical_crossentropy' || this.lossName === 'categorical_crossentropy') {
      return last instanceof Softmax ? last : null;
    }
    if (this.lossName === 'binary_crossentropy') return last instanceof Sigmoid ? last : null;
    return null;
  }

  private stepFns(): StepFns {
    const net = this.net;
    const fused = this.fusedActivation();
    const body = fused ? [...net.children()].slice(0, -1) : [...net.children()];
    const forward = (x: Tensor): Tensor => body.reduce((h, m) => m.forward(h), x);
    const custom = this.customLoss;
    // A custom loss may return one value per sample, as Keras losses do; the batch loss is their mean.
    const loss = custom
      ? (out: Tensor, y: Tensor) => {
          const l = custom(y, out);
          return l.ndim === 0 ? l : mean(l);
        }
      : lossFunction(this.lossName!, fused !== null);
    const sampleLoss = custom
      ? (out: Tensor, y: Tensor) => {
          const l = custom(y, out);
          if (l.ndim === 0 || l.shape[0] !== out.shape[0]) {
            throw new Error(`fit: sample or class weights need the custom loss to return one value per sample, got shape ${fmtShape(l.shape)} for ${out.shape[0]} samples`);
          }
          return bySample(l);
        }
      : sampleLossFunction(this.lossName!, fused !== null);
    const penalties = this.penalties;
    return {
      module: net,
      forward,
      loss,
      sampleLoss,
      toPrediction: fused ? (out) => fused.forward(out) : undefined,
      // Keras' kernel_regularizer: l1·Σ|w| + l2·Σw² per penalized weight, added to the loss.
      penalty: penalties.length ? () => penalties.map(({ weight, regularizer: r }) => l1l2Penalty([weight], r)).reduce((a, b) => add(a, b)) : undefined,
    };
  }

  /** Class weights need one class per sample: say so before training rather than at the first step. */
  private checkClassWeightLoss(): void {
    const n = this.lossName;
    if (n && n !== 'sparse_categorical_crossentropy' && n !== 'categorical_crossentropy' && n !== 'binary_crossentropy') {
      throw new Error(`fit: classWeight needs a classification loss, got '${n}'`);
    }
  }

  private makeMetrics(): Metric[] {
    return (this.metricSpecs ?? []).map((m) => getMetric(m, this.lossName ?? undefined));
  }

  private ensureReady(x: Tensor, where: string): void {
    if (!this.compiled) throw new Error(`${where}: call compile() first`);
    this.build(x.shape.slice(1));
    const expected = this.shapes[0]?.inputShape;
    if (expected && x.shape.slice(1).some((d, i) => d !== expected[i])) {
      throw new Error(`${where}: input shape ${fmtShape(x.shape)} does not match the model input [batch,${expected}]`);
    }
    if (!this.optimizer) {
      const spec = this.optimizerSpec;
      this.optimizer = spec instanceof OptimizerClass ? spec : makeOptimizer(spec as string | OptimizerSpec, this.net.parameters());
    }
  }

  /**
   * Train on x, y. Returns the History (loss and metrics per epoch, train and validation).
   * @example await model.fit(x, y, { epochs: 5, batchSize: 128, validationSplit: 0.1 })
   */
  async fit(x: Tensor, y: Tensor, opts: FitOptions = {}): Promise<History> {
    opts = smokeCaps('keras fit', opts); // NABLA_SMOKE=1: one epoch
    this.ensureReady(x, 'fit');
    if (x.shape[0] !== y.shape[0]) throw new Error(`fit: x has ${x.shape[0]} samples but y has ${y.shape[0]}`);
    const epochs = opts.epochs ?? 1,
      batchSize = opts.batchSize ?? 32;
    const sw = opts.sampleWeight;
    if (sw && sw.size !== x.shape[0]) throw new Error(`fit: sampleWeight ${fmtShape(sw.shape)} has ${sw.size} values for ${x.shape[0]} samples`);
    let train: Tensor[] = sw ? [x, y, reshape(sw, [-1])] : [x, y];
    let val: Tensor[] | undefined = opts.validationData;
    if (!val && opts.validationSplit) {
      const split = opts.validationSplit;
      if (split <= 0 || split >= 1) throw new Error(`fit: validationSplit must be in (0, 1), got ${split}`);
      const nVal = Math.floor(x.shape[0] * split),
        nTrain = x.shape[0] - nVal;
      val = train.map((t) => narrow(t, 0, nTrain, nVal));
      train = train.map((t) => narrow(t, 0, 0, nTrain));
    }
    if (opts.classWeight) this.checkClassWeightLoss();
    const gen = new Generator(opts.seed ?? Math.floor(defaultGenerator.uniformArray(1)[0] * 2 ** 31));
    const loader = new DataLoader(new TensorDataset(...train), { batchSize, shuffle: opts.shuffle ?? true, generator: gen });
    const valLoader = val ? new DataLoader(new TensorDataset(...val), { batchSize }) : null;
    const fns = this.stepFns();
    const verbose = opts.verbose ?? 1;
    const callbacks = [...(opts.callbacks ?? [])];
    if (verbose > 0) callbacks.push(new ProgressBar({ verbose, epochs, stepsPerEpoch: loader.length }));
    this.stopTraining = false;
    return fitLoop({
      ...fns,
      optimizer: this.optimizer!,
      train: () => loader as Batches,
      validation: valLoader ? () => valLoader as Batches : undefined,
      epochs,
      initialEpoch: opts.initialEpoch,
      metrics: () => this.makeMetrics(),
      callbacks,
      clipNorm: opts.clipNorm,
      classWeight: opts.classWeight,
      saveCheckpoint: (dir, extra) => this.save(dir, extra),
    });
  }

  /**
   * Save the model (layer config + weights, and the optimizer state once compiled and trained) as a
   * checkpoint directory; keras.loadModel(dir) rebuilds it.
   */
  async save(dir: string, trainerState?: Record<string, unknown>): Promise<void> {
    await saveCheckpoint(dir, {
      model: this.net,
      optimizer: this.optimizer ?? undefined,
      config: { type: 'keras.Sequential', inputShape: this.shapes[0]?.inputShape, ...this.getConfig() },
      trainerState,
    });
  }

  /**
   * Loss and metrics on x, y as a dict, e.g. { loss: 0.07, accuracy: 0.98 } (Keras' return_dict=True).
   * As in Keras the loss includes the regularization penalty and is weighted by sampleWeight.
   */
  async evaluate(x: Tensor, y: Tensor, opts: { batchSize?: number; sampleWeight?: Tensor } = {}): Promise<Logs> {
    this.ensureReady(x, 'evaluate');
    const sw = opts.sampleWeight;
    if (sw && sw.size !== x.shape[0]) throw new Error(`evaluate: sampleWeight ${fmtShape(sw.shape)} has ${sw.size} values for ${x.shape[0]} samples`);
    const loader = new DataLoader(new TensorDataset(...(sw ? [x, y, reshape(sw, [-1])] : [x, y])), { batchSize: opts.batchSize ?? 32 });
    return evaluateLoop({ ...this.stepFns(), batches: loader as Batches, metrics: this.makeMetrics() });
  }

  /** Model outputs for x in batches (eval mode, no gradients). */
  predict(x: Tensor, opts: { batchSize?: number } = {}): Tensor {
    this.build(x.shape.slice(1));
    const net = this.net;
    const bs = opts.batchSize ?? 32;
    const wasTraining = net.training;
    net.eval();
    try {
      return noGrad(() =>
        scope(() => {
          const outs: Tensor[] = [];
          for (let i = 0; i < x.shape[0]; i += bs) outs.push(net.forward(narrow(x, 0, i, Math.min(bs, x.shape[0] - i))));
          return concat(outs, 0);
        }),
      );
    } finally {
      net.train(wasTraining);
    }
  }

  /** Parameters of the built model. */
  parameters() {
    return this.net.parameters();
  }

  countParams(): number {
    return this.net.numParams();
  }

  /** A Keras-style table of layers, output shapes and parameter counts; printed unless print is false. */
  summary(opts: { print?: boolean } = {}): string {
    this.build();
    const rows: [string, string, string][] = [];
    let total = 0;
    for (const { layer, built } of this.shapes) {
      if (built.modules.length === 0 && layer.constructor.name === 'Input') continue;
      const n = built.modules.reduce((s, m) => s + m.numParams(), 0);
      total += n;
      rows.push([`${layer.name} (${layer.constructor.name})`, `(None, ${built.outputShape.join(', ')})`, n.toLocaleString('en-US')]);
    }
    const head: [string, string, string] = ['Layer (type)', 'Output Shape', 'Param #'];
    const w = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)) + 2);
    const line = (r: [string, string, string]) => r[0].padEnd(w[0]) + r[1].padEnd(w[1]) + r[2].padStart(w[2]);
    const rule = (c: string) => c.repeat(w[0] + w[1] + w[2]);
    const trainable = this.net
      .parameters()
      .filter((p) => p.requiresGrad)
      .reduce((s, p) => s + p.size, 0);
    const text = [
      `Model: "${this.name}"`,
      rule('─'),
      line(head),
      rule('═'),
      ...rows.map(line),
      rule('═'),
      `Total params: ${total.toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${(total - trainable).toLocaleString('en-US')}`,
    ].join('\n');
    if (opts.print ?? true) console.log(text);
    return text;
  }

  getConfig() {
    return { name: this.name, layers: this.layers.map((l) => l.getConfig()) };
  }
}

const EPS = 1e-7; // Keras' backend epsilon, as in losses.ts

/** [N, ...] per-element losses -> [N], the mean over everything but the batch dim. */
function bySample(l: Tensor): Tensor {
  return l.ndim <= 1 ? l : mean(reshape(l, [l.shape[0], -1]), -1);
}

/**
 * The training loss per sample ([N]) for a Keras loss name: the same formulas as
 * losses.ts lossFunction, before the batch mean (its mean over the batch equals that loss).
 */
function sampleLossFunction(name: LossName, fromLogits: boolean): (out: Tensor, y: Tensor) => Tensor {
  const like = (y: Tensor, out: Tensor) => cast(y.shape.length === out.shape.length ? y : reshape(y, out.shape), out.dtype);
  switch (name) {
    case 'sparse_categorical_crossentropy':
      return (out, y) => {
        let t = y.ndim === out.ndim && y.shape[y.ndim - 1] === 1 ? squeeze(y, -1) : y;
        if (t.ndim !== out.ndim - 1) throw new Error(`sparse_categorical_crossentropy: labels ${fmtShape(y.shape)} do not fit predictions ${fmtShape(out.shape)}`);
        t = cast(t, 'int32');
        if (fromLogits) {
          // Keras puts classes last; crossEntropy wants them in dim 1.
          const logits = out.ndim > 2 ? permute(out, [0, out.ndim - 1, ...Array.from({ length: out.ndim - 2 }, (_, i) => i + 1)]) : out;
          return bySample(F.crossEntropy(logits, t, { reduction: 'none' }));
        }
        const p = clamp(div(out, sum(out, -1, true)), EPS, 1 - EPS);
        return bySample(neg(squeeze(gather(log(p), -1, unsqueeze(t, -1)), -1)));
      };
    case 'categorical_crossentropy':
      return (out, y) => {
        const yf = cast(y, out.dtype);
        const logp = fromLogits ? logSoftmax(out, -1) : log(clamp(div(out, sum(out, -1, true)), EPS, 1 - EPS));
        return bySample(neg(sum(mul(yf, logp), -1)));
      };
    case 'binary_crossentropy':
      return (out, y) =>
        bySample(
          fromLogits ? F.binaryCrossEntropyWithLogits(out, like(y, out), { reduction: 'none' }) : F.binaryCrossEntropy(clamp(out, EPS, 1 - EPS), like(y, out), { reduction: 'none' }),
        );
    case 'mean_squared_error':
      return (out, y) => bySample(F.mseLoss(out, like(y, out), { reduction: 'none' }));
    case 'mean_absolute_error':
      return (out, y) => bySample(F.l1Loss(out, like(y, out), { reduction: 'none' }));
    case 'huber':
      return (out, y) => bySample(F.smoothL1Loss(out, like(y, out), { reduction: 'none' }));
  }
}

/** Rebuild a keras.Sequential saved with model.save(dir) (compile it again before fit/evaluate). */
export async function loadModel(dir: string): Promise<Sequential> {
  const ck = await loadCheckpoint(dir);
  if (ck.config.type !== 'keras.Sequential') throw new Error(`loadModel: ${dir} holds a '${String(ck.config.type)}' model, not a keras.Sequential`);
  const model = new Sequential((ck.config.layers as LayerConfig[]).map(layerFromConfig), String(ck.config.name ?? 'sequential'));
  model.build(ck.config.inputShape as number[] | undefined);
  model.module!.loadStateDict(ck.stateDict);
  for (const t of Object.values(ck.stateDict)) t.dispose();
  return model;
}
