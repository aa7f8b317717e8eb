// Attention and Transformer layers against plain float64 loops written here from PyTorch's definitions.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { MultiheadAttention, scaledDotProductAttention, scaledDotProductAttentionWithWeights, multiHeadAttentionForward } from '../../src/nn/layers/attention.js';
import { TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, generateSquareSubsequentMask, cloneModule } from '../../src/nn/layers/transformer.js';
import { LayerNorm } from '../../src/nn/layers/norm.js';

type Arr = ArrayLike<number>;
const vals = (t: nb.Tensor): number[] => Array.from(t.dataSync());

function expectClose(actual: Arr, expected: Arr, tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) expect(a, `element ${i}`).toBe(e);
  }
}

/** Values in [-1, 1) from a seeded generator, as a host array and a tensor. */
function rnd(shape: number[], gen: nb.Generator, dtype: 'float32' | 'float64' = 'float32'): nb.Tensor {
  return nb.uniform(shape, -1, 1, { generator: gen, dtype });
}

/** Set every parameter of a module to random values (biases are zero at init, which would hide bugs). */
function randomize(m: nb.nn.Module, gen: nb.Generator): void {
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters()) sd[k] = rnd([...p.shape], gen, p.dtype as 'float32');
  m.loadStateDict(sd, { strict: false });
}

// ---------------------------------------------------------------------------------------------
// Plain-loop references

/** Softmax of one row, 0 everywhere when every entry is −∞ (PyTorch SDPA's safe softmax). */
function softmaxRow(s: number[]): number[] {
  const m = Math.max(...s);
  if (m === -Infinity) return s.map(() => 0);
  const e = s.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/**
 * SDPA over B batches of q [L, E], k [S, E], v [S, Ev] (row-major, batch-major):
 * out[b,i,:] = Σ_j softmax_j(q_i·k_j·scale + mask(b,i,j)) v_j.
 */
function refSdpa(
  q: Arr,
  k: Arr,
  v: Arr,
  B: number,
  L: number,
  S: number,
  E: number,
  Ev: number,
  scale: number,
  mask: (b: number, i: number, j: number) => number,
): { out: number[]; w: number[] } {
  const out: number[] = [],
    w: number[] = [];
  for (let b = 0; b < B; b++)
    for (let i = 0; i < L; i++) {
      const s: number[] = [];
      for (let j = 0; j < S; j++) {
        let d = 0;
        for (let e = 0; e < E; e++) d += q[(b * L + i) * E + e] * k[(b * S + j) * E + e];
        s.push(d * scale + mask(b, i, j));
      }
      const p = softmaxRow(s);
      w.push(...p);
      for (let e = 0; e < Ev; e++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += p[j] * v[(b * S + j) * Ev + e];
        out.push(acc);
      }
    }
  return { out, w };
}

/** y[r, o] = Σ_i x[r, i] W[o, i] + b[o] over R rows. */
function refLinear(x: Arr, R: number, I: number, W: Arr, b: Arr | null, O: number): number[] {
  const y: number[] = [];
  for (let r = 0; r < R; r++)
    for (let o = 0; o < O; o++) {
      let acc = b ? b[o] : 0;
      for (let i = 0; i < I; i++) acc += x[r * I + i] * W[o * I + i];
      y.push(acc);
    }
  return y;
}

interface MhaParams {
  Wq: Arr;
  Wk: Arr;
  Wv: Arr;
  bq: Arr | null;
  bk: Arr | null;
  bv: Arr | null;
  Wo: Arr;
  bo: Arr | null;
}

/** The projections of a MultiheadAttention module, read back from its parameters. */
function mhaParams(m: MultiheadAttention): MhaParams {
  const E = m.embedDim;
  const bias = m.in_proj_bias ? vals(m.in_proj_bias) : null;
  const part = (a: number[], i: number, n: number) => a.slice(i * n, (i + 1) * n);
  let Wq: Arr, Wk: Arr, Wv: Arr;
  if (m.in_proj_weight) {
    const W = vals(m.in_proj_weight);
    [Wq, Wk, Wv] = [0, 1, 2].map((i) => part(W, i, E * E));
  } else {
    [Wq, Wk, Wv] = [m.q_proj_weight!, m.k_proj_weight!, m.v_proj_weight!].map(vals);
  }
  return {
    Wq,
    Wk,
    Wv,
    bq: bias && part(bias, 0, E),
    bk: bias && part(bias, 1, E),
    bv: bias && part(bias, 2, E),
    Wo: vals(m.out_proj.weight),
    bo: m.out_proj.bias ? vals(m.out_proj.bias) : null,
  };
}

/**
 * nn.MultiheadAttention in the time-first layout: query [L, N, E], key [S, N, kd], value [S, N, vd].
 * Head h uses features h·hd .. (h+1)·hd−1 of the projections; scores scaled by 1/√hd.
 * Returns out [L, N, E] and weights [N, H, L, S].
 */
function refMha(
  query: Arr,
  key: Arr,
  value: Arr,
  L: number,
  S: number,
  N: number,
  E: number,
  kd: number,
  vd: number,
  H: number,
  P: MhaParams,
  mask: (n: number, h: number, i: number, j: number) => number = () => 0,
): { out: number[]; w: number[] } {
  const hd = E / H;
  const q = refLinear(query, L * N, E, P.Wq, P.bq, E),
    k = refLinear(key, S * N, kd, P.Wk, P.bk, E),
    v = refLinear(value, S * N, vd, P.Wv, P.bv, E);
  const o = new Array(L * N * E).fill(0),
    w: number[] = [];
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++) {
        const s: number[] = [];
        for (let j = 0; j < S; j++) {
          let d = 0;
          for (let e = 0; e < hd; e++) d += q[(i * N + n) * E + h * hd + e] * k[(j * N + n) * E + h * hd + e];
          s.push(d / Math.sqrt(hd) + mask(n, h, i, j));
        }
        const p = softmaxRow(s);
        w.push(...p);
        for (let e = 0; e < hd; e++) {
          let acc = 0;
          for (let j = 0; j < S; j++) acc += p[j] * v[(j * N + n) * E + h * hd + e];
          o[(i * N + n) * E + h * hd + e] = acc;
        }
      }
  return { out: refLinear(o, L * N, E, P.Wo, P.bo, E), w };
}

