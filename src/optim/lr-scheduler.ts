// Learning-rate schedules with torch.optim.lr_scheduler's semantics: construction sets the rate of
// step 0, each step() moves to the next epoch (or batch) and writes `lr` into every param group.

import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from './optimizer.js';

/** A scheduler's saved state: JSON-serializable numbers (PyTorch saves every attribute but the optimizer). */
export interface SchedulerState {
  lastEpoch: number;
  stepCount: number;
  baseLrs: number[];
  lastLr: number[];
  [key: string]: unknown;
}

/**
 * Base class of the learning-rate schedules (torch.optim.lr_scheduler.LRScheduler): construction
 * sets the rate of step 0, each `step()` moves to the next epoch (or batch) and writes the new rate
 * into every parameter group of the optimizer.
 */
export abstract class LRScheduler {
  /** Each group's rate when the first scheduler was attached (its `initialLr`). */
  baseLrs: number[];
  /** Index of the current epoch: 0 after construction, +1 per step() (PyTorch's last_epoch). */
  lastEpoch = -1;
  /** Number of step() calls, the one made by the constructor included (PyTorch's _step_count). */
  stepCount = 0;
  private lastLr: number[] = [];

  constructor(readonly optimizer: Optimizer) {
    // As PyTorch: the first scheduler records initial_lr, so later ones start from the same base.
    for (const g of optimizer.paramGroups) if (typeof g.initialLr !== 'number') g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
  }

  /** Take step 0; each subclass calls it last in its constructor, once its own fields exist. */
  protected initialStep(): void {
    this.step();
  }

  /** The rates of the epoch `lastEpoch` has just become, usually from the current ones (PyTorch's chainable get_lr). */
  protected abstract getLr(): number[];

  /** The groups' current rates. */
  protected currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Advance one epoch (or batch, for per-step schedules) and set the groups' rates. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLr = this.currentLrs();
  }

  /** The rates set by the last step() (or the constructor). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Subclass hyperparameters saved with the state (functions are not saved). */
  protected hyperparams(): Record<string, number> {
    return {};
  }

  stateDict(): SchedulerState {
    return { ...this.hyperparams(), lastEpoch: this.lastEpoch, stepCount: this.stepCount, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr] };
  }

  /**
   * Restore stateDict() output. Unlike PyTorch, also puts the saved last rates into the param
   * groups, so a run that restores only the scheduler still resumes at the right rate (restoring
   * the optimizer as well sets the same values).
   */
  loadStateDict(s: SchedulerState): void {
    const name = `${this.constructor.name}.loadStateDict`;
    const n = this.optimizer.paramGroups.length;
    if (s === null || typeof s !== 'object' || !Array.isArray(s.baseLrs) || !Array.isArray(s.lastLr)) {
      throw new Error(`${name}: expected { lastEpoch, stepCount, baseLrs, lastLr } as returned by stateDict()`);
    }
    if (s.baseLrs.length !== n || s.lastLr.length !== n) {
      throw new Error(`${name}: the state is for ${s.baseLrs.length} param groups, the optimizer has ${n}`);
    }
    const hyper = this.hyperparams();
    for (const k of Object.keys(hyper)) if (typeof s[k] === 'number') (this as unknown as Record<string, number>)[k] = s[k] as number;
    this.lastEpoch = s.lastEpoch;
    this.stepCount = s.stepCount;
    this.baseLrs = [...s.baseLrs];
    this.lastLr = [...s.lastLr];
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = s.lastLr[i];
    });
  }
}

/**
 * lr ← lr·γ every stepSize epochs: base·γ^⌊epoch/stepSize⌋ (torch StepLR).
 * @example const sched = new StepLR(opt, 30, 0.1) // ×0.1 at epochs 30, 60, ...
 */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    public stepSize: number,
    public gamma = 0.1,
  ) {
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    super(optimizer);
    this.initialStep();
  }
  protected getLr(): number[] {
    const lrs = this.currentLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }
  protected override hyperparams(): Record<string, number> {
    return { stepSize: this.stepSize, gamma: this.gamma };
  }
}

/**
 * lr ← lr·γ every epoch: base·γ^epoch (torch ExponentialLR).
 * @example const sched = new ExponentialLR(opt, 0.95)
 */
export class ExponentialLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    public gamma: number,
  ) {
    if (!Number.isFinite(gamma)) throw new Error(`ExponentialLR: gamma must be a finite number, got ${gamma}`);
    super(optimizer);
    this.initialStep();
  }
  protected getLr(): number[] {
    const lrs = this.currentLrs();
    return this.lastEpoch === 0 ? lrs : lrs.map((lr) => lr * this.gamma);
  }
  protected override hyperparams(): Record<string, number> {
    return { gamma: this.gamma };
  }
}

