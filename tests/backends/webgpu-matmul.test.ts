// The webgpu matmul kernels against js beyond the conformance cases: both GEMM tile variants on
// ragged sizes and every operand layout, attention-shaped batched Q·Kᵀ, irregular batch strides,
// the few-row and few-column (GEMV) paths, int32, empty products, gradients, and dispatches split
// across the device's workgroup-grid limit.
import { describe, it, expect, afterEach } from 'vitest';
import * as nb from '../../src/index.js';
import { webgpuUnavailable } from '../helpers/webgpu.js';
import { matmulTuning } from '../../src/backends/webgpu/matmul.js';

const unavailable = await webgpuUnavailable();
const gpu = () => nb.webgpuBackend();

const g = new nb.Generator(11);
const rn = (shape: number[]) => nb.randn(shape, { device: 'js', generator: g });
const tuning = { ...matmulTuning };

/** f on webgpu and on js from the same inputs; float32 error bounded relative to the depth K. */
async function same(name: string, f: (...xs: nb.Tensor[]) => nb.Tensor, inputs: nb.Tensor[], K: number): Promise<void> {
  const want = await f(...inputs).data();
  const got = await f(...inputs.map((x) => x.to('webgpu'))).data();
  expect(got.length, name).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = 2e-7 * Math.max(K, 8) * Math.max(1, Math.abs(want[i])) + 1e-6;
    if (!(Math.abs(got[i] - want[i]) <= tol)) expect.fail(`${name}: element ${i}: ${got[i]} vs js ${want[i]}`);
  }
}

