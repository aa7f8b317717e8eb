// The webgpu reductions (sum, max, argmax) and fused softmax against js and the composed softmax:
// long rows (split into chunks and a second pass), many short rows, strided and broadcast views,
// NaN, ±∞, ties, int32 and bool inputs, and determinism. Runs in the vitest project `webgpu`.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { webgpuUnavailable } from '../helpers/webgpu.js';
import { close } from './cases.js';

const unavailable = await webgpuUnavailable();

/** As close() (2e-5 relative), where equal values (±∞ included) and NaN against NaN also pass. */
function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (!(Math.abs(x - y) <= 2e-5 * Math.max(1, Math.abs(x), Math.abs(y)))) expect.fail(`${what}: element ${i}: ${x} vs ${y}`);
  }
}

/** f on webgpu and on js from the same js-made input: forward values compared. */
async function same(name: string, x: nb.Tensor, f: (x: nb.Tensor) => nb.Tensor): Promise<void> {
  const gpu = f(x.to('webgpu')),
    ref = f(x.to('js'));
  expect(gpu.dtype, name).toBe(ref.dtype);
  expect(gpu.shape, name).toEqual(ref.shape);
  near(await gpu.data(), await ref.data(), name);
}

// biome-ignore lint/suspicious/noIdenticalTestTitle: the suite and its skipped stand-in (which says why) share a title
describe.skipIf(!!unavailable)('webgpu reductions', () => {
  const g = new nb.Generator(11);
  const randn = (shape: number[]) => nb.randn(shape, { device: 'js', generator: g });

  it('long rows: sum of [3, 5000] over the last axis (two passes), of [3000, 7] over axis 0', async () => {
    await same('sum [3, 5000] rows', randn([3, 5000]), (t) => nb.sum(t, -1));
    await same('sum [3000, 7] over 0', randn([3000, 7]), (t) => nb.sum(t, 0));
    await same('max [3, 9000] rows', randn([3, 9000]), (t) => nb.max(t, -1));
    await same('sum all of [40000]', randn([40000]), (t) => nb.sum(t));
  });

  it('many columns: sum, max and argmax over axis 0 (a thread per column, in chunks)', async () => {
    const x = randn([600, 1030]);
    await same('sum over 0', x, (t) => nb.sum(t, 0));
    await same('max over 0', x, (t) => nb.max(t, 0));
    await same('sum over 0 of a transposed view', randn([1030, 600]), (t) => nb.sum(t.t(), 0));
    await same('sum over 0 of [2000, 100]', randn([2000, 100]), (t) => nb.sum(t, 0));
    // NaN, ties and −∞ columns across the chunks of a column
    const v = Float32Array.from(await x.data());
    const c = (r: number, col: number) => r * 1030 + col;
    v[c(10, 0)] = NaN;
    v[c(599, 1)] = NaN;
    v[c(300, 1)] = NaN;
    v[c(5, 2)] = 50;
    v[c(400, 2)] = 50;
    v[c(590, 2)] = 50;
    for (let r = 0; r < 600; r++) v[c(r, 3)] = -Infinity;
    const y = nb.tensor(v, { device: 'js', shape: [600, 1030] });
    await same('max over 0 with NaN', y, (t) => nb.max(t, 0));
    await same('argmax over 0 with NaN and ties', y, (t) => nb.argmax(t, 0));
    expect(Array.from((await nb.argmax(y.to('webgpu'), 0).data()).slice(0, 4))).toEqual([10, 300, 5, 0]);
  });

  it('bias-gradient shapes, permuted, sliced and broadcast views', async () => {
    await same('sum over [0, 2, 3]', randn([4, 3, 20, 20]), (t) => nb.sum(t, [0, 2, 3]));
    await same('sum over [0, 1] of [B, T, C]', randn([4, 50, 9]), (t) => nb.sum(t, [0, 1]));
    await same('max over [0, 2] of a permuted view', randn([5, 70, 6]), (t) => nb.max(t.permute(2, 0, 1), [0, 2]));
    await same('sum of a sliced view', randn([6, 300]), (t) => nb.sum(t.slice(1, 7, 290), -1));
    await same('sum of a broadcast view', randn([1, 300]), (t) => nb.sum(nb.expand(t, [5, 300]), 0));
    await same('sum of many short rows', randn([3000, 5]), (t) => nb.sum(t, -1));
    await same('sum over nothing kept', randn([2, 3, 4]), (t) => nb.sum(t, [0, 1, 2]));
  });

  it('max propagates NaN and handles ±∞ as js', async () => {
    const v = Float32Array.from({ length: 4 * 600 }, (_, i) => Math.sin(i));
    v[5] = NaN; // row 0, first chunk
    v[600 + 599] = NaN; // row 1, last element
    v[1200 + 300] = Infinity;
    for (let i = 1800; i < 2400; i++) v[i] = -Infinity;
    const x = nb.tensor(v, { device: 'js', shape: [4, 600] });
    await same('max rows', x, (t) => nb.max(t, -1));
    await same('max columns', x, (t) => nb.max(t, 0));
    await same('sum rows', x, (t) => nb.sum(t, -1));
  });

  it('argmax: first index on ties, first NaN wins, long rows, either axis, int32 and bool', async () => {
    const n = 9000;
    const v = Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i * 0.37));
    v[5000] = 7;
    v[7000] = 7;
    v[200] = 7;
    v[100] = 6; // row 0: ties → 200
    v[n + 8000] = NaN;
    v[n + 8500] = NaN;
    v[n + 10] = 9; // row 1: the first NaN
    for (let i = 2 * n; i < 3 * n; i++) v[i] = -Infinity; // row 2: all −∞ → 0
    const x = nb.tensor(v, { device: 'js', shape: [3, n] });
    const got = await nb.argmax(x.to('webgpu'), -1).data();
    expect(Array.from(got)).toEqual([200, 8000, 0]);
    await same('argmax rows', x, (t) => nb.argmax(t, -1));
    await same('argmax columns', x, (t) => nb.argmax(t, 0));
    await same('argmax of a transposed view', randn([40, 1100]), (t) => nb.argmax(t.t(), 1));
    await same('argmax of a short axis', randn([2000, 3]), (t) => nb.argmax(t, -1));
    const ints = nb.tensor(
      Int32Array.from({ length: 2 * 5000 }, (_, i) => (i * 7919) % 1000),
      { device: 'js', shape: [2, 5000] },
    );
    await same('argmax of int32', ints, (t) => nb.argmax(t, -1));
    await same('argmax of bool', nb.less(randn([3, 700]), 2), (t) => nb.argmax(t, -1));
  });

  it('int32 and bool sums count exactly (into int32), int32 max', async () => {
    const ints = nb.tensor(
      Int32Array.from({ length: 4 * 6000 }, (_, i) => ((i * 7919) % 20001) - 10000),
      { device: 'js', shape: [4, 6000] },
    );
    await same('int32 sum rows', ints, (t) => nb.sum(t, -1));
    await same('int32 sum columns', ints, (t) => nb.sum(t, 0));
    await same('int32 max rows', ints, (t) => nb.max(t, -1));
    const bools = nb.less(randn([5, 9000]), 0);
    await same('bool sum rows', bools, (t) => nb.sum(t, -1));
    await same('bool sum all', bools, (t) => nb.sum(t));
    await same('bool max rows', bools, (t) => nb.max(t, -1));
  });

  it('an empty reduced axis gives 0 (sum) as js', async () => {
    await same('sum over an empty axis', nb.zeros([3, 0], { device: 'js' }), (t) => nb.sum(t, -1));
  });

  it('is deterministic: the same bits on every run', async () => {
    const x = randn([5, 20000]).to('webgpu');
    const a = Array.from(await nb.sum(x, -1).data()),
      b = Array.from(await nb.sum(x, -1).data());
    expect(b).toEqual(a);
  });
});