/**
 * Cosine from the base rate to etaMin over tMax epochs: ηmin + (base − ηmin)(1 + cos(π·epoch/tMax))/2,
 * computed with PyTorch's recursive update (so it chains with other schedulers); past tMax it
 * rises again, as in PyTorch (SGDR without restarts).
 * @example const sched = new CosineAnnealingLR(opt, epochs * stepsPerEpoch)
 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    public tMax: number,
    public etaMin = 0,
  ) {
    if (!(tMax > 0) || !Number.isFinite(tMax)) throw new Error(`CosineAnnealingLR: tMax must be a positive number of steps, got ${tMax}`);
    super(optimizer);
    this.initialStep();
  }
  protected getLr(): number[] {
    const lrs = this.currentLrs();
    const e = this.lastEpoch,
      T = this.tMax,
      eta = this.etaMin;
    if (e === 0) return lrs;
    if (pyMod(e - 1 - T, 2 * T) === 0) {
      return lrs.map((lr, i) => lr + ((this.baseLrs[i] - eta) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return lrs.map((lr) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - eta) + eta);
  }
  protected override hyperparams(): Record<string, number> {
    return { tMax: this.tMax, etaMin: this.etaMin };
  }
}

/** Python's % (the result takes the divisor's sign), which PyTorch's formulas rely on. */
function pyMod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * lr = base·fn(epoch), one function for all groups or one per group (torch LambdaLR).
 * @example const sched = new LambdaLR(opt, (epoch) => 0.95 ** epoch)
 */
export class LambdaLR extends LRScheduler {
  private readonly fns: ((epoch: number) => number)[];
  constructor(optimizer: Optimizer, lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[]) {
    super(optimizer);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda) && lrLambda.length !== n) throw new Error(`LambdaLR: expected ${n} lr lambdas (one per param group), got ${lrLambda.length}`);
    this.fns = Array.isArray(lrLambda) ? [...lrLambda] : Array.from({ length: n }, () => lrLambda);
    this.fns.forEach((f, i) => {
      if (typeof f !== 'function') throw new Error(`LambdaLR: lr lambda ${i} is not a function`);
    });
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((base, i) => {
      const factor = this.fns[i](this.lastEpoch);
      if (typeof factor !== 'number' || Number.isNaN(factor)) throw new Error(`LambdaLR: lr lambda ${i} returned ${String(factor)} at epoch ${this.lastEpoch}, expected a number`);
      return base * factor;
    });
  }
}

/** Options of {@link CosineWarmupLR} and {@link cosineWithWarmup}. */
export interface WarmupCosineOptions {
  /** Steps of linear warmup from 0 to the base rate. */
  warmupSteps: number;
  /** Step at which the cosine reaches minLr (and stays there). */
  totalSteps: number;
  /** Floor of the decay, an absolute rate shared by all groups (default 0). */
  minLr?: number;
}

/**
 * Linear warmup from 0 to the base rate over warmupSteps, then a half cosine down to minLr at
 * totalSteps, flat after (Hugging Face's get_cosine_schedule_with_warmup; nanoGPT's get_lr with
 * its min_lr floor). Step it every batch: lr(s) = base·s/warmup for s < warmup, else
 * minLr + (base − minLr)(1 + cos(π·min(1, (s − warmup)/(total − warmup))))/2.
 */
