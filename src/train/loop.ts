// The one training loop: Keras fit(), the CLI and the examples all run epochs through here.

import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { scope, dispose } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { detach } from '../autograd/tape.js';
import { add } from '../ops/binary.js';
import { History, type Callback, type Logs, type TrainerHandle } from './callbacks.js';
import type { Metric } from './metrics.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';

/** A source of batches for one pass: each batch is [x, y] (the loop disposes them). */
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
  /** Output as metrics and predict() see it (e.g. softmax of logits); defaults to the output. */
  toPrediction?(output: Tensor): Tensor;
  /** Extra penalty added to the training loss (L1/L2 weight regularizers). */
  penalty?(): Tensor | null;
}

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
  saveCheckpoint?: (dir: string, extra?: Record<string, unknown>) => Promise<void>;
}

/** Training stopped because the loss stopped being a finite number. */
export class NonFiniteLossError extends Error {
  constructor(readonly epoch: number, readonly step: number, readonly value: number) {
    super(`training stopped: the loss became ${value} at epoch ${epoch + 1}, step ${step + 1}; ` +
      'lower the learning rate, check the inputs for NaN/inf, or clip gradients');
    this.name = 'NonFiniteLossError';
  }
}

const METRIC_READ_MS = 250;

/** Train for `epochs` epochs, calling callbacks like Keras does; returns the History. */
export async function fitLoop(o: FitLoopOptions): Promise<History> {
  const history = new History();
  const callbacks = [history, ...(o.callbacks ?? [])];
  const handle: TrainerHandle = {
    module: o.module,
    optimizer: o.optimizer,
    stopTraining: false,
    saveCheckpoint: o.saveCheckpoint ?? (async () => { throw new Error('saveCheckpoint: this model cannot be checkpointed'); }),
  };
  for (const c of callbacks) c.setTrainer(handle);
  const trainMetrics = o.metrics?.() ?? [];
  const valMetrics = o.metrics?.() ?? [];
  for (const c of callbacks) await c.onTrainBegin({});
  let logs: Logs = {};
  try {
    for (let epoch = o.initialEpoch ?? 0; epoch < o.epochs && !handle.stopTraining; epoch++) {
      o.module.train();
      for (const c of callbacks) await c.onEpochBegin(epoch, {});
      for (const m of trainMetrics) m.resetState();
      let lossSum = 0, seen = 0, lastRead = 0;
      let metricLogs: Logs = {};
      let step = 0;
      for (const batch of o.train(epoch)) {
        const [x, y] = batch;
        for (const c of callbacks) await c.onBatchBegin(step, {});
        const n = x.shape[0];
        const lossT = scope(() => {
          const out = o.forward(x);
          const l = o.loss(out, y);
          const pen = o.penalty?.();
          const total = pen ? add(l, pen) : l;
          o.optimizer.zeroGrad();
          total.backward();
          if (o.clipNorm) clipGradNorm(o.module.parameters(), o.clipNorm);
          o.optimizer.step();
          noGrad(() => {
            const pred = o.toPrediction ? o.toPrediction(detach(out)) : detach(out);
            for (const m of trainMetrics) m.updateState(y, pred);
          });
          return detach(total);
        });
        const value = (await lossT.data())[0];
        lossT.dispose();
        dispose(batch);
        if (!Number.isFinite(value)) throw new NonFiniteLossError(epoch, step, value);
        lossSum += value * n;
        seen += n;
        const now = performance.now();
        if (trainMetrics.length && now - lastRead > METRIC_READ_MS) {
          lastRead = now;
          metricLogs = await readMetrics(trainMetrics, '');
        }
        const batchLogs = { loss: lossSum / seen, ...metricLogs };
        for (const c of callbacks) await c.onBatchEnd(step, batchLogs);
        step++;
      }
      logs = { loss: seen ? lossSum / seen : NaN, ...(await readMetrics(trainMetrics, '')) };
      if (o.validation) {
        const v = await evaluateLoop({ ...o, batches: o.validation(), metrics: valMetrics });
        for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
      }
      for (const c of callbacks) await c.onEpochEnd(epoch, logs);
    }
  } finally {
    for (const m of [...trainMetrics, ...valMetrics]) m.resetState();
  }
  for (const c of callbacks) await c.onTrainEnd(logs);
  return history;
}

async function readMetrics(metrics: Metric[], prefix: string): Promise<Logs> {
  const logs: Logs = {};
  for (const m of metrics) logs[prefix + m.name] = await m.result();
  return logs;
}

export interface EvaluateLoopOptions extends StepFns {
  batches: Batches;
  metrics?: Metric[];
}

/** Loss and metrics over all batches, in eval mode and without the tape. */
export async function evaluateLoop(o: EvaluateLoopOptions): Promise<Logs> {
  const wasTraining = o.module.training;
  o.module.eval();
  const metrics = o.metrics ?? [];
  for (const m of metrics) m.resetState();
  let lossSum = 0, seen = 0;
  try {
    for (const batch of o.batches) {
      const [x, y] = batch;
      const lossT = noGrad(() => scope(() => {
        const out = o.forward(x);
        const pred = o.toPrediction ? o.toPrediction(out) : out;
        for (const m of metrics) m.updateState(y, pred);
        return o.loss(out, y);
      }));
      lossSum += (await lossT.data())[0] * x.shape[0];
      seen += x.shape[0];
      lossT.dispose();
      dispose(batch);
    }
  } finally {
    o.module.train(wasTraining);
  }
  return { loss: seen ? lossSum / seen : NaN, ...(await readMetrics(metrics, '')) };
}

/** Model outputs over all batches (x only), concatenated on the host side into one tensor. */
export function predictLoop(o: { module: Module; forward(x: Tensor): Tensor; batches: Iterable<Tensor> }): Tensor[] {
  const wasTraining = o.module.training;
  o.module.eval();
  const outs: Tensor[] = [];
  try {
    for (const x of o.batches) {
      outs.push(noGrad(() => o.forward(x)));
    }
  } finally {
    o.module.train(wasTraining);
  }
  return outs;
}
