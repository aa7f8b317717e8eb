// expm1 is a primitive (docs/adding-an-op.md's example): exact near 0 on every backend, where the
// composite exp(x) − 1 it replaced gave 0 or a few digits in float32.
import { describe, expect, it } from 'vitest';
import * as nb from '../../src/index.js';

describe('expm1', () => {
  it('keeps every digit near 0, in float32, contiguous and strided, and matches Math.expm1 elsewhere', () => {
    const xs = [1e-10, -3e-8, 1e-5, -2.5e-4, 0.01, 0.3, -0.34, 0.35, 1, -1, 5, -20, 80, 0];
    const x = nb.tensor(xs);
    const strided = nb
      .tensor(xs.flatMap((v) => [v, 7]))
      .reshape(-1, 2)
      .select(1, 0);
    for (const [name, t] of [
      ['contiguous', x],
      ['strided', strided],
    ] as const) {
      const got = nb.expm1(t).dataSync();
      xs.forEach((v, i) => {
        const want = Math.fround(Math.expm1(Math.fround(v)));
        expect(Math.abs(got[i] - want), `${name} expm1(${v}) = ${got[i]}, want ${want}`).toBeLessThanOrEqual(4e-7 * Math.abs(want));
      });
    }
    expect(
      Array.from(
        nb
          .exp(nb.tensor([1e-10]))
          .sub(1)
          .dataSync(),
      ),
    ).toEqual([0]); // why the primitive exists
  });

  it('has the gradient e^x', () => {
    const x = nb.tensor([-1, 0, 1e-6, 2], { requiresGrad: true });
    nb.expm1(x).sum().backward();
    const g = x.grad!.dataSync();
    [-1, 0, 1e-6, 2].forEach((v, i) => expect(g[i]).toBeCloseTo(Math.exp(v), 5));
  });
});
