// Callbacks of the Trainer (train/trainer.ts), Keras-style: history, early stopping, checkpoints
// (per epoch for Keras, and the resumable training state of `train gpt`), CSV / JSON-lines logs,
// learning-rate schedules, and closures as callbacks.

import type { Module, StateDict } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import type { Generator } from '../ops/random.js';
import { clone } from '../ops/movement.js';
import { noGrad } from '../autograd/grad-mode.js';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkSaveTarget, saveCheckpoint, type CheckpointContents } from '../io/checkpoint.js';

/** Metric values by name ('loss', 'accuracy', 'val_loss', ...) that fit() passes to callbacks. */
export type Logs = Record<string, number>;

/** What callbacks can see and steer of a running fit() (the Trainer itself). */
export interface TrainerHandle {
  readonly module: Module;
  /** The optimizer (param groups carry `lr`). */
  readonly optimizer: Optimizer;
  /** Set to true to end training after the current epoch (Keras' model.stop_training). */
  stopTraining: boolean;
  /** Optimizer steps taken so far; a callback resuming a run sets it in onTrainBegin. */
  step: number;
  /** The current epoch (0-based). */
  readonly epoch: number;
  /** The mean loss of the last step read from the device (the batch logs' `loss` is the epoch's running mean). */
  readonly stepLoss: number;
  /** Write a checkpoint of model, config and optimizer to a directory (atomic). */
  saveCheckpoint(dir: string, extra?: Record<string, unknown>): Promise<void>;
}

/**
 * Base class of Keras-style callbacks: fit() calls the hooks at the start and end of training, of
 * each epoch and of each batch, and after each evaluation, with the logs so far; override the ones
 * you need. `trainer` lets a callback see the model and optimizer, save checkpoints and stop training.
 */
export abstract class Callback {
  protected trainer!: TrainerHandle;
  setTrainer(t: TrainerHandle): void {
    this.trainer = t;
  }
  onTrainBegin(_logs: Logs): void | Promise<void> {}
  onTrainEnd(_logs: Logs): void | Promise<void> {}
  onEpochBegin(_epoch: number, _logs: Logs): void | Promise<void> {}
  onEpochEnd(_epoch: number, _logs: Logs): void | Promise<void> {}
  onBatchBegin(_batch: number, _logs: Logs): void | Promise<void> {}
  onBatchEnd(_batch: number, _logs: Logs): void | Promise<void> {}
  /** After each evaluation (every `evalEvery` steps, or at each epoch's end), with its logs. */
  onEvaluate(_step: number, _logs: Logs): void | Promise<void> {}
}

/** The hooks of a {@link LambdaCallback}: any of Callback's, as plain functions. */
export type LambdaHooks = Partial<Pick<Callback, 'onTrainBegin' | 'onTrainEnd' | 'onEpochBegin' | 'onEpochEnd' | 'onBatchBegin' | 'onBatchEnd' | 'onEvaluate'>>;

/**
 * A callback made of functions (Keras' LambdaCallback).
 * @example new LambdaCallback({ onEpochEnd: (epoch, logs) => console.log(epoch, logs.loss) })
 */
export class LambdaCallback extends Callback {
  constructor(hooks: LambdaHooks) {
    super();
    Object.assign(this, hooks);
  }
}

/** Records every epoch's logs; fit() returns it. */
export class History extends Callback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  override onEpochEnd(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

type Mode = 'min' | 'max' | 'auto';

function better(mode: Mode, monitor: string): (a: number, b: number, delta: number) => boolean {
  const max = mode === 'max' || (mode === 'auto' && /acc|auc|precision|recall|f1/.test(monitor));
  return max ? (a, b, d) => a - d > b : (a, b, d) => a + d < b;
}

/** Copy of every parameter and buffer (kept, detached) for restoring later. */
export function snapshotState(m: Module): StateDict {
  return noGrad(() => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, clone(t).keep()])));
}

/** Dispose every tensor of a state dict (such as one from `snapshotState`). */
export function disposeState(sd: StateDict): void {
  for (const t of Object.values(sd)) (t as Tensor).dispose();
}

/**
 * Options of {@link EarlyStopping} (Keras' arguments): the metric to watch (monitor, default
 * 'val_loss'), the least change that counts as an improvement (minDelta, 0), epochs to wait
 * (patience,
 * 0), 'min', 'max' or 'auto' (max for accuracy-like names; the default), a baseline to beat,
 * restore
 * the best epoch's weights at the end (restoreBestWeights, false) and verbosity.
 */
