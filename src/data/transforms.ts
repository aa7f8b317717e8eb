// Array-level preprocessing: normalization and scaling fitted on training data, one-hot labels, shuffling and splits.

import { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { scope } from '../tensor/memory.js';
import { fmtShape, normAxis } from '../tensor/shape.js';
import { isFloat, type DType } from '../tensor/dtype.js';
import { add, div, less, mul, sub, where } from '../ops/binary.js';
import { cast } from '../ops/unary.js';
import { max, mean as meanOf, min, std as stdOf } from '../ops/reduce.js';
import { narrow, reshape } from '../ops/movement.js';
import { indexSelect } from '../ops/indexing.js';
import { Generator, defaultGenerator, randpermArray } from '../ops/random.js';

/** A statistic: one number for all features, one per feature (last dimension), or a tensor that broadcasts against x. */
export type Stat = number | readonly number[] | Tensor;

function asFloat(x: Tensor): Tensor {
  return isFloat(x.dtype) ? x : cast(x, 'float32');
}

function statTensor(op: string, name: string, v: Stat, x: Tensor): Tensor | number {
  if (typeof v === 'number') return v;
  if (v instanceof Tensor) return v;
  const last = x.shape[x.ndim - 1];
  if (x.ndim === 0 || v.length !== last) {
    throw new Error(
      `${op}: ${name} has ${v.length} values but x ${fmtShape(x.shape)} has last dimension ${x.ndim ? last : '(none)'}; ` +
        'per-feature statistics run along the last dimension (for per-channel stats of NCHW images pass a tensor shaped [C, 1, 1])',
    );
  }
  return tensor(Float64Array.from(v), { dtype: x.dtype });
}

/**
 * (x - mean) / std with broadcasting (torchvision's Normalize, sklearn's StandardScaler.transform).
 * Integer inputs are converted to float32.
 *
 * @example normalize(x, 0.1307, 0.3081)            // MNIST's usual scalar stats
 * @example const s = standardize(xTrain); normalize(xTest, s.mean, s.std)
 */
export function normalize(x: Tensor, mean: Stat, std: Stat): Tensor {
  if (typeof std === 'number' && std === 0) throw new Error('normalize: std is 0');
  if (Array.isArray(std) && std.some((s) => s === 0)) throw new Error(`normalize: std has a zero entry: [${std.join(', ')}]`);
  return scope(() => {
    const xf = asFloat(x);
    return div(sub(xf, statTensor('normalize', 'mean', mean, xf)), statTensor('normalize', 'std', std, xf));
  });
}

/** The reduced axes as a sorted list; default: the sample dimension 0. */
function axesOf(op: string, dim: number | readonly number[], ndim: number): number[] {
  const dims = (typeof dim === 'number' ? [dim] : [...dim]).map((d) => normAxis(op, d, ndim));
  return [...new Set(dims)].sort((a, b) => a - b);
}

/**
 * Reduce with keepdim, then drop the leading reduced dims (they broadcast anyway), so the usual
 * dim 0 gives per-feature stats of shape x.shape[1:] like sklearn, and dims [0, 2, 3] on NCHW
 * give [C, 1, 1] per-channel stats.
 */
function fitStat(x: Tensor, axes: number[], reduce: (x: Tensor, dims: number[]) => Tensor): Tensor {
  let lead = 0;
  while (lead < axes.length && axes[lead] === lead) lead++;
  const r = reduce(x, axes);
  return reshape(r, r.shape.slice(lead));
}

/** sklearn's _handle_zeros_in_scale: constant features get scale 1, so they map to 0 instead of NaN. */
function safeScale(s: Tensor): Tensor {
  const eps = s.dtype === 'float64' ? 2.220446049250313e-16 : 1.1920928955078125e-7;
  return where(less(s, 10 * eps), 1, s);
}

/** Options of {@link standardize}. */
export interface StandardizeOptions {
  /** Dimension(s) to compute the statistics over (default 0, the samples). */
  dim?: number | readonly number[];
}

/**
 * Zero mean and unit variance per feature, with the statistics computed on x (sklearn's
 * StandardScaler: population std, constant features left at 0). Returns the statistics too, to
 * apply the same transform to other data with `normalize`.
 *
 * @example
 * const { x: xTrainS, mean, std } = standardize(xTrain);
 * const xTestS = normalize(xTest, mean, std);
 */
export function standardize(x: Tensor, opts: StandardizeOptions = {}): { x: Tensor; mean: Tensor; std: Tensor } {
  if (x.ndim === 0) throw new Error('standardize: x is a scalar; expected samples along a first dimension');
  const axes = axesOf('standardize', opts.dim ?? 0, x.ndim);
  return scope(() => {
    const xf = asFloat(x);
    const mean = fitStat(xf, axes, (t, d) => meanOf(t, d, true));
    const std = safeScale(fitStat(xf, axes, (t, d) => stdOf(t, d, true, 0)));
    return { x: div(sub(xf, mean), std), mean, std };
  });
}

/**
 * Options of {@link minMaxScale}: the target range, the dims the statistics are taken over, and
 * fitted statistics to reuse.
 */
export interface MinMaxScaleOptions {
  /** Target interval (default [0, 1]). */
  featureRange?: readonly [number, number];
  /** Dimension(s) to take min and max over (default 0, the samples). */
  dim?: number | readonly number[];
  /** Fitted minimum and maximum to apply (e.g. from the training set); computed from x when absent. */
  min?: Stat;
  max?: Stat;
}

/**
 * Scale each feature linearly so its minimum maps to featureRange[0] and its maximum to
 * featureRange[1] (sklearn's MinMaxScaler; constant features map to featureRange[0]). Returns the
 * min and max used, to scale other data the same way.
 *
 * @example
 * const tr = minMaxScale(xTrain);
 * const xTestS = minMaxScale(xTest, { min: tr.min, max: tr.max }).x;
 */
export function minMaxScale(x: Tensor, opts: MinMaxScaleOptions = {}): { x: Tensor; min: Tensor; max: Tensor } {
  const [lo, hi] = opts.featureRange ?? [0, 1];
  if (!(lo < hi)) throw new Error(`minMaxScale: featureRange must have min < max, got [${lo}, ${hi}]`);
  if ((opts.min === undefined) !== (opts.max === undefined)) throw new Error('minMaxScale: pass both min and max, or neither');
  if (x.ndim === 0) throw new Error('minMaxScale: x is a scalar; expected samples along a first dimension');
  const axes = axesOf('minMaxScale', opts.dim ?? 0, x.ndim);
  return scope(() => {
    const xf = asFloat(x);
    const toT = (name: string, v: Stat): Tensor => {
      const s = statTensor('minMaxScale', name, v, xf);
      return typeof s === 'number' ? tensor([s], { dtype: xf.dtype, shape: [] }) : s;
    };
    const mn = opts.min !== undefined ? toT('min', opts.min) : fitStat(xf, axes, (t, d) => min(t, d, true));
    const mx = opts.max !== undefined ? toT('max', opts.max) : fitStat(xf, axes, (t, d) => max(t, d, true));
    const range = safeScale(sub(mx, mn));
    const scaled = add(mul(div(sub(xf, mn), range), hi - lo), lo);
    return { x: scaled, min: mn, max: mx };
  });
}

/** Read labels to the host as integers, checking they are whole numbers. */
function labelsToHost(op: string, labels: Tensor | ArrayLike<number>): { values: Int32Array; shape: number[] } {
  let raw: ArrayLike<number>;
  let shape: number[];
  if (labels instanceof Tensor) {
    raw = labels.dataSync();
    shape = [...labels.shape];
    // Keras squeezes a trailing 1 so [n, 1] column labels give [n, classes], not [n, 1, classes].
    if (shape.length > 1 && shape[shape.length - 1] === 1) shape = shape.slice(0, -1);
  } else {
    raw = labels;
    shape = [labels.length];
  }
  const values = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = Number(raw[i]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: labels must be non-negative integers, got ${raw[i]} at position ${i}`);
    values[i] = v;
  }
  return { values, shape };
}

/**
 * One-hot encode integer class labels as float32 (Keras' to_categorical): shape [...labels, numClasses].
 * numClasses defaults to the largest label plus one.
 *
 * @example toCategorical([0, 2, 1], 3) // [[1,0,0],[0,0,1],[0,1,0]]
 */
export function toCategorical(labels: Tensor | ArrayLike<number>, numClasses?: number, dtype: DType = 'float32'): Tensor {
  const { values, shape } = labelsToHost('toCategorical', labels);
  let top = -1;
  for (let i = 0; i < values.length; i++) if (values[i] > top) top = values[i];
  const k = numClasses ?? top + 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`toCategorical: numClasses must be a positive integer, got ${numClasses}`);
  if (top >= k) throw new Error(`toCategorical: label ${top} is out of range for ${k} classes (expected 0..${k - 1})`);
  // Built on the host in one pass: labels already had to be read to infer numClasses and check range.
  const out = new Float64Array(values.length * k);
  for (let i = 0; i < values.length; i++) out[i * k + values[i]] = 1;
  return tensor(out, { dtype, shape: [...shape, k] });
}

function resolveGenerator(op: string, opts: { seed?: number; generator?: Generator }): Generator {
  if (opts.seed !== undefined && opts.generator !== undefined) throw new Error(`${op}: pass either seed or generator, not both`);
  return opts.generator ?? (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator);
}

function checkSameLength(op: string, tensors: readonly Tensor[]): number {
  if (tensors.length === 0) throw new Error(`${op}: needs at least one tensor`);
  for (const [k, t] of tensors.entries()) {
    if (t.ndim === 0) throw new Error(`${op}: tensor ${k} is a scalar; every tensor needs a first (sample) dimension`);
    if (t.shape[0] !== tensors[0].shape[0]) {
      throw new Error(`${op}: tensors must share the first dimension: tensor 0 is ${fmtShape(tensors[0].shape)}, tensor ${k} is ${fmtShape(t.shape)}`);
    }
  }
  return tensors[0].shape[0];
}

/**
 * Shuffle several tensors along their first dimension with one shared permutation, so rows stay
 * paired (sklearn.utils.shuffle). Returns new tensors in the same order.
 *
 * @example const [xs, ys] = shuffleArrays([x, y], new Generator(0));
 */
export function shuffleArrays<T extends Tensor[]>(tensors: readonly [...T], generator: Generator = defaultGenerator): T {
  const n = checkSameLength('shuffleArrays', tensors);
  const perm = randpermArray(n, generator);
  return scope(() => {
    const idx = tensor(perm, { dtype: 'int32' });
    return tensors.map((t) => indexSelect(t, 0, idx));
  }) as T;
}

/**
 * Options of {@link trainTestSplit} (scikit-learn's train_test_split arguments); `generator` draws
 * the shuffle when no seed is given.
 */
export interface TrainTestSplitOptions {
  /** Fraction in (0, 1) or a count of samples for the test set (default 0.25, or the complement of trainSize). */
  testSize?: number;
  /** Fraction in (0, 1) or a count for the training set (default: the complement of testSize). */
  trainSize?: number;
  /** Shuffle before splitting (default true); otherwise the test set is the tail. */
  shuffle?: boolean;
  /** Seed for the shuffle (sklearn's random_state); the global generator when neither seed nor generator is given. */
  seed?: number;
  generator?: Generator;
}

function splitCount(name: string, v: number, n: number, round: (x: number) => number): number {
  if (v > 0 && v < 1) return round(v * n);
  if (Number.isInteger(v) && v >= 0 && v <= n) return v;
  throw new Error(`trainTestSplit: ${name} must be a fraction in (0, 1) or an integer count in [0, ${n}], got ${v}`);
}

/**
 * Split tensors that share their first dimension into random train and test parts, keeping rows
 * paired (sklearn.model_selection.train_test_split: the test count is rounded up, the train count
 * down). Returns [trainA, testA, trainB, testB, ...].
 *
 * @example const [xTrain, xTest, yTrain, yTest] = trainTestSplit([x, y], { testSize: 0.2, seed: 42 });
 */
export function trainTestSplit(arrays: readonly Tensor[], opts: TrainTestSplitOptions = {}): Tensor[] {
  const n = checkSameLength('trainTestSplit', arrays);
  const { shuffle = true } = opts;
  let nTest: number, nTrain: number;
  if (opts.testSize === undefined && opts.trainSize === undefined) {
    nTest = Math.ceil(0.25 * n);
    nTrain = n - nTest;
  } else if (opts.testSize === undefined) {
    nTrain = splitCount('trainSize', opts.trainSize!, n, Math.floor);
    nTest = n - nTrain;
  } else {
    nTest = splitCount('testSize', opts.testSize, n, Math.ceil);
    nTrain = opts.trainSize === undefined ? n - nTest : splitCount('trainSize', opts.trainSize, n, Math.floor);
  }
  if (nTrain + nTest > n) throw new Error(`trainTestSplit: train (${nTrain}) + test (${nTest}) samples exceed the ${n} available`);
  if (nTrain === 0) throw new Error(`trainTestSplit: with ${n} samples and these sizes the training set would be empty`);

  if (!shuffle) {
    // Views of the head and the following block: nothing is copied.
    return arrays.flatMap((t) => [narrow(t, 0, 0, nTrain), narrow(t, 0, nTrain, nTest)]);
  }
  const gen = resolveGenerator('trainTestSplit', opts);
  // As sklearn's ShuffleSplit: the test set is the head of the permutation, the train set what follows.
  const perm = randpermArray(n, gen);
  return scope(() => {
    const testIdx = tensor(perm.subarray(0, nTest), { dtype: 'int32' });
    const trainIdx = tensor(perm.subarray(nTest, nTest + nTrain), { dtype: 'int32' });
    return arrays.flatMap((t) => [indexSelect(t, 0, trainIdx), indexSelect(t, 0, testIdx)]);
  });
}
