// RMSprop as torch.optim.RMSprop: optional momentum and the centered variant.

import type { Tensor } from '../tensor/tensor.js';
import { add, div, mul, sub } from '../ops/binary.js';
import { neg, sqrt } from '../ops/unary.js';
import { zerosLike } from '../tensor/creation.js';
import { Optimizer, type GroupInput, type ParamGroup, type ParamState } from './optimizer.js';

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}

type RMSGroup = ParamGroup & Required<Omit<RMSpropOptions, 'lr'>>;

export class RMSprop extends Optimizer {
  /**
   * s ← αs + (1−α)g²; a = √s + ε (centered: √(s − ḡ²) + ε with ḡ ← αḡ + (1−α)g);
   * p ← p − lr·g/a, or with momentum μ: b ← μb + g/a, p ← p − lr·b.
   */
  constructor(params: Iterable<Tensor> | GroupInput[], opts: RMSpropOptions = {}) {
    super(params, {
      lr: opts.lr ?? 1e-2, alpha: opts.alpha ?? 0.99, eps: opts.eps ?? 1e-8, weightDecay: opts.weightDecay ?? 0,
      momentum: opts.momentum ?? 0, centered: opts.centered ?? false, maximize: opts.maximize ?? false,
    });
  }

  protected override validate(g: ParamGroup): void {
    super.validate(g);
    const { alpha, eps, momentum, weightDecay } = g as RMSGroup;
    if (!(alpha >= 0)) throw new Error(`RMSprop: invalid alpha ${alpha}`);
    if (!(eps >= 0)) throw new Error(`RMSprop: invalid epsilon ${eps}`);
    if (!(momentum >= 0)) throw new Error(`RMSprop: invalid momentum ${momentum}`);
    if (!(weightDecay >= 0)) throw new Error(`RMSprop: invalid weightDecay ${weightDecay}`);
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group as RMSGroup;
    let g = maximize ? neg(grad) : grad;
    if (weightDecay !== 0) g = add(g, mul(p, weightDecay));
    state.step = ((state.step as number | undefined) ?? 0) + 1;
    const s0 = (state.square_avg as Tensor | undefined) ?? zerosLike(p);
    const s = this.setState(state, 'square_avg', add(mul(s0, alpha), mul(mul(g, g), 1 - alpha)));
    let avg: Tensor;
    if (centered) {
      const a0 = (state.grad_avg as Tensor | undefined) ?? zerosLike(p);
      const ga = this.setState(state, 'grad_avg', add(a0, mul(sub(g, a0), 1 - alpha)));
      avg = add(sqrt(sub(s, mul(ga, ga))), eps);
    } else {
      avg = add(sqrt(s), eps);
    }
    if (momentum > 0) {
      const b0 = (state.momentum_buffer as Tensor | undefined) ?? zerosLike(p);
      const buf = this.setState(state, 'momentum_buffer', add(mul(b0, momentum), div(g, avg)));
      this.setParam(p, sub(p, mul(buf, lr)));
    } else {
      this.setParam(p, sub(p, mul(div(g, avg), lr)));
    }
  }
}