export interface EarlyStoppingOptions {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: Mode;
  baseline?: number;
  restoreBestWeights?: boolean;
  verbose?: number;
}

/** Stop when `monitor` has not improved for `patience` epochs; optionally restore the best weights. */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  private best = NaN;
  private wait = 0;
  private bestWeights: StateDict | null = null;
  bestEpoch = -1;
  stoppedEpoch = -1;
  private readonly isBetter: (a: number, b: number, d: number) => boolean;
  constructor(private readonly opts: EarlyStoppingOptions = {}) {
    super();
    this.monitor = opts.monitor ?? 'val_loss';
    this.isBetter = better(opts.mode ?? 'auto', this.monitor);
  }
  override onTrainBegin(): void {
    this.best = this.opts.baseline ?? NaN;
    this.wait = 0;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
  }
  override onEpochEnd(epoch: number, logs: Logs): void {
    const v = logs[this.monitor];
    if (v === undefined) {
      throw new Error(`EarlyStopping: metric '${this.monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')})`);
    }
    if (Number.isNaN(this.best) || this.isBetter(v, this.best, Math.abs(this.opts.minDelta ?? 0))) {
      this.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.opts.restoreBestWeights) {
        if (this.bestWeights) disposeState(this.bestWeights);
        this.bestWeights = snapshotState(this.trainer.module);
      }
      return;
    }
    if (++this.wait >= (this.opts.patience ?? 0)) {
      this.stoppedEpoch = epoch;
      this.trainer.stopTraining = true;
    }
  }
  override onTrainEnd(): void {
    if (this.bestWeights) {
      if (this.opts.restoreBestWeights && this.bestEpoch >= 0) {
        this.trainer.module.loadStateDict(this.bestWeights);
        if ((this.opts.verbose ?? 0) > 0) console.log(`EarlyStopping: restored the weights of epoch ${this.bestEpoch + 1}`);
      }
      disposeState(this.bestWeights);
      this.bestWeights = null;
    }
  }
}

/**
 * Options of {@link ModelCheckpoint}: the directory pattern, and with saveBestOnly (false) the
 * metric to watch (monitor, 'val_loss') and whether lower or higher is better (mode, 'auto').
 */
export interface ModelCheckpointOptions {
  /** Directory to write; `{epoch}` and log names like `{val_loss:.4f}` are filled in. */
  filepath: string;
  monitor?: string;
  saveBestOnly?: boolean;
  mode?: Mode;
}

/** Save a checkpoint after each epoch, or only when `monitor` improves. */
export class ModelCheckpoint extends Callback {
  private best = NaN;
  private readonly isBetter: (a: number, b: number, d: number) => boolean;
  constructor(private readonly opts: ModelCheckpointOptions) {
    super();
    this.isBetter = better(opts.mode ?? 'auto', opts.monitor ?? 'val_loss');
  }
  /** A fixed path is checked before training (only a checkpoint directory is ever replaced), not after the first epoch. */
  override async onTrainBegin(): Promise<void> {
    if (!this.opts.filepath.includes('{')) await checkSaveTarget(this.opts.filepath, 'ModelCheckpoint');
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const monitor = this.opts.monitor ?? 'val_loss';
    if (this.opts.saveBestOnly) {
      const v = logs[monitor];
      if (v === undefined) throw new Error(`ModelCheckpoint: metric '${monitor}' is not in the logs`);
      if (!Number.isNaN(this.best) && !this.isBetter(v, this.best, 0)) return;
      this.best = v;
    }
    const path = this.opts.filepath.replace(/\{(\w+)(?::\.(\d+)f)?\}/g, (_, key: string, digits?: string) => {
      const v = key === 'epoch' ? epoch + 1 : logs[key];
      if (v === undefined) return key;
      return digits ? v.toFixed(Number(digits)) : String(v);
    });
    await this.trainer.saveCheckpoint(path, { epoch: epoch + 1, logs });
  }
}

/**
 * Options of {@link TrainingCheckpoint}: the directory, what else a run needs to continue (its
 * learning-rate schedule, its random generators, the caller's own state) and, to continue one, the
 * state loaded from such a checkpoint.
 */