/** Mean over heads of weights [N, H, L, S] → [N, L, S]. */
function headMean(w: number[], N: number, H: number, L: number, S: number): number[] {
  const r: number[] = [];
  for (let n = 0; n < N; n++)
    for (let i = 0; i < L; i++)
      for (let j = 0; j < S; j++) {
        let acc = 0;
        for (let h = 0; h < H; h++) acc += w[((n * H + h) * L + i) * S + j];
        r.push(acc / H);
      }
  return r;
}

/** [A, B, C] row-major → [B, A, C]. */
function swap01(x: Arr, A: number, B: number, C: number): number[] {
  const r = new Array(A * B * C);
  for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) r[(b * A + a) * C + c] = x[(a * B + b) * C + c];
  return r;
}

function refLayerNorm(x: Arr, R: number, D: number, g: Arr, b: Arr, eps: number): number[] {
  const y: number[] = [];
  for (let r = 0; r < R; r++) {
    let m = 0,
      v = 0;
    for (let d = 0; d < D; d++) m += x[r * D + d];
    m /= D;
    for (let d = 0; d < D; d++) v += (x[r * D + d] - m) ** 2;
    v /= D;
    for (let d = 0; d < D; d++) y.push(((x[r * D + d] - m) / Math.sqrt(v + eps)) * g[d] + b[d]);
  }
  return y;
}

/** erf to ~1e-7 (Abramowitz & Stegun 7.1.26 is 1.5e-7; fine against float32). */
function erf(x: number): number {
  const s = Math.sign(x),
    a = Math.abs(x),
    t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
const actRef = { relu: (x: number) => Math.max(x, 0), gelu: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)) };

const addArr = (a: Arr, b: Arr) => Array.from(a, (x, i) => x + b[i]);

// ---------------------------------------------------------------------------------------------

describe('scaledDotProductAttention', () => {
  const gen = new nb.Generator(11);
  const [B, H, L, S, E, Ev] = [2, 3, 4, 6, 5, 7];
  const q = rnd([B, H, L, E], gen),
    k = rnd([B, H, S, E], gen),
    v = rnd([B, H, S, Ev], gen);
  const ref = (scale: number, mask: (b: number, i: number, j: number) => number = () => 0) => refSdpa(q.dataSync(), k.dataSync(), v.dataSync(), B * H, L, S, E, Ev, scale, mask);

  it('matches the loop definition without a mask, with the default scale 1/√E and a given scale', () => {
    const y = scaledDotProductAttention(q, k, v);
    expect(y.shape).toEqual([B, H, L, Ev]);
    expectClose(vals(y), ref(1 / Math.sqrt(E)).out);
    const [y2, w2] = scaledDotProductAttentionWithWeights(q, k, v, { scale: 0.3 });
    const r = ref(0.3);
    expectClose(vals(y2), r.out);
    expect(w2.shape).toEqual([B, H, L, S]);
    expectClose(vals(w2), r.w);
  });

  it('boolean masks: true takes part (SDPA convention), broadcast over batch dims', () => {
    const allowed = (i: number, j: number) => (i * 7 + j * 3) % 4 !== 0;
    const m = nb.tensor(Array.from({ length: L }, (_, i) => Array.from({ length: S }, (_, j) => allowed(i, j))));
    expect(m.dtype).toBe('bool');
    const [y, w] = scaledDotProductAttentionWithWeights(q, k, v, { attnMask: m });
    const r = ref(1 / Math.sqrt(E), (_, i, j) => (allowed(i, j) ? 0 : -Infinity));
    expectClose(vals(y), r.out);
    expectClose(vals(w), r.w);
  });

  it('float masks are added to the scores, and may broadcast [B, 1, L, S]', () => {
    const fm = rnd([B, 1, L, S], gen);
    const fd = fm.dataSync();
    const y = scaledDotProductAttention(q, k, v, { attnMask: fm, scale: 0.5 });
    // batch index b of the flat loop is (batch, head) = (⌊b/H⌋, b mod H); the mask ignores the head.
    expectClose(vals(y), ref(0.5, (b, i, j) => fd[(Math.floor(b / H) * L + i) * S + j]).out);
  });

  it('isCausal masks keys after the query (top-left triangle when L ≠ S)', () => {
    const [y, w] = scaledDotProductAttentionWithWeights(q, k, v, { isCausal: true });
    const r = ref(1 / Math.sqrt(E), (_, i, j) => (j > i ? -Infinity : 0));
    expectClose(vals(y), r.out);
    expectClose(vals(w), r.w);
    // exp(−∞) is 0; the wasm fused softmax clamps its exp input and gives ~1e-38 there, hence the bound
    expect(vals(w)[0 * S + 1]).toBeLessThan(1e-30);
  });

  it('fully masked rows give zero weights and output (PyTorch SDPA safe softmax), not NaN', () => {
    const m = nb.tensor([
      [false, false, false],
      [true, false, true],
    ]);
    const [y, w] = scaledDotProductAttentionWithWeights(nb.ones([2, 2]), nb.ones([3, 2]), rnd([3, 2], gen), { attnMask: m });
    expect(vals(y).slice(0, 2)).toEqual([0, 0]);
    expect(vals(w).slice(0, 3)).toEqual([0, 0, 0]);
    expectClose(vals(w), [0, 0, 0, 0.5, 0, 0.5], 1e-6);
  });

  it('dropout on the weights only when training', () => {
    const [, w0] = scaledDotProductAttentionWithWeights(q, k, v);
    const [, w1] = scaledDotProductAttentionWithWeights(q, k, v, { dropoutP: 0.5, generator: new nb.Generator(3) });
    const [, w2] = scaledDotProductAttentionWithWeights(q, k, v, { dropoutP: 0.5, training: false });
    expectClose(vals(w2), vals(w0), 1e-6);
    const a = vals(w0),
      b = vals(w1);
    let zeros = 0;
    b.forEach((x, i) => {
      if (x === 0) zeros++;
      else expect(x).toBeCloseTo(2 * a[i], 5);
    });
    expect(zeros).toBeGreaterThan(b.length * 0.3);
    expect(zeros).toBeLessThan(b.length * 0.7);
  });

  it('gradcheck in float64 w.r.t. q, k and v with a mask', () => {
    const g = new nb.Generator(5);
    const m = nb.tensor([
      [true, false, true],
      [true, true, false],
    ]);
    const r = nb.gradcheck(
      (a, b, c) => scaledDotProductAttention(a, b, c, { attnMask: m, scale: 0.7 }),
      [rnd([2, 2, 2], g, 'float64'), rnd([2, 3, 2], g, 'float64'), rnd([2, 3, 3], g, 'float64')],
    );
    expect(r.ok, r.message).toBe(true);
  });

  it('names the op and the shapes on bad input', () => {
    expect(() => scaledDotProductAttention(nb.ones([2, 4, 5]), nb.ones([2, 6, 3]), nb.ones([2, 6, 3]))).toThrow(/scaledDotProductAttention: query \[2, ?4, ?5\] and key \[2, ?6, ?3\]/);
    expect(() => scaledDotProductAttention(nb.ones([4, 5]), nb.ones([6, 5]), nb.ones([5, 3]))).toThrow(/same number of keys/);
    expect(() => scaledDotProductAttention(nb.ones([4, 5]), nb.ones([6, 5]), nb.ones([6, 3]), { attnMask: nb.ones([4, 5]) })).toThrow(/attnMask \[4, ?5\] is not broadcastable/);
    expect(() => scaledDotProductAttention(nb.ones([4, 5]), nb.ones([6, 5]), nb.ones([6, 3]), { attnMask: nb.ones([4, 6]), isCausal: true })).toThrow(/isCausal/);
  });
});

