// Tests for the data package: TensorDataset, DataLoader, randomSplit, transforms and loadMnist.

import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import {
  TensorDataset,
  Subset,
  randomSplit,
  DataLoader,
  defaultCollate,
  type Dataset,
  normalize,
  standardize,
  minMaxScale,
  toCategorical,
  trainTestSplit,
  shuffleArrays,
  loadMnist,
  loadMnistRaw,
} from '../../src/data/index.js';

const live = (): number => nb.getBackend().liveBuffers();

/** x[i] = [i, 10 i], y[i] = i: every row says which index it came from. */
function indexed(n: number): { x: nb.Tensor; y: nb.Tensor } {
  const xs = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    xs[2 * i] = i;
    xs[2 * i + 1] = 10 * i;
  }
  return { x: nb.tensor(xs, { shape: [n, 2] }), y: nb.arange(0, n) };
}

/** Indices of the rows in each batch of one epoch, read from the y column. */
function epochOrder(loader: DataLoader<nb.Tensor[]>): number[][] {
  const out: number[][] = [];
  for (const batch of loader) {
    out.push(Array.from(batch[1].dataSync()));
    nb.dispose(batch);
  }
  return out;
}

describe('TensorDataset', () => {
  it('get returns the i-th rows and getBatch stacks rows in index order', () => {
    const { x, y } = indexed(5);
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(5);
    const [x3, y3] = ds.get(3);
    expect(x3.shape).toEqual([2]);
    expect(x3.tolistSync()).toEqual([3, 30]);
    expect(y3.itemSync()).toBe(3);
    expect(ds.get(-1)[1].itemSync()).toBe(4);

    const [xb, yb] = ds.getBatch(Int32Array.of(4, 0, 2, 2));
    expect(xb.shape).toEqual([4, 2]);
    expect(xb.dtype).toBe('float32');
    expect(xb.tolistSync()).toEqual([
      [4, 40],
      [0, 0],
      [2, 20],
      [2, 20],
    ]);
    expect(yb.dtype).toBe('int32');
    expect(yb.tolistSync()).toEqual([4, 0, 2, 2]);
  });

  it('getBatch on higher-rank tensors keeps the trailing shape', () => {
    const t = nb.arange(0, 24).reshape([4, 2, 3]);
    const [b] = new TensorDataset(t).getBatch(Int32Array.of(3, 1));
    expect(b.shape).toEqual([2, 2, 3]);
    expect(b.tolistSync()).toEqual([
      [
        [18, 19, 20],
        [21, 22, 23],
      ],
      [
        [6, 7, 8],
        [9, 10, 11],
      ],
    ]);
  });

  it('getBatch frees its index tensor', () => {
    const { x, y } = indexed(8);
    const ds = new TensorDataset(x, y);
    const before = live();
    const batch = ds.getBatch(Int32Array.of(1, 2, 3));
    expect(live()).toBe(before + 2);
    nb.dispose(batch);
    expect(live()).toBe(before);
  });

  it('rejects mismatched first dimensions and bad indices with clear errors', () => {
    expect(() => new TensorDataset(nb.zeros([3, 2]), nb.zeros([4]))).toThrow(/tensor 1 has \[4\].*first dimension/);
    expect(() => new TensorDataset()).toThrow(/at least one tensor/);
    const ds = new TensorDataset(nb.zeros([3, 2]));
    expect(() => ds.get(3)).toThrow(/index 3 is out of range for a dataset of length 3/);
    expect(() => ds.getBatch(Int32Array.of(0, 5))).toThrow(/index 5 at position 1/);
  });
});

