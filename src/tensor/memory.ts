// Explicit lifetimes without manual bookkeeping: scope() frees what a function made except what it returns.

import type { Tensor } from './tensor.js';

const scopes: Tensor[][] = [];

/** @internal called for every new tensor */
export function trackTensor(t: Tensor): void {
  const top = scopes[scopes.length - 1];
  if (top) top.push(t);
}

/**
 * Run `fn`, then dispose every tensor created inside it except those it returns (found inside
 * arrays, plain objects and Maps too) and those marked with keep(). Like tf.tidy; synchronous only.
 *
 * @example
 * const loss = scope(() => crossEntropy(model.forward(x), y)); // intermediates freed, loss kept
 */
export function scope<T>(fn: () => T): T {
  scopes.push([]);
  let result: T;
  let made: Tensor[];
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('scope: the function must be synchronous (got a Promise)');
  } finally {
    made = scopes.pop()!;
  }
  const returned = new Set<Tensor>();
  collect(result, returned, 0);
  const parent = scopes[scopes.length - 1];
  for (const t of made) {
    if (returned.has(t)) parent?.push(t);
    else if (!t.kept) t.dispose();
  }
  return result;
}

function collect(v: unknown, into: Set<Tensor>, depth: number): void {
  if (v === null || typeof v !== 'object' || depth > 8) return;
  if (isTensor(v)) { into.add(v); return; }
  if (Array.isArray(v)) { for (const x of v) collect(x, into, depth + 1); return; }
  if (v instanceof Map) { for (const x of v.values()) collect(x, into, depth + 1); return; }
  if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, into, depth + 1);
}

function isTensor(v: object): v is Tensor {
  return 'storage' in v && 'strides' in v && 'gradNode' in v;
}

/** Dispose every tensor found in a value (arrays, objects, Maps). */
export function dispose(v: unknown): void {
  const all = new Set<Tensor>();
  collect(v, all, 0);
  for (const t of all) t.dispose();
}
