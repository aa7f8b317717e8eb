// Collation (torch.utils.data's default_collate): how a list of dataset items becomes one batch, and
// the type of that batch. Below both dataset.ts (whose getBatch returns a collated batch) and loader.ts.

import { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { stack } from '../ops/movement.js';

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