describe('Subset and randomSplit', () => {
  it('Subset maps indices and keeps the getBatch fast path', () => {
    const { x, y } = indexed(10);
    const sub = new Subset(new TensorDataset(x, y), [7, 2, 5]);
    expect(sub.length).toBe(3);
    expect(sub.get(0)[1].itemSync()).toBe(7);
    expect(sub.getBatch).toBeTypeOf('function');
    expect(sub.getBatch!(Int32Array.of(2, 0))[1].tolistSync()).toEqual([5, 7]);
  });

  it('splits by sizes and by fractions into disjoint subsets covering the dataset', () => {
    const { x, y } = indexed(10);
    const ds = new TensorDataset(x, y);
    const parts = randomSplit(ds, [6, 3, 1], new nb.Generator(0));
    expect(parts.map((p) => p.length)).toEqual([6, 3, 1]);
    const all = parts.flatMap((p) => Array.from(p.indices)).sort((a, b) => a - b);
    expect(all).toEqual([...Array(10).keys()]);

    // floor(10*0.33)=3 three times, remainder 1 goes to the first part (PyTorch's rule)
    expect(randomSplit(ds, [1 / 3, 1 / 3, 1 / 3], new nb.Generator(0)).map((p) => p.length)).toEqual([4, 3, 3]);
    expect(randomSplit(ds, [0.8, 0.2], new nb.Generator(0)).map((p) => p.length)).toEqual([8, 2]);
    expect(() => randomSplit(ds, [5, 4])).toThrow(/add up to 9, but the dataset has 10/);
  });

  it('is deterministic per seed', () => {
    const { x, y } = indexed(20);
    const ds = new TensorDataset(x, y);
    const a = randomSplit(ds, [15, 5], new nb.Generator(3));
    const b = randomSplit(ds, [15, 5], new nb.Generator(3));
    const c = randomSplit(ds, [15, 5], new nb.Generator(4));
    expect(Array.from(a[1].indices)).toEqual(Array.from(b[1].indices));
    expect(Array.from(a[0].indices)).not.toEqual(Array.from(c[0].indices));
  });
});