describe('MultiheadAttention', () => {
  it("has PyTorch's parameter names, shapes and init", () => {
    nb.manualSeed(0);
    const m = new MultiheadAttention(16, 4);
    expect(Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape])).toEqual([
      ['in_proj_weight', [48, 16]],
      ['in_proj_bias', [48]],
      ['out_proj.weight', [16, 16]],
      ['out_proj.bias', [16]],
    ]);
    const w = vals(m.in_proj_weight!),
      bound = Math.sqrt(6 / (16 + 48)); // xavier_uniform_: fan_in 16, fan_out 48
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(vals(m.in_proj_bias!).every((x) => x === 0)).toBe(true);
    expect(vals(m.out_proj.bias!).every((x) => x === 0)).toBe(true);
    const wo = vals(m.out_proj.weight);
    expect(Math.max(...wo.map(Math.abs))).toBeLessThanOrEqual(1 / 4); // Linear's default: U(±1/√16)
    expect(Math.max(...wo.map(Math.abs))).toBeGreaterThan(0.2);

    const sep = new MultiheadAttention(6, 3, { kdim: 4, vdim: 5 });
    expect(Object.entries(sep.stateDict()).map(([k, t]) => [k, t.shape])).toEqual([
      ['q_proj_weight', [6, 6]],
      ['k_proj_weight', [6, 4]],
      ['v_proj_weight', [6, 5]],
      ['in_proj_bias', [18]],
      ['out_proj.weight', [6, 6]],
      ['out_proj.bias', [6]],
    ]);
    expect(sep.in_proj_weight).toBeNull();
    expect(Object.keys(new MultiheadAttention(8, 2, { bias: false }).stateDict())).toEqual(['in_proj_weight', 'out_proj.weight']);
    expect(new MultiheadAttention(8, 2, { dtype: 'float64' }).in_proj_weight!.dtype).toBe('float64');
  });

  it('self-attention [L, N, E] matches the reference: heads split, weights averaged', () => {
    const gen = new nb.Generator(21);
    const [L, N, E, H] = [4, 2, 8, 2];
    const m = new MultiheadAttention(E, H);
    randomize(m, gen);
    const x = rnd([L, N, E], gen);
    const [y, w] = m.forward(x, x, x);
    const r = refMha(x.dataSync(), x.dataSync(), x.dataSync(), L, L, N, E, E, E, H, mhaParams(m));
    expect(y.shape).toEqual([L, N, E]);
    expectClose(vals(y), r.out);
    expect(w!.shape).toEqual([N, L, L]);
    expectClose(vals(w!), headMean(r.w, N, H, L, L));
    // needWeights false: the same output and no weights
    const [y2, w2] = m.forward(x, x, x, { needWeights: false });
    expectClose(vals(y2), r.out);
    expect(w2).toBeNull();
  });

  it('batch-first cross-attention with a key padding mask, per-head weights', () => {
    const gen = new nb.Generator(22);
    const [L, S, N, E, H] = [3, 5, 2, 6, 3];
    const m = new MultiheadAttention(E, H, { batchFirst: true });
    randomize(m, gen);
    const q = rnd([N, L, E], gen),
      kv = rnd([N, S, E], gen),
      val = rnd([N, S, E], gen);
    const pad = [
      [false, false, false, true, true],
      [false, true, false, false, false],
    ];
    const [y, w] = m.forward(q, kv, val, { keyPaddingMask: nb.tensor(pad), averageAttnWeights: false });
    const r = refMha(swap01(q.dataSync(), N, L, E), swap01(kv.dataSync(), N, S, E), swap01(val.dataSync(), N, S, E), L, S, N, E, E, E, H, mhaParams(m), (n, _h, _i, j) =>
      pad[n][j] ? -Infinity : 0,
    );
    expect(y.shape).toEqual([N, L, E]);
    expectClose(vals(y), swap01(r.out, L, N, E));
    expect(w!.shape).toEqual([N, H, L, S]);
    expectClose(vals(w!), r.w);
    expect(vals(w!)[3]).toBeLessThan(1e-30); // n 0, head 0, query 0, key 3 is padding
  });

  it('kdim/vdim use separate projection weights', () => {
    const gen = new nb.Generator(23);
    const [L, S, N, E, H, kd, vd] = [2, 3, 2, 6, 3, 4, 5];
    const m = new MultiheadAttention(E, H, { kdim: kd, vdim: vd });
    randomize(m, gen);
    const q = rnd([L, N, E], gen),
      k = rnd([S, N, kd], gen),
      v = rnd([S, N, vd], gen);
    const [y, w] = m.forward(q, k, v);
    const r = refMha(q.dataSync(), k.dataSync(), v.dataSync(), L, S, N, E, kd, vd, H, mhaParams(m));
    expectClose(vals(y), r.out);
    expectClose(vals(w!), headMean(r.w, N, H, L, S));
  });

  it('attention masks: boolean [L, S] (true = not allowed), float [N·H, L, S], with padding, and isCausal', () => {
    const gen = new nb.Generator(24);
    const [L, N, E, H] = [4, 2, 4, 2];
    const m = new MultiheadAttention(E, H);
    randomize(m, gen);
    const x = rnd([L, N, E], gen),
      xd = x.dataSync(),
      P = mhaParams(m);
    const banned = (i: number, j: number) => (i + 2 * j) % 3 === 1;
    const bm = nb.tensor(Array.from({ length: L }, (_, i) => Array.from({ length: L }, (_, j) => banned(i, j))));
    const [y1] = m.forward(x, x, x, { attnMask: bm });
    expectClose(vals(y1), refMha(xd, xd, xd, L, L, N, E, E, E, H, P, (_n, _h, i, j) => (banned(i, j) ? -Infinity : 0)).out);

    const fm = rnd([N * H, L, L], gen),
      fd = fm.dataSync();
    const pad = [
      [false, false, false, true],
      [true, false, false, false],
    ];
    const [y2, w2] = m.forward(x, x, x, { attnMask: fm, keyPaddingMask: nb.tensor(pad), averageAttnWeights: false });
    const r2 = refMha(xd, xd, xd, L, L, N, E, E, E, H, P, (n, h, i, j) => fd[((n * H + h) * L + i) * L + j] + (pad[n][j] ? -Infinity : 0));
    expectClose(vals(y2), r2.out);
    expectClose(vals(w2!), r2.w);

    const rc = refMha(xd, xd, xd, L, L, N, E, E, E, H, P, (_n, _h, i, j) => (j > i ? -Infinity : 0));
    const [y3] = m.forward(x, x, x, { isCausal: true });
    expectClose(vals(y3), rc.out);
    const [y4] = m.forward(x, x, x, { attnMask: generateSquareSubsequentMask(L), isCausal: true });
    expectClose(vals(y4), rc.out);
  });

  it('unbatched [L, E] input gives [L, E] and weights [L, S]; a fully padded query row gives the output bias', () => {
    const gen = new nb.Generator(25);
    const [L, S, E, H] = [3, 4, 4, 2];
    const m = new MultiheadAttention(E, H, { batchFirst: true }); // batchFirst does not apply to unbatched input
    randomize(m, gen);
    const q = rnd([L, E], gen),
      kv = rnd([S, E], gen);
    const [y, w] = m.forward(q, kv, kv, { keyPaddingMask: nb.tensor([false, true, false, false]) });
    const r = refMha(q.dataSync(), kv.dataSync(), kv.dataSync(), L, S, 1, E, E, E, H, mhaParams(m), (_n, _h, _i, j) => (j === 1 ? -Infinity : 0));
    expect(y.shape).toEqual([L, E]);
    expect(w!.shape).toEqual([L, S]);
    expectClose(vals(y), r.out);
    expectClose(vals(w!), headMean(r.w, 1, H, L, S));
    // Every key masked: zero weights and an output of out_proj.bias (PyTorch's need_weights path gives NaN here).
    const [y0, w0] = m.forward(q, kv, kv, { keyPaddingMask: nb.tensor([true, true, true, true]) });
    expect(vals(w0!).every((v) => v === 0)).toBe(true);
    const bo = vals(m.out_proj.bias!);
    expectClose(vals(y0), [...bo, ...bo, ...bo], 1e-6);
  });

  it('dropout applies to the weights in training only', () => {
    const gen = new nb.Generator(26);
    const m = new MultiheadAttention(4, 2, { dropout: 0.5 });
    randomize(m, gen);
    const x = rnd([5, 3, 4], gen);
    m.eval();
    const [, we] = m.forward(x, x, x, { averageAttnWeights: false });
    const r = refMha(x.dataSync(), x.dataSync(), x.dataSync(), 5, 5, 3, 4, 4, 4, 2, mhaParams(m));
    expectClose(vals(we!), r.w);
    m.train();
    const [, wt] = m.forward(x, x, x, { averageAttnWeights: false });
    const a = vals(wt!);
    let zeros = 0;
    a.forEach((v, i) => {
      if (v === 0) zeros++;
      else expect(v).toBeCloseTo(2 * r.w[i], 4);
    });
    expect(zeros).toBeGreaterThan(a.length * 0.3);
    expect(zeros).toBeLessThan(a.length * 0.7);
  });

  it('gradcheck in float64 w.r.t. query and in_proj_weight, and the module puts the same gradient on its parameter', () => {
    const g = new nb.Generator(27);
    const [L, N, E, H] = [3, 2, 4, 2];
    const W = rnd([3 * E, E], g, 'float64'),
      b = rnd([3 * E], g, 'float64'),
      Wo = rnd([E, E], g, 'float64'),
      bo = rnd([E], g, 'float64');
    const pad = nb.tensor([
      [false, false, true],
      [false, false, false],
    ]);
    const fSelf = (q: nb.Tensor, w: nb.Tensor) =>
      multiHeadAttentionForward(q, q, q, H, { inProjWeight: w, inProjBias: b, outProjWeight: Wo, outProjBias: bo }, { keyPaddingMask: pad, needWeights: false })[0];
    const q0 = rnd([L, N, E], g, 'float64');
    const r1 = nb.gradcheck(fSelf, [q0, W]);
    expect(r1.ok, r1.message).toBe(true);
    // cross-attention (separate projections of query and key/value) and the averaged weights as output
    const kv = rnd([2, N, E], g, 'float64');
    const r2 = nb.gradcheck(
      (q, w) =>
        nb.add(
          nb.sum(multiHeadAttentionForward(q, kv, kv, H, { inProjWeight: w, inProjBias: b, outProjWeight: Wo, outProjBias: bo })[0]),
          nb.sum(nb.mul(multiHeadAttentionForward(q, kv, kv, H, { inProjWeight: w, inProjBias: b, outProjWeight: Wo, outProjBias: bo })[1]!, 3)),
        ),
      [q0, W],
    );
    expect(r2.ok, r2.message).toBe(true);

    // The module routes its parameters through the same function: compare its gradient with the functional one.
    const m = new MultiheadAttention(E, H, { dtype: 'float64' });
    m.loadStateDict({ in_proj_weight: W, in_proj_bias: b, 'out_proj.weight': Wo, 'out_proj.bias': bo });
    const qm = q0.clone();
    qm.requiresGrad = true;
    nb.sum(m.forward(qm, qm, qm, { keyPaddingMask: pad })[0]).backward();
    const Wl = W.clone(),
      ql = q0.clone();
    Wl.requiresGrad = true;
    ql.requiresGrad = true;
    nb.sum(fSelf(ql, Wl)).backward();
    expectClose(vals(m.in_proj_weight!.grad!), vals(Wl.grad!), 1e-9);
    expectClose(vals(qm.grad!), vals(ql.grad!), 1e-9);
  });

  it('names the layer and the shapes on bad input', () => {
    expect(() => new MultiheadAttention(10, 3)).toThrow(/MultiheadAttention: embedDim 10 must be divisible by numHeads 3/);
    const m = new MultiheadAttention(8, 2);
    expect(() => m.forward(nb.ones([3, 2, 6]), nb.ones([3, 2, 6]), nb.ones([3, 2, 6]))).toThrow(/query \[3, ?2, ?6\] must have embedDim 8/);
    expect(() => m.forward(nb.ones([3, 2, 8]), nb.ones([4, 2, 8]), nb.ones([5, 2, 8]))).toThrow(/key \[4, ?2, ?8\] and value \[5, ?2, ?8\]/);
    expect(() => m.forward(nb.ones([3, 2, 8]), nb.ones([4, 2, 6]), nb.ones([4, 2, 6]))).toThrow(/embed dim 8.*kdim\/vdim/);
    expect(() => m.forward(nb.ones([3, 2, 8]), nb.ones([4, 2, 8]), nb.ones([4, 2, 8]), { keyPaddingMask: nb.ones([2, 3]) })).toThrow(
      /keyPaddingMask \[2, ?3\] must be \[N, S\] = \[2, ?4\]/,
    );
    expect(() => m.forward(nb.ones([3, 2, 8]), nb.ones([4, 2, 8]), nb.ones([4, 2, 8]), { attnMask: nb.ones([3, 3]) })).toThrow(/2D attnMask \[3, ?3\] must be \[L, S\] = \[3, ?4\]/);
    expect(() => m.forward(nb.ones([3, 2, 8]), nb.ones([4, 2, 8]), nb.ones([4, 2, 8]), { attnMask: nb.ones([2, 3, 4]) })).toThrow(
      /3D attnMask \[2, ?3, ?4\] must be \[N·numHeads, L, S\] = \[4, ?3, ?4\]/,
    );
    expect(() => m.forward(nb.ones([3, 2, 8]), nb.ones([4, 8]), nb.ones([4, 8]))).toThrow(/same number of dims as query/);
    const sep = new MultiheadAttention(6, 2, { kdim: 4, vdim: 5 });
    expect(() => sep.forward(nb.ones([3, 1, 6]), nb.ones([2, 1, 5]), nb.ones([2, 1, 5]))).toThrow(/kProjWeight \[6, ?4\] must be \[6, ?5\] for key/);
  });
});

