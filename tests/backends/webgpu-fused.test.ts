// The webgpu fused layer norm, cross-entropy and attention against their composed defaults on webgpu:
// forward values and input/weight gradients (fused backward, and the fused forward with the composed
// backward), second derivatives (which take the composed backward), odd sizes, strided views,
// ignored targets, memory that stays flat, and a GPT training step. Runs in the vitest project `webgpu`.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { near, withMode, checkGptStepFusedVsComposed, checkFusedOpsFreeSaved, type Mode } from '../helpers/fused.js';
import { webgpuUnavailable } from '../helpers/webgpu.js';
import { settleGarbage } from '../helpers/gc.js';

const unavailable = await webgpuUnavailable();
const gpu = () => nb.webgpuBackend();

const gen = new nb.Generator(17);
/** Normal values made on js (the same on every run), moved to webgpu. */
const randn = (shape: number[], scale = 1): nb.Tensor => nb.mul(nb.randn(shape, { device: 'js', generator: gen }), scale).to('webgpu');

/**
 * f(...inputs) under `mode`: its value, and the gradients of Σ y·w (w a fixed cosine pattern) for
 * each input that is not int32. Inputs are fresh leaves each time.
 */
async function run(mode: Mode, inputs: nb.Tensor[], f: (...xs: nb.Tensor[]) => nb.Tensor) {
  const r = withMode(mode, () =>
    nb.scope(() => {
      const leaves = inputs.map((t) => (t.dtype === 'int32' ? t : t.detach().requiresGrad_()));
      const y = f(...leaves);
      const w = nb.cos(nb.arange(0, y.size, 1, { device: 'webgpu', dtype: 'float32' })).reshape(y.shape);
      nb.sum(nb.mul(y, w)).backward();
      return { y, grads: leaves.filter((t) => t.dtype !== 'int32').map((t) => t.grad!) };
    }),
  );
  return { y: await r.y.data(), grads: await Promise.all(r.grads.map((g) => g.data())) };
}

/** Fused and fused-forward-composed-backward against the composed path: values and every gradient. */
async function compare(name: string, inputs: nb.Tensor[], f: (...xs: nb.Tensor[]) => nb.Tensor, rtol = 1e-4): Promise<void> {
  const ref = await run('composed', inputs, f);
  for (const mode of ['fused', 'composed backward'] as const) {
    const got = await run(mode, inputs, f);
    near(got.y, ref.y, `${name} (${mode}): values`, rtol);
    got.grads.forEach((g, i) => near(g, ref.grads[i], `${name} (${mode}): gradient of input ${i}`, rtol));
  }
}

/** GPU dispatches f records (the fused path takes few). */
function dispatches(f: () => unknown): number {
  const before = gpu().stats().dispatches;
  nb.scope(() => {
    f();
  });
  return gpu().stats().dispatches - before;
}

/** Second derivatives: d/dx Σ (∂(Σ y·w)/∂x)², which records the backward (the composed VJP). */
async function secondOrder(mode: Mode, inputs: nb.Tensor[], f: (...xs: nb.Tensor[]) => nb.Tensor): Promise<Float32Array[]> {
  const grads = withMode(mode, () =>
    nb.scope(() => {
      const leaves = inputs.map((t) => (t.dtype === 'int32' ? t : t.detach().requiresGrad_()));
      const floats = leaves.filter((t) => t.dtype !== 'int32');
      const y = f(...leaves);
      const w = nb.cos(nb.arange(0, y.size, 1, { device: 'webgpu', dtype: 'float32' })).reshape(y.shape);
      const g1 = nb.gradOf(nb.sum(nb.mul(y, w)), floats, { createGraph: true, retainGraph: true });
      nb.sum(nb.add(...((g1.filter((g) => g) as nb.Tensor[]).map((g) => nb.sum(nb.mul(g, g))) as [nb.Tensor, nb.Tensor]))).backward();
      return floats.map((t) => t.grad ?? nb.zerosLike(t));
    }),
  );
  return Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
}

async function compareSecondOrder(name: string, inputs: nb.Tensor[], f: (...xs: nb.Tensor[]) => nb.Tensor): Promise<void> {
  const ref = await secondOrder('composed', inputs, f);
  const got = await secondOrder('fused', inputs, f);
  got.forEach((g, i) => near(g, ref[i], `${name}: second derivative of input ${i}`, 2e-4));
}

