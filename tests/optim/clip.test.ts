// Gradient clipping: torch.nn.utils.clip_grad_norm_ / clip_grad_value_ numbers worked out by hand.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { optim } from '../../src/index.js';
import { expectAllClose } from './helpers.js';

/** Leaf parameters whose gradients are the given values. */
function withGrads(...grads: (number[] | null)[]): nb.Tensor[] {
  return grads.map((g) => {
    const p = nb.zeros([g?.length ?? 1], { dtype: 'float64' }).requiresGrad_();
    if (g) p.grad = nb.tensor(g, { dtype: 'float64' }).keep();
    return p;
  });
}
const gradValues = (ps: nb.Tensor[]) => ps.map((p) => (p.grad ? Array.from(p.grad.dataSync()) : null));

describe('clipGradNorm', () => {
  it('returns the global L2 norm and scales by maxNorm/(norm + 1e-6)', () => {
    const ps = withGrads([3, 0], [4]); // √(9 + 16) = 5
    expect(optim.clipGradNorm(ps, 1)).toBe(5);
    const coef = 1 / (5 + 1e-6); // PyTorch: reciprocal(total + 1e-6)·maxNorm
    expectAllClose(gradValues(ps) as number[][], [[3 * coef, 0], [4 * coef]]);
  });

  it('works on grads made by backward, and leaves small gradients untouched', () => {
    const w = nb.tensor([1, 2], { dtype: 'float64' }).requiresGrad_();
    nb.scope(() => nb.sum(nb.mul(w, nb.tensor([0.3, 0.4], { dtype: 'float64' }))).backward());
    expectAllClose([optim.clipGradNorm([w], 10)], [0.5]);
    expect(Array.from(w.grad!.dataSync())).toEqual([0.3, 0.4]);
  });

  it('other norms: inf, 1, 3', () => {
    expect(optim.clipGradNorm(withGrads([3, -7], [4]), 100, Infinity)).toBe(7);
    expect(optim.clipGradNorm(withGrads([3, -7], [4]), 100, 'inf')).toBe(7);
    expect(optim.clipGradNorm(withGrads([3, -7], [4]), 100, 1)).toBe(14);
    expectAllClose([optim.clipGradNorm(withGrads([3, -7], [4]), 100, 3)], [Math.cbrt(27 + 343 + 64)]);
    const ps = withGrads([3, -7], [4]);
    optim.clipGradNorm(ps, 3.5, Infinity); // coef = 3.5 / (7 + 1e-6)
    expectAllClose(gradValues(ps)[0]!, [(3 * 3.5) / (7 + 1e-6), (-7 * 3.5) / (7 + 1e-6)]);
  });

  it('skips parameters without grad; no gradients gives 0; a single tensor is accepted', () => {
    const ps = withGrads(null, [6, 8]);
    expectAllClose([optim.clipGradNorm(ps, 5)], [10]);
    expectAllClose(gradValues(ps)[1]!, [(6 * 5) / (10 + 1e-6), (8 * 5) / (10 + 1e-6)]);
    expect(gradValues(ps)[0]).toBeNull();
    expect(optim.clipGradNorm(withGrads(null), 1)).toBe(0);
    expectAllClose([optim.clipGradNorm(withGrads([0.6, 0.8])[0], 2)], [1]);
  });

  it('a non-finite norm throws with errorIfNonfinite, else scales by it as PyTorch', () => {
    expect(() => optim.clipGradNorm(withGrads([NaN, 1]), 1, 2, true)).toThrow(/the total norm of order 2 of the gradients is NaN/);
    const ps = withGrads([Infinity, 1]);
    expect(optim.clipGradNorm(ps, 1)).toBe(Infinity);
    expect(gradValues(ps)[0]![1]).toBe(0); // coef = 1/∞ = 0
  });

  it('float32 gradients stay float32', () => {
    const p = nb.zeros([2]).requiresGrad_();
    p.grad = nb.tensor([30, 40]).keep();
    expectAllClose([optim.clipGradNorm([p], 5)], [50]);
    expect(p.grad.dtype).toBe('float32');
    expectAllClose(Array.from(p.grad.dataSync()), [3, 4], 1e-6);
  });

  it('leaks nothing', () => {
    const ps = withGrads([3, 0], [4]);
    optim.clipGradNorm(ps, 1);
    const live = nb.getBackend().liveBuffers();
    for (let i = 0; i < 50; i++) {
      optim.clipGradNorm(ps, 0.5);
      optim.clipGradValue(ps, 0.1);
    }
    expect(nb.getBackend().liveBuffers()).toBe(live);
  });
});

describe('clipGradValue', () => {
  it('clamps every element to [−clip, clip]', () => {
    const ps = withGrads([0.5, -2, 0.05], [-0.1], null);
    optim.clipGradValue(ps, 0.1);
    expect(gradValues(ps)).toEqual([[0.1, -0.1, 0.05], [-0.1], null]);
  });
});
