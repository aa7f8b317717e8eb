// The Trainer: the one training loop. Keras fit, `nabla train mnist`, `train gpt` and `finetune`
// are configurations of it (train/supervised.ts, src/recipes/).
//
// A step: for each of `gradAccum` batches, scope(trainStep → backward, scaled by 1/gradAccum), then
// gradient clipping, the optimizer step and the schedule's step. Losses stay on the device until a
// logged step (every `logEvery` steps, before an evaluation, at an epoch's end), where one `await`
// reads them all; the loss guard and the callbacks' onBatchEnd then run for each of those steps in
// order. Nothing reads synchronously, so the same loop runs on webgpu as on the CPU.

import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { scope, dispose } from '../tensor/memory.js';
import { detach } from '../autograd/tape.js';
import { div } from '../ops/binary.js';
import { stack } from '../ops/movement.js';
import { clipGrads } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import { History, type Callback, type Logs, type TrainerHandle } from './callbacks.js';
import type { Metric } from '../metrics/stateful.js';
import { LossGuard } from './loss-guard.js';

/**
 * How a {@link Trainer} trains: the model and optimizer, the loss of a batch, the batches, how long
 * (epochs and/or steps), and what happens around the steps (accumulation, clipping, a schedule,
 * metrics, evaluation, callbacks). `B` is whatever one batch is ([x, y] tensors, token windows, ...).
 */
export interface TrainerOptions<B> {
  module: Module;
  optimizer: Optimizer;
  /**
   * The loss of one batch, computed with the tape on inside a scope (so everything else it makes is
   * freed). Update stateful training metrics here, under noGrad.
   */
  trainStep(batch: B): Tensor;
  /**
   * The batches of one epoch, asked for at its start (so shuffling can differ per epoch). A run
   * measured in `steps` may give an endless iterable. Batches are pulled only when a step needs
   * them, and the trainer disposes the tensors of each after its step.
   */
  data(epoch: number): Iterable<B>;
  /** How much a batch's loss weighs in the epoch's mean loss (Keras: its number of samples); default 1. */
  batchWeight?(batch: B): number;
  /** Passes over the data; default 1, or as many as `steps` needs when that is given. */
  epochs?: number;
  /** Stop after this many optimizer steps in all (a resumed run counts the steps it had). */
  steps?: number;
  /** Epoch to start at (Keras' initial_epoch). */
  initialEpoch?: number;
  /** Batches whose gradients add up before each optimizer step (default 1). */
  gradAccum?: number;
  /** Clip the global gradient norm to this value before each step (0 or unset: no clipping). */
  clipNorm?: number;
  /** A learning-rate schedule stepped after every optimizer step. */
  scheduler?: LRScheduler;
  /** Stop when the loss exceeds this many times its first value (see LossGuard); default: only a non-finite loss stops. */
  divergence?: number;
  /** Read the losses from the device every N steps, in one read (default 1); the callbacks' onBatchEnd run then. */
  logEvery?: number;
  /** Training metrics: reset at each epoch's start, read into the batch logs a few times a second and into the epoch logs. */
  metrics?: Metric[];
  /** Evaluation, e.g. validation loss and metrics: its logs go to onEvaluate and into the epoch's logs. */
  evaluate?(): Promise<Logs>;
  /** Evaluate every N steps and at the last step (default: at each epoch's end). */
  evalEvery?: number;
  callbacks?: Callback[];
  /** Lets callbacks (ModelCheckpoint) write a checkpoint of the model. */
  saveCheckpoint?(dir: string, extra?: Record<string, unknown>): Promise<void>;
}

/** How often training metrics are read to the host for the batch logs. */
const METRIC_READ_MS = 250;

/** A step whose losses are still on the device. */
interface PendingStep {
  batch: number;
  losses: Tensor[];
  weights: number[];
}

/**
 * The training loop: steps over the batches of each epoch with gradient accumulation, clipping, a
 * learning-rate schedule and the loss guard, evaluation every N steps or per epoch, and Keras-style
 * callbacks (checkpoints, progress, early stopping, sampling) around it. It is also the
 * {@link TrainerHandle} the callbacks see.
 * @example
 * const trainer = new Trainer({
 *   module: model, optimizer, epochs: 3,
 *   data: () => loader,
 *   trainStep: ([x, y]) => nn.functional.crossEntropy(model.forward(x), y),
 * });
 * const history = await trainer.fit();
 */
export class Trainer<B = Tensor[]> implements TrainerHandle {
  readonly module: Module;
  readonly optimizer: Optimizer;
  readonly history = new History();
  stopTraining = false;
  step = 0;
  epoch = 0;
  stepLoss = NaN;
  private readonly callbacks: Callback[];

  constructor(private readonly o: TrainerOptions<B>) {
    this.module = o.module;
    this.optimizer = o.optimizer;
    this.callbacks = [this.history, ...(o.callbacks ?? [])];
    for (const c of this.callbacks) c.setTrainer(this);
  }

  /** Write a checkpoint of the model through the `saveCheckpoint` option (what ModelCheckpoint calls). */
  async saveCheckpoint(dir: string, extra?: Record<string, unknown>): Promise<void> {
    if (!this.o.saveCheckpoint) throw new Error('saveCheckpoint: this model cannot be checkpointed');
    await this.o.saveCheckpoint(dir, extra);
  }

