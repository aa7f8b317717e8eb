// keras.Sequential: compile / fit / evaluate / predict / summary over an nn.Sequential of the same
// modules PyTorch users build, trained by the shared loop (train/loop.ts).

import type { Tensor } from '../tensor/tensor.js';
import { Sequential as NnSequential, Softmax, Sigmoid } from '../nn/index.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Layer, type Built, type Regularizer } from './layers.js';
import { lossFunction, resolveLossName, type LossFn, type LossName } from './losses.js';
import { makeOptimizer, type OptimizerSpec } from './optimizers.js';
import { fitLoop, evaluateLoop, type Batches, type StepFns } from '../train/loop.js';
import { ProgressBar } from '../train/progress.js';
import type { Callback, History, Logs } from '../train/callbacks.js';
import { getMetric, type Metric } from '../train/metrics.js';
import { TensorDataset, DataLoader } from '../data/index.js';
import { Generator, defaultGenerator } from '../ops/random.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { add, mul } from '../ops/binary.js';
import { abs } from '../ops/unary.js';
import { sum } from '../ops/reduce.js';
import { concat, narrow } from '../ops/movement.js';
import { fmtShape } from '../tensor/shape.js';
import { saveCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { layerFromConfig, type LayerConfig } from './layers.js';
import { Optimizer as OptimizerClass } from '../optim/optimizer.js';

export interface CompileOptions {
  optimizer?: string | OptimizerSpec | Optimizer;
  loss: string | LossFn;
  metrics?: (string | Metric | ((yTrue: Tensor, yPred: Tensor) => Tensor))[];
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the data, taken from the end before shuffling (as Keras), held out for validation. */
  validationSplit?: number;
  validationData?: [Tensor, Tensor];
  shuffle?: boolean;
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar (plain lines when not a TTY), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  initialEpoch?: number;
  /** Seed for shuffling and dropout; defaults to a draw from the global generator (manualSeed). */
  seed?: number;
  /** Clip the global gradient norm (Keras' optimizer clipnorm). */
  clipNorm?: number;
}

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

  constructor(layers: Layer[] = [], readonly name = 'sequential') {
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
    if (typeof opts.loss === 'function') { this.customLoss = opts.loss; this.lossName = null; }
    else { this.lossName = resolveLossName(opts.loss); this.customLoss = null; }
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
    const loss = custom ? (out: Tensor, y: Tensor) => custom(y, out) : lossFunction(this.lossName!, fused !== null);
    const penalties = this.penalties;
    return {
      module: net,
      forward,
      loss,
      toPrediction: fused ? (out) => fused.forward(out) : undefined,
      penalty: penalties.length ? () => penalties.reduce<Tensor | null>((acc, { weight, regularizer: r }) => {
        let p: Tensor | null = null;
        if (r.l1) p = mul(sum(abs(weight)), r.l1);
        if (r.l2) { const q = mul(sum(mul(weight, weight)), r.l2); p = p ? add(p, q) : q; }
        return acc && p ? add(acc, p) : (acc ?? p);
      }, null) : undefined,
    };
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
    this.ensureReady(x, 'fit');
    if (x.shape[0] !== y.shape[0]) throw new Error(`fit: x has ${x.shape[0]} samples but y has ${y.shape[0]}`);
    const epochs = opts.epochs ?? 1, batchSize = opts.batchSize ?? 32;
    let trainX = x, trainY = y, val = opts.validationData;
    if (!val && opts.validationSplit) {
      const split = opts.validationSplit;
      if (split <= 0 || split >= 1) throw new Error(`fit: validationSplit must be in (0, 1), got ${split}`);
      const nVal = Math.floor(x.shape[0] * split), nTrain = x.shape[0] - nVal;
      trainX = narrow(x, 0, 0, nTrain); trainY = narrow(y, 0, 0, nTrain);
      val = [narrow(x, 0, nTrain, nVal), narrow(y, 0, nTrain, nVal)];
    }
    const gen = new Generator(opts.seed ?? Math.floor(defaultGenerator.uniformArray(1)[0] * 2 ** 31));
    const loader = new DataLoader(new TensorDataset(trainX, trainY), { batchSize, shuffle: opts.shuffle ?? true, generator: gen });
    const valSet = val;
    const valLoader = valSet ? new DataLoader(new TensorDataset(valSet[0], valSet[1]), { batchSize }) : null;
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

  /** Loss and metrics on x, y as a dict, e.g. { loss: 0.07, accuracy: 0.98 } (Keras' return_dict=True). */
  async evaluate(x: Tensor, y: Tensor, opts: { batchSize?: number } = {}): Promise<Logs> {
    this.ensureReady(x, 'evaluate');
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: opts.batchSize ?? 32 });
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
      return noGrad(() => scope(() => {
        const outs: Tensor[] = [];
        for (let i = 0; i < x.shape[0]; i += bs) outs.push(net.forward(narrow(x, 0, i, Math.min(bs, x.shape[0] - i))));
        return concat(outs, 0);
      }));
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
    const trainable = this.net.parameters().filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
    const text = [
      `Model: "${this.name}"`, rule('─'), line(head), rule('═'),
      ...rows.map(line), rule('═'),
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
