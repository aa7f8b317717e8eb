// Tensor core: creation, broadcasting, views, printing, errors, autograd semantics and memory.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';

const vals = (t: nb.Tensor) => Array.from(t.dataSync());

describe('tensors', () => {
  it('creation and dtypes', () => {
    expect(
      nb.tensor([
        [1, 2],
        [3, 4],
      ]).dtype,
    ).toBe('float32');
    expect(nb.tensor([true, false]).dtype).toBe('bool');
    expect(nb.arange(5).dtype).toBe('int32');
    expect(vals(nb.arange(1, 2, 0.25))).toEqual([1, 1.25, 1.5, 1.75]);
    expect(vals(nb.linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(vals(nb.eye(2, 3))).toEqual([1, 0, 0, 0, 1, 0]);
    expect(vals(nb.full([2], 7, { dtype: 'int32' }))).toEqual([7, 7]);
    expect(() => nb.tensor([[1, 2], [3]])).toThrow(/ragged nested array at data\[1\]/);
  });

  it('broadcasting and dtype promotion follow PyTorch', () => {
    const a = nb.tensor([[1], [2], [3]]),
      b = nb.tensor([10, 20]);
    expect(nb.add(a, b).shape).toEqual([3, 2]);
    expect(vals(nb.add(a, b))).toEqual([11, 21, 12, 22, 13, 23]);
    const i = nb.tensor([1, 2], { dtype: 'int32' });
    expect(nb.add(i, 1).dtype).toBe('int32');
    expect(nb.add(i, 0.5).dtype).toBe('float32');
    expect(nb.div(i, i).dtype).toBe('float32');
    expect(nb.less(i, 2).dtype).toBe('bool');
    expect(nb.add(i, nb.tensor([1.5, 1.5], { dtype: 'float64' })).dtype).toBe('float64');
  });

  it('views share storage; contiguous copies only when needed', () => {
    const x = nb.arange(6).reshape(2, 3);
    const t = x.t();
    expect(t.storage).toBe(x.storage);
    expect(t.isContiguous).toBe(false);
    expect(vals(t)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(t.contiguous().storage).not.toBe(x.storage);
    expect(x.contiguous()).toBe(x);
    expect(vals(x.slice(1, 0, 3, 2))).toEqual([0, 2, 3, 5]);
    expect(vals(x.select(0, -1))).toEqual([3, 4, 5]);
    expect(vals(x.index(null, [1, null]))).toEqual([1, 2, 4, 5]);
    expect(vals(t.reshape(6))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(nb.unsqueeze(x, 0).shape).toEqual([1, 2, 3]);
    expect(nb.expand(nb.tensor([1, 2]), [3, 2]).strides).toEqual([0, 1]);
  });

  it('reshape is a view wherever the strides allow one, as torch.reshape / view (cases from PyTorch 2.13)', () => {
    // [shape, strides, new shape, torch's strides for it or null when it must copy]
    const cases: [number[], number[], number[], number[] | null][] = [
      [
        [3, 1, 1, 3],
        [3, 12, 3, 1],
        [3, 1, 3, 1],
        [3, 3, 1, 1],
      ],
      [
        [2, 5, 1],
        [5, 1, 5],
        [1, 10],
        [10, 1],
      ],
      [
        [1, 3, 4, 3],
        [1, 1, 12, 4],
        [3, 12],
        [1, 4],
      ],
      [
        [5, 1, 2, 3],
        [6, 6, 3, 1],
        [3, 1, 10],
        [10, 10, 1],
      ],
      [
        [32, 64, 128],
        [24576, 384, 1],
        [32, 64, 4, 32],
        [24576, 384, 32, 1],
      ], // one head split of q from qkv
      [[2, 1, 3, 5], [5, 1, 10, 1], [1, 1, 6, 5], null],
      [[5, 4, 4, 1], [1, 5, 20, 1], [2, 1, 1, 40], null],
      [[3, 5, 4, 2], [50, 2, 10, 1], [1, 2, 1, 20, 3], null],
      [[1, 2, 4], [10, 1, 2], [8, 1], null],
    ];
    for (const [shape, strides, to, want] of cases) {
      const got = nb.viewStrides(shape, strides, to);
      if (want === null) expect(got, `${shape} ${strides} -> ${to}`).toBeNull();
      else
        expect(
          got!.filter((_, i) => to[i] !== 1),
          `${shape} ${strides} -> ${to}`,
        ).toEqual(want.filter((_, i) => to[i] !== 1));
    }
    // A slice of the last dim split into heads: no copy, same values, gradients back into the slice.
    const qkv = nb
      .arange(0, 2 * 3 * 12, 1, { dtype: 'float32' })
      .reshape([2, 3, 12])
      .requiresGrad_();
    const q = nb.split(qkv, 4, 2)[1];
    const heads = q.reshape([2, 3, 2, 2]);
    expect(heads.storage).toBe(q.storage);
    expect(vals(heads)).toEqual(vals(q.contiguous()));
    nb.sum(nb.mul(heads, heads)).backward();
    const g = vals(qkv.grad!);
    expect(g.filter((_, i) => i % 12 >= 4 && i % 12 < 8)).toEqual(vals(q).map((v) => 2 * v));
    expect(g.filter((_, i) => i % 12 < 4 || i % 12 >= 8).every((v) => v === 0)).toBe(true);
    // A transpose merged into one dim needs a copy; view refuses it.
    const tr = nb.arange(6).reshape(2, 3).t();
    expect(tr.reshape(6).storage).not.toBe(tr.storage);
    expect(() => nb.view(nb.arange(6).reshape(2, 3).t(), [6])).toThrow(
      'view: the strides of a tensor of shape [3,2] (strides [1,3]) do not allow shape [6] without a copy; use reshape()',
    );
    expect(nb.view(q, [2, 3, 2, 2]).strides).toEqual([36, 12, 2, 1]);
  });

  it('concat, stack, split, chunk, pad', () => {
    const a = nb.tensor([[1, 2]]),
      b = nb.tensor([[3, 4]]);
    expect(vals(nb.concat([a, b], 0))).toEqual([1, 2, 3, 4]);
    expect(nb.stack([a, b], 1).shape).toEqual([1, 2, 2]);
    expect(nb.split(nb.arange(5), 2).map(vals)).toEqual([[0, 1], [2, 3], [4]]);
    expect(nb.chunk(nb.arange(6), 3).map((c) => c.size)).toEqual([2, 2, 2]);
    expect(vals(nb.pad(nb.tensor([[1, 2]]), [1, 0, 0, 1], 9))).toEqual([9, 1, 2, 9, 9, 9]);
  });

  it('reductions, argmax and NaN', () => {
    const x = nb.tensor([
      [1, 5, 5],
      [7, 0, -1],
    ]);
    expect(vals(nb.sum(x, 1))).toEqual([11, 6]);
    expect(vals(nb.argmax(x, 1))).toEqual([1, 0]); // first of tied maxima
    expect(vals(nb.max(x, 0))).toEqual([7, 5, 5]);
    expect(vals(nb.mean(x))).toEqual([17 / 6].map((v) => Math.fround(v)));
    expect(Number.isNaN(nb.max(nb.tensor([1, NaN, 3])).itemSync())).toBe(true);
  });

  it('gather, scatterAdd, indexSelect, oneHot', () => {
    const x = nb.tensor([
      [1, 2],
      [3, 4],
    ]);
    const i = nb.tensor(
      [
        [0, 0],
        [1, 0],
      ],
      { dtype: 'int32' },
    );
    expect(vals(nb.gather(x, 1, i))).toEqual([1, 1, 4, 3]);
    expect(vals(nb.scatterAdd(i, x, 1, [2, 3]))).toEqual([3, 0, 0, 4, 3, 0]);
    expect(vals(nb.indexSelect(x, 0, nb.tensor([1, 1, 0], { dtype: 'int32' })))).toEqual([3, 4, 3, 4, 1, 2]);
    expect(vals(nb.oneHot(nb.tensor([2, 0], { dtype: 'int32' }), 3))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => nb.gather(x, 1, nb.tensor([[5]], { dtype: 'int32' }))).toThrow('gather: index 5 is out of range for dimension 1 of size 2');
  });

  it('row gathers and scatters (an index broadcast along the other dims) move whole runs, equal to element by element', () => {
    // x [2, 4, 3]; rows 3, 0, 3 of axis 1: the fast path of gather, and scatterAdd with a repeated row.
    const x = nb.arange(0, 24, 1, { dtype: 'float32' }).reshape([2, 4, 3]);
    const rows = [3, 0, 3];
    const idx = nb.tensor(rows, { dtype: 'int32' });
    const want: number[] = [];
    for (let a = 0; a < 2; a++) for (const k of rows) for (let j = 0; j < 3; j++) want.push(a * 12 + k * 3 + j);
    expect(vals(nb.indexSelect(x, 1, idx))).toEqual(want);
    // The same index materialized (no zero strides) takes the element-by-element path: same values.
    const dense = nb.contiguous(nb.expand(idx.reshape([1, 3, 1]), [2, 3, 3]));
    expect(vals(nb.gather(x, 1, dense))).toEqual(want);
    const src = nb.arange(1, 19, 1, { dtype: 'float32' }).reshape([2, 3, 3]);
    const summed = new Array(24).fill(0);
    for (let a = 0; a < 2; a++)
      rows.forEach((k, i) => {
        for (let j = 0; j < 3; j++) summed[a * 12 + k * 3 + j] += a * 9 + i * 3 + j + 1;
      });
    expect(vals(nb.scatterAdd(nb.expand(idx.reshape([1, 3, 1]), [2, 3, 3]), src, 1, [2, 4, 3]))).toEqual(summed);
    expect(vals(nb.scatterAdd(dense, src, 1, [2, 4, 3]))).toEqual(summed);
    expect(() => nb.indexSelect(x, 1, nb.tensor([4], { dtype: 'int32' }))).toThrow('gather: index 4 is out of range for dimension 1 of size 4');
    expect(() => nb.scatterAdd(nb.expand(nb.tensor([[-1]], { dtype: 'int32' }), [1, 3]), nb.ones([1, 3]), 0, [2, 3])).toThrow(
      'scatterAdd: index -1 is out of range for dimension 0 of size 2',
    );
  });

  it('prints like PyTorch', () => {
    expect(
      nb
        .tensor([
          [1, 2],
          [3, 4.5],
        ])
        .toString(),
    ).toBe('tensor([[1.0000, 2.0000],\n        [3.0000, 4.5000]])');
    expect(nb.arange(3).toString()).toBe('tensor([0, 1, 2], dtype=int32)');
    expect(nb.tensor([1, 2]).requiresGrad_().toString()).toBe('tensor([1., 2.], requiresGrad=true)');
    expect(nb.zeros([2000]).toString()).toBe('tensor([0., 0., 0., ..., 0., 0., 0.])');
  });

  it('seeded random numbers: same seed same numbers, float32 and float64 agree', () => {
    nb.manualSeed(123);
    const a = vals(nb.rand([5]));
    nb.manualSeed(123);
    expect(vals(nb.rand([5], { dtype: 'float64' }))).toEqual(a);
    nb.manualSeed(124);
    expect(vals(nb.rand([5]))).not.toEqual(a);
    const z = nb.randn([100000], { generator: new nb.Generator(1) });
    expect(nb.mean(z).itemSync()).toBeCloseTo(0, 1);
    expect(nb.std(z).itemSync()).toBeCloseTo(1, 1);
    const r = vals(nb.randint(3, 7, [1000]));
    expect(Math.min(...r)).toBe(3);
    expect(Math.max(...r)).toBe(6);
  });

  it('shape errors name the op and both shapes', () => {
    expect(() => nb.matmul(nb.zeros([32, 784]), nb.zeros([512, 10]))).toThrow('matmul: inner dimensions differ: [32,784] @ [512,10]');
    expect(() => nb.add(nb.zeros([2, 3]), nb.zeros([4]))).toThrow('add: shapes cannot be broadcast together: [2,3] and [4]');
    expect(() => nb.reshape(nb.zeros([2, 3]), [4])).toThrow('reshape: cannot reshape [2,3] (6 elements) to [4]');
    expect(() => nb.concat([nb.zeros([2, 3]), nb.zeros([3, 2])], 0)).toThrow('concat: shapes [2,3] and [3,2] differ outside dimension 0');
    expect(() => nb.sum(nb.zeros([2]), 3)).toThrow('sum: axis 3 is out of range for a tensor with 1 dimensions');
  });
});

describe('autograd', () => {
  it('relu as torch.relu: NaN and −0 pass through, gradient 0 where x ≤ 0 (values from PyTorch 2.13)', () => {
    const x = nb.tensor([NaN, -0, 0, -1, 2, -Infinity, Infinity]).requiresGrad_();
    const y = nb.relu(x);
    const got = Array.from(y.dataSync(), (v) => (Object.is(v, -0) ? '-0' : v));
    expect(got).toEqual([NaN, '-0', 0, 0, 2, 0, Infinity]);
    nb.sum(nb.mul(y, nb.tensor([1, 1, 1, 1, 3, 1, 1]))).backward();
    // PyTorch gives 1 at the NaN input; nabla gives 0 there (the loss is NaN either way).
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0, 0, 3, 0, 1]);
    expect(nb.relu(nb.tensor([-2, 5], { dtype: 'int32' })).dtype).toBe('int32');
  });

  it('accumulates into .grad over backward calls; noGrad and detach cut the tape', () => {
    const w = nb.tensor([1, 2]).requiresGrad_();
    nb.sum(nb.mul(w, 3)).backward();
    nb.sum(nb.mul(w, 3)).backward();
    expect(vals(w.grad!)).toEqual([6, 6]);
    expect(nb.noGrad(() => nb.mul(w, 2)).requiresGrad).toBe(false);
    expect(nb.mul(w.detach(), 2).requiresGrad).toBe(false);
  });

  it('non-leaf gradients only with retainGrad; second backward needs retainGraph', () => {
    const x = nb.tensor([1, 2]).requiresGrad_();
    const h = nb.mul(x, x).retainGrad();
    const k = nb.mul(x, 2);
    const y = nb.sum(nb.add(h, k));
    y.backward(undefined, { retainGraph: true });
    expect(vals(h.grad!)).toEqual([1, 1]);
    expect(k.grad).toBeNull();
    y.backward();
    expect(vals(x.grad!)).toEqual([8, 12]);
    expect(() => y.backward()).toThrow(/through the graph a second time/);
    expect(() => nb.mul(x, 2).backward()).toThrow(/only for a one-element output/);
  });

  it('grad and valueAndGrad leave .grad alone', () => {
    const x = nb.tensor([3]);
    const [d] = nb.grad((t) => nb.sum(nb.mul(t, t)))(x);
    expect(vals(d)).toEqual([6]);
    const { value, grads } = nb.valueAndGrad((a, b) => nb.sum(nb.mul(a, b)))(nb.tensor([2]), nb.tensor([5]));
    expect([value.itemSync(), vals(grads[0])[0], vals(grads[1])[0]]).toEqual([10, 5, 2]);
    expect(x.grad).toBeNull();
  });
});

describe('memory', () => {
  it('assignStorage refuses a source of another shape or dtype', () => {
    const t = nb.zeros([2, 3]);
    expect(() => t.assignStorage(nb.zeros([3, 2]))).toThrow(/source shape \[3,2\] does not match target shape \[2,3\]/);
    expect(() => t.assignStorage(nb.zeros([2, 3], { dtype: 'float64' }))).toThrow(/dtype float64 does not match target dtype float32/);
    t.assignStorage(nb.ones([2, 3]));
    expect(vals(t)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('scope frees intermediates and keeps what it returns', () => {
    const b = nb.getBackend();
    const start = b.liveBuffers();
    const kept = nb.scope(() => {
      const a = nb.ones([10]);
      nb.mul(a, 2);
      return nb.add(a, 1);
    });
    expect(b.liveBuffers()).toBe(start + 1);
    kept.dispose();
    expect(b.liveBuffers()).toBe(start);
  });

  it('an intermediate disposed early stays alive until backward has used it', () => {
    const x = nb.tensor([1, 2, 3]).requiresGrad_();
    const h = nb.exp(x);
    const y = nb.sum(nb.mul(h, h));
    h.dispose();
    y.backward();
    expect(vals(x.grad!)).toEqual([1, 2, 3].map((v) => Math.fround(2 * Math.exp(2 * v))).map((v) => expect.closeTo(v, 2)));
  });

  it('2,000 training steps keep the live buffer count flat', () => {
    nb.manualSeed(0);
    const model = new nb.nn.Sequential(new nb.nn.Linear(8, 16), new nb.nn.ReLU(), new nb.nn.Dropout(0.1), new nb.nn.Linear(16, 3));
    const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = nb.randn([32, 8]),
      y = nb.randint(0, 3, [32]);
    const b = nb.getBackend();
    let after10 = 0;
    for (let i = 0; i < 2000; i++) {
      const loss = nb.scope(() => {
        const l = nb.nn.functional.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l.detach();
      });
      loss.dispose();
      if (i === 10) after10 = b.liveBuffers();
    }
    expect(b.liveBuffers()).toBe(after10);
  });

  it('a forward pass with grad enabled but never backpropagated is freed by scope', () => {
    const model = new nb.nn.Linear(4, 4);
    const b = nb.getBackend();
    const start = b.liveBuffers();
    nb.scope(() => {
      nb.sum(model.forward(nb.ones([2, 4])));
    });
    expect(b.liveBuffers()).toBe(start);
  });
});

describe('garbage-collection safety net', () => {
  it('frees tensors that were never disposed and reports them in debug mode', async () => {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const b = nb.getBackend();
    nb.setDebugMemory(true);
    try {
      const start = b.liveBuffers();
      (() => {
        nb.ones([64, 64]).mul(3);
      })(); // tensors never disposed
      expect(b.liveBuffers()).toBeGreaterThanOrEqual(start + 2);
      for (let i = 0; i < 10 && b.liveBuffers() > start; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      // Earlier tests' undisposed tensors may be collected too, so the count can drop below start.
      expect(b.liveBuffers()).toBeLessThanOrEqual(start);
      const mine = nb.leakReport().filter((l) => l.shape.join() === '64,64');
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine[0]).toMatchObject({ dtype: 'float32', device: b.name });
      expect(mine.some((l) => /core\.test\.ts/.test(l.stack ?? ''))).toBe(true);
    } finally {
      nb.setDebugMemory(false);
    }
  });
});
