// The MNIST recipe behind `nabla train mnist` and `nabla eval mnist`: data, model, the Trainer
// (through fitLoop, with a cosine schedule over the run), checkpoint.

import type { Tensor } from '../tensor/tensor.js';
import { narrow } from '../ops/movement.js';
import { manualSeed, Generator } from '../ops/random.js';
import { MLP, MLP_PRESETS, type MLPConfig } from '../models/mlp.js';
import { CNN, CNN_PRESETS, type CNNConfig } from '../models/cnn.js';
import { argmax } from '../ops/reduce.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../nn/functional.js';
import { SGD, Adam, AdamW, RMSprop, type Optimizer } from '../optim/index.js';
import { CosineAnnealingLR } from '../optim/lr-scheduler.js';
import { loadMnist, TensorDataset, DataLoader } from '../data/index.js';
import { fitLoop, evaluateLoop, type Batches } from '../train/supervised.js';
import { DIVERGENCE } from '../train/loss-guard.js';
import type { Callback } from '../train/callbacks.js';
import { getMetric } from '../metrics/stateful.js';
import { saveCheckpoint, loadCheckpoint, checkSaveTarget, lockCheckpoint } from '../io/checkpoint.js';
import { smokeCaps } from '../train/smoke.js';

export type MnistModel = 'mlp' | 'cnn';

/**
 * Options of {@link trainMnist} (the `nabla train mnist` recipe); unset fields take
 * `MNIST_DEFAULTS` (Adam, lr 1e-3, batch 128, seed 42, 5000 validation images).
 */
export interface MnistTrainOptions {
  /** 'mlp' (the articles' 784-512-10 network, the default) or 'cnn' (Conv-ReLU-Pool ×2 → Dense → Dense). */
  model?: MnistModel;
  /** Default: 8 for the MLP, 4 for the CNN. */
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
  /** MLP settings (hidden sizes, dropout). */
  mlp?: Partial<MLPConfig>;
  /** CNN settings (channels, hidden width, dropout). */
  cnn?: Partial<CNNConfig>;
}

export const MNIST_DEFAULTS = {
  model: 'mlp',
  epochs: 8,
  batchSize: 128,
  lr: 1e-3,
  optimizer: 'adam',
  seed: 42,
  valSize: 5000,
} as const;

/** Epochs by model when none are given: the CNN reaches 99% in fewer, slower epochs. */
export const MNIST_EPOCHS: Record<MnistModel, number> = { mlp: 8, cnn: 4 };

export const MNIST_MODELS: readonly MnistModel[] = ['mlp', 'cnn'];

/** Build the model a checkpoint config (or the options) names. */
function buildModel(type: string, cfg: Record<string, unknown>): MLP | CNN {
  if (type === 'mlp') return new MLP(cfg as Partial<MLPConfig>);
  if (type === 'cnn') return new CNN(cfg as Partial<CNNConfig>);
  throw new Error(`mnist: unknown model '${type}' (available: ${MNIST_MODELS.join(', ')})`);
}

/** A one-line description of the model, for progress output. */
export function describeMnistModel(model: MnistModel): string {
  if (model === 'cnn') {
    const {
      channels: [a, b],
      hidden,
    } = CNN_PRESETS.mnist;
    return `CNN (Conv${a}-ReLU-Pool, Conv${b}-ReLU-Pool, Dense ${hidden}, Dense 10)`;
  }
  return `${MLP_PRESETS.mnist.inputSize}-${MLP_PRESETS.mnist.hidden.join('-')}-${MLP_PRESETS.mnist.numClasses} MLP`;
}

export interface MnistResult {
  model: Module;
  history: Record<string, number[]>;
  test: { loss: number; accuracy: number };
  seconds: number;
}

export function makeOptimizer(name: string, params: Module['parameters'] extends () => infer P ? P : never, lr: number): Optimizer {
  switch (name) {
    case 'adam':
      return new Adam(params, { lr });
    case 'adamw':
      return new AdamW(params, { lr });
    case 'sgd':
      return new SGD(params, { lr, momentum: 0.9 });
    case 'rmsprop':
      return new RMSprop(params, { lr });
    default:
      throw new Error(`unknown optimizer '${name}', expected adam, adamw, sgd or rmsprop`);
  }
}

function batches(x: Tensor, y: Tensor, batchSize: number, generator?: Generator): Batches {
  return new DataLoader(new TensorDataset(x, y), { batchSize, shuffle: !!generator, generator }) as unknown as Batches;
}

