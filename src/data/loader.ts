// DataLoader (torch.utils.data.DataLoader): seeded per-epoch shuffling, batching and collation over a Dataset.

import { scope } from '../tensor/memory.js';
import { Generator, defaultGenerator, randpermArray } from '../ops/random.js';
import { type Collated, defaultCollate } from './collate.js';
import type { Dataset } from './dataset.js';

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
