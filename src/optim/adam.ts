// Adam and AdamW with PyTorch's exact update (bias corrections folded as torch.optim.Adam does).

import type { Tensor } from '../tensor/tensor.js';
import { add, div, maximum, mul, sub } from '../ops/binary.js';
import { neg, sqrt } from '../ops/unary.js';
import { zerosLike } from '../tensor/creation.js';
import { Optimizer, type GroupInput, type ParamGroup, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

type AdamGroup = ParamGroup & { betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean; maximize: boolean };

export class Adam extends Optimizer {
  /** Decoupled weight decay (AdamW) instead of L2 added to the gradient (Adam). */
  protected readonly decoupled: boolean = false;

  /**
   * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε);
   * weightDecay adds wd·p to g (L2), as torch.optim.Adam.
   * @example const opt = new Adam(model.parameters(), { lr: 1e-3 })
   */
  constructor(params: Iterable<Tensor> | GroupInput[], opts: AdamOptions = {}, defaultWeightDecay = 0) {
    super(params, {
      lr: opts.lr ?? 1e-3, betas: opts.betas ?? [0.9, 0.999], eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? defaultWeightDecay, amsgrad: opts.amsgrad ?? false, maximize: opts.maximize ?? false,
    });
  }

  protected override validate(g: ParamGroup): void {
    super.validate(g);
    const { betas, eps, weightDecay } = g as AdamGroup;
    const name = this.constructor.name;
    if (!(eps >= 0)) throw new Error(`${name}: invalid epsilon ${eps}`);
    if (!(betas[0] >= 0 && betas[0] < 1)) throw new Error(`${name}: invalid beta parameter at index 0: ${betas[0]}`);
    if (!(betas[1] >= 0 && betas[1] < 1)) throw new Error(`${name}: invalid beta parameter at index 1: ${betas[1]}`);
    if (!(weightDecay >= 0)) throw new Error(`${name}: invalid weightDecay ${weightDecay}`);
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup): void {
    const { lr, betas: [b1, b2], eps, weightDecay, amsgrad, maximize } = group as AdamGroup;
    let g = maximize ? neg(grad) : grad;
    let param = p;
    if (weightDecay !== 0) {
      if (this.decoupled) param = mul(p, 1 - lr * weightDecay); // AdamW: p ← p(1 − lr·wd)
      else g = add(g, mul(p, weightDecay));
    }
    const step = ((state.step as number | undefined) ?? 0) + 1;
    state.step = step;
    const m0 = (state.exp_avg as Tensor | undefined) ?? zerosLike(p);
    const v0 = (state.exp_avg_sq as Tensor | undefined) ?? zerosLike(p);
    const m = this.setState(state, 'exp_avg', add(m0, mul(sub(g, m0), 1 - b1))); // lerp(m, g, 1−β₁)
    const v = this.setState(state, 'exp_avg_sq', add(mul(v0, b2), mul(mul(g, g), 1 - b2)));
    const bias1 = 1 - b1 ** step, bias2 = 1 - b2 ** step;
    let vHat = v;
    if (amsgrad) {
      const prev = state.max_exp_avg_sq as Tensor | undefined;
      vHat = this.setState(state, 'max_exp_avg_sq', prev ? maximum(prev, v) : v);
    }
    const denom = add(div(sqrt(vHat), Math.sqrt(bias2)), eps);
    this.setParam(p, sub(param, mul(div(m, denom), lr / bias1)));
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter), torch.optim.AdamW; weightDecay defaults to 0.01. */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;
  constructor(params: Iterable<Tensor> | GroupInput[], opts: AdamOptions = {}) {
    super(params, opts, 0.01);
  }
}
