// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD).

import type { Tensor } from '../tensor/tensor.js';
import { add, mul, sub } from '../ops/binary.js';
import { neg } from '../ops/unary.js';
import { Optimizer, type GroupInput, type ParamGroup, type ParamState } from './optimizer.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  maximize?: boolean;
}

type SGDGroup = ParamGroup & Required<Omit<SGDOptions, 'lr'>>;

export class SGD extends Optimizer {
  /**
   * p ← p − lr·d with d = g + wd·p, and with momentum μ: b ← μ·b + (1−dampening)·d (b = d at the
   * first step), d ← nesterov ? d + μ·b : b.
   * @example const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })
   */
  constructor(params: Iterable<Tensor> | GroupInput[], opts: SGDOptions = {}) {
    super(params, { lr: opts.lr ?? 1e-3, momentum: opts.momentum ?? 0, dampening: opts.dampening ?? 0, nesterov: opts.nesterov ?? false, weightDecay: opts.weightDecay ?? 0, maximize: opts.maximize ?? false });
  }

  protected override validate(g: ParamGroup): void {
    super.validate(g);
    const s = g as SGDGroup;
    if (s.momentum < 0) throw new Error(`SGD: invalid momentum ${s.momentum}`);
    if (s.weightDecay < 0) throw new Error(`SGD: invalid weightDecay ${s.weightDecay}`);
    if (s.nesterov && (s.momentum <= 0 || s.dampening !== 0)) throw new Error('SGD: Nesterov momentum requires momentum > 0 and zero dampening');
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup): void {
    const { lr, momentum, dampening, nesterov, weightDecay, maximize } = group as SGDGroup;
    let d = maximize ? neg(grad) : grad;
    if (weightDecay !== 0) d = add(d, mul(p, weightDecay));
    if (momentum !== 0) {
      const prev = state.momentum_buffer as Tensor | undefined;
      const buf = this.setState(state, 'momentum_buffer', prev ? add(mul(prev, momentum), mul(d, 1 - dampening)) : d);
      d = nesterov ? add(d, mul(buf, momentum)) : buf;
    }
    this.setParam(p, sub(p, mul(d, lr)));
  }
}
