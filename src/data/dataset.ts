// Map-style datasets (torch.utils.data): the Dataset interface, TensorDataset, Subset and randomSplit.

import { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { scope } from '../tensor/memory.js';
import { fmtShape } from '../tensor/shape.js';
import { select } from '../ops/movement.js';
import { indexSelect } from '../ops/indexing.js';
import { defaultGenerator, randpermArray, type Generator } from '../ops/random.js';
import type { Collated } from './collate.js';

/**
 * A map-style dataset: `length` items, item `i` from `get(i)` (torch.utils.data.Dataset with
 * `__len__`/`__getitem__`). A dataset may also offer `getBatch(indices)`, returning the batch that
 * the default collate would build from those items but made in one go; DataLoader prefers it,
 * because one gather per tensor is far cheaper than a slice per row and a stack.
 *
 * Tensors that `get` creates belong to the caller (DataLoader frees them once collated); a dataset
 * that caches tensors it creates should `keep()` them so a surrounding `scope` does not free them.
 */
export interface Dataset<T> {
  readonly length: number;
  get(i: number): T;
  getBatch?(indices: Int32Array): Collated<T>;
}

function checkIndex(where: string, i: number, n: number): number {
  const j = i < 0 ? i + n : i;
  if (!Number.isInteger(i) || j < 0 || j >= n) throw new Error(`${where}: index ${i} is out of range for a dataset of length ${n}`);
  return j;
}

function checkIndices(where: string, indices: ArrayLike<number>, n: number): void {
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new Error(`${where}: index ${i} at position ${k} is out of range for a dataset of length ${n}`);
    }
  }
}

/**
 * Rows of several tensors that share their first dimension, e.g. inputs and targets
 * (torch.utils.data.TensorDataset). `get(i)` returns views of row i of each tensor.
 *
 * @example
 * const ds = new TensorDataset(x, y);           // x [N, 784], y [N]
 * const [xb, yb] = ds.getBatch(Int32Array.of(4, 0, 7)); // [3, 784], [3]
 */
export class TensorDataset<T extends Tensor[] = Tensor[]> implements Dataset<T> {
  readonly tensors: T;
  readonly length: number;

  constructor(...tensors: T) {
    if (tensors.length === 0) throw new Error('TensorDataset: needs at least one tensor');
    for (const [k, t] of tensors.entries()) {
      if (!(t instanceof Tensor)) throw new Error(`TensorDataset: argument ${k} is not a Tensor`);
      if (t.ndim === 0) throw new Error(`TensorDataset: tensor ${k} is a scalar; every tensor needs a first (sample) dimension`);
      if (t.shape[0] !== tensors[0].shape[0]) {
        throw new Error(
          `TensorDataset: size mismatch between tensors: tensor 0 has shape ${fmtShape(tensors[0].shape)} ` +
            `but tensor ${k} has ${fmtShape(t.shape)}; all must share the first dimension`,
        );
      }
    }
    this.tensors = tensors;
    this.length = tensors[0].shape[0];
  }

  /** Row i of every tensor (views; negative i counts from the end). */
  get(i: number): T {
    const j = checkIndex('TensorDataset.get', i, this.length);
    return this.tensors.map((t) => select(t, 0, j)) as T;
  }

  /** The rows at `indices`, stacked: one indexSelect per tensor, so each is a new [B, ...] tensor. */
  getBatch(indices: Int32Array): Collated<T> {
    checkIndices('TensorDataset.getBatch', indices, this.length);
    // The scope frees the index tensor once every gather has read it.
    return scope(() => {
      const idx = tensor(indices, { dtype: 'int32' });
      return this.tensors.map((t) => indexSelect(t, 0, idx));
    }) as Collated<T>;
  }
}

/**
 * The items of `dataset` at `indices`, in that order (torch.utils.data.Subset). Keeps the
 * dataset's fast `getBatch` when it has one.
 */
export class Subset<T> implements Dataset<T> {
  readonly dataset: Dataset<T>;
  readonly indices: Int32Array;
  readonly getBatch?: (indices: Int32Array) => Collated<T>;

  constructor(dataset: Dataset<T>, indices: ArrayLike<number>) {
    checkIndices('Subset', indices, dataset.length);
    this.dataset = dataset;
    this.indices = Int32Array.from(indices);
    const base = dataset.getBatch;
    if (typeof base === 'function') {
      this.getBatch = (idx: Int32Array): Collated<T> => {
        checkIndices('Subset.getBatch', idx, this.indices.length);
        return base.call(
          dataset,
          idx.map((i) => this.indices[i]),
        );
      };
    }
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number): T {
    return this.dataset.get(this.indices[checkIndex('Subset.get', i, this.indices.length)]);
  }
}

/**
 * Split a dataset into non-overlapping random subsets (torch.utils.data.random_split). `lengths`
 * are either sizes that add up to the dataset's length, or fractions that add up to 1 (sizes are
 * floored and the remainder handed out one at a time from the first subset on, as PyTorch does).
 *
 * @example const [train, val] = randomSplit(ds, [0.9, 0.1], new Generator(42));
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], generator: Generator = defaultGenerator): Subset<T>[] {
  const n = dataset.length;
  const total = lengths.reduce((a, b) => a + b, 0);
  let sizes: number[];
  if (Math.abs(total - 1) < 1e-9 && total <= n && lengths.every((f) => f >= 0 && f <= 1)) {
    sizes = lengths.map((f) => Math.floor(n * f));
    const rest = n - sizes.reduce((a, b) => a + b, 0);
    for (let k = 0; k < rest; k++) sizes[k % sizes.length]++;
  } else {
    if (!lengths.every((l) => Number.isInteger(l) && l >= 0)) {
      throw new Error(`randomSplit: lengths must be non-negative integers or fractions summing to 1, got [${lengths.join(', ')}]`);
    }
    if (total !== n) {
      throw new Error(`randomSplit: lengths [${lengths.join(', ')}] add up to ${total}, but the dataset has ${n} items`);
    }
    sizes = [...lengths];
  }
  const perm = randpermArray(n, generator);
  let start = 0;
  return sizes.map((s) => {
    const sub = new Subset(dataset, perm.subarray(start, start + s));
    start += s;
    return sub;
  });
}