describe('DataLoader', () => {
  const { x, y } = indexed(10);
  const ds = new TensorDataset(x, y);

  it('counts batches with and without dropLast', () => {
    expect(new DataLoader(ds, { batchSize: 3 }).length).toBe(4);
    expect(new DataLoader(ds, { batchSize: 3, dropLast: true }).length).toBe(3);
    expect(new DataLoader(ds, { batchSize: 5, dropLast: true }).length).toBe(2);
    expect(new DataLoader(ds).length).toBe(10);
    expect(new DataLoader(ds, { batchSize: 64 }).length).toBe(1);
    expect(new DataLoader(ds, { batchSize: 64, dropLast: true }).length).toBe(0);

    const sizes = epochOrder(new DataLoader(ds, { batchSize: 3 })).map((b) => b.length);
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(epochOrder(new DataLoader(ds, { batchSize: 3, dropLast: true })).map((b) => b.length)).toEqual([3, 3, 3]);
    expect(epochOrder(new DataLoader(ds, { batchSize: 64, dropLast: true }))).toEqual([]);
  });

  it('without shuffle yields the items in order, with x rows matching y', () => {
    const loader = new DataLoader(ds, { batchSize: 4 });
    const seen: number[] = [];
    for (const [xb, yb] of loader) {
      expect(xb.shape[1]).toBe(2);
      const ys = Array.from(yb.dataSync());
      expect(xb.tolistSync()).toEqual(ys.map((i) => [i, 10 * i]));
      seen.push(...ys);
      nb.dispose([xb, yb]);
    }
    expect(seen).toEqual([...Array(10).keys()]);
  });

  it('shuffles deterministically per seed, differently across epochs, covering every index once', () => {
    const a = new DataLoader(ds, { batchSize: 3, shuffle: true, generator: new nb.Generator(42) });
    const b = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 42 });
    const a1 = epochOrder(a),
      a2 = epochOrder(a);
    const b1 = epochOrder(b),
      b2 = epochOrder(b);
    expect(a1).toEqual(b1);
    expect(a2).toEqual(b2);
    expect(a1.flat()).not.toEqual(a2.flat());
    for (const epoch of [a1, a2]) {
      expect(epoch.flat().sort((p, q) => p - q)).toEqual([...Array(10).keys()]);
      expect(epoch.map((e) => e.length)).toEqual([3, 3, 3, 1]);
    }
    expect(a1.flat()).not.toEqual([...Array(10).keys()]);
    const c = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 });
    expect(epochOrder(c).flat()).not.toEqual(a1.flat());
  });

  it('uses the global generator by default, so manualSeed reproduces the order', () => {
    const loader = new DataLoader(ds, { batchSize: 10, shuffle: true });
    nb.manualSeed(5);
    const first = epochOrder(loader);
    nb.manualSeed(5);
    expect(epochOrder(loader)).toEqual(first);
  });

  it('collates per item for datasets without getBatch (tuples, objects, numbers)', () => {
    const items: Dataset<[nb.Tensor, number]> = {
      length: 5,
      get: (i) => [nb.full([2], i), i * 2],
    };
    const batches = [...new DataLoader(items, { batchSize: 2 })];
    expect(batches.length).toBe(3);
    const [xb, yb] = batches[0];
    expect(xb.tolistSync()).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(yb.dtype).toBe('int32');
    expect(yb.tolistSync()).toEqual([0, 2]);
    expect(batches[2][0].shape).toEqual([1, 2]);
    nb.dispose(batches);

    const objs: Dataset<{ v: number; w: number[] }> = { length: 3, get: (i) => ({ v: i + 0.5, w: [i, -i] }) };
    const [ob] = [...new DataLoader(objs, { batchSize: 3 })];
    expect(ob.v.dtype).toBe('float32');
    expect(ob.v.tolistSync()).toEqual([0.5, 1.5, 2.5]);
    expect(ob.w[0].tolistSync()).toEqual([0, 1, 2]);
    expect(ob.w[1].tolistSync()).toEqual([0, -1, -2]);
    nb.dispose(ob);

    expect(() => defaultCollate([])).toThrow(/empty/);
  });

  it('applies a custom collate and a batch transform', () => {
    const loader = new DataLoader(ds, {
      batchSize: 5,
      collate: (items) => items.length,
      transform: (n) => n * 100,
    });
    expect([...loader]).toEqual([500, 500]);

    const scaled = new DataLoader(ds, { batchSize: 10, transform: ([xb, yb]): [nb.Tensor, nb.Tensor] => [nb.mul(xb, 2), yb] });
    const before = live();
    const [batch] = [...scaled];
    // only the transformed x and y survive: the unscaled x was freed inside the loader
    expect(live()).toBe(before + 2);
    expect((batch[0].tolistSync() as number[][])[3]).toEqual([6, 60]);
    nb.dispose(batch);
    expect(live()).toBe(before);
  });

  it('keeps liveBuffers flat over an epoch when each step runs in scope and the batch is disposed', () => {
    const { x: bx, y: by } = indexed(100);
    const loader = new DataLoader(new TensorDataset(bx, by), { batchSize: 8, shuffle: true, seed: 1 });
    const w = nb.ones([2, 1]).keep();
    const before = live();
    let total = 0;
    for (const batch of loader) {
      const [xb, yb] = batch;
      total += nb.scope(() => nb.sum(nb.add(nb.matmul(xb, w), nb.unsqueeze(yb, 1))).itemSync());
      nb.dispose(batch);
      expect(live()).toBe(before);
    }
    expect(live()).toBe(before);
    // sum over all rows of (i + 10 i) + i
    expect(total).toBe((12 * (99 * 100)) / 2);

    // the per-item path leaks nothing either
    const perItem = new DataLoader(new TensorDataset(bx, by), { batchSize: 8, collate: defaultCollate });
    for (const batch of perItem) {
      nb.scope(() => nb.sum(batch[0]).itemSync());
      nb.dispose(batch);
    }
    expect(live()).toBe(before);
  });

  it('rejects a bad batch size', () => {
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
  });
});

