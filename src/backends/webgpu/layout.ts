// Strided views on the GPU: WGSL types per dtype, dimension coalescing, and the generated WGSL that
// turns an output element's linear index into each input's element offset.

import type { Storage, View } from '../backend.js';
import type { DType } from '../../tensor/dtype.js';
import type { GpuBuf } from './runtime.js';

/** Element type in WGSL: bool is stored as one u32 per element (WGSL has no byte arrays). */
export function wgslType(dtype: DType, where: string): 'f32' | 'i32' | 'u32' {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'bool':
      return 'u32';
    case 'float64':
      throw new Error(`${where}: float64 is not supported on webgpu (WGSL has no 64-bit floats); use float32`);
  }
}

export const buf = (s: Storage): GpuBuf => s.handle as GpuBuf;

/** Strides as stored in meta (two's complement for negative ones; read back with mi()). */
export const u32 = (x: number): number => x >>> 0;

/** The product of a shape's dims (1 for a scalar). */
export const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

export interface Collapsed {
  shape: number[];
  /** strides[j][d]: input j's stride along collapsed dim d */
  strides: number[][];
}

/**
 * Merges adjacent dims that every operand walks contiguously one after the other (outer stride ==
 * inner stride × inner size), and drops size-1 dims: a transposed or broadcast operand keeps
 * only the dims where it differs, so most elementwise calls run at rank 1 or 2.
 */
export function collapse(shape: readonly number[], strides: (readonly number[])[]): Collapsed {
  const dims: number[] = [],
    st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, j) => st[j][last] === s[d] * shape[d])) {
      dims[last] *= shape[d];
      strides.forEach((s, j) => {
        st[j][last] = s[d];
      });
    } else {
      dims.push(shape[d]);
      strides.forEach((s, j) => st[j].push(s[d]));
    }
  }
  return { shape: dims, strides: st };
}

/** The contiguous strides of a shape. */
export function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * Addressing of n inputs of an output with the given shape. Each input is 'c' (contiguous in
 * output order: offset + i), 'k' (one broadcast value: offset) or 's' (strided, unrolled over the
 * rank). `key` names the variant for the pipeline cache; `meta` is: n, shape, then per input its
 * offset and (for 's') strides; `wgsl` declares `o0, o1, ...` from `i`, with meta read from `base`.
 */
export function addressing(outShape: readonly number[], views: readonly View[], base = 0): { key: string; meta: number[]; wgsl: string } {
  const c = collapse(
    outShape,
    views.map((v) => v.strides),
  );
  const rank = c.shape.length;
  const cont = contiguous(c.shape);
  const kinds = c.strides.map((s) => (s.every((x) => x === 0) ? 'k' : s.every((x, d) => x === cont[d]) ? 'c' : 's'));
  const meta: number[] = [c.shape.reduce((a, b) => a * b, 1), ...c.shape];
  const lines: string[] = [];
  const strided: number[] = [];
  views.forEach((v, j) => {
    const at = base + meta.length;
    meta.push(v.offset);
    if (kinds[j] === 'c') lines.push(`let o${j} = mi(${at}u) + i32(i);`);
    else if (kinds[j] === 'k') lines.push(`let o${j} = mi(${at}u);`);
    else {
      lines.push(`var o${j} = mi(${at}u);`);
      strided.push(j);
      for (const s of c.strides[j]) meta.push(u32(s));
    }
  });
  if (strided.length) {
    // Walk dims innermost first, peeling each coordinate off the linear index.
    const starts = new Map<number, number>();
    let at = base + 1 + rank;
    views.forEach((_, j) => {
      at += 1;
      if (kinds[j] === 's') {
        starts.set(j, at);
        at += rank;
      }
    });
    lines.push('var rem = i;');
    for (let d = rank - 1; d >= 0; d--) {
      const parts = strided.map((j) => `o${j} += q * mi(${starts.get(j)! + d}u);`).join(' ');
      lines.push(d > 0 ? `{ let q = i32(rem % prm[${base + 1 + d}u]); rem = rem / prm[${base + 1 + d}u]; ${parts} }` : `{ let q = i32(rem); ${parts} }`);
    }
  }
  return { key: `${rank}${kinds.join('')}`, meta, wgsl: lines.join('\n  ') };
}
