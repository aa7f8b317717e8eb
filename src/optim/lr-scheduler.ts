// Learning-rate schedules with torch.optim.lr_scheduler's semantics: call step() after each epoch
// (or each batch for per-step schedules); they set `lr` on every parameter group.

import type { Optimizer } from './optimizer.js';

export abstract class LRScheduler {
  readonly baseLrs: number[];
  /** Number of step() calls so far (PyTorch's last_epoch after construction is 0). */
  lastEpoch = 0;
  private lastLr: number[] = [];

  constructor(readonly optimizer: Optimizer) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Set the step-0 rate; each subclass calls it last in its constructor (its fields exist by then). */
  protected init(): void {
    this.lastLr = this.apply();
  }

  /** The learning rate of each group at step `epoch`. */
  protected abstract lrAt(epoch: number, base: number, current: number): number;

  private apply(): number[] {
    const lrs = this.optimizer.paramGroups.map((g, i) => this.lrAt(this.lastEpoch, this.baseLrs[i], g.lr));
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = lrs[i]; });
    return lrs;
  }

  step(): void {
    this.lastEpoch++;
    this.lastLr = this.apply();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): { lastEpoch: number; baseLrs: number[] } {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  loadStateDict(s: { lastEpoch: number; baseLrs: number[] }): void {
    this.lastEpoch = s.lastEpoch;
    (this.baseLrs as number[]).splice(0, this.baseLrs.length, ...s.baseLrs);
    this.lastLr = this.apply();
  }
}

/** lr = base·γ^⌊epoch/stepSize⌋. */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly stepSize: number, readonly gamma = 0.1) {
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    super(optimizer);
    this.init();
  }
  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** lr = base·γ^epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly gamma: number) { super(optimizer); this.init(); }
  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** epoch;
  }
}

/** lr = ηmin + (base − ηmin)(1 + cos(π·epoch/Tmax))/2 (the closed form of CosineAnnealingLR). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly tMax: number, readonly etaMin = 0) {
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be positive, got ${tMax}`);
    super(optimizer);
    this.init();
  }
  protected lrAt(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/** lr = base·fn(epoch). */
export class LambdaLR extends LRScheduler {
  constructor(optimizer: Optimizer, private readonly fn: (epoch: number) => number) { super(optimizer); this.init(); }
  protected lrAt(epoch: number, base: number): number {
    return base * this.fn(epoch);
  }
}

export interface WarmupCosineOptions {
  warmupSteps: number;
  totalSteps: number;
  /** Floor of the decay (absolute learning rate). */
  minLr?: number;
}

/**
 * Linear warmup from 0 to the base rate over warmupSteps, then cosine decay to minLr at totalSteps
 * (Hugging Face's get_cosine_schedule_with_warmup, with a floor as nanoGPT). Step it every batch.
 */
export class CosineWarmupLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly opts: WarmupCosineOptions) {
    if (!(opts.totalSteps > 0) || opts.warmupSteps < 0 || opts.warmupSteps > opts.totalSteps) {
      throw new Error(`CosineWarmupLR: need 0 <= warmupSteps <= totalSteps and totalSteps > 0, got ${opts.warmupSteps}, ${opts.totalSteps}`);
    }
    super(optimizer);
    this.init();
  }
  protected lrAt(step: number, base: number): number {
    const { warmupSteps, totalSteps, minLr = 0 } = this.opts;
    if (step < warmupSteps) return (base * step) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return minLr + ((base - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
  }
}

/** Warmup + cosine as a function, for configs that name schedules. */
export function cosineWithWarmup(optimizer: Optimizer, opts: WarmupCosineOptions): CosineWarmupLR {
  return new CosineWarmupLR(optimizer, opts);
}

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number | number[];
  eps?: number;
}

/** Multiply lr by `factor` when the metric has not improved for more than `patience` steps. */
export class ReduceLROnPlateau {
  private best: number;
  numBadEpochs = 0;
  private cooldownCounter = 0;
  lastEpoch = 0;
  private readonly o: Required<ReduceLROnPlateauOptions>;

  constructor(readonly optimizer: Optimizer, opts: ReduceLROnPlateauOptions = {}) {
    this.o = { mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8, ...opts };
    if (this.o.factor >= 1) throw new Error(`ReduceLROnPlateau: factor should be < 1, got ${this.o.factor}`);
    this.best = this.o.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode: tm, threshold: t } = this.o;
    if (mode === 'min') return tm === 'rel' ? a < this.best * (1 - t) : a < this.best - t;
    return tm === 'rel' ? a > this.best * (t + 1) : a > this.best + t;
  }

  step(metric: number): void {
    this.lastEpoch++;
    if (this.isBetter(metric)) { this.best = metric; this.numBadEpochs = 0; }
    else this.numBadEpochs++;
    if (this.cooldownCounter > 0) { this.cooldownCounter--; this.numBadEpochs = 0; }
    if (this.numBadEpochs > this.o.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const minLr = Array.isArray(this.o.minLr) ? this.o.minLr[i] : this.o.minLr;
        const next = Math.max(g.lr * this.o.factor, minLr);
        if (g.lr - next > this.o.eps) g.lr = next;
      });
      this.cooldownCounter = this.o.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}
