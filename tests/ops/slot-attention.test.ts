// slotAttention (ops/slot-attention.ts): a backend's fused kernel gives the composed definition's
// bits, outputs and cache writes; both match a float64 reference of attention per sequence; bad
// arguments are refused.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { slotAttention } from '../../src/ops/slot-attention.js';
import { copy_ } from '../../src/ops/inplace.js';

const H = 3,
  D = 5,
  C = H * D,
  ctx = 8,
  P = 4;

/**
 * A run over fresh copies of the same cache and qkv: the output and the cache after it. 'ops' runs
 * the composed definition written out here (copy_, then attention per sequence) with the
 * backend's other fused kernels on, which the kernel must equal bit for bit; 'composed' runs every
 * fused op composed (softmax included), which it equals to rounding.
 */
function run(mode: 'fused' | 'ops' | 'composed', rows: number[], starts: number[]): { out: Float32Array; cache: Float32Array } {
  const gen = new nb.Generator(3);
  const cache = nb.randn([P * ctx, 2 * C], { generator: gen });
  const qkv = nb.randn([rows.length, 3 * C], { generator: gen });
  const heads = (t: nb.Tensor) => t.reshape([1, t.shape[0], H, D]).permute([0, 2, 1, 3]); // (1, H, n, D)
  const before = nb.setFusedMode(mode === 'composed' ? 'composed' : 'fused');
  try {
    const out = nb.noGrad(() =>
      nb.scope(() => {
        if (mode !== 'ops') return slotAttention(qkv, cache, { nHead: H, rows, starts });
        const ys = rows.map((r, b) => {
          const own = qkv.slice(0, b, b + 1);
          copy_(cache.slice(0, r, r + 1), own.slice(1, C, 3 * C));
          const seen = cache.slice(0, starts[b], r + 1);
          const y = nb.nn.functional.scaledDotProductAttention(heads(own.slice(1, 0, C)), heads(seen.slice(1, 0, C)), heads(seen.slice(1, C, 2 * C)));
          return y.permute([0, 2, 1, 3]).reshape([1, C]);
        });
        return nb.concat(ys, 0);
      }),
    );
    return { out: out.dataSync() as Float32Array, cache: cache.dataSync() as Float32Array };
  } finally {
    nb.setFusedMode(before);
    nb.dispose([cache, qkv]);
  }
}

describe('slotAttention', () => {
  const rows = [2 * ctx + 5, 0, 3 * ctx + 7, ctx + 1],
    starts = [2 * ctx, 0, 3 * ctx, ctx];

  it("the fused kernel gives the composed definition's bits (output and cache), and every-op-composed values", () => {
    for (const n of [1, 2, 4]) {
      const f = run('fused', rows.slice(0, n), starts.slice(0, n)),
        o = run('ops', rows.slice(0, n), starts.slice(0, n)),
        c = run('composed', rows.slice(0, n), starts.slice(0, n));
      expect(f.out).toEqual(o.out);
      expect(f.cache).toEqual(o.cache);
      expect(f.cache).toEqual(c.cache);
      f.out.forEach((x, i) => expect(x).toBeCloseTo(c.out[i], 5));
    }
  });

  it('writes each k | v into its row and attends over its slot (float64 reference)', () => {
    const gen = new nb.Generator(3);
    const cache0 = nb.randn([P * ctx, 2 * C], { generator: gen }).dataSync();
    const qkv = nb.randn([rows.length, 3 * C], { generator: gen }).dataSync();
    const { out, cache } = run('fused', rows, starts);
    rows.forEach((r, b) => {
      const want = Array.from(cache0);
      for (let j = 0; j < 2 * C; j++) want[r * 2 * C + j] = qkv[b * 3 * C + C + j];
      expect(Array.from(cache.subarray(r * 2 * C, (r + 1) * 2 * C))).toEqual(want.slice(r * 2 * C, (r + 1) * 2 * C).map(Math.fround));
      for (let h = 0; h < H; h++) {
        const keys = Array.from({ length: r - starts[b] + 1 }, (_, t) => starts[b] + t);
        const s = keys.map((row) => {
          let d = 0;
          for (let e = 0; e < D; e++) d += qkv[b * 3 * C + h * D + e] * want[row * 2 * C + h * D + e];
          return d / Math.sqrt(D);
        });
        const m = Math.max(...s),
          z = s.reduce((a, x) => a + Math.exp(x - m), 0);
        for (let e = 0; e < D; e++) {
          const y = keys.reduce((a, row, t) => a + (Math.exp(s[t] - m) / z) * want[row * 2 * C + C + h * D + e], 0);
          expect(out[b * C + h * D + e]).toBeCloseTo(y, 5);
        }
      }
    });
    // Rows of other positions are untouched.
    expect(cache[(ctx + 2) * 2 * C]).toBe(cache0[(ctx + 2) * 2 * C]);
  });

  it('refuses shapes and rows that do not fit', () => {
    const cache = nb.zeros([P * ctx, 2 * C]),
      qkv = nb.zeros([2, 3 * C]);
    const call =
      (o: Partial<Parameters<typeof slotAttention>[2]>, q = qkv, c = cache) =>
      () =>
        slotAttention(q, c, { nHead: H, rows: [1, 9], starts: [0, 8], ...o });
    expect(call({ nHead: 4 })).toThrow(/C divisible by nHead 4/);
    expect(call({}, nb.zeros([2, 3 * C + 1]))).toThrow(/must be \[B, 3C\]/);
    expect(call({ rows: [1] })).toThrow(/rows and starts for each of the 2 sequences/);
    expect(call({ rows: [1, 7] })).toThrow(/sequence 1 needs 0 <= start 8 <= row 7/);
    expect(call({ rows: [1, P * ctx] })).toThrow(/< 32/);
    expect(call({ rows: [9, 9], starts: [8, 8] })).toThrow(/two sequences write the same cache row/);
  });
});