describe.skipIf(!!unavailable)('webgpu fused softmax', () => {
  for (const isLog of [false, true]) {
    it(`fused ${isLog ? 'logSoftmax' : 'softmax'} matches the composed one on wide rows and extreme values`, async () => {
      const gen = new nb.Generator(4);
      const x = nb.mul(nb.randn([7, 1001], { device: 'webgpu', generator: gen }), 30); // logits up to ~±150
      const rows = nb.concat([x, nb.full([1, 1001], -1e30, { device: 'webgpu' }).add(nb.arange(0, 1001, 1, { device: 'webgpu', dtype: 'float32' }))], 0);
      const run = async (composed: boolean) => {
        const before = nb.setFusedMode(composed ? 'composed' : 'fused');
        try {
          const xi = rows.detach().requiresGrad_();
          const y = isLog ? nb.logSoftmax(xi, -1) : nb.softmax(xi, -1);
          nb.sum(nb.mul(y, nb.cos(nb.arange(0, y.size, 1, { device: 'webgpu', dtype: 'float32' })).reshape(y.shape))).backward();
          return { y: await y.data(), g: await xi.grad!.data() };
        } finally {
          nb.setFusedMode(before);
        }
      };
      const fused = await run(false),
        composed = await run(true);
      close(fused.y, composed.y, 'values');
      close(fused.g, composed.g, 'gradients');
    });
  }

  it('fused softmax gives exactly 0 for −∞ (masked) entries and NaN for an all −∞ row, as the composed one', async () => {
    const m = -Infinity;
    const x = nb.tensor(
      [
        [0, m, 1, m, 2, m, m, 3, 0.5],
        [m, m, m, m, m, m, m, m, m],
      ],
      { device: 'webgpu' },
    );
    for (const composed of [false, true]) {
      const before = nb.setFusedMode(composed ? 'composed' : 'fused');
      try {
        const y = await nb.softmax(x, -1).data();
        for (const i of [1, 3, 5, 6]) expect(y[i]).toBe(0);
        expect(y[0] + y[2] + y[4] + y[7] + y[8]).toBeCloseTo(1, 6);
        for (let i = 9; i < 18; i++) expect(y[i]).toBeNaN();
        const l = await nb.logSoftmax(x, -1).data();
        for (const i of [1, 3, 5, 6]) expect(l[i]).toBe(-Infinity);
        for (let i = 9; i < 18; i++) expect(l[i]).toBeNaN();
      } finally {
        nb.setFusedMode(before);
      }
    }
  });

  it('fused softmax on short rows, very long rows and strided views matches the composed one', async () => {
    const inputs: [string, nb.Tensor][] = [
      ['[300, 3]', randnGpu([300, 3])],
      ['[50, 10]', randnGpu([50, 10])],
      ['[3, 130]', randnGpu([3, 130])],
      ['[2, 5000] (past the register cache)', randnGpu([2, 5000]).mul(20)],
      ['a transposed view', randnGpu([40, 6]).t()],
      ['a permuted 3-D view', randnGpu([4, 33, 5]).permute(2, 0, 1)],
      ['[1] rows of one', randnGpu([7, 1])],
    ];
    for (const [name, x] of inputs) {
      for (const isLog of [false, true]) {
        const f = (composed: boolean) => {
          const before = nb.setFusedMode(composed ? 'composed' : 'fused');
          try {
            return isLog ? nb.logSoftmax(x, -1) : nb.softmax(x, -1);
          } finally {
            nb.setFusedMode(before);
          }
        };
        near(await f(false).data(), await f(true).data(), `${isLog ? 'logSoftmax' : 'softmax'} ${name}`);
      }
    }
  });
});

const gg = new nb.Generator(5);
function randnGpu(shape: number[]): nb.Tensor {
  return nb.randn(shape, { device: 'js', generator: gg }).to('webgpu');
}

describe.skipIf(!unavailable)('webgpu reductions', () => {
  it(`are not tested here: ${unavailable}`, () => {
    expect(unavailable).not.toBe('');
  });
});
