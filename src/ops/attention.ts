// Scaled dot-product attention without a mask (plain or causal) as fused ops: the composed
// definition (matmul, causal mask, softmax, matmul), the backend's kernel saving each row's
// logsumexp, and its backward (P recomputed). packedCausalAttention reads the heads of a packed
// q|k|v projection in place (GPT-2's c_attn output) and writes the merged heads directly.

import { allocTensor, type Tensor } from '../tensor/tensor.js';
import { arange } from '../tensor/creation.js';
import { sizeOf } from '../tensor/shape.js';
import type { DType } from '../tensor/dtype.js';
import type { View } from '../backends/backend.js';
import { dispatchFused } from './dispatch.js';
import { add, greater, mul, sub, where } from './binary.js';
import { cast } from './unary.js';
import { sum } from './reduce.js';
import { matmul } from './matmul.js';
import { concat, permute, reshape, split, transpose } from './movement.js';
import { softmax } from './activation.js';
import type { FusedRule } from './rule.js';

/** Additive causal mask [L, S]: −∞ where key j comes after query i (j > i, top-left aligned as PyTorch's tril). */
export function causalMask(L: number, S: number, dtype: DType, device: string): Tensor {
  const rows = reshape(arange(0, L, 1, { device }), [L, 1]);
  const cols = reshape(arange(0, S, 1, { device }), [1, S]);
  return cast(where(greater(cols, rows), -Infinity, 0), dtype);
}

/** What both attention ops take: the score scale and whether key j > query i is masked. */
interface AttentionParams {
  scale: number;
  causal: boolean;
}

/**
 * softmax(q·kᵀ·scale [+ causal mask])·v for q [...B, L, E], k [...B, S, E], v [...B, S, Ev] with
 * equal batch dims (the caller, nn's scaledDotProductAttention, has checked the shapes) →
 * [...B, L, Ev]. A fused op: the backend's kernel takes more than one query.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, scale: number, causal: boolean): Tensor {
  return dispatchFused(attentionRule, [q, k, v], { scale, causal });
}

/**
 * Causal self-attention from a packed projection qkv [B, T, 3·C] (query, key and value side by
 * side, each nHead heads of D = C / nHead) to [B, T, C] with the heads side by side: splitting the
 * heads, `attention(q, k, v, scale, true)` and merging them, except that the fused kernels read
 * the heads where they lie and write the output and the gradient of qkv through strides, so
 * nothing is split, padded, added or copied. The caller has checked that C divides into heads.
 */
export function packedCausalAttention(qkv: Tensor, nHead: number, scale: number): Tensor {
  return dispatchFused(packedRule, [qkv], { nHead, scale });
}

/**
 * The gradients of softmax(q·kᵀ·scale [+ causal mask])·v composed from ops (differentiable), with P
 * recomputed: dV = Pᵀg, dP = g·Vᵀ, dS = P∘(dP − rowsum(dP∘P)), dQ = dS·K·scale, dK = dSᵀ·Q·scale.
 */
function composedAttentionGrads(q: Tensor, k: Tensor, v: Tensor, g: Tensor, scale: number, causal: boolean): [Tensor, Tensor, Tensor] {
  const p = probabilities(q, k, scale, causal);
  const dv = matmul(transpose(p, -2, -1), g);
  const dp = matmul(g, transpose(v, -2, -1));
  const ds = mul(p, sub(dp, sum(mul(dp, p), -1, true)));
  return [mul(matmul(ds, k), scale), mul(matmul(transpose(ds, -2, -1), q), scale), dv];
}

/** softmax(q·kᵀ·scale [+ causal mask]) over the keys: (…, L, S). */
function probabilities(q: Tensor, k: Tensor, scale: number, causal: boolean): Tensor {
  const L = q.shape[q.ndim - 2],
    S = k.shape[k.ndim - 2];
  let scores = matmul(mul(q, scale), transpose(k, -2, -1)); // (…, L, S)
  if (causal) scores = add(scores, causalMask(L, S, q.dtype, q.device));
  return softmax(scores, -1);
}

/** A row logsumexp buffer [batch, L] for queries q [...batch, L, E]. */
function lseFor(q: View, backend: Tensor['storage']['backend']): Tensor {
  const nd = q.shape.length,
    L = q.shape[nd - 2];
  return allocTensor(backend, [sizeOf(q.shape) / (L * q.shape[nd - 1]), L], q.dtype);
}

/**
 * Plain or causal attention: the backend's kernel where there is more than one query (one query
 * goes to the composed GEMV path) and it takes the layout, saving each row's logsumexp for the
 * backward: the backend's fused backward when the backward is not itself recorded, else composed.
 */