  /** Train until the epochs or steps are done or a callback stops it; returns the History of epoch logs. */
  async fit(): Promise<History> {
    const o = this.o;
    const steps = o.steps ?? Infinity,
      epochs = o.epochs ?? (o.steps !== undefined ? Infinity : 1);
    const guard = new LossGuard({ divergence: o.divergence });
    this.stopTraining = false;
    for (const c of this.callbacks) await c.onTrainBegin({});
    let logs: Logs = {};
    try {
      const first = o.initialEpoch ?? 0;
      for (let epoch = first; epoch < epochs && this.step < steps && !this.stopTraining; epoch++) {
        this.epoch = epoch;
        this.module.train();
        for (const c of this.callbacks) await c.onEpochBegin(epoch, {});
        for (const m of o.metrics ?? []) m.resetState();
        // A resumed run (a callback set `step`) continues the batch count of its first epoch.
        logs = await this.runEpoch(epoch, epoch === first ? this.step : 0, steps, guard);
        if (o.evaluate && !o.evalEvery) Object.assign(logs, await this.evaluate());
        for (const c of this.callbacks) await c.onEpochEnd(epoch, logs);
      }
    } finally {
      for (const m of o.metrics ?? []) m.resetState();
    }
    for (const c of this.callbacks) await c.onTrainEnd(logs);
    return this.history;
  }

  /** Run the evaluation now and give its logs to the callbacks' onEvaluate (checkpoints, samples, reports). */
  async evaluate(): Promise<Logs> {
    const logs = (await this.o.evaluate?.()) ?? {};
    for (const c of this.callbacks) await c.onEvaluate(this.step, logs);
    return logs;
  }

  /** One epoch's steps; returns its logs (mean loss, metrics). */
  private async runEpoch(epoch: number, batch: number, steps: number, guard: LossGuard): Promise<Logs> {
    const o = this.o;
    const accum = o.gradAccum ?? 1,
      logEvery = o.logEvery ?? 1,
      metrics = o.metrics ?? [];
    let lossSum = 0,
      weightSum = 0,
      lastRead = 0;
    let metricLogs: Logs = {};
    let pending: PendingStep[] = [];
    // One read for all pending losses; then, step by step, the guard and the batch callbacks.
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const steps = pending;
      pending = [];
      const values = await readLosses(steps.flatMap((p) => p.losses));
      let i = 0;
      for (const p of steps) {
        let sum = 0,
          weight = 0;
        for (const w of p.weights) {
          const v = values[i++];
          guard.check(v, epoch, p.batch);
          sum += v * w;
          weight += w;
          lossSum += v * w;
          weightSum += w;
        }
        this.stepLoss = sum / weight;
        const now = performance.now();
        if (metrics.length && now - lastRead > METRIC_READ_MS) {
          lastRead = now;
          metricLogs = await readMetricLogs(metrics);
        }
        const batchLogs = { loss: lossSum / weightSum, ...metricLogs };
        for (const c of this.callbacks) await c.onBatchEnd(p.batch, batchLogs);
      }
    };
    const it = o.data(epoch)[Symbol.iterator]();
    const pull = () => scope(() => it.next()); // frees whatever making the batch left behind
    try {
      while (this.step < steps) {
        let next = pull();
        if (next.done) break;
        for (const c of this.callbacks) await c.onBatchBegin(batch, {});
        this.optimizer.zeroGrad();
        const step: PendingStep = { batch, losses: [], weights: [] };
        for (;;) {
          const b = next.value;
          step.losses.push(
            scope(() => {
              const loss = o.trainStep(b);
              (accum > 1 ? div(loss, accum) : loss).backward();
              return detach(loss);
            }),
          );
          step.weights.push(o.batchWeight?.(b) ?? 1);
          dispose(b);
          if (step.losses.length === accum || (next = pull()).done) break;
        }
        scope(() => {
          // frees what clipping and the update make along the way
          if (o.clipNorm) clipGrads(this.module.parameters(), o.clipNorm);
          this.optimizer.step();
        });
        o.scheduler?.step();
        this.step++;
        pending.push(step);
        const evaluateNow = !!o.evaluate && !!o.evalEvery && (this.step % o.evalEvery === 0 || this.step === steps);
        if (pending.length >= logEvery || evaluateNow) await flush();
        if (evaluateNow) await this.evaluate();
        batch++;
      }
      await flush();
    } finally {
      for (const p of pending) dispose(p.losses);
    }
    return { loss: weightSum ? lossSum / weightSum : NaN, ...(await readMetricLogs(metrics)) };
  }
}

/** The values of scalar losses: one read for all of them. */
async function readLosses(losses: Tensor[]): Promise<number[]> {
  try {
    if (losses.length === 1) return [(await losses[0].data())[0]];
    const all = scope(() => stack(losses));
    try {
      return Array.from(await all.data());
    } finally {
      all.dispose();
    }
  } finally {
    dispose(losses);
  }
}

/** The logs of metric objects (`accuracy`, `precision`, ...), read to the host. */
export async function readMetricLogs(metrics: Metric[], prefix = ''): Promise<Logs> {
  const logs: Logs = {};
  for (const m of metrics) for (const [k, v] of Object.entries(await m.resultLogs())) logs[prefix + k] = v;
  return logs;
}
