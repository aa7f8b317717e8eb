// js batched matmul: panels of A and B are packed contiguous (so any strides, e.g. transposes, cost
// one copy), then a 4-row register-blocked loop accumulates in float64.

import type { Kernel, View } from '../backend.js';
import type { TypedArray } from '../../tensor/dtype.js';
import { stridedOffsets } from './strided.js';
import { arr } from './elementwise.js';

const KC = 256; // depth of one packed B panel: KC*N doubles stay cache-resident for moderate N

export const matmulKernel: Kernel<'matmul'> = ([a, b], _p, out, outShape) => {
  const nd = outShape.length;
  const M = outShape[nd - 2],
    N = outShape[nd - 1],
    K = a.shape[nd - 1];
  const batchShape = outShape.slice(0, nd - 2);
  // Offset of each batch's matrix in a and b (batch dims may be broadcast with stride 0).
  const aBase = stridedOffsets(batchShape, a.strides.slice(0, nd - 2), a.offset);
  const bBase = stridedOffsets(batchShape, b.strides.slice(0, nd - 2), b.offset);
  const o = arr(out);
  const as = arr(a.storage),
    bs = arr(b.storage);
  const acc = new Float64Array(M * N);
  const bp = new Float64Array(Math.min(K, KC) * N);
  const ap = new Float64Array(M * Math.min(K, KC));
  for (let batch = 0; batch < aBase.length; batch++) {
    acc.fill(0);
    gemm(as, aBase[batch], a.strides[nd - 2], a.strides[nd - 1], bs, bBase[batch], b.strides[nd - 2], b.strides[nd - 1], M, N, K, acc, ap, bp);
    const base = batch * M * N;
    for (let i = 0; i < M * N; i++) o[base + i] = acc[i];
  }
};

function gemm(
  as: TypedArray,
  ao: number,
  asm: number,
  ask: number,
  bs: TypedArray,
  bo: number,
  bsk: number,
  bsn: number,
  M: number,
  N: number,
  K: number,
  acc: Float64Array,
  ap: Float64Array,
  bp: Float64Array,
): void {
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    // Pack B[k0:k0+kc, :] row-major and A[:, k0:k0+kc] row-major.
    for (let k = 0; k < kc; k++) {
      const src = bo + (k0 + k) * bsk,
        dst = k * N;
      for (let j = 0; j < N; j++) bp[dst + j] = bs[src + j * bsn];
    }
    for (let i = 0; i < M; i++) {
      const src = ao + i * asm + k0 * ask,
        dst = i * kc;
      for (let k = 0; k < kc; k++) ap[dst + k] = as[src + k * ask];
    }
    let i = 0;
    // Four rows of C at a time: each loaded B value feeds four multiply-adds.
    for (; i + 4 <= M; i += 4) {
      const c0 = i * N,
        c1 = c0 + N,
        c2 = c1 + N,
        c3 = c2 + N;
      const a0 = i * kc,
        a1 = a0 + kc,
        a2 = a1 + kc,
        a3 = a2 + kc;
      for (let k = 0; k < kc; k++) {
        const x0 = ap[a0 + k],
          x1 = ap[a1 + k],
          x2 = ap[a2 + k],
          x3 = ap[a3 + k];
        if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue; // ReLU activations are often zero
        const bk = k * N;
        for (let j = 0; j < N; j++) {
          const y = bp[bk + j];
          acc[c0 + j] += x0 * y;
          acc[c1 + j] += x1 * y;
          acc[c2 + j] += x2 * y;
          acc[c3 + j] += x3 * y;
        }
      }
    }
    for (; i < M; i++) {
      const c0 = i * N,
        a0 = i * kc;
      for (let k = 0; k < kc; k++) {
        const x0 = ap[a0 + k];
        if (x0 === 0) continue;
        const bk = k * N;
        for (let j = 0; j < N; j++) acc[c0 + j] += x0 * bp[bk + j];
      }
    }
  }
}

export type { View };