describe.skipIf(!!unavailable)('webgpu fused layer norm', () => {
  const ln = (shape: number[]) => (x: nb.Tensor, w?: nb.Tensor, b?: nb.Tensor) => nb.nn.functional.layerNorm(x, shape, w, b, 1e-5);

  it('matches the composed one with weight and bias: odd rows, GPT-like rows, long rows', async () => {
    await compare('[5, 37]', [randn([5, 37], 3), randn([37]), randn([37])], ln([37]));
    await compare('[3, 7, 64]', [randn([3, 7, 64]).add(5), randn([64]), randn([64])], ln([64]));
    await compare('[3, 3000] (past the register cache)', [randn([3, 3000]), randn([3000]), randn([3000])], ln([3000]));
    // 200 rows: dw and db summed in chunks of rows, then over the chunks
    await compare('[200, 50]', [randn([200, 50]), randn([50]), randn([50])], ln([50]));
  });

  it('matches without weight or bias, with one of them, over two trailing dims, on strided views', async () => {
    await compare('[300, 9] no affine', [randn([300, 9])], ln([9]));
    await compare('[70, 3] weight only', [randn([70, 3]), randn([3])], (x, w) => ln([3])(x, w));
    await compare('[33, 5] bias only', [randn([33, 5]), randn([5])], (x, b) => ln([5])(x, undefined, b));
    await compare('[4, 6, 10] over [6, 10]', [randn([4, 6, 10]), randn([6, 10]), randn([6, 10])], ln([6, 10]));
    await compare('a transposed view', [randn([40, 20]), randn([40]), randn([40])], (x, w, b) => ln([40])(x.t(), w, b));
    // leading dims that do not merge into one stride: x is copied, and so is the incoming gradient
    await compare('a permuted 3-D view', [randn([6, 4, 10]), randn([10]), randn([10])], (x, w, b) => ln([10])(x.permute(1, 0, 2), w, b).permute(1, 0, 2));
  });

  it('takes one dispatch forward, and the LayerNorm module uses it', async () => {
    const x = randn([6, 32]),
      w = randn([32]),
      b = randn([32]);
    expect(dispatches(() => nb.nn.functional.layerNorm(x, [32], w, b))).toBe(1);
    expect(dispatches(() => withMode('composed', () => nb.nn.functional.layerNorm(x, [32], w, b)))).toBeGreaterThan(5);
    const m = new nb.nn.LayerNorm(32).to('webgpu');
    const y = nb.scope(() => m.forward(x));
    const ref = withMode('composed', () => m.forward(x));
    near(await y.data(), await ref.data(), 'LayerNorm module');
  });

  it('second derivatives go through the composed backward', async () => {
    await compareSecondOrder('[6, 13]', [randn([6, 13]), randn([13]), randn([13])], ln([13]));
  });
});

describe.skipIf(!!unavailable)('webgpu fused cross-entropy', () => {
  const targets = (n: number, C: number, ignoreEvery = 0) =>
    nb.tensor(
      Int32Array.from({ length: n }, (_, i) => (ignoreEvery && i % ignoreEvery === 1 ? -100 : (i * 7919) % C)),
      { device: 'webgpu' },
    );
  const ce = (reduction: 'mean' | 'sum' | 'none', ignoreIndex?: number) => (x: nb.Tensor, t: nb.Tensor) => nb.nn.functional.crossEntropy(x, t, { reduction, ignoreIndex });

  it('matches the composed one: V = 1000, ignored targets, every reduction', async () => {
    const x = randn([37, 1000], 4),
      t = targets(37, 1000, 5);
    for (const r of ['mean', 'sum', 'none'] as const) await compare(`[37, 1000] ${r}`, [x, t], ce(r));
  });

  it('matches on short and long rows, large logits, a strided view, a custom ignoreIndex', async () => {
    await compare('[300, 3]', [randn([300, 3]), targets(300, 3)], ce('mean'));
    await compare('[3, 5000] large logits', [randn([3, 5000], 40), targets(3, 5000)], ce('mean'));
    await compare('a transposed view', [randn([10, 20]), targets(20, 10)], (x, t) => ce('mean')(x.t(), t));
    const t = nb.tensor([0, 2, 2, 1, 2], { device: 'webgpu', dtype: 'int32' });
    await compare('ignoreIndex 2 (a real class)', [randn([5, 4]), t], ce('mean', 2));
  });

  it('gives 0 per ignored row, NaN for a mean over only ignored rows, as the composed one', async () => {
    const x = randn([3, 6]),
      t = nb.tensor([-100, 4, -100], { device: 'webgpu', dtype: 'int32' });
    const none = await ce('none')(x, t).data();
    expect(none[0]).toBe(0);
    expect(none[2]).toBe(0);
    const all = nb.tensor([-100, -100, -100], { device: 'webgpu', dtype: 'int32' });
    expect(await ce('mean')(x, all).item()).toBeNaN();
    expect(await withMode('composed', () => ce('mean')(x, all)).item()).toBeNaN();
  });

  it('second derivatives go through the composed backward', async () => {
    await compareSecondOrder('[4, 9]', [randn([4, 9]), targets(4, 9)], ce('mean'));
  });
});

