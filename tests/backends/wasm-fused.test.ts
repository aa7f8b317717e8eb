// The wasm fused layer norm, cross-entropy, attention and GELU against their composed defaults on wasm:
// forward values and input/weight gradients (fused backward, and the fused forward with the composed
// backward), second derivatives (which take the composed backward), odd sizes (rows not a multiple
// of 4, n = 1, n = 1000), strided views, ignored targets, 1 and 2 threads, memory that stays flat,
// and a GPT training step. Runs on the wasm projects; elsewhere it says why it skips.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { near, withMode, profiled, checkGptStepFusedVsComposed, checkFusedOpsFreeSaved, type Mode } from '../helpers/fused.js';
import { packedCausalSelfAttention } from '../../src/nn/layers/attention.js';

const backend = nb.getBackend();
const unavailable = backend.name !== 'wasm' ? `the backend under test is ${backend.name}, not wasm` : '';

const gen = new nb.Generator(17);
const randn = (shape: number[], scale = 1): nb.Tensor => nb.mul(nb.randn(shape, { generator: gen }), scale);

/**
 * f(...inputs) under `mode`: its value, and the gradients of Σ y·w (w a fixed cosine pattern) for
 * each input that is not int32. Inputs are fresh leaves each time.
 */
function run(mode: Mode, inputs: nb.Tensor[], f: (...xs: nb.Tensor[]) => nb.Tensor) {
  const r = withMode(mode, () =>
    nb.scope(() => {
      const leaves = inputs.map((t) => (t.dtype === 'int32' ? t : t.detach().requiresGrad_()));
      const y = f(...leaves);
      const w = nb.cos(nb.arange(0, y.size, 1, { dtype: 'float32' })).reshape(y.shape);
      nb.sum(nb.mul(y, w)).backward();
      return { y, grads: leaves.filter((t) => t.dtype !== 'int32').map((t) => t.grad!) };
    }),
  );
  return { y: r.y.dataSync(), grads: r.grads.map((g) => g.dataSync()) };
}

/** Fused and fused-forward-composed-backward against the composed path: values and every gradient. */
function compare(name: string, inputs: nb.Tensor[], f: (...xs: nb.Tensor[]) => nb.Tensor, rtol = 1e-4): void {
  const ref = run('composed', inputs, f);
  for (const mode of ['fused', 'composed backward'] as const) {
    const got = run(mode, inputs, f);
    near(got.y, ref.y, `${name} (${mode}): values`, rtol);
    got.grads.forEach((g, i) => near(g, ref.grads[i], `${name} (${mode}): gradient of input ${i}`, rtol));
  }
}

/** Dispatches f makes, primitives and fused ops together (a fused kernel is one, under its op's name). */
function dispatches(f: () => unknown): number {
  return Object.values(profiled(f)).reduce((s, n) => s + n, 0);
}

/** Second derivatives: d/dx Σ (∂(Σ y·w)/∂x)², which records the backward (the composed VJP). */
function secondOrder(mode: Mode, inputs: nb.Tensor[], f: (...xs: nb.Tensor[]) => nb.Tensor): ArrayLike<number>[] {
  const grads = withMode(mode, () =>
    nb.scope(() => {
      const leaves = inputs.map((t) => (t.dtype === 'int32' ? t : t.detach().requiresGrad_()));
      const floats = leaves.filter((t) => t.dtype !== 'int32');
      const y = f(...leaves);
      const w = nb.cos(nb.arange(0, y.size, 1, { dtype: 'float32' })).reshape(y.shape);
      const g1 = nb.gradOf(nb.sum(nb.mul(y, w)), floats, { createGraph: true, retainGraph: true });
      const terms = (g1.filter((g) => g) as nb.Tensor[]).map((g) => nb.sum(nb.mul(g, g)));
      terms.reduce((a, b) => nb.add(a, b)).backward();
      return floats.map((t) => t.grad ?? nb.zerosLike(t));
    }),
  );
  return grads.map((g) => g.dataSync());
}

function compareSecondOrder(name: string, inputs: nb.Tensor[], f: (...xs: nb.Tensor[]) => nb.Tensor): void {
  const ref = secondOrder('composed', inputs, f);
  const got = secondOrder('fused', inputs, f);
  got.forEach((g, i) => near(g, ref[i], `${name}: second derivative of input ${i}`, 2e-4));
}

