// conv2d against the direct definition of a convolution.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';

describe('conv2d', () => {
  /** Direct definition: out[n,o,y,x] = b[o] + Σ w[o,c,i,j] · in[n,c,y·s−p+i·d, x·s−p+j·d]. */
  function direct(x: nb.Tensor, w: nb.Tensor, b: nb.Tensor, s: number, p: number, d: number): number[] {
    const [N, C, H, W] = x.shape, [O, , kh, kw] = w.shape;
    const xs = x.dataSync(), ws = w.dataSync(), bs = b.dataSync();
    const Ho = Math.floor((H + 2 * p - d * (kh - 1) - 1) / s) + 1, Wo = Math.floor((W + 2 * p - d * (kw - 1) - 1) / s) + 1;
    const out: number[] = [];
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let yy = 0; yy < Ho; yy++) for (let xx = 0; xx < Wo; xx++) {
      let acc = bs[o];
      for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        const r = yy * s - p + i * d, q = xx * s - p + j * d;
        if (r >= 0 && r < H && q >= 0 && q < W) acc += ws[((o * C + c) * kh + i) * kw + j] * xs[((n * C + c) * H + r) * W + q];
      }
      out.push(acc);
    }
    return out;
  }

  it('matches the direct definition for strides, padding and dilation', () => {
    const gen = new nb.Generator(2);
    for (const [s, p, d] of [[1, 0, 1], [2, 1, 1], [1, 2, 2], [3, 1, 1]]) {
      const x = nb.randn([2, 3, 8, 7], { generator: gen }), w = nb.randn([4, 3, 3, 2], { generator: gen }), b = nb.randn([4], { generator: gen });
      const y = nb.nn.functional.conv2d(x, w, b, { stride: s, padding: p, dilation: d });
      const want = direct(x, w, b, s, p, d);
      expect(y.size).toBe(want.length);
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    }
  });

  it("'same' keeps the size and bad shapes name both", () => {
    expect(nb.nn.functional.conv2d(nb.ones([1, 1, 5, 6]), nb.ones([2, 1, 3, 3]), null, { padding: 'same' }).shape).toEqual([1, 2, 5, 6]);
    expect(() => nb.nn.functional.conv2d(nb.ones([1, 2, 5, 5]), nb.ones([2, 3, 3, 3]))).toThrow(/input has 2 channels but weight \[2, ?3, ?3, ?3\] expects 3/);
  });
});
