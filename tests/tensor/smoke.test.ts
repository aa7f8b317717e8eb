import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';

describe('smoke', () => {
  it('basic ops and grad', () => {
    const x = nb.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const y = x.mul(x).sum();
    y.backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 4, 6, 8]);
    console.log(x.toString(), y.toString());
    const a = nb.randn([3, 5]);
    const b = nb.randn([5, 4]);
    const c = nb.matmul(a, b);
    console.log(c.toString());
    const s = nb.softmax(c, -1);
    console.log(s.sum(-1).toString());
    console.log(nb.arange(10).reshape(2, 5).t().toString());
  });
});