// ---------------------------------------------------------------------------------------------

/** Post-norm or pre-norm encoder layer in loops, time-first [L, N, E], from the layer's parameters. */
function refEncoderLayer(
  layer: TransformerEncoderLayer,
  x: Arr,
  L: number,
  N: number,
  act: (v: number) => number,
  mask: (n: number, h: number, i: number, j: number) => number = () => 0,
): number[] {
  const E = layer.dModel,
    H = layer.nhead,
    F = layer.linear1.outFeatures,
    R = L * N;
  const P = mhaParams(layer.self_attn);
  const ln = (v: Arr, n: LayerNorm) => refLayerNorm(v, R, E, vals(n.weight!), vals(n.bias!), n.eps);
  const sa = (v: Arr) => refMha(v, v, v, L, L, N, E, E, E, H, P, mask).out;
  const ff = (v: Arr) =>
    refLinear(refLinear(v, R, E, vals(layer.linear1.weight), vals(layer.linear1.bias!), F).map(act), R, F, vals(layer.linear2.weight), vals(layer.linear2.bias!), E);
  if (layer.normFirst) {
    const a = addArr(x, sa(ln(x, layer.norm1)));
    return addArr(a, ff(ln(a, layer.norm2)));
  }
  const a = ln(addArr(x, sa(x)), layer.norm1);
  return ln(addArr(a, ff(a)), layer.norm2);
}