describe.skipIf(!!unavailable)('wasm fused layer norm', () => {
  const ln = (shape: number[]) => (x: nb.Tensor, w?: nb.Tensor, b?: nb.Tensor) => nb.nn.functional.layerNorm(x, shape, w, b, 1e-5);

  it('matches the composed one with weight and bias: odd rows, GPT-like rows, n = 1, n = 1000', () => {
    compare('[5, 37]', [randn([5, 37], 3), randn([37]), randn([37])], ln([37]));
    compare('[3, 7, 64] shifted', [randn([3, 7, 64]).add(5), randn([64]), randn([64])], ln([64]));
    compare('[6, 1000]', [randn([6, 1000]), randn([1000]), randn([1000])], ln([1000]));
    compare('[7, 1]', [randn([7, 1]), randn([1]), randn([1])], ln([1]));
    compare('[1, 3]', [randn([1, 3]), randn([3]), randn([3])], ln([3]));
    compare('[200, 50]', [randn([200, 50]), randn([50]), randn([50])], ln([50]));
  });

  it('matches without weight or bias, with one of them, over two trailing dims, on strided views', () => {
    compare('[300, 9] no affine', [randn([300, 9])], ln([9]));
    compare('[70, 3] weight only', [randn([70, 3]), randn([3])], (x, w) => ln([3])(x, w));
    compare('[33, 5] bias only', [randn([33, 5]), randn([5])], (x, b) => ln([5])(x, undefined, b));
    compare('[4, 6, 10] over [6, 10]', [randn([4, 6, 10]), randn([6, 10]), randn([6, 10])], ln([6, 10]));
    // rows with a stride of 50 (a column slice): the fused kernel reads them in place
    compare('a column slice', [randn([9, 50]), randn([41]), randn([41])], (x, w, b) => ln([41])(x.slice(1, 3, 44), w, b));
    // columns with a stride: the composed path
    compare('a transposed view', [randn([40, 20]), randn([40]), randn([40])], (x, w, b) => ln([40])(x.t(), w, b));
    compare('a permuted 3-D view', [randn([6, 4, 10]), randn([10]), randn([10])], (x, w, b) => ln([10])(x.permute(1, 0, 2), w, b).permute(1, 0, 2));
  });

  it('is one fused op forward, and the LayerNorm module uses it', () => {
    const x = randn([6, 32]),
      w = randn([32]),
      b = randn([32]);
    expect(profiled(() => nb.nn.functional.layerNorm(x, [32], w, b))).toEqual({ layerNorm: 1 });
    expect(dispatches(() => withMode('composed', () => nb.nn.functional.layerNorm(x, [32], w, b)))).toBeGreaterThan(5);
    const m = new nb.nn.LayerNorm(32);
    const y = nb.scope(() => m.forward(x));
    const ref = withMode('composed', () => m.forward(x));
    near(y.dataSync(), ref.dataSync(), 'LayerNorm module');
  });

  it('second derivatives go through the composed backward', () => {
    compareSecondOrder('[6, 13]', [randn([6, 13]), randn([13]), randn([13])], ln([13]));
  });
});