describe.skipIf(!!unavailable)('webgpu fused attention', () => {
  const sdpa = (opts: nb.nn.ScaledDotProductAttentionOptions) => (q: nb.Tensor, k: nb.Tensor, v: nb.Tensor) => nb.nn.scaledDotProductAttention(q, k, v, opts);

  it('causal, T = 70, head dim 16 and 64 (rows past a workgroup, partial tiles)', async () => {
    for (const D of [16, 64]) {
      // One head: SwiftShader runs this at seconds per head; the GPT-layout case below has three.
      const [q, k, v] = [0, 1, 2].map(() => randn([1, 1, 70, D]));
      await compare(`causal [1, 1, 70, ${D}]`, [q, k, v], sdpa({ isCausal: true }), 2e-4);
    }
  });

  it('non-causal with L ≠ S, odd head dims, Ev ≠ E, a custom scale, causal with L ≠ S', async () => {
    await compare('L 5, S 37, E 7, Ev 10', [randn([3, 5, 7]), randn([3, 37, 7]), randn([3, 37, 10])], sdpa({}), 2e-4);
    await compare('scale 0.3', [randn([2, 9, 12]), randn([2, 9, 12]), randn([2, 9, 12])], sdpa({ scale: 0.3 }), 2e-4);
    await compare('causal L 20 > S 6', [randn([2, 20, 8]), randn([2, 6, 8]), randn([2, 6, 8])], sdpa({ isCausal: true }), 2e-4);
    await compare('causal L 6 < S 20', [randn([2, 6, 8]), randn([2, 20, 8]), randn([2, 20, 8])], sdpa({ isCausal: true }), 2e-4);
  });

  it('reads the GPT layout (heads split from one projection, transposed) without a copy', async () => {
    const B = 2,
      T = 19,
      H = 3,
      D = 8,
      C = H * D;
    const qkv = randn([B, T, 3 * C]);
    const f = (x: nb.Tensor) => {
      const [q, k, v] = nb.split(x, C, 2).map((t) => nb.permute(nb.reshape(t, [B, T, H, D]), [0, 2, 1, 3]));
      return nb.nn.scaledDotProductAttention(q, k, v, { isCausal: true });
    };
    await compare('GPT layout', [qkv], (x) => f(x), 2e-4);
  });

  it('keeps the composed path for masks, dropout and one query', () => {
    const [q, k, v] = [0, 1, 2].map(() => randn([2, 6, 8]));
    const fusedCount = dispatches(() => sdpa({ isCausal: true })(q, k, v));
    expect(fusedCount).toBeLessThanOrEqual(2);
    expect(dispatches(() => sdpa({ attnMask: nb.ones([6, 6], { device: 'webgpu', dtype: 'bool' }) })(q, k, v))).toBeGreaterThan(fusedCount);
    expect(dispatches(() => sdpa({ dropoutP: 0.5 })(q, k, v))).toBeGreaterThan(fusedCount);
    expect(dispatches(() => sdpa({})(q.slice(1, 0, 1), k, v))).toBeGreaterThan(fusedCount);
  });

  it('second derivatives go through the composed backward', async () => {
    await compareSecondOrder('[2, 5, 4]', [randn([2, 5, 4]), randn([2, 5, 4]), randn([2, 5, 4])], sdpa({ isCausal: true }));
  });
});

describe.skipIf(!!unavailable)('webgpu fused kernels in a model', () => {
  it('free what they save for the backward: at once without grad, with the graph otherwise', async () => {
    await checkFusedOpsFreeSaved('webgpu', () => gpu().liveBuffers(), settleGarbage);
  });

  it('a GPT training step gives the same loss and gradients fused and composed, and keeps memory flat', async () => {
    await checkGptStepFusedVsComposed('webgpu', () => gpu().liveBuffers(), settleGarbage);
  });
});

describe.skipIf(!unavailable)('webgpu fused kernels', () => {
  it(`are not tested here: ${unavailable}`, () => {
    expect(unavailable).not.toBe('');
  });
});