describe('TransformerEncoderLayer', () => {
  it("has PyTorch's state dict keys, and defaults", () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    expect(Object.entries(layer.stateDict()).map(([k, t]) => [k, t.shape])).toEqual([
      ['self_attn.in_proj_weight', [24, 8]],
      ['self_attn.in_proj_bias', [24]],
      ['self_attn.out_proj.weight', [8, 8]],
      ['self_attn.out_proj.bias', [8]],
      ['linear1.weight', [16, 8]],
      ['linear1.bias', [16]],
      ['linear2.weight', [8, 16]],
      ['linear2.bias', [8]],
      ['norm1.weight', [8]],
      ['norm1.bias', [8]],
      ['norm2.weight', [8]],
      ['norm2.bias', [8]],
    ]);
    expect([...layer.namedChildren()].map(([k]) => k)).toEqual(['self_attn', 'linear1', 'dropout', 'linear2', 'norm1', 'norm2', 'dropout1', 'dropout2']);
    expect(layer.dropout.p).toBe(0.1);
    expect(layer.self_attn.dropout).toBe(0.1);
    expect(new TransformerEncoderLayer(8, 2).linear1.outFeatures).toBe(2048);
    expect(Object.keys(new TransformerEncoderLayer(8, 2, { dimFeedforward: 4, bias: false }).stateDict())).toEqual([
      'self_attn.in_proj_weight',
      'self_attn.out_proj.weight',
      'linear1.weight',
      'linear2.weight',
      'norm1.weight',
      'norm2.weight',
    ]);
    expect(() => new TransformerEncoderLayer(10, 4)).toThrow(/TransformerEncoderLayer: dModel 10 must be divisible by nhead 4/);
    expect(() => new TransformerEncoderLayer(8, 2, { activation: 'tanh' as 'relu' })).toThrow(/activation/);
    expect(() => layer.forward(nb.ones([3, 2, 6]))).toThrow(/src \[3, ?2, ?6\] must have dModel 8/);
  });

  for (const normFirst of [false, true]) {
    for (const activation of ['relu', 'gelu'] as const) {
      it(`${normFirst ? 'pre' : 'post'}-norm, ${activation}: matches the reference (eval), with a padding mask`, () => {
        const gen = new nb.Generator(normFirst ? 31 : 32);
        const [L, N, E, H, F] = [4, 2, 8, 2, 12];
        const layer = new TransformerEncoderLayer(E, H, { dimFeedforward: F, normFirst, activation });
        randomize(layer, gen);
        layer.eval();
        const x = rnd([L, N, E], gen);
        const pad = [
          [false, false, true, false],
          [false, false, false, false],
        ];
        const y = layer.forward(x, { srcKeyPaddingMask: nb.tensor(pad) });
        expect(y.shape).toEqual([L, N, E]);
        expectClose(
          vals(y),
          refEncoderLayer(layer, x.dataSync(), L, N, actRef[activation], (n, _h, _i, j) => (pad[n][j] ? -Infinity : 0)),
        );
      });
    }
  }

  it('batch-first with a causal mask matches the time-first reference', () => {
    const gen = new nb.Generator(33);
    const [L, N, E, H] = [5, 2, 4, 2];
    const layer = new TransformerEncoderLayer(E, H, { dimFeedforward: 6, batchFirst: true, dropout: 0 });
    randomize(layer, gen);
    const x = rnd([N, L, E], gen);
    const want = swap01(
      refEncoderLayer(layer, swap01(x.dataSync(), N, L, E), L, N, actRef.relu, (_n, _h, i, j) => (j > i ? -Infinity : 0)),
      L,
      N,
      E,
    );
    expectClose(vals(layer.forward(x, { srcMask: generateSquareSubsequentMask(L) })), want);
    expectClose(vals(layer.forward(x, { isCausal: true })), want);
  });

  it('dropout is active in training mode only', () => {
    const gen = new nb.Generator(34);
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0.5 });
    const x = rnd([3, 2, 4], gen);
    layer.eval();
    const a = vals(layer.forward(x)),
      b = vals(layer.forward(x));
    expect(a).toEqual(b);
    layer.train();
    expect(vals(layer.forward(x))).not.toEqual(a);
  });

  it('gradcheck in float64 through the whole layer w.r.t. src', () => {
    const gen = new nb.Generator(35);
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, dtype: 'float64', activation: 'gelu' });
    randomize(layer, gen);
    const r = nb.gradcheck((x) => layer.forward(x), [rnd([3, 2, 4], gen, 'float64')]);
    expect(r.ok, r.message).toBe(true);
  });
});