describe.skipIf(!!unavailable)('wasm fused cross-entropy', () => {
  const targets = (n: number, C: number, ignoreEvery = 0) => nb.tensor(Int32Array.from({ length: n }, (_, i) => (ignoreEvery && i % ignoreEvery === 1 ? -100 : (i * 7919) % C)));
  const ce = (reduction: 'mean' | 'sum' | 'none', ignoreIndex?: number) => (x: nb.Tensor, t: nb.Tensor) => nb.nn.functional.crossEntropy(x, t, { reduction, ignoreIndex });

  it('matches the composed one: C = 1000, ignored targets (−100), every reduction', () => {
    const x = randn([37, 1000], 4),
      t = targets(37, 1000, 5);
    for (const r of ['mean', 'sum', 'none'] as const) compare(`[37, 1000] ${r}`, [x, t], ce(r));
  });

  it('matches on short and long rows, one row, one class, large logits, strided views, a custom ignoreIndex', () => {
    compare('[300, 3]', [randn([300, 3]), targets(300, 3)], ce('mean'));
    compare('[1, 65]', [randn([1, 65]), targets(1, 65)], ce('mean'));
    compare('[5, 1]', [randn([5, 1]), targets(5, 1)], ce('sum'));
    compare('[3, 5000] large logits', [randn([3, 5000], 40), targets(3, 5000)], ce('mean'));
    compare('a column slice', [randn([11, 30]), targets(11, 23, 4)], (x, t) => ce('mean')(x.slice(1, 5, 28), t));
    compare('a transposed view', [randn([10, 20]), targets(20, 10)], (x, t) => ce('mean')(x.t(), t));
    const t = nb.tensor([0, 2, 2, 1, 2], { dtype: 'int32' });
    compare('ignoreIndex 2 (a real class)', [randn([5, 4]), t], ce('mean', 2));
  });

  it('gives 0 per ignored row, NaN for a mean over only ignored rows, as the composed one', () => {
    const x = randn([3, 6]),
      t = nb.tensor([-100, 4, -100], { dtype: 'int32' });
    const none = ce('none')(x, t).dataSync();
    expect(none[0]).toBe(0);
    expect(none[2]).toBe(0);
    const all = nb.tensor([-100, -100, -100], { dtype: 'int32' });
    expect(ce('mean')(x, all).itemSync()).toBeNaN();
    expect(withMode('composed', () => ce('mean')(x, all)).itemSync()).toBeNaN();
  });

  it('second derivatives go through the composed backward', () => {
    compareSecondOrder('[4, 9]', [randn([4, 9]), targets(4, 9)], ce('mean'));
  });
});

