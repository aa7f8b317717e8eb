// RMSprop as torch.optim.RMSprop (Hinton's lecture 6e): optional momentum and the centered variant.

import type { Tensor } from '../tensor/tensor.js';
import { add, div, mul, sub } from '../ops/binary.js';
import { neg, sqrt } from '../ops/unary.js';
import { Optimizer, type ParamGroup, type ParamState, type ResolvedParamGroup } from './optimizer.js';
import { lerp } from '../ops/adam.js';

/**
 * The hyperparameters of {@link RMSprop}, per parameter group; `maximize` ascends the objective
 * instead.
 */
export interface RMSpropHyperparams {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalize by an estimate of the gradient's variance instead of its second moment. */
  centered: boolean;
  maximize: boolean;
}

/**
 * The {@link RMSprop} constructor's options: any of {@link RMSpropHyperparams}, the rest defaulted.
 */
export type RMSpropOptions = Partial<RMSpropHyperparams>;

/**
 * RMSprop (torch.optim.RMSprop): gradients divided by a running root mean square, with optional
 * momentum and the centered variant.
 */
export class RMSprop extends Optimizer<RMSpropHyperparams> {
  /**
   * torch.optim.RMSprop: g ← grad (+ wd·p); s ← αs + (1−α)g²; a = √s + ε, or centered with
   * ḡ ← αḡ + (1−α)g, a = √(s − ḡ²) + ε; then p ← p − lr·g/a, or with momentum μ:
   * b ← μb + g/a, p ← p − lr·b.
   * @example const opt = new RMSprop(model.parameters(), { lr: 1e-3 })
   */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroup & RMSpropOptions>, opts: RMSpropOptions = {}) {
    super(params, {
      lr: opts.lr ?? 1e-2,
      alpha: opts.alpha ?? 0.99,
      eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? 0,
      momentum: opts.momentum ?? 0,
      centered: opts.centered ?? false,
      maximize: opts.maximize ?? false,
    });
  }

  protected override validate(g: ResolvedParamGroup<RMSpropHyperparams>, i: number): void {
    super.validate(g, i);
    if (!(g.eps >= 0)) this.invalid('epsilon', g.eps, i, 'eps >= 0');
    if (!(g.momentum >= 0)) this.invalid('momentum', g.momentum, i, 'momentum >= 0');
    if (!(g.weightDecay >= 0)) this.invalid('weightDecay', g.weightDecay, i, 'weightDecay >= 0');
    if (!(g.alpha >= 0)) this.invalid('alpha', g.alpha, i, 'alpha >= 0');
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, group: ResolvedParamGroup<RMSpropHyperparams>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    let g = maximize ? neg(grad) : grad;
    state.step = ((state.step as number | undefined) ?? 0) + 1;
    if (weightDecay !== 0) g = add(g, mul(p, weightDecay)); // grad.add(param, alpha=wd)
    // square_avg.mul_(α).addcmul_(g, g, value=1−α)
    const squareAvg = this.setState(state, 'square_avg', add(mul(this.stateOrZeros(state, 'square_avg', p), alpha), mul(mul(g, 1 - alpha), g)));
    let avg: Tensor;
    if (centered) {
      const gradAvg = this.setState(state, 'grad_avg', lerp(this.stateOrZeros(state, 'grad_avg', p), g, 1 - alpha));
      avg = sqrt(sub(squareAvg, mul(gradAvg, gradAvg))); // square_avg.addcmul(ḡ, ḡ, value=−1).sqrt_()
    } else {
      avg = sqrt(squareAvg);
    }
    avg = add(avg, eps);
    if (momentum > 0) {
      // buf.mul_(μ).addcdiv_(g, avg); param.add_(buf, alpha=−lr)
      const buf = this.setState(state, 'momentum_buffer', add(mul(this.stateOrZeros(state, 'momentum_buffer', p), momentum), div(g, avg)));
      this.setParam(p, add(p, mul(buf, -lr)));
    } else {
      this.setParam(p, add(p, div(mul(g, -lr), avg))); // param.addcdiv_(g, avg, value=−lr)
    }
  }
}
