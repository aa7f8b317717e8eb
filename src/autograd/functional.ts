// Functional autograd: grad(f) and valueAndGrad(f) (JAX-style), and gradients of an output with
// respect to chosen inputs without touching .grad (torch.autograd.grad).

import type { BackwardOptions, Tensor } from '../tensor/tensor.js';
import { runBackward } from './backward.js';
import { detach } from './tape.js';
import { enableGrad } from './grad-mode.js';
import { fmtShape } from '../tensor/shape.js';
import { zerosLike } from '../tensor/creation.js';

/**
 * d output / d inputs, returned instead of accumulated into .grad. Inputs that do not affect the
 * output get `null`.
 * @example const [dw] = gradOf(loss, [w])
 */
export function gradOf(output: Tensor, inputs: readonly Tensor[], opts: BackwardOptions & { gradOutput?: Tensor } = {}): (Tensor | null)[] {
  return runBackward(output, opts.gradOutput, opts, inputs);
}

/**
 * Turn f(...tensors) → scalar tensor into a function returning its value and the gradient with
 * respect to every argument. Arguments are treated as fresh leaves, so their .grad is untouched.
 * @example const { value, grads } = valueAndGrad((x) => sum(mul(x, x)))(tensor([1, 2]))
 */
export function valueAndGrad(f: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => { value: Tensor; grads: Tensor[] } {
  return (...args: Tensor[]) =>
    enableGrad(() => {
      const leaves = args.map((a) => {
        const l = detach(a);
        l.requiresGrad = true;
        return l;
      });
      const value = f(...leaves);
      if (value.size !== 1) throw new Error(`valueAndGrad: f must return a one-element tensor, got shape ${fmtShape(value.shape)}`);
      const grads = value.requiresGrad ? runBackward(value, undefined, {}, leaves) : leaves.map(() => null);
      const out = grads.map((g, i) => g ?? zerosLike(leaves[i]));
      return { value: detach(value), grads: out };
    });
}

/** The gradient function of f: grad(f)(...args) returns [df/darg0, df/darg1, ...]. */
export function grad(f: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...args: Tensor[]) => {
    const { value, grads } = vg(...args);
    value.dispose();
    return grads;
  };
}