describe.skipIf(!!unavailable)('wasm fused attention', () => {
  const sdpa = (opts: nb.nn.ScaledDotProductAttentionOptions) => (q: nb.Tensor, k: nb.Tensor, v: nb.Tensor) => nb.nn.scaledDotProductAttention(q, k, v, opts);

  it('causal, T = 70, head dim 16 and 64 (blocks of query rows, partial tiles)', () => {
    for (const D of [16, 64]) {
      const [q, k, v] = [0, 1, 2].map(() => randn([1, 2, 70, D]));
      compare(`causal [1, 2, 70, ${D}]`, [q, k, v], sdpa({ isCausal: true }), 2e-4);
    }
  });

  it('non-causal with L ≠ S, odd head dims, Ev ≠ E, a custom scale, causal with L ≠ S, one key', () => {
    compare('L 5, S 37, E 7, Ev 10', [randn([3, 5, 7]), randn([3, 37, 7]), randn([3, 37, 10])], sdpa({}), 2e-4);
    compare('scale 0.3', [randn([2, 9, 12]), randn([2, 9, 12]), randn([2, 9, 12])], sdpa({ scale: 0.3 }), 2e-4);
    compare('causal L 50 > S 6', [randn([2, 50, 8]), randn([2, 6, 8]), randn([2, 6, 8])], sdpa({ isCausal: true }), 2e-4);
    compare('causal L 6 < S 40', [randn([2, 6, 8]), randn([2, 40, 8]), randn([2, 40, 8])], sdpa({ isCausal: true }), 2e-4);
    compare('S 1, E 1', [randn([4, 3, 1]), randn([4, 1, 1]), randn([4, 1, 5])], sdpa({}), 2e-4);
    compare('head dim 128, 3-D batch', [randn([2, 1, 3, 33, 128]), randn([2, 1, 3, 33, 128]), randn([2, 1, 3, 33, 128])], sdpa({ isCausal: true }), 2e-4);
  });

  it('reads the GPT layout (heads split from one projection, transposed) without a copy', () => {
    const B = 2,
      T = 29,
      H = 3,
      D = 8,
      C = H * D;
    const qkv = randn([B, T, 3 * C]);
    const f = (x: nb.Tensor) => {
      const [q, k, v] = nb.split(x, C, 2).map((t) => nb.permute(nb.reshape(t, [B, T, H, D]), [0, 2, 1, 3]));
      return nb.reshape(nb.permute(nb.nn.scaledDotProductAttention(q, k, v, { isCausal: true }), [0, 2, 1, 3]), [B, T, C]);
    };
    compare('GPT layout', [qkv], (x) => f(x), 2e-4);
    const [q, k, v] = nb.split(qkv, C, 2).map((t) => nb.permute(nb.reshape(t, [B, T, H, D]), [0, 2, 1, 3]));
    expect(profiled(() => sdpa({ isCausal: true })(q, k, v))).toEqual({ scaledDotProductAttention: 1 });
  });

  it('packed causal self-attention: heads read from qkv in place, the output and dqkv written through strides', async () => {
    const B = 2,
      T = 29,
      H = 3,
      D = 8,
      C = H * D;
    const split = (x: nb.Tensor, h: number) => {
      const [b, t, c] = [x.shape[0], x.shape[1], x.shape[2] / 3];
      const [q, k, v] = nb.split(x, c, 2).map((u) => nb.permute(nb.reshape(u, [b, t, h, c / h]), [0, 2, 1, 3]));
      return nb.reshape(nb.permute(nb.nn.scaledDotProductAttention(q, k, v, { isCausal: true }), [0, 2, 1, 3]), [b, t, c]);
    };
    // against the split path a caller composes (GPT's, where the op gives null), run composed
    const packed = (x: nb.Tensor, h = H) => (nb.getFusedMode() === 'composed' ? split(x, h) : packedCausalSelfAttention(x, h)!);
    compare('packed qkv', [randn([B, T, 3 * C])], (x) => packed(x), 2e-4);
    // qkv with strided columns and an offset (a transposed slice)
    const wide = randn([B, 3 * C + 5, T]);
    compare('packed qkv, strided', [wide], (w) => packed(nb.transpose(w.slice(1, 5, 3 * C + 5), 1, 2)), 2e-4);
    compareSecondOrder('packed qkv', [randn([2, 5, 3 * 4])], (x) => packed(x, 2));
    // the forward is one fused op and the backward dispatches no primitive (no split, pad, add or copy)
    const qkv = randn([B, T, 3 * C]).requiresGrad_();
    expect(profiled(() => packedCausalSelfAttention(qkv, H))).toEqual({ packedCausalSelfAttention: 1 });
    const y = packedCausalSelfAttention(qkv, H)!;
    expect(y.shape).toEqual([B, T, C]);
    expect(dispatches(() => nb.gradOf(y, [qkv], { gradOutput: nb.onesLike(y) }))).toBe(0);
    y.dispose();
    // the same bits on 1 and 2 threads
    const wasm = nb.wasmBackend(),
      before = wasm.threads,
      x = randn([3, 40, 3 * 4 * 16]);
    try {
      wasm.setThreads(1);
      const one = run('fused', [x], (t) => packedCausalSelfAttention(t, 4)!);
      wasm.setThreads(2);
      expect(await wasm.ready()).toBe(2);
      const two = run('fused', [x], (t) => packedCausalSelfAttention(t, 4)!);
      expect(Array.from(two.y)).toEqual(Array.from(one.y));
      expect(Array.from(two.grads[0])).toEqual(Array.from(one.grads[0]));
    } finally {
      wasm.setThreads(before);
    }
  });

  it('reads operands and the incoming gradient with strided columns', () => {
    const t = (x: nb.Tensor) => x.transpose(-1, -2);
    compare(
      'transposed q, k, v and output',
      [randn([2, 10, 13]), randn([2, 10, 13]), randn([2, 9, 13])],
      (q, k, v) => t(nb.nn.scaledDotProductAttention(t(q), t(k), t(v), { isCausal: true })),
      2e-4,
    );
  });

  it('gives the same bits on 1 and 2 threads', async () => {
    const wasm = nb.wasmBackend();
    const before = wasm.threads;
    const [q, k, v] = [0, 1, 2].map(() => randn([3, 4, 40, 16]));
    const once = () => run('fused', [q, k, v], sdpa({ isCausal: true }));
    try {
      wasm.setThreads(1);
      const one = once();
      wasm.setThreads(2);
      expect(await wasm.ready()).toBe(2);
      const two = once();
      expect(Array.from(two.y)).toEqual(Array.from(one.y));
      two.grads.forEach((g, i) => expect(Array.from(g), `gradient ${i}`).toEqual(Array.from(one.grads[i])));
    } finally {
      wasm.setThreads(before);
    }
  });

  it('keeps the composed path for masks, dropout and one query', () => {
    const [q, k, v] = [0, 1, 2].map(() => randn([2, 6, 8]));
    expect(profiled(() => sdpa({ isCausal: true })(q, k, v))).toEqual({ scaledDotProductAttention: 1 });
    expect(dispatches(() => sdpa({ attnMask: nb.ones([6, 6], { dtype: 'bool' }) })(q, k, v))).toBeGreaterThan(0);
    expect(dispatches(() => sdpa({ dropoutP: 0.5 })(q, k, v))).toBeGreaterThan(0);
    expect(dispatches(() => sdpa({})(q.slice(1, 0, 1), k, v))).toBeGreaterThan(0);
  });

  it('second derivatives go through the composed backward', () => {
    compareSecondOrder('[2, 5, 4]', [randn([2, 5, 4]), randn([2, 5, 4]), randn([2, 5, 4])], sdpa({ isCausal: true }));
  });
});

