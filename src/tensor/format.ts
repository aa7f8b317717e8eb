// PyTorch-like printing: aligned columns, 4 decimals for floats, '...' summaries for large tensors.

import type { DType, TypedArray } from './dtype.js';
import { contiguousStrides, sizeOf } from './shape.js';

const EDGE = 3; // elements shown at each end of a summarized dimension
const THRESHOLD = 1000;

export function formatTensor(data: TypedArray, shape: readonly number[], dtype: DType, requiresGrad: boolean, gradFn?: string): string {
  const summarize = sizeOf(shape) > THRESHOLD;
  const fmt = formatter(data, dtype);
  const strides = contiguousStrides(shape);
  const prefix = 'tensor(';
  const rec = (d: number, off: number, indent: string): string => {
    if (shape.length === 0) return fmt(data[0]);
    const n = shape[d];
    const idx =
      summarize && n > 2 * EDGE ? [...Array.from({ length: EDGE }, (_, i) => i), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : Array.from({ length: n }, (_, i) => i);
    if (d === shape.length - 1) {
      return '[' + idx.map((i) => (i < 0 ? '...' : fmt(data[off + i]))).join(', ') + ']';
    }
    const sep = ',' + '\n'.repeat(shape.length - d - 1) + indent + ' ';
    return '[' + idx.map((i) => (i < 0 ? '...' : rec(d + 1, off + i * strides[d], indent + ' '))).join(sep) + ']';
  };
  let body = rec(0, 0, ' '.repeat(prefix.length));
  const extras: string[] = [];
  if (sizeOf(shape) === 0) {
    body = '[]';
    extras.push(`size=[${shape}]`);
  }
  if (dtype !== 'float32') extras.push(`dtype=${dtype}`);
  if (gradFn) extras.push(`gradFn=<${gradFn}>`);
  else if (requiresGrad) extras.push('requiresGrad=true');
  return prefix + body + (extras.length ? ', ' + extras.join(', ') : '') + ')';
}

function formatter(data: TypedArray, dtype: DType): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? ' true' : 'false');
  let width = 1;
  if (dtype === 'int32') {
    for (const v of data) width = Math.max(width, String(v).length);
    return (v) => String(v).padStart(width);
  }
  let maxAbs = 0,
    allInt = true;
  for (const v of data) {
    if (Number.isFinite(v)) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      if (!Number.isInteger(v)) allInt = false;
    }
  }
  const sci = maxAbs >= 1e8 || (maxAbs > 0 && maxAbs < 1e-4);
  const one = (v: number): string => {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (sci) return v.toExponential(4);
    return allInt ? v.toFixed(0) + '.' : v.toFixed(4);
  };
  for (const v of data) width = Math.max(width, one(v).length);
  return (v) => one(v).padStart(width);
}