const attentionRule: FusedRule<[Tensor, Tensor, Tensor], AttentionParams> = {
  name: 'scaledDotProductAttention',
  kernel: 'attention',
  composed: ([q, k, v], { scale, causal }) => matmul(probabilities(q, k, scale, causal), v),
  forward: (fused, backend, [q, k, v], { scale, causal }) => {
    const nd = q.ndim,
      L = q.shape[nd - 2],
      E = q.shape[nd - 1],
      S = k.shape[nd - 2],
      Ev = v.shape[nd - 1];
    if (L < 2 || S === 0 || E === 0) return null;
    const out = allocTensor(backend, [...q.shape.slice(0, -2), L, Ev], q.dtype),
      lse = lseFor(q, backend);
    if (fused.attention!(q, k, v, scale, causal, out, lse.storage)) return { out, saved: [lse] };
    out.dispose();
    lse.dispose();
    return null;
  },
  vjp: (g, [q, k, v], out, [lse], { scale, causal }, fused) => {
    if (fused?.attentionBackward) {
      const grads = [q, k, v].map((t) => allocTensor(t.storage.backend, t.shape, t.dtype));
      if (fused.attentionBackward(q, k, v, out, lse, g, scale, causal, grads[0], grads[1], grads[2])) return grads;
      for (const t of grads) t.dispose();
    }
    return composedAttentionGrads(q, k, v, g, scale, causal);
  },
};

/**
 * Head j of a packed [B, T, n·H·D] tensor (q, k, v side by side for j = 0, 1, 2) as a [B, H, T, D]
 * view of the same storage: what split + reshape + permute give, as a view for the kernels.
 */
function headView(x: View, j: number, H: number, D: number): View {
  const [B, T] = x.shape,
    [s0, s1, s2] = x.strides;
  return { storage: x.storage, dtype: x.dtype, shape: [B, H, T, D], strides: [s0, D * s2, s1, s2], offset: x.offset + j * H * D * s2 };
}

/** The heads of t [B, T, H·D] as (B, H, T, D) views. */
function heads(t: Tensor, H: number): Tensor {
  const [B, T, C] = t.shape;
  return permute(reshape(t, [B, T, H, C / H]), [0, 2, 1, 3]);
}

/**
 * Packed causal self-attention: the kernel reads q, k, v through head views of qkv and writes the
 * output through a head view of [B, T, C] (a backend that writes only dense outputs declines, and
 * the heads are split for the attention op); its backward writes dq, dk, dv into one dqkv.
 */
const packedRule: FusedRule<[Tensor], { nHead: number; scale: number }> = {
  name: 'packedCausalSelfAttention',
  kernel: 'attention',
  composed: ([qkv], { nHead, scale }) => {
    const [B, T, C3] = qkv.shape,
      C = C3 / 3;
    const [q, k, v] = split(qkv, C, 2).map((t) => heads(t, nHead)); // (B, H, T, D)
    return reshape(permute(attention(q, k, v, scale, true), [0, 2, 1, 3]), [B, T, C]); // (B, T, C)
  },
  forward: (fused, backend, [qkv], { nHead: H, scale }) => {
    const [B, T, C3] = qkv.shape,
      C = C3 / 3,
      D = C / H;
    if (T < 2) return null;
    const [q, k, v] = [0, 1, 2].map((j) => headView(qkv, j, H, D));
    const out = allocTensor(backend, [B, T, C], qkv.dtype),
      lse = lseFor(q, backend);
    if (fused.attention!(q, k, v, scale, true, headView(out, 0, H, D), lse.storage)) return { out, saved: [lse] };
    out.dispose();
    lse.dispose();
    return null;
  },
  vjp: (g, [qkv], out, [lse], { nHead: H, scale }, fused) => {
    const [B, T, C3] = qkv.shape,
      C = C3 / 3,
      D = C / H;
    if (fused?.attentionBackward) {
      const dqkv = allocTensor(qkv.storage.backend, qkv.shape, qkv.dtype);
      const [q, k, v] = [0, 1, 2].map((j) => headView(qkv, j, H, D));
      const [dq, dk, dv] = [0, 1, 2].map((j) => headView(dqkv, j, H, D));
      if (fused.attentionBackward(q, k, v, headView(out, 0, H, D), lse, headView(g, 0, H, D), scale, true, dq, dk, dv)) return [dqkv];
      dqkv.dispose();
    }
    const [tq, tk, tv] = split(qkv, C, 2).map((t) => heads(t, H));
    const grads = composedAttentionGrads(tq, tk, tv, heads(g, H), scale, true);
    return [
      concat(
        grads.map((d) => reshape(permute(d, [0, 2, 1, 3]), [B, T, C])),
        2,
      ),
    ];
  },
};