export interface TrainingCheckpointOptions {
  /** The checkpoint directory, checked (checkSaveTarget) and locked (lockCheckpoint) by the caller before training. */
  dir: string;
  /** Write the model's files into the directory being built (default: model.safetensors and config.json from `config`). */
  writeModel?: (dir: string) => Promise<void>;
  config?: Record<string, unknown>;
  /** The learning-rate schedule, saved with the optimizer. */
  scheduler?: LRScheduler;
  /** Random generators by name; each one's state is saved in trainer_state.json under its name. */
  generators?: Record<string, Generator>;
  /** More fields of trainer_state.json (e.g. history and options), read at each save. */
  state?(): Record<string, unknown>;
  /** A run to continue (loadTrainingState's result): restored when training begins. */
  resume?: Pick<CheckpointContents, 'trainerState' | 'optimizerState'>;
}

/**
 * The resumable training state, written at every evaluation: the model, `optimizer.safetensors`
 * and `trainer_state.json` (step, schedule, generators, and `state()`), atomically (see
 * io/checkpoint.ts). With `resume`, it restores all of that when training begins, so the run
 * continues bit for bit where the saved one stopped (`nabla train gpt --resume`).
 * @example new TrainingCheckpoint({ dir: 'runs/gpt', scheduler, generators: { rng: batchGenerator } })
 */
export class TrainingCheckpoint extends Callback {
  constructor(private readonly o: TrainingCheckpointOptions) {
    super();
  }
  override onTrainBegin(): void {
    const r = this.o.resume;
    if (!r) return;
    const ts = r.trainerState ?? {};
    if (r.optimizerState) this.trainer.optimizer.loadStateDict(r.optimizerState);
    this.o.scheduler?.loadStateDict(ts.scheduler as never);
    for (const [name, g] of Object.entries(this.o.generators ?? {})) g.setState(ts[name] as never);
    this.trainer.step = ts.step as number;
  }
  override async onEvaluate(step: number): Promise<void> {
    const o = this.o;
    await saveCheckpoint(o.dir, {
      model: this.trainer.module,
      optimizer: this.trainer.optimizer,
      config: o.config ?? {},
      trainerState: {
        step,
        ...(o.scheduler ? { scheduler: o.scheduler.stateDict() } : {}),
        ...Object.fromEntries(Object.entries(o.generators ?? {}).map(([name, g]) => [name, g.getState()])),
        ...o.state?.(),
      },
      writeModel: o.writeModel,
    });
  }
}

/** One CSV row per epoch (Keras' CSVLogger). */
export class CSVLogger extends Callback {
  private keys: string[] | null = null;
  constructor(
    private readonly path: string,
    private readonly append = false,
  ) {
    super();
  }
  override async onTrainBegin(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    if (!this.append) await writeFile(this.path, '');
    this.keys = null;
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (!this.keys) {
      this.keys = Object.keys(logs);
      await appendFile(this.path, ['epoch', ...this.keys].join(',') + '\n');
    }
    await appendFile(this.path, [epoch, ...this.keys.map((k) => logs[k] ?? '')].join(',') + '\n');
  }
}

/** One JSON object per line per epoch (and per batch with everyBatch). */
export class JSONLinesLogger extends Callback {
  constructor(
    private readonly path: string,
    private readonly everyBatch = false,
  ) {
    super();
  }
  override async onTrainBegin(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(this.path, '');
  }
  override async onBatchEnd(batch: number, logs: Logs): Promise<void> {
    if (this.everyBatch) await appendFile(this.path, JSON.stringify({ event: 'batch', batch, ...logs }) + '\n');
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    await appendFile(this.path, JSON.stringify({ event: 'epoch', epoch, ...logs }) + '\n');
  }
}

/** Any object with step(): torch-style schedulers (StepLR, ...) and ReduceLROnPlateau (step(metric)). */
export interface SchedulerLike {
  step(metric?: number): void;
}

/**
 * Set the learning rate each epoch: from a function (epoch, lr) → lr (Keras' LearningRateScheduler),
 * or by stepping a scheduler object once per epoch (ReduceLROnPlateau gets `monitor`'s value).
 */
export class LearningRateScheduler extends Callback {
  constructor(
    private readonly schedule: ((epoch: number, lr: number) => number) | SchedulerLike,
    private readonly monitor = 'val_loss',
  ) {
    super();
  }
  override onEpochBegin(epoch: number): void {
    if (typeof this.schedule === 'function') {
      for (const g of this.trainer.optimizer.paramGroups) g.lr = this.schedule(epoch, g.lr);
    }
  }
  override onEpochEnd(_epoch: number, logs: Logs): void {
    if (typeof this.schedule !== 'function') this.schedule.step(logs[this.monitor] ?? logs.loss);
    logs.lr = this.trainer.optimizer.paramGroups[0].lr;
  }
}