describe('TransformerDecoderLayer', () => {
  it("has PyTorch's state dict keys", () => {
    const layer = new TransformerDecoderLayer(4, 2, { dimFeedforward: 6 });
    const attn = (p: string) => [`${p}.in_proj_weight`, `${p}.in_proj_bias`, `${p}.out_proj.weight`, `${p}.out_proj.bias`];
    expect(Object.keys(layer.stateDict())).toEqual([
      ...attn('self_attn'),
      ...attn('multihead_attn'),
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
      'norm1.weight',
      'norm1.bias',
      'norm2.weight',
      'norm2.bias',
      'norm3.weight',
      'norm3.bias',
    ]);
    expect([...layer.namedChildren()].map(([k]) => k)).toEqual([
      'self_attn',
      'multihead_attn',
      'linear1',
      'dropout',
      'linear2',
      'norm1',
      'norm2',
      'norm3',
      'dropout1',
      'dropout2',
      'dropout3',
    ]);
    expect(() => layer.forward(nb.ones([3, 1, 4]), nb.ones([2, 1, 5]))).toThrow(/memory \[2, ?1, ?5\] must have dModel 4/);
  });

  for (const normFirst of [false, true]) {
    it(`${normFirst ? 'pre' : 'post'}-norm matches the reference: causal self-attention, padded memory`, () => {
      const gen = new nb.Generator(normFirst ? 41 : 42);
      const [T, S, N, E, H, F] = [3, 4, 2, 4, 2, 6];
      const layer = new TransformerDecoderLayer(E, H, { dimFeedforward: F, normFirst, batchFirst: true });
      randomize(layer, gen);
      layer.eval();
      const tgt = rnd([N, T, E], gen),
        mem = rnd([N, S, E], gen);
      const pad = [
        [false, false, false, true],
        [false, true, false, false],
      ];
      const y = layer.forward(tgt, mem, { tgtMask: generateSquareSubsequentMask(T), memoryKeyPaddingMask: nb.tensor(pad) });
      expect(y.shape).toEqual([N, T, E]);

      const R = T * N,
        P1 = mhaParams(layer.self_attn),
        P2 = mhaParams(layer.multihead_attn);
      const md = swap01(mem.dataSync(), N, S, E);
      const ln = (v: Arr, n: LayerNorm) => refLayerNorm(v, R, E, vals(n.weight!), vals(n.bias!), n.eps);
      const sa = (v: Arr) => refMha(v, v, v, T, T, N, E, E, E, H, P1, (_n, _h, i, j) => (j > i ? -Infinity : 0)).out;
      const ca = (v: Arr) => refMha(v, md, md, T, S, N, E, E, E, H, P2, (n, _h, _i, j) => (pad[n][j] ? -Infinity : 0)).out;
      const ff = (v: Arr) =>
        refLinear(refLinear(v, R, E, vals(layer.linear1.weight), vals(layer.linear1.bias!), F).map(actRef.relu), R, F, vals(layer.linear2.weight), vals(layer.linear2.bias!), E);
      let x: number[] = swap01(tgt.dataSync(), N, T, E);
      if (normFirst) {
        x = addArr(x, sa(ln(x, layer.norm1)));
        x = addArr(x, ca(ln(x, layer.norm2)));
        x = addArr(x, ff(ln(x, layer.norm3)));
      } else {
        x = ln(addArr(x, sa(x)), layer.norm1);
        x = ln(addArr(x, ca(x)), layer.norm2);
        x = ln(addArr(x, ff(x)), layer.norm3);
      }
      expectClose(vals(y), swap01(x, T, N, E));
      // tgtIsCausal without a mask builds the same causal mask
      expectClose(vals(layer.forward(tgt, mem, { tgtIsCausal: true, memoryKeyPaddingMask: nb.tensor(pad) })), vals(y), 1e-6);
    });
  }
});

