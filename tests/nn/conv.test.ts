// conv2d against the direct definition of a convolution.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';

describe('conv2d', () => {
  /** Direct definition: out[n,o,y,x] = b[o] + Σ w[o,c,i,j] · in[n,c,y·s−p+i·d, x·s−p+j·d]. */
  function direct(x: nb.Tensor, w: nb.Tensor, b: nb.Tensor, s: number, p: number, d: number): number[] {
    const [N, C, H, W] = x.shape,
      [O, , kh, kw] = w.shape;
    const xs = x.dataSync(),
      ws = w.dataSync(),
      bs = b.dataSync();
    const Ho = Math.floor((H + 2 * p - d * (kh - 1) - 1) / s) + 1,
      Wo = Math.floor((W + 2 * p - d * (kw - 1) - 1) / s) + 1;
    const out: number[] = [];
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let yy = 0; yy < Ho; yy++)
          for (let xx = 0; xx < Wo; xx++) {
            let acc = bs[o];
            for (let c = 0; c < C; c++)
              for (let i = 0; i < kh; i++)
                for (let j = 0; j < kw; j++) {
                  const r = yy * s - p + i * d,
                    q = xx * s - p + j * d;
                  if (r >= 0 && r < H && q >= 0 && q < W) acc += ws[((o * C + c) * kh + i) * kw + j] * xs[((n * C + c) * H + r) * W + q];
                }
            out.push(acc);
          }
    return out;
  }

  it('matches the direct definition for strides, padding and dilation', () => {
    const gen = new nb.Generator(2);
    for (const [s, p, d] of [
      [1, 0, 1],
      [2, 1, 1],
      [1, 2, 2],
      [3, 1, 1],
    ]) {
      const x = nb.randn([2, 3, 8, 7], { generator: gen }),
        w = nb.randn([4, 3, 3, 2], { generator: gen }),
        b = nb.randn([4], { generator: gen });
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

  it("padding 'same' keeps the size for odd and even kernels and dilation", () => {
    const x = nb.randn([1, 2, 7, 6], { generator: new nb.Generator(4) });
    for (const [k, d] of [
      [3, 1],
      [4, 1],
      [3, 2],
      [2, 3],
    ]) {
      const w = nb.randn([3, 2, k, k], { generator: new nb.Generator(k) });
      expect(nb.nn.functional.conv2d(x, w, null, { padding: 'same', dilation: d }).shape).toEqual([1, 3, 7, 6]);
    }
    expect(() => nb.nn.functional.conv2d(x, nb.zeros([3, 2, 3, 3]), null, { padding: 'same', stride: 2 })).toThrow(/'same' needs stride 1/);
  });
});

describe('convTranspose2d', () => {
  /** Direct definition: each input pixel adds x[n,c,i,j]·w[c,o,a,b] at output (i·s − p + a·d, j·s − p + b·d). */
  function direct(x: nb.Tensor, w: nb.Tensor, b: nb.Tensor | null, s: number, p: number, op: number, d: number, g: number): { shape: number[]; data: number[] } {
    const [N, C, H, W] = x.shape,
      [, Cg, kh, kw] = w.shape,
      Co = Cg * g;
    const Ho = (H - 1) * s - 2 * p + d * (kh - 1) + op + 1,
      Wo = (W - 1) * s - 2 * p + d * (kw - 1) + op + 1;
    const xs = x.dataSync(),
      ws = w.dataSync(),
      bs = b?.dataSync();
    const out = new Array(N * Co * Ho * Wo).fill(0);
    for (let n = 0; n < N; n++) for (let o = 0; o < Co; o++) for (let r = 0; r < Ho; r++) for (let q = 0; q < Wo; q++) out[((n * Co + o) * Ho + r) * Wo + q] = bs ? bs[o] : 0;
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < H; i++)
          for (let j = 0; j < W; j++) {
            const grp = Math.floor(c / (C / g));
            for (let o = 0; o < Cg; o++)
              for (let a = 0; a < kh; a++)
                for (let bb = 0; bb < kw; bb++) {
                  const r = i * s - p + a * d,
                    q = j * s - p + bb * d;
                  if (r < 0 || r >= Ho || q < 0 || q >= Wo) continue;
                  out[((n * Co + grp * Cg + o) * Ho + r) * Wo + q] += xs[((n * C + c) * H + i) * W + j] * ws[((c * Cg + o) * kh + a) * kw + bb];
                }
          }
    return { shape: [N, Co, Ho, Wo], data: out };
  }

  it('matches the direct definition for stride, padding, output padding, dilation and groups', () => {
    const gen = new nb.Generator(9);
    for (const [s, p, op, d, g] of [
      [1, 0, 0, 1, 1],
      [2, 0, 0, 1, 1],
      [2, 1, 1, 1, 1],
      [3, 1, 2, 1, 1],
      [2, 0, 1, 1, 1],
      [1, 1, 0, 2, 1],
      [2, 1, 0, 1, 2],
    ]) {
      const x = nb.randn([2, 4, 5, 4], { generator: gen }),
        w = nb.randn([4, 3, 3, 2], { generator: gen }),
        b = nb.randn([3 * g], { generator: gen });
      const y = nb.nn.functional.convTranspose2d(x, w, b, { stride: s, padding: p, outputPadding: op, dilation: d, groups: g });
      const want = direct(x, w, b, s, p, op, d, g);
      expect(y.shape, `s${s} p${p} op${op} d${d} g${g}`).toEqual(want.shape);
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want.data[i], 4));
    }
  });

  it('is the adjoint of conv2d, and its gradients pass gradcheck in float64', () => {
    const f64 = { dtype: 'float64' as const, generator: new nb.Generator(3) };
    const w = nb.randn([3, 2, 3, 3], f64),
      u = nb.randn([1, 3, 4, 4], f64),
      z = nb.randn([1, 2, 8, 8], f64);
    // <conv2d(z, w), u> = <z, convT(u, w)> with the same stride and padding
    const lhs = nb.sum(nb.mul(nb.nn.functional.conv2d(z, w, null, { stride: 2, padding: 1 }), u)).itemSync();
    const rhs = nb.sum(nb.mul(z, nb.nn.functional.convTranspose2d(u, w, null, { stride: 2, padding: 1, outputPadding: 1 }))).itemSync();
    expect(lhs).toBeCloseTo(rhs, 10);
    const r = nb.gradcheck(
      (x, wt, b) => nb.nn.functional.convTranspose2d(x, wt, b, { stride: 2, padding: 1, outputPadding: 1 }),
      [nb.randn([1, 2, 3, 3], f64), nb.randn([2, 3, 2, 2], f64), nb.randn([3], f64)],
    );
    expect(r.message).toBe('');
  });

  it("ConvTranspose2d has PyTorch's weight layout, init bounds and output size", () => {
    nb.manualSeed(0);
    const m = new nb.nn.ConvTranspose2d(16, 8, 2, { stride: 2 });
    expect(m.weight.shape).toEqual([16, 8, 2, 2]);
    expect(Object.keys(m.stateDict())).toEqual(['weight', 'bias']);
    // kaiming_uniform(a=√5) over fan_in = weight.shape[1]·kh·kw = 32 gives U(±1/√32); the bias the same bound
    const bound = 1 / Math.sqrt(32);
    for (const t of [m.weight, m.bias!]) for (const v of t.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(bound + 1e-7);
    expect(m.forward(nb.zeros([2, 16, 5, 7])).shape).toEqual([2, 8, 10, 14]);
    expect(m.toString()).toBe('ConvTranspose2d(16, 8, kernel_size=(2,2), stride=2, padding=0)');
    expect(() => m.forward(nb.zeros([2, 15, 5, 7]))).toThrow('convTranspose2d: input has 15 channels but weight [16,8,2,2] expects 16: input [2,15,5,7]');
    expect(() => nb.nn.functional.convTranspose2d(nb.zeros([1, 2, 3, 3]), nb.zeros([2, 1, 3, 3]), null, { stride: 2, outputPadding: 2 })).toThrow(/output padding 2x2 must be smaller/);
  });
});
