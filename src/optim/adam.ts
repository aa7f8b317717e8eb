// Adam and AdamW with PyTorch's exact update (torch.optim.Adam / AdamW, single-tensor path).

import type { Tensor } from '../tensor/tensor.js';
import { add, div, maximum, mul } from '../ops/binary.js';
import { neg, sqrt } from '../ops/unary.js';
import { adamStep, lerp } from '../ops/adam.js';
import { Optimizer, type ParamGroup, type ParamState, type ResolvedParamGroup } from './optimizer.js';

/**
 * The hyperparameters of {@link Adam} and {@link AdamW}, per parameter group; `maximize` ascends
 * the objective instead.
 */
export interface AdamHyperparams {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates (β₁, β₂) of the first and second moment averages (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay p ← p(1 − lr·wd). */
  weightDecay: number;
  /** Use the running maximum of the second moment (Reddi et al., "On the Convergence of Adam"). */
  amsgrad: boolean;
  maximize: boolean;
  /** Decay the weights directly instead of through the gradient (AdamW; PyTorch 2.7's flag). */
  decoupledWeightDecay: boolean;
}

/** The {@link Adam} constructor's options: any of {@link AdamHyperparams}, the rest defaulted. */
export type AdamOptions = Partial<AdamHyperparams>;
/**
 * The {@link AdamW} constructor's options: those of Adam but the decoupling flag, which AdamW
 * always sets.
 */
export type AdamWOptions = Omit<AdamOptions, 'decoupledWeightDecay'>;

/**
 * Adam (Kingma & Ba) with PyTorch's exact update (torch.optim.Adam), optional amsgrad and L2 weight
 * decay.
 */
export class Adam extends Optimizer<AdamHyperparams> {
  /**
   * torch.optim.Adam: at step t, g ← grad (+ wd·p), m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
   * denom = √v / √(1−β₂ᵗ) + ε (amsgrad: √max(v) ...), p ← p − (lr / (1−β₁ᵗ))·m / denom.
   * @example const opt = new Adam(model.parameters(), { lr: 3e-4 })
   */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroup & AdamOptions>, opts: AdamOptions = {}) {
    super(params, {
      lr: opts.lr ?? 1e-3,
      betas: opts.betas ?? [0.9, 0.999],
      eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? 0,
      amsgrad: opts.amsgrad ?? false,
      maximize: opts.maximize ?? false,
      decoupledWeightDecay: opts.decoupledWeightDecay ?? false,
    });
  }

  protected override validate(g: ResolvedParamGroup<AdamHyperparams>, i: number): void {
    super.validate(g, i);
    if (!(g.eps >= 0)) this.invalid('epsilon', g.eps, i, 'eps >= 0');
    if (!Array.isArray(g.betas) || g.betas.length !== 2) this.invalid('betas', g.betas, i, 'a pair [beta1, beta2]');
    g.betas.forEach((b, k) => {
      if (!(b >= 0 && b < 1)) this.invalid(`beta parameter at index ${k}:`, b, i, `0 <= betas[${k}] < 1`);
    });
    if (!(g.weightDecay >= 0)) this.invalid('weightDecay', g.weightDecay, i, 'weightDecay >= 0');
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, group: ResolvedParamGroup<AdamHyperparams>): void {
    const {
      lr,
      betas: [beta1, beta2],
      eps,
      weightDecay,
      amsgrad,
      maximize,
      decoupledWeightDecay,
    } = group;
    const step = ((state.step as number | undefined) ?? 0) + 1;
    state.step = step;
    let g = maximize ? neg(grad) : grad;
    if (!amsgrad) {
      // One fused op (a single kernel pass where the backend has one); amsgrad composes below.
      const [pOut, mOut, vOut] = adamStep(p, g, this.stateOrZeros(state, 'exp_avg', p), this.stateOrZeros(state, 'exp_avg_sq', p), {
        lr,
        beta1,
        beta2,
        eps,
        step,
        weightDecay,
        decoupled: decoupledWeightDecay,
      });
      this.setState(state, 'exp_avg', mOut);
      this.setState(state, 'exp_avg_sq', vOut);
      this.setParam(p, pOut);
      return;
    }
    let param = p;
    if (weightDecay !== 0) {
      if (decoupledWeightDecay)
        param = mul(p, 1 - lr * weightDecay); // param.mul_(1 − lr·wd)
      else g = add(g, mul(p, weightDecay)); // grad.add(param, alpha=wd)
    }
    // exp_avg.lerp_(g, 1−β₁); exp_avg_sq.mul_(β₂).addcmul_(g, g, value=1−β₂)
    const m = this.setState(state, 'exp_avg', lerp(this.stateOrZeros(state, 'exp_avg', p), g, 1 - beta1));
    const v = this.setState(state, 'exp_avg_sq', add(mul(this.stateOrZeros(state, 'exp_avg_sq', p), beta2), mul(mul(g, 1 - beta2), g)));
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const stepSize = lr / biasCorrection1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    // amsgrad: torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq), initialized with zeros
    const second = this.setState(state, 'max_exp_avg_sq', maximum(this.stateOrZeros(state, 'max_exp_avg_sq', p), v));
    const denom = add(div(sqrt(second), biasCorrection2Sqrt), eps);
    this.setParam(p, add(param, div(mul(m, -stepSize), denom))); // param.addcdiv_(m, denom, value=−stepSize)
  }
}

/**
 * torch.optim.AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), p ← p(1 − lr·wd)
 * before the Adam step; weightDecay defaults to 0.01.
 * @example const opt = new AdamW(model.parameters(), { lr: 6e-4, weightDecay: 0.1, betas: [0.9, 0.95] })
 */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroup & AdamWOptions>, opts: AdamWOptions = {}) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 1e-2, decoupledWeightDecay: true });
  }
}