// biome-ignore lint/suspicious/noIdenticalTestTitle: the suite and its skipped stand-in (which says why) share a title
describe.skipIf(!!unavailable)('webgpu matmul', () => {
  afterEach(() => Object.assign(matmulTuning, tuning));

  for (const big of [false, true]) {
    const tile = big ? '128×128 tile' : '64×64 tile';
    it(`${tile}: ragged 130×257 @ 257×70 in every operand layout`, async () => {
      if (big) matmulTuning.bigTileMin = 0;
      const a = rn([130, 257]),
        b = rn([257, 70]),
        at = rn([257, 130]),
        bt = rn([70, 257]);
      await same('A @ B', (x, y) => nb.matmul(x, y), [a, b], 257);
      await same('A @ Bᵀ', (x, y) => nb.matmul(x, y.t()), [a, bt], 257);
      await same('Aᵀ @ B', (x, y) => nb.matmul(x.t(), y), [at, b], 257);
      await same('Aᵀ @ Bᵀ', (x, y) => nb.matmul(x.t(), y.t()), [at, bt], 257);
    });

    it(`${tile}: batched Q·Kᵀ (attention scores) and scores·V`, async () => {
      if (big) matmulTuning.bigTileMin = 0;
      const q = rn([2, 3, 67, 16]),
        k = rn([2, 3, 67, 16]),
        v = rn([2, 3, 67, 16]);
      await same('Q Kᵀ', (x, y) => nb.matmul(x, y.transpose(-2, -1)), [q, k], 16);
      const p = rn([2, 3, 67, 67]);
      await same('P V', (x, y) => nb.matmul(x, y), [p, v], 67);
    });
  }

  it('K smaller than one step, K = 1, and a strided (sliced) row pitch', async () => {
    await same('K = 3', (x, y) => nb.matmul(x, y), [rn([40, 3]), rn([3, 33])], 3);
    await same('K = 1', (x, y) => nb.matmul(x, y), [rn([9, 1]), rn([1, 12])], 1);
    await same('sliced columns of both', (x, y) => nb.matmul(x.slice(1, 3, 40), y.slice(1, 5, 29)), [rn([20, 45]), rn([37, 30])], 37);
  });

  it('irregular batch strides (a permuted batch) and a broadcast batch', async () => {
    await same('permuted batch', (x, y) => nb.matmul(x.permute(1, 0, 2, 3), y), [rn([3, 4, 9, 7]), rn([4, 3, 7, 10])], 7);
    await same('broadcast batch, transposed B', (x, y) => nb.matmul(x, y.t()), [rn([2, 3, 12, 20]), rn([15, 20])], 20);
    await same('broadcast A over batches', (x, y) => nb.matmul(x, y), [rn([12, 20]), rn([5, 20, 9])], 20);
  });

  it('few rows (GEMV) with deep K and wide N, in both B layouts', async () => {
    for (const m of [1, 3]) {
      await same(`${m} rows x·W`, (x, y) => nb.matmul(x, y), [rn([m, 700]), rn([700, 90])], 700);
      await same(`${m} rows x·Wᵀ`, (x, y) => nb.matmul(x, y.t()), [rn([m, 700]), rn([90, 700])], 700);
    }
    await same('batched few rows, permuted batch', (x, y) => nb.matmul(x.permute(1, 0, 2, 3), y.t()), [rn([3, 2, 2, 50]), rn([13, 50])], 50);
  });

  it('few columns (transposed GEMV)', async () => {
    await same('70×50 @ 50×3', (x, y) => nb.matmul(x, y), [rn([70, 50]), rn([50, 3])], 50);
    await same('70×50 @ (3×50)ᵀ', (x, y) => nb.matmul(x, y.t()), [rn([70, 50]), rn([3, 50])], 50);
    await same('(50×70)ᵀ @ 50×1, batched', (x, y) => nb.matmul(x.transpose(-2, -1), y), [rn([2, 50, 70]), rn([2, 50, 1])], 50);
  });

  it('int32 is exact (wrapping like the js Int32Array)', async () => {
    const a = nb.randint(-50, 50, [33, 21], { device: 'js', generator: g }),
      b = nb.randint(-50, 50, [21, 19], { device: 'js', generator: g });
    for (const [name, f] of [
      ['GEMM', (x: nb.Tensor, y: nb.Tensor) => nb.matmul(x, y)],
      ['GEMV', (x: nb.Tensor, y: nb.Tensor) => nb.matmul(x.slice(0, 0, 2), y)],
    ] as const) {
      const want = await f(a, b).data(),
        got = await f(a.to('webgpu'), b.to('webgpu')).data();
      expect(got.constructor.name, name).toBe('Int32Array');
      expect(Array.from(got), name).toEqual(Array.from(want));
    }
  });

  it('an empty inner dimension gives zeros', async () => {
    const a = nb.zeros([5, 0], { device: 'webgpu' }),
      b = nb.zeros([0, 6], { device: 'webgpu' });
    const garbage = nb.full([5, 6], 3, { device: 'webgpu' });
    garbage.dispose(); // its buffer goes back to the pool: the product's fresh buffer may reuse it
    expect(Array.from(await nb.matmul(a, b).data())).toEqual(new Array(30).fill(0));
  });

  it('gradients (matmuls of transposed views) match js, with the output weights made on js', async () => {
    // The conformance harness weights the output with cos(arange) computed on the device; GPU cos
    // is loose for large arguments, so here the weights come from the host.
    const grads = async (device: string, f: (x: nb.Tensor, y: nb.Tensor) => nb.Tensor, ins: nb.Tensor[]) => {
      const xs = ins.map((x) => x.to(device).detach().requiresGrad_());
      const out = f(xs[0], xs[1]);
      const w = nb
        .cos(nb.arange(0, out.size, 1, { device: 'js', dtype: 'float32' }))
        .reshape(out.shape)
        .to(device);
      nb.sum(nb.mul(out, w)).backward();
      return Promise.all(xs.map((x) => x.grad!.data()));
    };
    const cases: [string, (x: nb.Tensor, y: nb.Tensor) => nb.Tensor, number[], number[]][] = [
      ['x Wᵀ', (x, y) => nb.matmul(x, y.t()), [9, 300], [11, 300]],
      ['ragged', (x, y) => nb.matmul(x, y), [7, 13], [13, 5]],
      ['2 rows, batched', (x, y) => nb.matmul(x, y), [3, 2, 19], [3, 19, 13]],
      ['broadcast batch', (x, y) => nb.matmul(x, y), [2, 3, 5, 6], [6, 4]],
    ];
    for (const [name, f, sa, sb] of cases) {
      const ins = [rn(sa), rn(sb)];
      const [gw, gj] = [await grads('webgpu', f, ins), await grads('js', f, ins)];
      for (let j = 0; j < 2; j++) {
        for (let i = 0; i < gj[j].length; i++) {
          const tol = 1e-5 * Math.max(1, Math.abs(gj[j][i]));
          if (!(Math.abs(gw[j][i] - gj[j][i]) <= tol)) expect.fail(`${name}: gradient ${j}, element ${i}: ${gw[j][i]} vs js ${gj[j][i]}`);
        }
      }
    }
  });

  it('splits dispatches over the workgroup-grid limit', async () => {
    const rt = gpu().runtime as unknown as { maxWorkgroups: number };
    const limit = rt.maxWorkgroups;
    rt.maxWorkgroups = 2;
    try {
      // 5×3 tiles in 3 batches (GEMM), 90 columns in 12 column blocks (GEMV).
      await same('GEMM', (x, y) => nb.matmul(x, y), [rn([3, 150, 20]), rn([3, 20, 300])], 20);
      await same('GEMV', (x, y) => nb.matmul(x, y.t()), [rn([3, 2, 20]), rn([90, 20])], 20);
    } finally {
      rt.maxWorkgroups = limit;
    }
  });
});

describe.skipIf(!unavailable)('webgpu matmul', () => {
  it(`is not available here, so its suite is skipped: ${unavailable}`, () => {
    expect(unavailable).not.toBe('');
  });
});