describe('transforms', () => {
  it('normalize with a scalar and per-feature statistics', () => {
    const x = nb.tensor([
      [1, 10],
      [3, 30],
    ]);
    expect(normalize(x, 1, 2).tolistSync()).toEqual([
      [0, 4.5],
      [1, 14.5],
    ]);
    expect(normalize(x, [2, 20], [1, 10]).tolistSync()).toEqual([
      [-1, -1],
      [1, 1],
    ]);
    expect(normalize(x, nb.tensor([2, 20]), nb.tensor([1, 10])).tolistSync()).toEqual([
      [-1, -1],
      [1, 1],
    ]);
    expect(normalize(nb.tensor([2, 4], { dtype: 'int32' }), 2, 2).dtype).toBe('float32');
    expect(() => normalize(x, [1, 2, 3], 1)).toThrow(/mean has 3 values but x \[2,2\] has last dimension 2/);
  });

  it('standardize fits on train data and normalize applies it to test data', () => {
    const train = nb.tensor(
      [
        [1, 5, 7],
        [3, 5, 9],
        [5, 5, 11],
      ],
      { dtype: 'float64' },
    );
    const { x, mean, std } = standardize(train);
    expect(mean.shape).toEqual([3]);
    expect(mean.tolistSync()).toEqual([3, 5, 9]);
    const s = Math.sqrt(8 / 3); // population std of [1, 3, 5]
    expect((std.tolistSync() as number[])[0]).toBeCloseTo(s, 12);
    expect((std.tolistSync() as number[])[1]).toBe(1); // constant column: scale 1, not a division by 0
    const xs = x.tolistSync() as number[][];
    expect(xs[0][0]).toBeCloseTo(-2 / s, 12);
    expect(xs.map((r) => r[1])).toEqual([0, 0, 0]);
    const test = normalize(nb.tensor([[3, 6, 9]], { dtype: 'float64' }), mean, std);
    expect(test.tolistSync()).toEqual([[0, 1, 0]]);
    // per-channel statistics of NCHW images broadcast as [C, 1, 1]
    const img = nb.rand([4, 3, 2, 2], { generator: new nb.Generator(0) });
    const perChannel = standardize(img, { dim: [0, 2, 3] });
    expect(perChannel.mean.shape).toEqual([3, 1, 1]);
    expect(Math.abs(nb.mean(perChannel.x).itemSync())).toBeLessThan(1e-6);
  });

  it('minMaxScale maps each feature to the range and reapplies fitted values', () => {
    const x = nb.tensor([
      [0, 10, 4],
      [5, 20, 4],
      [10, 30, 4],
    ]);
    const r = minMaxScale(x);
    expect(r.x.tolistSync()).toEqual([
      [0, 0, 0],
      [0.5, 0.5, 0],
      [1, 1, 0],
    ]);
    expect(r.min.tolistSync()).toEqual([0, 10, 4]);
    expect(r.max.tolistSync()).toEqual([10, 30, 4]);
    expect(minMaxScale(x, { featureRange: [-1, 1] }).x.tolistSync()).toEqual([
      [-1, -1, -1],
      [0, 0, -1],
      [1, 1, -1],
    ]);
    const t = minMaxScale(nb.tensor([[20, 20, 4]]), { min: r.min, max: r.max });
    expect(t.x.tolistSync()).toEqual([[2, 0.5, 0]]);
    expect(minMaxScale(nb.tensor([[5], [15]]), { min: 5, max: 25 }).x.tolistSync()).toEqual([[0], [0.5]]);
  });

  it('toCategorical one-hot encodes as float32', () => {
    const a = toCategorical([0, 2, 1], 3);
    expect(a.dtype).toBe('float32');
    expect(a.tolistSync()).toEqual([
      [1, 0, 0],
      [0, 0, 1],
      [0, 1, 0],
    ]);
    const b = toCategorical(nb.tensor([1, 3], { dtype: 'int32' }));
    expect(b.shape).toEqual([2, 4]);
    expect(b.tolistSync()).toEqual([
      [0, 1, 0, 0],
      [0, 0, 0, 1],
    ]);
    expect(toCategorical(nb.tensor([[1], [0]]), 2).shape).toEqual([2, 2]); // [n, 1] squeezed, like Keras
    expect(toCategorical(nb.tensor([[1, 0]], { dtype: 'int32' }), 2).shape).toEqual([1, 2, 2]);
    expect(() => toCategorical([0, 5], 3)).toThrow(/label 5 is out of range for 3 classes/);
    expect(() => toCategorical([0.5])).toThrow(/non-negative integers/);
  });

  it('trainTestSplit sizes follow scikit-learn and rows stay paired', () => {
    const { x, y } = indexed(10);
    const [xTr, xTe, yTr, yTe] = trainTestSplit([x, y], { seed: 0 });
    expect(xTr.shape).toEqual([7, 2]);
    expect(xTe.shape).toEqual([3, 2]); // ceil(0.25 * 10)
    expect(yTr.shape).toEqual([7]);
    expect(yTe.shape).toEqual([3]);
    for (const [xs, ys] of [
      [xTr, yTr],
      [xTe, yTe],
    ]) {
      const ids = Array.from(ys.dataSync());
      expect(xs.tolistSync()).toEqual(ids.map((i) => [i, 10 * i]));
    }
    const all = [...yTr.dataSync(), ...yTe.dataSync()].sort((a, b) => a - b);
    expect(all).toEqual([...Array(10).keys()]);
    expect(Array.from(yTr.dataSync())).not.toEqual([0, 1, 2, 3, 4, 5, 6]);

    const again = trainTestSplit([x, y], { seed: 0 });
    expect(again[3].tolistSync()).toEqual(yTe.tolistSync());

    const [, , yTr2, yTe2] = trainTestSplit([x, y], { testSize: 0.2, shuffle: false });
    expect(yTr2.tolistSync()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(yTe2.tolistSync()).toEqual([8, 9]);
    expect(trainTestSplit([x], { testSize: 4, seed: 1 }).map((t) => t.shape[0])).toEqual([6, 4]);
    expect(trainTestSplit([x], { trainSize: 0.5, seed: 1 }).map((t) => t.shape[0])).toEqual([5, 5]);
    expect(() => trainTestSplit([x, nb.zeros([3])])).toThrow(/share the first dimension/);
  });

  it('shuffleArrays applies one permutation to every tensor', () => {
    const { x, y } = indexed(12);
    const [xs, ys] = shuffleArrays([x, y], new nb.Generator(9));
    const ids = Array.from(ys.dataSync());
    expect(ids).not.toEqual([...Array(12).keys()]);
    expect([...ids].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(xs.tolistSync()).toEqual(ids.map((i) => [i, 10 * i]));
    const [, ys2] = shuffleArrays([x, y], new nb.Generator(9));
    expect(ys2.tolistSync()).toEqual(ids);
  });

  it('transforms free their intermediates', () => {
    const x = nb.rand([6, 3], { generator: new nb.Generator(1) });
    const before = live();
    nb.dispose(normalize(x, [0.5, 0.5, 0.5], [2, 2, 2]));
    nb.dispose(standardize(x));
    nb.dispose(minMaxScale(x));
    nb.dispose(trainTestSplit([x, x], { seed: 2 }));
    nb.dispose(shuffleArrays([x]));
    nb.dispose(toCategorical([1, 2]));
    expect(live()).toBe(before);
  });
});

describe('loadMnist', () => {
  it('loads a limited training set as [n, 784] floats in [0, 1] and int32 labels', async () => {
    const { x, y } = await loadMnist({ limit: 100 });
    expect(x.shape).toEqual([100, 784]);
    expect(x.dtype).toBe('float32');
    expect(y.shape).toEqual([100]);
    expect(y.dtype).toBe('int32');
    const xs = x.dataSync();
    let lo = Infinity,
      hi = -Infinity;
    for (const v of xs) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
    const raw = await loadMnistRaw();
    expect(xs[200]).toBe(Math.fround(raw.images[200] / 255));
    expect(Array.from(y.dataSync())).toEqual(Array.from(raw.labels.subarray(0, 100)));
    expect(Array.from(y.dataSync().slice(0, 5))).toEqual([5, 0, 4, 1, 9]); // MNIST's well-known first labels
    nb.dispose([x, y]);
  });

  it('supports images in NCHW, unnormalized pixels, float64 and the test set', async () => {
    const a = await loadMnist({ train: false, limit: 10, flatten: false, normalize: false, dtype: 'float64' });
    expect(a.x.shape).toEqual([10, 1, 28, 28]);
    expect(a.x.dtype).toBe('float64');
    expect(nb.max(a.x).itemSync()).toBe(255);
    const raw = await loadMnistRaw({ train: false });
    expect(Array.from(a.x.dataSync().slice(150, 160))).toEqual(Array.from(raw.images.subarray(150, 160)));
    expect(Array.from(a.y.dataSync())).toEqual(Array.from(raw.labels.subarray(0, 10)));
    nb.dispose(a);
    await expect(loadMnist({ limit: -1 })).rejects.toThrow(/limit must be a non-negative integer/);
  });

  it('loads the full training set in one pass', async () => {
    await loadMnistRaw(); // file reading is cached; time the tensor building only
    const t0 = performance.now();
    const { x, y } = await loadMnist();
    const ms = performance.now() - t0;
    expect(x.shape).toEqual([60000, 784]);
    expect(y.shape).toEqual([60000]);
    // No assertion on time (machines differ); logged so a regression to per-row work is visible.
    console.log(`loadMnist: 60000 images in ${ms.toFixed(0)} ms`);
    nb.dispose([x, y]);
  });
});
