// Shared test problem for the optimizer tests: f(w) = Σ ½aᵢwᵢ² + bᵢwᵢ, so ∂f/∂wᵢ = aᵢwᵢ + bᵢ.
import { expect } from 'vitest';
import * as nb from '../../src/index.js';

export const W0 = [0.5, -1.5, 2];
export const A = [1, 2, 0.5];
export const B = [0.1, -0.3, 0.2];

/** The problem's gradient in plain numbers. */
export const gradOf = (w: number, i: number): number => A[i] * w + B[i];

export function makeParam(values = W0, dtype: nb.DType = 'float64'): nb.Tensor {
  return nb.tensor(values, { dtype }).requiresGrad_();
}

/** One training step on f through autograd: zeroGrad, backward, step. */
export function trainStep(opt: nb.optim.Optimizer, w: nb.Tensor): void {
  nb.scope(() => {
    opt.zeroGrad();
    const a = nb.tensor(A, { dtype: w.dtype });
    const b = nb.tensor(B, { dtype: w.dtype });
    nb.add(nb.mul(nb.sum(nb.mul(a, nb.mul(w, w))), 0.5), nb.sum(nb.mul(b, w))).backward();
    opt.step();
  });
}

/** Run `steps` optimizer steps through the library; the parameter values after each. */
export function runLib(make: (params: nb.Tensor[]) => nb.optim.Optimizer, steps = 3, dtype: nb.DType = 'float64'): number[][] {
  const w = makeParam(W0, dtype);
  const opt = make([w]);
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    trainStep(opt, w);
    out.push(Array.from(w.dataSync()));
  }
  return out;
}

/** The same steps on plain numbers: `update(w, g, state, t)` returns the new w of one element. */
export function runByHand(update: (w: number, g: number, st: Record<string, number>, t: number) => number, steps = 3): number[][] {
  const w = [...W0];
  const states = w.map(() => ({}) as Record<string, number>);
  const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < w.length; i++) w[i] = update(w[i], gradOf(w[i], i), states[i], t);
    out.push([...w]);
  }
  return out;
}

/** Element-wise |a − b| <= tol·max(1, |b|). */
export function expectAllClose(actual: number[][] | number[], expected: number[][] | number[], tol = 1e-12): void {
  const a = (actual as unknown[]).flat(2) as number[];
  const e = (expected as unknown[]).flat(2) as number[];
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => {
    if (!(Math.abs(v - e[i]) <= tol * Math.max(1, Math.abs(e[i])))) {
      throw new Error(`element ${i}: got ${v}, expected ${e[i]} (tolerance ${tol})`);
    }
  });
}
