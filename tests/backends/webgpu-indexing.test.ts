// The webgpu index and window kernels (gather, scatterAdd, concat, pad, random, unfold, fold) against
// the js reference on sizes past the conformance cases: many workgroups, the sorted scatterAdd path
// (multi-pass radix sort, multi-level scan), strided and broadcast operands, integer dtypes. All of
// these kernels are exact copies or sum in js's order, so results must be bit-identical.
// Runs in the vitest project `webgpu` (SwiftShader where there is no GPU).
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { webgpuUnavailable } from '../helpers/webgpu.js';
import { cases, composites, close, type Case } from './cases.js';

const unavailable = await webgpuUnavailable();

const gen = new nb.Generator(11);
const js = { device: 'js' };
const rn = (shape: number[]) => nb.randn(shape, { ...js, generator: gen });
/** int32 values in [lo, hi) on js. */
const ri = (shape: number[], lo: number, hi: number) => nb.randint(lo, hi, shape, { ...js, generator: gen });

/** f on webgpu and on js from the same (js-made) inputs: the outputs must be equal bit for bit. */
async function same(what: string, f: (...xs: nb.Tensor[]) => nb.Tensor, inputs: nb.Tensor[]): Promise<void> {
  const got = await f(...inputs.map((x) => x.to('webgpu'))).data();
  const want = await f(...inputs).data();
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      expect.fail(`${what}: element ${i}: ${got[i]} vs js ${want[i]}`);
    }
  }
}

/**
 * cases.ts's check, with the backward weight drawn on js instead of cos(arange) computed on the
 * device: the gradients then test these kernels and not the device's cos.
 */
async function checkGrads([name, f, makers]: Case): Promise<void> {
  const base = makers.map((m) => m());
  let weight: nb.Tensor | null = null;
  const run = async (device: string) => {
    const xs = base.map((t) => {
      const x = t.to(device);
      return x.dtype === 'float32' ? x.detach().requiresGrad_() : x;
    });
    const out = f(...xs);
    weight ??= nb.randn(out.shape, { ...js, generator: new nb.Generator(3) });
    nb.sum(nb.mul(out, weight.to(device))).backward();
    return { out: await out.data(), grads: await Promise.all(xs.map((x) => x.grad?.data() ?? null)) };
  };
  const a = await run('webgpu'),
    b = await run('js');
  close(a.out, b.out, `${name} forward`);
  a.grads.forEach((gw, i) => {
    const gj = b.grads[i];
    expect(gw === null, `${name}: gradient ${i} present on one backend only`).toBe(gj === null);
    if (gw && gj) close(gw, gj, `${name} gradient of input ${i}`);
  });
}

