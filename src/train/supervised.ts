// Training on (x, y) batches, as Keras does it: fitLoop and evaluateLoop configure the Trainer
// with a model's forward, a loss (per-sample and class weights, weight penalties) and metric
// objects. Keras fit/evaluate and `nabla train mnist` run through here.

import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { scope, dispose } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { detach } from '../autograd/tape.js';
import { tensor } from '../tensor/creation.js';
import { add, clamp, div, greaterEqual, less, logicalAnd, mul, where } from '../ops/binary.js';
import { cast, round } from '../ops/unary.js';
import { argmax, sum } from '../ops/reduce.js';
import { reshape, squeeze } from '../ops/movement.js';
import { indexSelect } from '../ops/indexing.js';
import { isFloat } from '../tensor/dtype.js';
import { fmtShape } from '../tensor/shape.js';
import type { History, Callback, Logs } from './callbacks.js';
import type { Metric } from '../metrics/stateful.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import { Trainer, readMetricLogs } from './trainer.js';

/**
 * A source of batches for one pass: each batch is [x, y] or [x, y, sampleWeight] (weights [N]);
 * the Trainer disposes them.
 */
export interface Batches {
  readonly length: number;
  [Symbol.iterator](): Iterator<Tensor[]>;
}

/** How a model is trained: its output for the loss, the loss, and what metrics see. */
export interface StepFns {
  module: Module;
  /** Model output the loss is computed on (logits when the final activation is fused into the loss). */
  forward(x: Tensor): Tensor;
  loss(output: Tensor, y: Tensor): Tensor;
  /**
   * The loss before the batch mean: one value per sample ([N], or [N, ...] averaged over the rest),
   * whose mean is loss(). Needed for sample and class weights.
   */
  sampleLoss?(output: Tensor, y: Tensor): Tensor;
  /** Output as metrics and predict() see it (e.g. softmax of logits); defaults to the output. */
  toPrediction?(output: Tensor): Tensor;
  /** Extra penalty added to the training loss (L1/L2 weight regularizers). */
  penalty?(): Tensor | null;
}

/**
 * Options of {@link fitLoop}, the Trainer configured for (x, y) batches as keras fit() and
 * `train mnist` use it: the step functions, the optimizer, the batches of each epoch (and of
 * validation), the number of epochs, metrics, callbacks, gradient clipping, a learning-rate
 * schedule, class weights and divergence detection.
 */
export interface FitLoopOptions extends StepFns {
  optimizer: Optimizer;
  /** Batches of one training epoch (called once per epoch so shuffling can differ). */
  train: (epoch: number) => Batches;
  validation?: () => Batches;
  epochs: number;
  initialEpoch?: number;
  /** Fresh metric objects for training and validation (called twice). */
  metrics?: () => Metric[];
  callbacks?: Callback[];
  /** Clip the global gradient norm to this value before each step. */
  clipNorm?: number;
  /** A learning-rate schedule stepped after every optimizer step (e.g. a cosine decay over the run). */
  scheduler?: LRScheduler;
  /**
   * Weight of each class in the training loss (Keras' class_weight), e.g. { 0: 1, 1: 5 }; classes
   * left out weigh 1. Each sample's loss is multiplied by its class's weight (and by the batch's
   * sample weights, when given) and the batch loss is the sum divided by the batch size. Needs
   * `sampleLoss`. Validation is not weighted by class.
   */
  classWeight?: ClassWeight;
  saveCheckpoint?: (dir: string, extra?: Record<string, unknown>) => Promise<void>;
  /** Stop when the loss exceeds this many times its first value (see LossGuard); default: only a non-finite loss stops. */
  divergence?: number;
}

/** Class index → weight, as a record ({ 0: 1, 1: 5 }) or an array indexed by class. */
export type ClassWeight = Readonly<Record<number, number>> | readonly number[];

/** The table of class weights: entry c for class c, 1 for classes not mentioned. */
function classWeightTable(cw: ClassWeight): Float32Array {
  const entries = Array.isArray(cw) ? cw.map((w, c) => [c, w] as [number, number]) : Object.entries(cw).map(([k, w]) => [Number(k), w] as [number, number]);
  let n = 0;
  for (const [c, w] of entries) {
    if (!Number.isInteger(c) || c < 0) throw new Error(`classWeight: keys must be class indices (non-negative integers), got '${c}'`);
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new Error(`classWeight: the weight of class ${c} must be a finite number, got ${String(w)}`);
    n = Math.max(n, c + 1);
  }
  const table = new Float32Array(n).fill(1);
  for (const [c, w] of entries) table[c] = w;
  return table;
}

/**
 * Per-sample weights [N] from labels and class weights, as Keras turns class_weight into sample
 * weights: one-hot rows [N, C] give their argmax, [N] or [N, 1] labels are rounded to integers;
 * classes outside the table weigh 1.
 * @example classSampleWeights(nb.tensor([0, 1, 1], { dtype: 'int32' }), { 1: 5 }) // [1, 5, 5]
 */