describe('TransformerEncoder / TransformerDecoder', () => {
  it('stack deep copies named layers.0, layers.1, ... that start equal and train independently', () => {
    nb.manualSeed(7);
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0 });
    const enc = new TransformerEncoder(layer, 3, { norm: new LayerNorm(4) });
    const keys = Object.keys(enc.stateDict());
    expect(keys.length).toBe(3 * 12 + 2);
    expect(keys.slice(0, 2)).toEqual(['layers.0.self_attn.in_proj_weight', 'layers.0.self_attn.in_proj_bias']);
    expect(keys).toContain('layers.2.norm2.bias');
    expect(keys.slice(-2)).toEqual(['norm.weight', 'norm.bias']);
    expect(enc.parameters().length).toBe(3 * 12 + 2); // the original layer is not registered

    const l0 = enc.layers.at(0) as TransformerEncoderLayer,
      l1 = enc.layers.at(1) as TransformerEncoderLayer;
    expect(l0).toBeInstanceOf(TransformerEncoderLayer);
    expect(l0).not.toBe(layer);
    expect(l0.self_attn.in_proj_weight).not.toBe(layer.self_attn.in_proj_weight);
    expect(l0.self_attn.in_proj_weight!.storage).not.toBe(l1.self_attn.in_proj_weight!.storage);
    expect(vals(l0.self_attn.in_proj_weight!)).toEqual(vals(layer.self_attn.in_proj_weight!));
    expect(vals(l1.linear2.weight)).toEqual(vals(layer.linear2.weight));

    // Stacking: layer by layer, then the final norm.
    const gen = new nb.Generator(51);
    randomize(enc, gen);
    const x = rnd([3, 2, 4], gen);
    let h = x;
    for (const l of enc.layers) h = (l as TransformerEncoderLayer).forward(h);
    expectClose(vals(enc.forward(x)), vals(enc.norm!.forward(h)), 1e-6);
    // and each layer against the loop reference
    const l2 = enc.layers.at(2) as TransformerEncoderLayer;
    let r: number[] = Array.from(x.dataSync());
    for (const l of [l0, l1, l2]) r = refEncoderLayer(l, r, 3, 2, actRef.relu);
    const nrm = enc.norm as LayerNorm;
    expectClose(vals(enc.forward(x)), refLayerNorm(r, 6, 4, vals(nrm.weight!), vals(nrm.bias!), 1e-5));

    // One optimizer step moves every copy by its own gradient; the original layer is untouched.
    const before0 = vals(l0.linear1.weight),
      before1 = vals(l1.linear1.weight),
      orig = vals(layer.linear1.weight);
    const opt = new nb.optim.SGD(enc.parameters(), { lr: 0.1 });
    nb.sum(nb.mul(enc.forward(x), rnd([3, 2, 4], gen))).backward();
    const g0 = vals(l0.linear1.weight.grad!),
      g1 = vals(l1.linear1.weight.grad!);
    expect(g0).not.toEqual(g1);
    opt.step();
    expectClose(
      vals(l0.linear1.weight),
      before0.map((v, i) => v - 0.1 * g0[i]),
      1e-6,
    );
    expectClose(
      vals(l1.linear1.weight),
      before1.map((v, i) => v - 0.1 * g1[i]),
      1e-6,
    );
    expect(vals(layer.linear1.weight)).toEqual(orig);

    // train()/eval() reach the copies
    enc.eval();
    expect([...enc.modules()].every((m) => !m.training)).toBe(true);
    expect(() => new TransformerEncoder(layer, 0)).toThrow(/numLayers must be a positive integer/);
  });

  it('passes masks to every layer (causal encoder), and the decoder stacks the same way', () => {
    const gen = new nb.Generator(52);
    const enc = new TransformerEncoder(new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, batchFirst: true, dropout: 0 }), 2);
    randomize(enc, gen);
    const x = rnd([2, 5, 4], gen);
    const causal = generateSquareSubsequentMask(5);
    let h = x;
    for (const l of enc.layers) h = (l as TransformerEncoderLayer).forward(h, { srcMask: causal });
    expectClose(vals(enc.forward(x, { mask: causal })), vals(h), 1e-6);
    expectClose(vals(enc.forward(x, { isCausal: true })), vals(h), 1e-5);
    // Causality: changing the last position leaves earlier outputs unchanged.
    const x2 = nb.concat([nb.slice(x, 1, 0, 4), rnd([2, 1, 4], gen)], 1);
    expectClose(vals(nb.slice(enc.forward(x2, { mask: causal }), 1, 0, 4)), vals(nb.slice(h, 1, 0, 4)), 1e-5);

    const dec = new TransformerDecoder(new TransformerDecoderLayer(4, 2, { dimFeedforward: 6, batchFirst: true, dropout: 0 }), 2, { norm: new LayerNorm(4) });
    expect(Object.keys(dec.stateDict()).filter((k) => k.startsWith('layers.1.multihead_attn.'))).toEqual([
      'layers.1.multihead_attn.in_proj_weight',
      'layers.1.multihead_attn.in_proj_bias',
      'layers.1.multihead_attn.out_proj.weight',
      'layers.1.multihead_attn.out_proj.bias',
    ]);
    randomize(dec, gen);
    const tgt = rnd([2, 3, 4], gen);
    const opts = {
      tgtMask: generateSquareSubsequentMask(3),
      memoryKeyPaddingMask: nb.tensor([
        [false, false, false, false, true],
        [false, false, false, false, false],
      ]),
    };
    let t = tgt;
    for (const l of dec.layers) t = (l as TransformerDecoderLayer).forward(t, h, opts);
    expectClose(vals(dec.forward(tgt, h, opts)), vals(dec.norm!.forward(t)), 1e-6);
  });

  it('cloneModule copies parameters and buffers, keeping sharing within the copy', () => {
    const a = new nb.nn.Linear(3, 2);
    const holder = new (class extends nb.nn.Module {
      p = a;
      q = a;
      bn = new nb.nn.BatchNorm1d(2);
      forward(x: nb.Tensor) {
        return x;
      }
    })();
    const c = cloneModule(holder);
    expect(c.p).toBe(c.q);
    expect(c.p).not.toBe(a);
    expect(vals(c.p.weight)).toEqual(vals(a.weight));
    expect(Object.keys(c.stateDict())).toEqual(Object.keys(holder.stateDict()));
    expect(c.bn.running_var).not.toBe(holder.bn.running_var);
    expect(vals(c.bn.running_var!)).toEqual([1, 1]);
    expect(c.bn.num_batches_tracked!.dtype).toBe('int32');
  });

  it('generateSquareSubsequentMask is −∞ above the diagonal', () => {
    expect(generateSquareSubsequentMask(3).tolistSync()).toEqual([
      [0, -Infinity, -Infinity],
      [0, 0, -Infinity],
      [0, 0, 0],
    ]);
    expect(generateSquareSubsequentMask(2, { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('a training step in scope() leaves the live buffer count flat', () => {
    const gen = new nb.Generator(53);
    const enc = new TransformerEncoder(new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, batchFirst: true }), 2);
    const opt = new nb.optim.AdamW(enc.parameters(), { lr: 1e-3 });
    const x = rnd([2, 3, 4], gen),
      pad = nb.tensor([
        [false, false, true],
        [false, false, false],
      ]);
    const step = () =>
      nb.scope(() => {
        const loss = nb.mean(nb.square(enc.forward(x, { srcKeyPaddingMask: pad, isCausal: true })));
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
    step();
    const live = nb.getBackend().liveBuffers();
    for (let i = 0; i < 3; i++) step();
    expect(nb.getBackend().liveBuffers()).toBe(live);
  });
});
