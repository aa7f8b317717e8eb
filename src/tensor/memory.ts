// Explicit lifetimes without manual bookkeeping: scope() frees what a function made except what it
// returns; and the error of an allocation too large for any backend, named by the op that asked.

import type { Storage } from '../backends/backend.js';
import { fmtShape, sizeOf } from './shape.js';
import type { DType } from './dtype.js';

/**
 * A tensor as scope() and the safety net see it (tensor.ts imports this module, so it names the
 * few fields they use rather than the class).
 */
interface Owned {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly kept: boolean;
  dispose(): void;
}

const scopes: Owned[][] = [];

/** What the safety net keeps of a tensor: its storage (not the tensor, which would never be collected). */
export interface Finalizer {
  storage: Storage;
  shape: readonly number[];
  stack?: string;
}

/** A tensor that was garbage-collected without dispose() (its memory was freed then). */
export interface LeakRecord {
  shape: readonly number[];
  dtype: string;
  device: string;
  stack?: string;
}

/**
 * A buffer larger than a backend can ever hold (what a typed array can hold, the Wasm heap's
 * maximum): thrown by a backend's allocate; `allocating` names the op and shape that asked for it.
 */
export class AllocationError extends Error {
  constructor(
    backend: string,
    readonly bytes: number,
    readonly limit: string,
  ) {
    super(`${backend}: a buffer of ${bytes} bytes is more than ${limit}`);
    this.name = 'AllocationError';
  }
}

const ELEM_BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/**
 * @internal `alloc()` for a tensor of `shape` and `dtype` made by `op`; an impossible size (not a
 * safe integer, or more than the backend can hold) throws an error naming the op, shape and bytes.
 */
export function allocating<T>(op: string, shape: readonly number[], dtype: DType, alloc: () => T): T {
  const bytes = sizeOf(shape) * ELEM_BYTES[dtype];
  const fail = (limit: string) => new Error(`${op}: ${dtype === 'int32' ? 'an' : 'a'} ${dtype} tensor of shape ${fmtShape(shape)} needs ${bytes} bytes, more than ${limit}`);
  if (!Number.isSafeInteger(bytes)) throw fail('any buffer can hold');
  try {
    return alloc();
  } catch (e) {
    if (e instanceof AllocationError) throw fail(e.limit);
    throw e;
  }
}

let debugMemory = false;
const leaks: LeakRecord[] = [];

// The safety net: a tensor that becomes unreachable without dispose() still gives its buffer
// back (Wasm heap or GPU memory) when the garbage collector finalizes it. Timing is up to the
// collector, so scope()/dispose() remain the way to keep memory flat; debug mode reports these.
const finalizers = new FinalizationRegistry<Finalizer>((f) => {
  if (debugMemory) {
    const leak = { shape: f.shape, dtype: f.storage.dtype, device: f.storage.backend.name, stack: f.stack };
    leaks.push(leak);
    console.warn(`nabla: a ${leak.dtype} tensor of shape [${leak.shape}] on ${leak.device} was never disposed${f.stack ? `; made at\n${f.stack}` : ''}`);
  }
  if (--f.storage.refs === 0) f.storage.backend.free(f.storage);
});

/**
 * Debug mode for memory: record where each tensor is made, and warn (and list in leakReport())
 * about tensors that were garbage-collected without dispose() or scope().
 */
export function setDebugMemory(on: boolean): void {
  debugMemory = on;
}

/** Tensors collected without dispose() since debug mode was turned on (and clears the list). */
export function leakReport(): LeakRecord[] {
  return leaks.splice(0, leaks.length);
}

/** @internal called for every new tensor */
export function trackTensor(t: Owned): Finalizer {
  const top = scopes[scopes.length - 1];
  if (top) top.push(t);
  const f: Finalizer = { storage: t.storage, shape: t.shape };
  if (debugMemory) f.stack = new Error().stack?.split('\n').slice(3, 12).join('\n');
  finalizers.register(t, f, t);
  return f;
}

/** @internal dispose() was called: the tensor releases its storage itself. */
export function untrackTensor(t: Owned): void {
  finalizers.unregister(t);
}

/**
 * Run `fn`, then dispose every tensor created inside it except those it returns (found inside
 * arrays, plain objects and Maps too) and those marked with keep(). Like tf.tidy; synchronous only.
 * When `fn` throws, nothing is returned: all but the kept are disposed (so a step that ran out of
 * memory gives it back before a retry).
 *
 * @example
 * const loss = scope(() => crossEntropy(model.forward(x), y)); // intermediates freed, loss kept
 */
export function scope<T>(fn: () => T): T {
  scopes.push([]);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new Error(
        'scope: the function must be synchronous (got a Promise): inside it, read a value with itemSync() or dataSync(); ' +
          'or return the tensor from scope and `await t.item()` / `await t.data()` after it',
      );
    }
  } catch (e) {
    for (const t of scopes.pop()!) if (!t.kept) t.dispose();
    throw e;
  }
  const made = scopes.pop()!;
  const returned = new Set<Owned>();
  collect(result, returned, 0);
  const parent = scopes[scopes.length - 1];
  for (const t of made) {
    if (returned.has(t)) parent?.push(t);
    else if (!t.kept) t.dispose();
  }
  return result;
}

function collect(v: unknown, into: Set<Owned>, depth: number): void {
  if (v === null || typeof v !== 'object' || depth > 8) return;
  if (isTensor(v)) {
    into.add(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) collect(x, into, depth + 1);
    return;
  }
  if (v instanceof Map) {
    for (const x of v.values()) collect(x, into, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, into, depth + 1);
}

function isTensor(v: object): v is Owned {
  return 'storage' in v && 'strides' in v && 'gradNode' in v;
}

/** Dispose every tensor found in a value (arrays, objects, Maps). */
export function dispose(v: unknown): void {
  const all = new Set<Owned>();
  collect(v, all, 0);
  for (const t of all) t.dispose();
}