describe.skipIf(!!unavailable)('webgpu index and window kernels match js', () => {
  for (const prim of ['gather', 'scatterAdd', 'concat', 'pad', 'unfold', 'fold', 'random'] as const) {
    for (const c of cases[prim]) it(`conformance case with gradients: ${prim}: ${c[0]}`, () => checkGrads(c));
  }
  for (const c of composites.filter(([n]) => /conv2d|maxPool/.test(n))) it(`composite with gradients: ${c[0]}`, () => checkGrads(c));

  it('gather: embedding rows, a column gather of a transposed view, int32, a sliced index', async () => {
    await same('embedding lookup 300x16, 700 ids', (w, i) => nb.indexSelect(w, 0, i), [rn([300, 16]), ri([7, 100], 0, 300)]);
    await same('gather axis 1 of a transposed view', (x, i) => nb.gather(x.t(), 1, i), [rn([40, 30]), ri([30, 25], 0, 40)]);
    await same('gather int32 on axis 0', (x, i) => nb.gather(x, 0, i), [ri([9, 5], -100, 100), ri([12, 5], 0, 9)]);
    await same('gather with a sliced index', (x, i) => nb.gather(x, 2, i.slice(2, 1, 4)), [rn([3, 4, 6]), ri([3, 4, 5], 0, 6)]);
  });

  it("an out-of-range index in gather or scatterAdd throws js's error at the next read or sync, and only once", async () => {
    const x = nb.tensor([1, 2, 3], { device: 'webgpu' });
    const i = nb.tensor([2, 3, -1, 0], { device: 'webgpu', dtype: 'int32' });
    const g = nb.gather(x, 0, i);
    await expect(g.data()).rejects.toThrow(/^gather: index (3|-1) is out of range for dimension 0 of size 3 \(found on the GPU, reported at read\)$/);
    expect(() => nb.gather(nb.tensor([1, 2, 3]), 0, nb.tensor([2, 3, -1, 0], { dtype: 'int32' }))).toThrow('gather: index 3 is out of range for dimension 0 of size 3');
    // Reported once: the same tensor reads again (NaN where the index was out of range), others too.
    expect(Array.from(await g.data())).toEqual([3, NaN, NaN, 1]);
    expect(Array.from(await nb.gather(x, 0, nb.tensor([1], { device: 'webgpu', dtype: 'int32' })).data())).toEqual([2]);
    // scatterAdd, direct path (short along the axis) and sorted path (an embedding backward), and sync.
    const src = nb.tensor([1, 2, 3, 4, 5], { device: 'webgpu' });
    nb.scatterAdd(nb.tensor([0, 5, 1, 1, 1], { device: 'webgpu', dtype: 'int32' }), src, 0, [3]);
    await expect(nb.webgpuBackend().sync()).rejects.toThrow('scatterAdd: index 5 is out of range for dimension 0 of size 3 (found on the GPU, reported at sync)');
    const ids = nb.tensor(
      Array.from({ length: 40 }, (_, k) => (k === 17 ? 300 : k % 7)),
      { device: 'webgpu', dtype: 'int32' },
    );
    const rows = nb.scatterAdd(ids.reshape([40, 1]).expand([40, 4]), nb.ones([40, 4], { device: 'webgpu' }), 0, [7, 4]);
    await expect(rows.data()).rejects.toThrow('scatterAdd: index 300 is out of range for dimension 0 of size 7 (found on the GPU, reported at read)');
    await nb.webgpuBackend().sync();
  });

  it('scatterAdd, sorted path: 5000 indices into 300 rows x 16 (embedding backward)', async () => {
    const idx = ri([5000], 0, 300);
    const src = rn([5000, 16]);
    const f = (i: nb.Tensor, s: nb.Tensor) => nb.scatterAdd(i.reshape([5000, 1]).expand([5000, 16]), s, 0, [300, 16]);
    await same('scatterAdd 5000 → 300x16', f, [idx, src]);
    // Deterministic: two runs agree bit for bit.
    const a = await f(idx.to('webgpu'), src.to('webgpu')).data(),
      b = await f(idx.to('webgpu'), src.to('webgpu')).data();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('scatterAdd, sorted path: index varying along every dim, a middle axis, keys over 16 bits, int32, strided src', async () => {
    await same('index varying everywhere', (i, s) => nb.scatterAdd(i, s, 0, [50, 7]), [ri([200, 6], 0, 50), rn([200, 6])]);
    await same('axis 1, index shorter than the output elsewhere', (i, s) => nb.scatterAdd(i, s, 1, [4, 7, 3]), [ri([3, 100, 2], 0, 7), rn([3, 100, 2])]);
    await same('70000 rows (three radix passes)', (i, s) => nb.scatterAdd(i.reshape([100, 1]).expand([100, 2]), s, 0, [70000, 2]), [ri([100], 0, 70000), rn([100, 2])]);
    await same('int32', (i, s) => nb.scatterAdd(i, s, 0, [10, 3]), [ri([90, 3], 0, 10), ri([90, 3], -5, 5)]);
    await same('transposed src', (i, s) => nb.scatterAdd(i, s.t(), 0, [20, 5]), [ri([64, 5], 0, 20), rn([5, 64])]);
    await same('all into one row', (i, s) => nb.scatterAdd(i.mul(0).reshape([600, 1]).expand([600, 4]), s, 0, [3, 4]), [ri([600], 0, 3), rn([600, 4])]);
  });

  it('scatterAdd, direct path: short index along the axis, broadcast src', async () => {
    await same('cross-entropy style (one target per row)', (i, s) => nb.scatterAdd(i, s, 1, [64, 10]), [ri([64, 1], 0, 10), rn([64, 1])]);
    await same('expanded src', (i, s) => nb.scatterAdd(i, s.expand([30, 8]), 0, [5, 8]), [ri([30, 8], 0, 5), rn([1, 8])]);
    const i = nb.tensor([0, 2, 1, 2, 1], { device: 'webgpu', dtype: 'int32' });
    expect(Array.from(await nb.scatterAdd(i, nb.tensor([1, 2, 3, 4, 5], { device: 'webgpu' }), 0, [3]).data())).toEqual([1, 8, 6]);
  });

  it('concat: many inputs, strided ones, middle axis, int32 and bool', async () => {
    await same('concat 5 along axis 1', (a, b, c, d, e) => nb.concat([a, b.transpose(1, 2), c, d, e], 1), [rn([6, 3, 4]), rn([6, 4, 5]), rn([6, 1, 4]), rn([6, 7, 4]), rn([6, 2, 4])]);
    await same('concat axis 0 of slices', (a, b) => nb.concat([a.slice(1, 1, 4), b], 0), [rn([300, 5]), rn([20, 3])]);
    await same('concat int32', (a, b) => nb.concat([a, b], -1), [ri([4, 3], -9, 9), ri([4, 2], -9, 9)]);
    await same('concat bool', (a, b) => nb.concat([nb.less(a, 0), nb.less(b, 0)], 0).float(), [rn([3, 3]), rn([2, 3])]);
  });

  it('pad: several dims, a transposed input, value, int32', async () => {
    await same('pad 3-D', (x) => nb.pad(x, [1, 2, 0, 3, 2, 0], 0.5), [rn([3, 40, 7])]);
    await same('pad transposed', (x) => nb.pad(x.t(), [3, 1, 0, 2]), [rn([9, 30])]);
    await same('pad int32', (x) => nb.pad(x, [2, 2], -7), [ri([11], -5, 5)]);
  });

  it('unfold: a 2x3x28x28 image, same padding, strided/dilated -inf padding, a permuted view', async () => {
    const opts = {
      kernel: [3, 3] as [number, number],
      stride: [1, 1] as [number, number],
      dilation: [1, 1] as [number, number],
      pads: [1, 1, 1, 1] as [number, number, number, number],
      value: 0,
    };
    await same('unfold 3x3 same of 2x3x28x28', (x) => nb.unfold(x, opts), [rn([2, 3, 28, 28])]);
    await same('unfold -inf', (x) => nb.unfold(x, { kernel: [2, 3], stride: [2, 3], dilation: [2, 1], pads: [1, 2, 0, 1], value: -Infinity }), [rn([2, 2, 17, 13])]);
    await same('unfold of NHWC permuted to NCHW', (x) => nb.unfold(x.permute(0, 3, 1, 2), { ...opts, kernel: [5, 5], pads: [2, 2, 2, 2] }), [rn([2, 12, 12, 3])]);
  });

  it('fold: bit-identical sums for overlapping, strided and dilated windows, from a strided view', async () => {
    await same('fold 3x3 same', (g) => nb.fold(g, [2, 3, 14, 14], { kernel: [3, 3], stride: [1, 1], dilation: [1, 1], pads: [1, 1, 1, 1] }), [rn([2, 14, 14, 3, 3, 3])]);
    await same('fold stride 2 dilation 2', (g) => nb.fold(g, [1, 2, 11, 9], { kernel: [3, 2], stride: [2, 2], dilation: [2, 3], pads: [1, 0, 2, 1] }), [rn([1, 4, 5, 2, 3, 2])]);
    await same('fold of a permuted view', (g) => nb.fold(g.permute(0, 1, 2, 5, 3, 4), [1, 2, 6, 6], { kernel: [2, 2], stride: [1, 1], dilation: [1, 1], pads: [0, 0, 0, 0] }), [
      rn([1, 5, 5, 2, 2, 2]),
    ]);
  });

  it('conv2d forward and gradients through unfold/fold on a larger image', async () => {
    const x = rn([2, 3, 16, 16]),
      w = rn([4, 3, 3, 3]);
    const run = async (device: string) => {
      const xs = x.to(device).detach().requiresGrad_(),
        ws = w.to(device).detach().requiresGrad_();
      const y = nb.nn.functional.conv2d(xs, ws, null, { padding: 1, stride: 2 });
      nb.sum(nb.mul(y, y)).backward();
      return [await y.data(), await xs.grad!.data(), await ws.grad!.data()];
    };
    const gpuOut = await run('webgpu');
    const jsOut = await run('js');
    gpuOut.forEach((a, k) => {
      for (let i = 0; i < a.length; i++) {
        if (!(Math.abs(a[i] - jsOut[k][i]) <= 1e-4 * Math.max(1, Math.abs(jsOut[k][i])))) expect.fail(`output ${k}, element ${i}: ${a[i]} vs js ${jsOut[k][i]}`);
      }
    });
  });

  it('random: 10000 values at counters near 2^32 blocks and odd lanes are bit-identical to js', async () => {
    for (const skip of [0, 3, 4 * 4294967295 - 2, 4 * 4294967296 + 1]) {
      const draw = async (device: string) => {
        const g = new nb.Generator(123);
        g.counter = skip;
        return Array.from(await nb.rand([10000], { generator: g, device }).data());
      };
      expect(await draw('webgpu'), `counter ${skip}`).toEqual(await draw('js'));
    }
  });
});

describe.skipIf(!unavailable)('webgpu indexing', () => {
  it(`is not available here, so its suite is skipped: ${unavailable}`, () => {
    expect(unavailable).not.toBe('');
  });
});
