// The MNIST task behind `nabla train mnist` and `nabla eval mnist`: data, model, loop, checkpoint.

import type { Tensor } from '../tensor/tensor.js';
import { narrow } from '../ops/movement.js';
import { manualSeed, Generator } from '../ops/random.js';
import { MLP, MLP_PRESETS, type MLPConfig } from '../models/mlp.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../nn/functional.js';
import { SGD, Adam, AdamW, RMSprop, type Optimizer } from '../optim/index.js';
import { CosineAnnealingLR } from '../optim/lr-scheduler.js';
import { loadMnist, TensorDataset, DataLoader } from '../data/index.js';
import { fitLoop, evaluateLoop, type Batches } from './loop.js';
import { Callback, type Logs } from './callbacks.js';
import { getMetric } from './metrics.js';
import { saveCheckpoint, loadCheckpoint } from '../io/checkpoint.js';

export interface MnistTrainOptions {
  model?: 'mlp';
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: 'adam' | 'adamw' | 'sgd' | 'rmsprop';
  seed?: number;
  /** Training images held out for validation (taken from the end of the training set). */
  valSize?: number;
  /** Use only the first N training images (quick runs and tests). */
  limit?: number;
  /** Use only the first N test images. */
  testLimit?: number;
  /** Directory to save the final checkpoint to. */
  save?: string;
  /** Callbacks for progress output (the CLI adds its bar or JSON lines). */
  callbacks?: Callback[];
  /** Model settings (hidden sizes, dropout). */
  mlp?: Partial<MLPConfig>;
}

export const MNIST_DEFAULTS = {
  model: 'mlp', epochs: 8, batchSize: 128, lr: 1e-3, optimizer: 'adam', seed: 42, valSize: 5000,
} as const;

export interface MnistResult {
  model: Module;
  history: Record<string, number[]>;
  test: { loss: number; accuracy: number };
  seconds: number;
}

export function makeOptimizer(name: string, params: Module['parameters'] extends () => infer P ? P : never, lr: number): Optimizer {
  switch (name) {
    case 'adam': return new Adam(params, { lr });
    case 'adamw': return new AdamW(params, { lr });
    case 'sgd': return new SGD(params, { lr, momentum: 0.9 });
    case 'rmsprop': return new RMSprop(params, { lr });
    default: throw new Error(`unknown optimizer '${name}', expected adam, adamw, sgd or rmsprop`);
  }
}

/** Steps a torch-style scheduler after every batch (the cosine decay spans the whole run). */
class StepPerBatch extends Callback {
  constructor(private readonly sched: { step(): void }) { super(); }
  override onBatchEnd(): void { this.sched.step(); }
}

function batches(x: Tensor, y: Tensor, batchSize: number, generator?: Generator): Batches {
  return new DataLoader(new TensorDataset(x, y), { batchSize, shuffle: !!generator, generator }) as unknown as Batches;
}

/** Train the MNIST classifier; returns the model, its history and the test figures. */
export async function trainMnist(opts: MnistTrainOptions = {}): Promise<MnistResult> {
  const o = { ...MNIST_DEFAULTS, ...opts };
  if (o.model !== 'mlp') throw new Error(`train mnist: unknown model '${o.model}' (available: mlp)`);
  const start = performance.now();
  manualSeed(o.seed);
  const train = await loadMnist({ train: true, limit: o.limit });
  const test = await loadMnist({ train: false, limit: o.testLimit });
  const n = train.x.shape[0];
  const valSize = Math.min(o.valSize, Math.floor(n / 10));
  const xTrain = narrow(train.x, 0, 0, n - valSize), yTrain = narrow(train.y, 0, 0, n - valSize);
  const xVal = narrow(train.x, 0, n - valSize, valSize), yVal = narrow(train.y, 0, n - valSize, valSize);
  const config: MLPConfig = { ...MLP_PRESETS.mnist, ...(o.mlp ?? {}) };
  const model = new MLP(config);
  const optimizer = makeOptimizer(o.optimizer, model.parameters(), o.lr);
  const loader = batches(xTrain, yTrain, o.batchSize, new Generator(o.seed + 1));
  const sched = new CosineAnnealingLR(optimizer, o.epochs * loader.length);
  const fns = {
    module: model,
    forward: (x: Tensor) => model.forward(x),
    loss: (out: Tensor, y: Tensor) => crossEntropy(out, y),
  };
  const history = await fitLoop({
    ...fns,
    optimizer,
    train: () => loader,
    validation: valSize > 0 ? () => batches(xVal, yVal, 1000) : undefined,
    epochs: o.epochs,
    metrics: () => [getMetric('accuracy', 'sparse_categorical_crossentropy')],
    callbacks: [new StepPerBatch(sched), ...(o.callbacks ?? [])],
  });
  const testLogs = await evaluateLoop({ ...fns, batches: batches(test.x, test.y, 1000), metrics: [getMetric('accuracy', 'sparse_categorical_crossentropy')] });
  if (o.save) {
    await saveCheckpoint(o.save, {
      model, optimizer,
      config: { type: 'mlp', task: 'mnist', ...config },
      trainerState: { epoch: o.epochs, options: { ...o, callbacks: undefined }, test: testLogs },
    });
  }
  for (const t of [train.x, train.y, test.x, test.y]) t.dispose();
  return {
    model,
    history: history.history,
    test: { loss: testLogs.loss, accuracy: testLogs.accuracy },
    seconds: (performance.now() - start) / 1000,
  };
}

/** Evaluate a saved MNIST checkpoint on the test set. */
export async function evalMnist(dir: string, opts: { testLimit?: number } = {}): Promise<Logs & { loss: number; accuracy: number }> {
  const ckpt = await loadCheckpoint(dir);
  if (ckpt.config.type !== 'mlp') throw new Error(`eval mnist: ${dir} holds a '${String(ckpt.config.type)}' model, expected 'mlp'`);
  const { format: _f, version: _v, type: _t, task: _k, ...cfg } = ckpt.config;
  const model = new MLP(cfg as Partial<MLPConfig>);
  model.loadStateDict(ckpt.stateDict);
  const test = await loadMnist({ train: false, limit: opts.testLimit });
  const logs = await evaluateLoop({
    module: model,
    forward: (x) => model.forward(x),
    loss: (out, y) => crossEntropy(out, y),
    batches: batches(test.x, test.y, 1000),
    metrics: [getMetric('accuracy', 'sparse_categorical_crossentropy')],
  });
  test.x.dispose(); test.y.dispose();
  return logs as Logs & { loss: number; accuracy: number };
}
