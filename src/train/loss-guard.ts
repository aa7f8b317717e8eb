// The loss guard of every training run: a loss that is not finite, or that has grown far past its
// first value, stops the run with the epoch and step named.

/** Training stopped because the loss stopped being a finite number. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly value: number,
  ) {
    super(`training stopped: the loss became ${value} at epoch ${epoch + 1}, step ${step + 1}; ` + 'lower the learning rate, check the inputs for NaN/inf, or clip gradients');
    this.name = 'NonFiniteLossError';
  }
}

/** Training stopped because the loss grew far past where it started (a learning rate far too high). */
export class DivergedLossError extends NonFiniteLossError {
  constructor(
    epoch: number,
    step: number,
    value: number,
    readonly first: number,
    readonly factor: number,
  ) {
    super(epoch, step, value);
    this.message =
      `training stopped: the loss reached ${value.toPrecision(4)} at epoch ${epoch + 1}, step ${step + 1}, ` +
      `over ${factor} times its first value ${first.toPrecision(4)}: the run diverged; lower the learning rate or clip gradients`;
    this.name = 'DivergedLossError';
  }
}

/** The divergence factor of the recipes (train mnist, train gpt, finetune): a loss 1000 times its first value. */
export const DIVERGENCE = 1000;

/**
 * Stops a run whose loss is not finite (NonFiniteLossError) or, with `divergence`, has grown past
 * that many times its first value (DivergedLossError).
 */
export class LossGuard {
  private first = NaN;
  constructor(private readonly o: { divergence?: number } = {}) {}

  check(value: number, epoch: number, step: number): void {
    if (!Number.isFinite(value)) throw new NonFiniteLossError(epoch, step, value);
    if (Number.isNaN(this.first)) this.first = value;
    const f = this.o.divergence;
    if (f !== undefined && this.first > 0 && value > f * this.first) throw new DivergedLossError(epoch, step, value, this.first, f);
  }
}
