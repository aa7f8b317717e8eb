// Creating tensors from data: tensor(), zeros, ones, full, arange, linspace, eye and friends.

import { getBackend, requireBackend, type Backend } from '../backends/backend.js';
import { arrayFor, checkDType, dtypeOfArray, type DType, type TypedArray } from './dtype.js';
import { allocating } from './memory.js';
import { fmtShape, sizeOf } from './shape.js';
import { allocTensor, type Tensor } from './tensor.js';

/**
 * Numbers or booleans nested in arrays, one level per dim: `[[1, 2], [3, 4]]` is a [2, 2] tensor's
 * data.
 */
export type NestedArray = number | boolean | NestedArray[];
/**
 * What {@link tensor} accepts as data: nested arrays, a typed array (1-D unless a shape is given)
 * or a number.
 */
export type TensorLike = Tensor | TypedArray | NestedArray;

/**
 * Options of the creation functions: dtype (float32 unless the function says otherwise),
 * requiresGrad (false) and the backend.
 */
export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  /** Backend name; defaults to the current backend. */
  device?: string;
}

function backendFor(opts?: TensorOptions): Backend {
  return opts?.device ? requireBackend(opts.device) : getBackend();
}

/** @internal a tensor holding a copy of `data` with the given shape */
export function fromTypedArray(data: TypedArray | number[], shape: readonly number[], dtype: DType, opts?: TensorOptions): Tensor {
  if (data.length !== sizeOf(shape)) {
    throw new Error(`tensor: ${data.length} values cannot fill shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`);
  }
  return make('tensor', shape, dtype, opts, () => (dtypeOfArray(data) === dtype ? (data as TypedArray) : convert(data, dtype)));
}

/**
 * The one path of the creation ops: allocate on the backend first (an impossible size names `op`),
 * then the values from `values(n)`, a host array of n elements.
 */
function make(op: string, shape: readonly number[], dtype: DType, opts: TensorOptions | undefined, values: (n: number) => TypedArray): Tensor {
  const backend = backendFor(opts);
  const t = allocating(op, shape, dtype, () => allocTensor(backend, shape, dtype));
  try {
    t.storage.backend.write(t.storage, values(t.size));
    if (opts?.requiresGrad) t.requiresGrad_(true);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return t;
}

function convert(data: ArrayLike<number>, dtype: DType): TypedArray {
  const out = arrayFor(dtype, data.length);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < data.length; i++) out[i] = Math.trunc(data[i]);
  else out.set(data);
  return out;
}

/**
 * Make a tensor from nested arrays, a typed array or a number. Integers stay float32 unless a
 * dtype is given (as torch.tensor does for Python floats); booleans become bool.
 * @example tensor([[1, 2], [3, 4]]) // float32 [2,2]
 */
export function tensor(data: TensorLike, opts: TensorOptions & { shape?: readonly number[] } = {}): Tensor {
  if (isTensorObj(data)) throw new Error('tensor: got a Tensor; use t.clone() or t.detach()');
  if (ArrayBuffer.isView(data)) {
    const dt = opts.dtype ?? dtypeOfArray(data) ?? 'float32';
    return fromTypedArray(data as TypedArray, opts.shape ?? [data.length], checkDType(dt, 'tensor'), opts);
  }
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  let sawBool = false;
  const walk = (v: NestedArray, d: number, path: string): void => {
    if (d === shape.length) {
      if (Array.isArray(v)) throw new Error(`tensor: ragged nested array at ${path}: expected a number`);
      if (typeof v === 'boolean') sawBool = true;
      else if (typeof v !== 'number') throw new Error(`tensor: ${path} is ${typeof v}, expected a number or boolean`);
      flat.push(Number(v));
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d]) {
      throw new Error(`tensor: ragged nested array at ${path}: expected ${shape[d]} elements, got ${Array.isArray(v) ? v.length : 'a scalar'}`);
    }
    v.forEach((x, i) => walk(x, d + 1, `${path}[${i}]`));
  };
  walk(data, 0, 'data');
  const dtype = opts.dtype ?? (sawBool ? 'bool' : 'float32');
  return fromTypedArray(flat, opts.shape ?? shape, checkDType(dtype, 'tensor'), opts);
}

function isTensorObj(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'gradNode' in v && 'storage' in v;
}

/** A tensor of `shape` filled with `value`, made by `op` (the name in errors). */
function filled(op: string, shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape(op, shape);
  const dtype = opts.dtype ?? 'float32';
  return make(op, shape, dtype, opts, (n) => arrayFor(dtype, n).fill(dtype === 'bool' ? (value ? 1 : 0) : value));
}

/**
 * A tensor of `shape` filled with `value` (torch.full), float32 unless a dtype is given.
 * @example full([2, 3], 7)
 */
export function full(shape: readonly number[], value: number, opts?: TensorOptions): Tensor {
  return filled('full', shape, value, opts);
}

/**
 * A tensor of `shape` filled with 0, float32 unless a dtype is given.
 * @example zeros([2, 3], { dtype: 'int32' })
 */
export const zeros = (shape: readonly number[], opts?: TensorOptions): Tensor => filled('zeros', shape, 0, opts);
/** A tensor of `shape` filled with 1, float32 unless a dtype is given. */
export const ones = (shape: readonly number[], opts?: TensorOptions): Tensor => filled('ones', shape, 1, opts);
/** Zeros with t's shape, dtype and backend (each can be overridden in opts). */
export const zerosLike = (t: Tensor, opts?: TensorOptions): Tensor => filled('zerosLike', t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
/** Ones with t's shape, dtype and backend (each can be overridden in opts). */
export const onesLike = (t: Tensor, opts?: TensorOptions): Tensor => filled('onesLike', t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });
/** `value` everywhere, with t's shape, dtype and backend (each can be overridden in opts). */
export const fullLike = (t: Tensor, value: number, opts?: TensorOptions): Tensor => filled('fullLike', t.shape, value, { dtype: t.dtype, device: t.device, ...opts });

/** Scalar tensor (shape []) of a dtype. */
export function scalar(value: number, dtype: DType = 'float32', device?: string): Tensor {
  return filled('scalar', [], value, { dtype, device });
}

/**
 * Values start, start+step, ... below end (like torch.arange). int32 when all arguments are
 * integers, float32 otherwise.
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new Error('arange: step must be non-zero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  return make('arange', [n], dtype, opts, () => {
    const arr = arrayFor(dtype, n);
    for (let i = 0; i < n; i++) arr[i] = start + i * step;
    return arr;
  });
}

/** `steps` evenly spaced values from start to end inclusive (torch.linspace). */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = opts.dtype ?? 'float32';
  return make('linspace', [steps], dtype, opts, () => {
    const arr = arrayFor(dtype, steps);
    const d = steps > 1 ? (end - start) / (steps - 1) : 0;
    // Fill from both ends, as PyTorch does, so the last value is exactly `end`.
    const half = Math.floor(steps / 2);
    for (let i = 0; i < steps; i++) arr[i] = i < half ? start + i * d : end - (steps - 1 - i) * d;
    return arr;
  });
}

/** Identity matrix n×m. */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  return make('eye', [n, m], dtype, opts, () => {
    const arr = arrayFor(dtype, n * m);
    for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = 1;
    return arr;
  });
}

export function checkShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${op}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}