export class CosineWarmupLR extends LRScheduler {
  warmupSteps: number;
  totalSteps: number;
  minLr: number;
  constructor(optimizer: Optimizer, opts: WarmupCosineOptions) {
    const { warmupSteps, totalSteps, minLr = 0 } = opts;
    if (!Number.isInteger(warmupSteps) || !Number.isInteger(totalSteps) || warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps) {
      throw new Error(`cosineWithWarmup: need integers 0 <= warmupSteps <= totalSteps and totalSteps > 0, got warmupSteps ${warmupSteps}, totalSteps ${totalSteps}`);
    }
    if (!(minLr >= 0)) throw new Error(`cosineWithWarmup: minLr must be >= 0, got ${minLr}`);
    super(optimizer);
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
    this.minLr = minLr;
    this.initialStep();
  }
  /** The rate at step s for a group whose base rate is `base`. */
  lrAt(s: number, base: number): number {
    const { warmupSteps: w, totalSteps: t, minLr } = this;
    if (s < w) return (base * s) / w;
    const progress = Math.min(1, (s - w) / Math.max(1, t - w));
    return minLr + ((base - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
  }
  protected getLr(): number[] {
    return this.baseLrs.map((base) => this.lrAt(this.lastEpoch, base));
  }
  protected override hyperparams(): Record<string, number> {
    return { warmupSteps: this.warmupSteps, totalSteps: this.totalSteps, minLr: this.minLr };
  }
}

/**
 * Warmup + cosine decay, the schedule of GPT training runs.
 * @example const sched = cosineWithWarmup(opt, { warmupSteps: 100, totalSteps: 5000, minLr: 6e-5 }) // sched.step() per batch
 */
export function cosineWithWarmup(optimizer: Optimizer, opts: WarmupCosineOptions): CosineWarmupLR {
  return new CosineWarmupLR(optimizer, opts);
}

/** Options of {@link ReduceLROnPlateau} (torch's arguments and defaults). */
export interface ReduceLROnPlateauOptions {
  /** 'min': the metric should go down (a loss); 'max': up (an accuracy). */
  mode?: 'min' | 'max';
  /** New rate = rate·factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement tolerated; the rate drops at the (patience+1)-th (default 10). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel': better than best·(1 ∓ threshold); 'abs': better than best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound of the rate, one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped (default 1e-8). */
  eps?: number;
}

/**
 * The saved state of a {@link ReduceLROnPlateau}: best metric, bad-epoch and cooldown counters,
 * epoch and last rates.
 */
export interface PlateauState {
  /** The best metric so far; null before the first step (JSON has no Infinity). */
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
  lastLr: number[];
}

/**
 * Multiply the rate by `factor` once the metric has not improved for more than `patience`
 * epochs (torch ReduceLROnPlateau); call step(metric) after each validation.
 * @example const sched = new ReduceLROnPlateau(opt, { mode: 'min', patience: 5 }); sched.step(valLoss)
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    readonly optimizer: Optimizer,
    opts: ReduceLROnPlateauOptions = {},
  ) {
    const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8 } = opts;
    const n = optimizer.paramGroups.length;
    if (!(factor < 1)) throw new Error(`ReduceLROnPlateau: factor must be < 1, got ${factor}`);
    if (mode !== 'min' && mode !== 'max') throw new Error(`ReduceLROnPlateau: mode must be 'min' or 'max', got '${String(mode)}'`);
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') throw new Error(`ReduceLROnPlateau: thresholdMode must be 'rel' or 'abs', got '${String(thresholdMode)}'`);
    if (!(patience >= 0)) throw new Error(`ReduceLROnPlateau: patience must be >= 0, got ${patience}`);
    if (!(cooldown >= 0)) throw new Error(`ReduceLROnPlateau: cooldown must be >= 0, got ${cooldown}`);
    if (Array.isArray(minLr) && minLr.length !== n) throw new Error(`ReduceLROnPlateau: expected ${n} minLr values (one per param group), got ${minLr.length}`);
    this.mode = mode;
    this.factor = factor;
    this.patience = patience;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = cooldown;
    this.eps = eps;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array.from({ length: n }, () => minLr);
    this.best = this.modeWorse();
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `a` improves on the best value by more than the threshold. */
  isBetter(a: number, best = this.best): boolean {
    const t = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (t + 1) : a > best + t;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Record one epoch's metric (a number or a one-element tensor) and reduce the rate if it has plateaued. */
  step(metric: number | Tensor): void {
    const current = typeof metric === 'number' ? metric : metric.itemSync();
    this.lastEpoch++;
    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.inCooldown) {
      this.cooldownCounter--;
      this.numBadEpochs = 0; // bad epochs during cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const old = g.lr;
      const next = Math.max(old * this.factor, this.minLrs[i]);
      if (old - next > this.eps) g.lr = next;
    });
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): PlateauState {
    return {
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLr: [...this.lastLr],
    };
  }

  /** Restore stateDict() output; like LRScheduler.loadStateDict, also sets the saved rates. */
  loadStateDict(s: PlateauState): void {
    if (s === null || typeof s !== 'object' || !Array.isArray(s.lastLr)) throw new Error('ReduceLROnPlateau.loadStateDict: expected the object returned by stateDict()');
    if (s.lastLr.length !== this.optimizer.paramGroups.length) {
      throw new Error(`ReduceLROnPlateau.loadStateDict: the state is for ${s.lastLr.length} param groups, the optimizer has ${this.optimizer.paramGroups.length}`);
    }
    this.best = s.best === null ? this.modeWorse() : s.best;
    this.numBadEpochs = s.numBadEpochs;
    this.cooldownCounter = s.cooldownCounter;
    this.lastEpoch = s.lastEpoch;
    this.lastLr = [...s.lastLr];
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = s.lastLr[i];
    });
  }
}