describe.skipIf(!!unavailable)('wasm fused GELU', () => {
  for (const approximate of ['none', 'tanh'] as const) {
    it(`${approximate}: matches the composed one on 1, 7 and 1000 elements, wide values and a transposed view`, () => {
      for (const shape of [[1], [7], [40, 25]]) compare(`gelu ${approximate} ${shape}`, [randn(shape, 4)], (x) => nb.gelu(x, approximate));
      compare(`gelu ${approximate} of a transposed view`, [randn([9, 6], 3)], (x) => nb.gelu(x.t(), approximate));
    });
    it(`${approximate}: above 2^15 elements the threads split it, with the same bits as one thread and the composed values`, async () => {
      const wasm = nb.wasmBackend();
      const before = wasm.threads;
      const x = randn([40_003], 4);
      compare(`gelu ${approximate} 40,003 elements`, [x], (a) => nb.gelu(a, approximate));
      try {
        wasm.setThreads(1);
        const one = run('fused', [x], (a) => nb.gelu(a, approximate));
        for (const nt of wasm.variant.endsWith('Threads') ? [2, 3] : []) {
          wasm.setThreads(nt);
          expect(await wasm.ready()).toBe(nt);
          const many = run('fused', [x], (a) => nb.gelu(a, approximate));
          expect(Array.from(many.y), `forward on ${nt} threads`).toEqual(Array.from(one.y));
          expect(Array.from(many.grads[0]), `backward on ${nt} threads`).toEqual(Array.from(one.grads[0]));
        }
      } finally {
        wasm.setThreads(before);
        await wasm.ready();
      }
    });
    it(`${approximate}: is one fused op forward, and second derivatives go through the composed backward`, () => {
      const x = randn([33]);
      expect(profiled(() => nb.gelu(x, approximate))).toEqual({ gelu: 1 });
      compareSecondOrder(`gelu ${approximate}`, [randn([5, 7], 2)], (x) => nb.gelu(x, approximate));
    });
  }
});

describe.skipIf(!!unavailable)('wasm fused ops go through dispatch', () => {
  it('the profiler sees a fused softmax by its name; the composed mode runs primitives instead', () => {
    const x = randn([4, 10]);
    expect(profiled(() => nb.softmax(x))).toEqual({ softmax: 1 });
    expect(profiled(() => x.logSoftmax(1))).toEqual({ logSoftmax: 1 });
    const composed = withMode('composed', () => profiled(() => nb.softmax(x)));
    expect(composed.softmax).toBeUndefined();
    expect(Object.keys(composed)).toEqual(expect.arrayContaining(['max', 'sub', 'exp', 'sum', 'div']));
    // a dim other than the last is not the kernel's case: composed in every mode
    expect(profiled(() => nb.softmax(x, 0)).softmax).toBeUndefined();
  });

  it('records a fused op on the tape under its name, and not in the composed mode', () => {
    const x = randn([3, 5]).requiresGrad_();
    const y = nb.softmax(x);
    expect(y.gradNode?.name).toBe('softmax');
    expect(withMode('composed', () => nb.softmax(x)).gradNode?.name).toBe('div');
    nb.dispose([x, y]);
  });
});

describe.skipIf(!!unavailable)('wasm fused kernels in a model', () => {
  it('free what they save for the backward: at once without grad, with the graph otherwise', async () => {
    await checkFusedOpsFreeSaved(nb.getBackend().name, () => backend.liveBuffers());
  });

  it('a GPT training step gives the same loss and gradients fused and composed, and keeps memory flat', async () => {
    await checkGptStepFusedVsComposed(nb.getBackend().name, () => backend.liveBuffers());
  });
});

describe.skipIf(!unavailable)('wasm fused kernels', () => {
  it(`are not tested here: ${unavailable}`, () => {
    expect(unavailable).not.toBe('');
  });
});