export function classSampleWeights(y: Tensor, classWeight: ClassWeight): Tensor {
  const table = classWeightTable(classWeight);
  let labels = y;
  if (labels.ndim >= 2 && labels.shape[labels.ndim - 1] !== 1) labels = argmax(labels, -1);
  else if (labels.ndim >= 2) labels = squeeze(labels, -1);
  if (labels.ndim !== 1) throw new Error(`classWeight: labels ${fmtShape(y.shape)} are not one class per sample ([N], [N, 1] or one-hot [N, C])`);
  const idx = cast(isFloat(labels.dtype) ? round(labels) : labels, 'int32');
  if (table.length === 0) return tensor(new Float32Array(idx.shape[0]).fill(1), { device: y.device });
  const t = tensor(table, { device: y.device });
  const w = indexSelect(t, 0, clamp(idx, 0, table.length - 1));
  return where(logicalAnd(greaterEqual(idx, 0), less(idx, table.length)), w, 1);
}

/**
 * Keras' weighted loss reduction: Σ loss·w / count (sum over the batch divided by its size, not by
 * the total weight). `perSample` is [N] or [N, ...]; the weights [N] (or [N, 1]) broadcast.
 */
export function weightedMeanLoss(perSample: Tensor, weights: Tensor): Tensor {
  const n = perSample.shape[0];
  if (perSample.ndim === 0 || weights.size !== n) {
    throw new Error(`weightedMeanLoss: ${weights.size} weights ${fmtShape(weights.shape)} for per-sample losses ${fmtShape(perSample.shape)}; expected one weight per sample`);
  }
  const w = reshape(cast(weights, perSample.dtype), [n, ...perSample.shape.slice(1).map(() => 1)]);
  return div(sum(mul(perSample, w)), perSample.size);
}

/** The batch loss: the plain mean, or the weighted one when the batch has sample or class weights. */
function batchLoss(o: StepFns, out: Tensor, y: Tensor, sampleWeight: Tensor | undefined, classWeight: ClassWeight | undefined, op: string): Tensor {
  if (!sampleWeight && !classWeight) return o.loss(out, y);
  if (!o.sampleLoss) throw new Error(`${op}: sample or class weights need a per-sample loss (StepFns.sampleLoss)`);
  let w = sampleWeight;
  if (classWeight) {
    const cw = classSampleWeights(y, classWeight);
    w = w ? mul(reshape(cast(w, 'float32'), [-1]), cw) : cw;
  }
  return weightedMeanLoss(o.sampleLoss(out, y), w!);
}

/** Train for `epochs` epochs, calling callbacks like Keras does; returns the History. */
export async function fitLoop(o: FitLoopOptions): Promise<History> {
  const trainMetrics = o.metrics?.() ?? [];
  const valMetrics = o.metrics?.() ?? [];
  const trainer = new Trainer<Tensor[]>({
    module: o.module,
    optimizer: o.optimizer,
    trainStep: ([x, y, sw]) => {
      const out = o.forward(x);
      const l = batchLoss(o, out, y, sw, o.classWeight, 'fitLoop');
      noGrad(() => {
        const pred = o.toPrediction ? o.toPrediction(detach(out)) : detach(out);
        for (const m of trainMetrics) m.updateState(y, pred);
      });
      const pen = o.penalty?.();
      return pen ? add(l, pen) : l;
    },
    data: o.train,
    batchWeight: ([x]) => x.shape[0],
    epochs: o.epochs,
    initialEpoch: o.initialEpoch,
    clipNorm: o.clipNorm,
    scheduler: o.scheduler,
    divergence: o.divergence,
    metrics: trainMetrics,
    evaluate: o.validation ? () => evaluateLoop({ ...o, batches: o.validation!(), metrics: valMetrics, prefix: 'val_' }) : undefined,
    callbacks: o.callbacks,
    saveCheckpoint: o.saveCheckpoint,
  });
  try {
    return await trainer.fit();
  } finally {
    for (const m of valMetrics) m.resetState();
  }
}

/** Options of {@link evaluateLoop}: the step functions, the batches and the metric objects. */
export interface EvaluateLoopOptions extends StepFns {
  batches: Batches;
  metrics?: Metric[];
  /** Put before every name in the logs (fit's validation: 'val_'). */
  prefix?: string;
}

/**
 * Loss and metrics over all batches, in eval mode and without the tape. As in Keras, the loss
 * includes the weight penalty and a batch's sample weights ([x, y, sampleWeight]).
 */
export async function evaluateLoop(o: EvaluateLoopOptions): Promise<Logs> {
  const wasTraining = o.module.training;
  o.module.eval();
  const metrics = o.metrics ?? [];
  for (const m of metrics) m.resetState();
  let lossSum = 0,
    seen = 0;
  try {
    for (const batch of o.batches) {
      const [x, y, sw] = batch;
      const lossT = noGrad(() =>
        scope(() => {
          const out = o.forward(x);
          const pred = o.toPrediction ? o.toPrediction(out) : out;
          for (const m of metrics) m.updateState(y, pred);
          const l = batchLoss(o, out, y, sw, undefined, 'evaluateLoop');
          const pen = o.penalty?.();
          return pen ? add(l, pen) : l;
        }),
      );
      lossSum += (await lossT.data())[0] * x.shape[0];
      seen += x.shape[0];
      lossT.dispose();
      dispose(batch);
    }
  } finally {
    o.module.train(wasTraining);
  }
  const prefix = o.prefix ?? '';
  return { [`${prefix}loss`]: seen ? lossSum / seen : NaN, ...(await readMetricLogs(metrics, prefix)) };
}
