// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD).

import type { Tensor } from '../tensor/tensor.js';
import { add, mul } from '../ops/binary.js';
import { neg } from '../ops/unary.js';
import { Optimizer, type ParamGroup, type ParamState, type ResolvedParamGroup } from './optimizer.js';

/** The hyperparameters of {@link SGD}, per parameter group. */
export interface SGDHyperparams {
  /** Learning rate (default 1e-3, PyTorch's). */
  lr: number;
  /** Momentum factor μ (default 0: plain SGD). */
  momentum: number;
  /** Dampening of the gradient added to the momentum buffer (default 0). */
  dampening: number;
  /** Nesterov momentum; needs momentum > 0 and dampening 0. */
  nesterov: boolean;
  /** L2 penalty added to the gradient: g + wd·p (default 0). */
  weightDecay: number;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** The {@link SGD} constructor's options: any of {@link SGDHyperparams}, the rest defaulted. */
export type SGDOptions = Partial<SGDHyperparams>;

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay
 * (torch.optim.SGD).
 */
export class SGD extends Optimizer<SGDHyperparams> {
  /**
   * torch.optim.SGD: g ← grad (+ wd·p); with momentum μ, b ← g at the first step, else
   * b ← μ·b + (1 − dampening)·g, and g ← nesterov ? g + μ·b : b; then p ← p − lr·g.
   * @example const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })
   */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroup & SGDOptions>, opts: SGDOptions = {}) {
    super(params, {
      lr: opts.lr ?? 1e-3,
      momentum: opts.momentum ?? 0,
      dampening: opts.dampening ?? 0,
      nesterov: opts.nesterov ?? false,
      weightDecay: opts.weightDecay ?? 0,
      maximize: opts.maximize ?? false,
    });
  }

  protected override validate(g: ResolvedParamGroup<SGDHyperparams>, i: number): void {
    super.validate(g, i);
    if (!(g.momentum >= 0)) this.invalid('momentum', g.momentum, i, 'momentum >= 0');
    if (!(g.weightDecay >= 0)) this.invalid('weightDecay', g.weightDecay, i, 'weightDecay >= 0');
    if (!Number.isFinite(g.dampening)) this.invalid('dampening', g.dampening, i, 'a finite number');
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new Error(`SGD: nesterov requires momentum > 0 and dampening = 0, got momentum ${g.momentum} and dampening ${g.dampening} in param group ${i}`);
    }
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, group: ResolvedParamGroup<SGDHyperparams>): void {
    const { lr, momentum, dampening, nesterov, weightDecay, maximize } = group;
    let g = maximize ? neg(grad) : grad;
    if (weightDecay !== 0) g = add(g, mul(p, weightDecay)); // grad.add(param, alpha=wd)
    if (momentum !== 0) {
      const prev = state.momentum_buffer;
      const buf = this.setState(
        state,
        'momentum_buffer',
        typeof prev === 'object'
          ? add(mul(prev, momentum), mul(g, 1 - dampening)) // buf.mul_(μ).add_(g, alpha=1−dampening)
          : g === grad
            ? this.own(g)
            : g,
      ); // first step: buf = clone(g)
      g = nesterov ? add(g, mul(buf, momentum)) : buf;
    }
    this.setParam(p, add(p, mul(g, -lr))); // param.add_(g, alpha=−lr)
  }
}