/** Train the MNIST classifier; returns the model, its history and the test figures. */
export async function trainMnist(opts: MnistTrainOptions = {}): Promise<MnistResult> {
  opts = smokeCaps('train mnist', opts); // NABLA_SMOKE=1: a few seconds
  const model0: MnistModel = opts.model ?? MNIST_DEFAULTS.model;
  if (!MNIST_MODELS.includes(model0)) throw new Error(`train mnist: unknown model '${model0}' (available: ${MNIST_MODELS.join(', ')})`);
  const o = { ...MNIST_DEFAULTS, ...opts, model: model0, epochs: opts.epochs ?? MNIST_EPOCHS[model0] };
  if (o.save) await checkSaveTarget(o.save, 'train mnist --save'); // before any work, not after it
  const release = o.save ? lockCheckpoint(o.save, 'train mnist --save') : null;
  try {
    return await run(o);
  } finally {
    release?.();
  }
}

/** The options with every default filled in. */
type MnistRun = MnistTrainOptions & Required<Pick<MnistTrainOptions, 'model' | 'epochs' | 'batchSize' | 'lr' | 'optimizer' | 'seed' | 'valSize'>>;

async function run(o: MnistRun): Promise<MnistResult> {
  const start = performance.now();
  manualSeed(o.seed);
  const train = await loadMnist({ train: true, limit: o.limit });
  const test = await loadMnist({ train: false, limit: o.testLimit });
  const n = train.x.shape[0];
  const valSize = Math.min(o.valSize, Math.floor(n / 10));
  const xTrain = narrow(train.x, 0, 0, n - valSize),
    yTrain = narrow(train.y, 0, 0, n - valSize);
  const xVal = narrow(train.x, 0, n - valSize, valSize),
    yVal = narrow(train.y, 0, n - valSize, valSize);
  const config: MLPConfig | CNNConfig = o.model === 'cnn' ? { ...CNN_PRESETS.mnist, ...(o.cnn ?? {}) } : { ...MLP_PRESETS.mnist, ...(o.mlp ?? {}) };
  const model = buildModel(o.model, config as unknown as Record<string, unknown>);
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
    scheduler: sched, // stepped after every batch: the cosine decay spans the whole run
    callbacks: o.callbacks,
    divergence: DIVERGENCE,
  });
  const testLogs = await evaluateLoop({ ...fns, batches: batches(test.x, test.y, 1000), metrics: [getMetric('accuracy', 'sparse_categorical_crossentropy')] });
  if (o.save) {
    await saveCheckpoint(o.save, {
      model,
      optimizer,
      config: { type: o.model, task: 'mnist', ...config },
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

export interface MnistEvalResult {
  loss: number;
  accuracy: number;
  /** Which model the checkpoint holds. */
  model: MnistModel;
  /** Per test image: the true and the predicted digit. */
  labels: Int32Array;
  predictions: Int32Array;
}

/** Evaluate a saved MNIST checkpoint on the test set: loss, accuracy, and every prediction. */
export async function evalMnist(dir: string, opts: { testLimit?: number } = {}): Promise<MnistEvalResult> {
  const ckpt = await loadCheckpoint(dir);
  const { type, task, model_type: hf } = ckpt.config;
  if (typeof type !== 'string' || !(MNIST_MODELS as readonly string[]).includes(type) || task !== 'mnist') {
    const found =
      typeof hf === 'string'
        ? `a Hugging Face '${hf}' model (config.json model_type), e.g. a language model: evaluate it with \`nabla eval DIR --text FILE\``
        : typeof type === 'string'
          ? `a '${type}' model${typeof task === 'string' ? ` for task '${task}'` : ''}`
          : 'a model config.json does not name (no type or model_type)';
    throw new Error(`eval mnist: ${dir} holds ${found}; expected an MNIST checkpoint (${MNIST_MODELS.join(' or ')}, written by \`nabla train mnist --save\`)`);
  }
  const { format: _f, version: _v, type: _t, task: _k, ...cfg } = ckpt.config;
  const model = buildModel(type, cfg);
  model.loadStateDict(ckpt.stateDict);
  const test = await loadMnist({ train: false, limit: opts.testLimit });
  // One pass: the summed loss and the predicted digit of every image.
  const n = test.x.shape[0];
  const predictions = new Int32Array(n);
  let lossSum = 0;
  model.eval();
  for (let i = 0; i < n; i += 1000) {
    const len = Math.min(1000, n - i);
    const [l, p] = noGrad(() =>
      scope(() => {
        const out = model.forward(narrow(test.x, 0, i, len));
        return [crossEntropy(out, narrow(test.y, 0, i, len), { reduction: 'sum' }), argmax(out, -1)];
      }),
    );
    lossSum += (await l.data())[0];
    predictions.set((await p.data()) as Int32Array, i);
    l.dispose();
    p.dispose();
  }
  const labels = Int32Array.from(await test.y.data());
  test.x.dispose();
  test.y.dispose();
  const correct = labels.reduce((c, y, i) => c + (y === predictions[i] ? 1 : 0), 0);
  const logs = { loss: lossSum / n, accuracy: correct / n };
  return { loss: logs.loss, accuracy: logs.accuracy, model: type as MnistModel, labels, predictions };
}
