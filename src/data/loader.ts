// DataLoader (torch.utils.data.DataLoader): seeded per-epoch shuffling, batching and collation over a Dataset.

import { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { scope } from '../tensor/memory.js';
import { stack } from '../ops/movement.js';
import { Generator, defaultGenerator, randpermArray } from '../ops/random.js';
import type { Dataset } from './dataset.js';

/**
 * The batch the default collate makes from items of type T: tensors gain a leading batch
 * dimension, numbers and booleans become 1-D tensors, arrays and plain objects are collated
 * position by position or key by key, anything else is gathered into an array.
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Collated<T[K]> }
      : T extends object
        ? { [K in keyof T]: Collated<T[K]> }
        : T[];

/**
 * Merge a list of items into one batch, like torch's default_collate: tensors are stacked along a
 * new first dimension, numbers become an int32 tensor when all are integers (class labels) and
 * float32 otherwise, booleans a bool tensor; arrays and plain objects recurse.
 *
 * @example defaultCollate([[x0, 3], [x1, 7]]) // [stack([x0, x1]), tensor([3, 7], int32)]
 */
export function defaultCollate<T>(items: readonly T[]): Collated<T> {
  if (items.length === 0) throw new Error('defaultCollate: cannot collate an empty list of items');
  const first = items[0] as unknown;
  if (first instanceof Tensor) {
    const bad = items.findIndex((it) => !(it instanceof Tensor));
    if (bad >= 0) throw new Error(`defaultCollate: item 0 is a Tensor but item ${bad} is not`);
    return stack(items as readonly Tensor[], 0) as Collated<T>;
  }
  if (typeof first === 'number') {
    const nums = items as readonly number[];
    const int = nums.every((v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647);
    return tensor(Array.from(nums), { dtype: int ? 'int32' : 'float32' }) as Collated<T>;
  }
  if (typeof first === 'boolean') return tensor(Array.from(items as readonly boolean[])) as Collated<T>;
  if (Array.isArray(first)) {
    const len = first.length;
    const bad = items.findIndex((it) => !Array.isArray(it) || it.length !== len);
    if (bad >= 0) throw new Error(`defaultCollate: item 0 is an array of ${len} elements but item ${bad} is not`);
    return first.map((_, k) => defaultCollate((items as readonly unknown[][]).map((it) => it[k]))) as Collated<T>;
  }
  if (first !== null && typeof first === 'object' && Object.getPrototypeOf(first) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) out[key] = defaultCollate(items.map((it) => (it as Record<string, unknown>)[key]));
    return out as Collated<T>;
  }
  return Array.from(items) as Collated<T>;
}

/** Options of {@link DataLoader}: batching, shuffling, collation and a per-batch transform. */
export interface DataLoaderOptions<T, B> {
  /** Items per batch (default 1). */
  batchSize?: number;
  /** Reshuffle the order at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Source of the shuffles (default: the global generator, seeded by manualSeed). */
  generator?: Generator;
  /** Shorthand for `generator: new Generator(seed)`. */
  seed?: number;
  /** Merge a list of items into a batch; when given, `get` is called per item (no getBatch fast path). */
  collate?: (items: T[]) => B;
  /**
   * Applied to each whole batch after collation, e.g. normalization or augmentation on [B, ...].
   * It keeps the batch type; for tuple batches annotate the return:
   * `transform: ([x, y]): [Tensor, Tensor] => [normalize(x, 0.5, 0.5), y]`.
   */
  transform?: (batch: NoInfer<B>) => NoInfer<B>;
}

/**
 * Iterates over a dataset in batches (torch.utils.data.DataLoader, single process). With
 * `shuffle`, each epoch (each `for...of`) draws a new permutation from the generator, so a
 * given seed reproduces the same sequence of epochs. Uses the dataset's `getBatch` when it has
 * one and no custom collate is given.
 *
 * Batches are ordinary tensors owned by the caller: free them after the step. The iterator makes
 * each batch before the step's `scope` opens, so that scope does not free it; the training loop
 * runs each step in `scope` and then disposes the batch:
 *
 * @example
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 64, shuffle: true, seed: 0 });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const batch of loader) {
 *     const [xb, yb] = batch;
 *     scope(() => { const loss = crossEntropy(model.forward(xb), yb); loss.backward(); opt.step(); });
 *     dispose(batch);
 *   }
 * }
 */
export class DataLoader<T, B = Collated<T>> implements Iterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;
  // A closure rather than the collate/transform fields, so that DataLoader stays covariant in T
  // (a DataLoader<[Tensor, Tensor]> is usable where a DataLoader<Tensor[]> is expected).
  private readonly makeBatch: (indices: Int32Array) => B;

  constructor(dataset: Dataset<T>, opts: DataLoaderOptions<T, B> = {}) {
    const { batchSize = 1, shuffle = false, dropLast = false } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (opts.generator !== undefined && opts.seed !== undefined) throw new Error('DataLoader: pass either generator or seed, not both');
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.generator = opts.generator ?? (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator);
    const { collate, transform } = opts;
    this.makeBatch = (indices) => {
      let b: B;
      if (collate === undefined && typeof dataset.getBatch === 'function') b = dataset.getBatch(indices) as B;
      else {
        const items = Array.from(indices, (i) => dataset.get(i));
        b = collate ? collate(items) : (defaultCollate(items) as B);
      }
      return transform ? transform(b) : b;
    };
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * The item indices of each batch of one epoch. Draws the epoch's permutation (when shuffling),
   * so call it once per epoch; iteration does this for you.
   */
  epochIndices(): Int32Array[] {
    const n = this.dataset.length;
    const order = this.shuffle ? randpermArray(n, this.generator) : Int32Array.from({ length: n }, (_, i) => i);
    const out: Int32Array[] = [];
    for (let b = 0; b < this.length; b++) out.push(order.subarray(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize)));
    return out;
  }

  /** The batch holding the items at `indices` (collated and transformed). */
  batch(indices: Int32Array): B {
    // Per-item views, index tensors and pre-transform tensors are freed here; only the batch survives.
    return scope(() => this.makeBatch(indices));
  }

  /** One epoch. The permutation is drawn when iteration starts, as in PyTorch. */
  [Symbol.iterator](): IterableIterator<B> {
    return this.run(this.epochIndices());
  }

  private *run(batches: readonly Int32Array[]): IterableIterator<B> {
    for (const idx of batches) yield this.batch(idx);
  }
}
