// The Llama family's functional pieces, shared by the model (llama.ts) and its serving slots
// (llama-slots.ts): rotary position embeddings as transformers' modeling_rope_utils computes them,
// transformers' repeat_kv for grouped-query attention, and the causal / sliding-window mask.

import type { Tensor } from '../tensor/tensor.js';
import { add, mul } from '../ops/binary.js';
import { reshape, concat, expand, unsqueeze } from '../ops/movement.js';
import { fromTypedArray } from '../tensor/creation.js';
import type { LlamaConfig } from './llama-config.js';

// Rotary position embeddings (Su et al. 2021)

/**
 * The inverse frequencies θ_i = base^(−2i/d), i < d/2, rescaled as `ropeScaling` says, in float32
 * as transformers computes them. `seqLen` matters only to 'dynamic', past the context.
 */
export function ropeInvFreq(c: LlamaConfig, seqLen = c.nPositions): Float64Array {
  const d = c.headDim,
    s = c.ropeScaling;
  let base = c.ropeTheta;
  if (s?.type === 'dynamic' && seqLen > c.nPositions) {
    // NTK-aware: a larger base for longer sequences (never reached: forward refuses them).
    base = c.ropeTheta * ((s.factor * seqLen) / c.nPositions - (s.factor - 1)) ** (d / (d - 2));
  }
  const f = Math.fround;
  const inv = Float64Array.from({ length: d / 2 }, (_, i) => f(1 / f(base ** f((2 * i) / d))));
  if (s?.type === 'linear') for (let i = 0; i < inv.length; i++) inv[i] = f(inv[i] / s.factor);
  if (s?.type === 'llama3') {
    // Llama 3.1: wavelengths above original/low_freq_factor are divided by factor, those below
    // original/high_freq_factor kept, the band between interpolated smoothly.
    const old = s.originalMaxPositionEmbeddings;
    const lowWavelen = old / s.lowFreqFactor,
      highWavelen = old / s.highFreqFactor;
    for (let i = 0; i < inv.length; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] = f(inv[i] / s.factor);
      else if (wavelen >= highWavelen) {
        const smooth = (old / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        inv[i] = f(((1 - smooth) * inv[i]) / s.factor + smooth * inv[i]);
      }
    }
  }
  return inv;
}

/** cos and the signed sin of every position's angles, [N, headDim] each: what rotates queries and keys. */
export interface Rope {
  cos: Tensor;
  /** [−sin, +sin]: the sign of rotate_half folded in, so rotation is x·cos + swapHalves(x)·sinSigned. */
  sinSigned: Tensor;
}

/**
 * The rotation tables of the given absolute positions ([N, headDim], angle p·θ_i repeated over both
 * halves as transformers' cat((freqs, freqs))). Computed on the host; cheap next to the layers.
 */
export function ropeTables(c: LlamaConfig, positions: readonly number[], device?: string, seqLen?: number): Rope {
  const inv = ropeInvFreq(c, seqLen),
    half = inv.length,
    D = 2 * half,
    N = positions.length;
  const cos = new Float32Array(N * D),
    sin = new Float32Array(N * D);
  positions.forEach((p, n) => {
    for (let i = 0; i < half; i++) {
      const a = Math.fround(p * inv[i]); // float32, as torch's inv_freq @ position_ids
      const co = Math.cos(a),
        si = Math.sin(a);
      cos[n * D + i] = cos[n * D + half + i] = co;
      sin[n * D + i] = -si;
      sin[n * D + half + i] = si;
    }
  });
  return { cos: fromTypedArray(cos, [N, D], 'float32', { device }), sinSigned: fromTypedArray(sin, [N, D], 'float32', { device }) };
}

/** x·cos + rotate_half(x)·sin over the last dim of x [..., D], cos/sin broadcast to it (transformers' apply_rotary_pos_emb). */
export function applyRope(x: Tensor, rope: Rope): Tensor {
  const D = x.shape[x.ndim - 1],
    half = D / 2;
  const swapped = concat([x.slice(-1, half, D), x.slice(-1, 0, half)], -1); // (..., D): [x2, x1]
  return add(mul(x, rope.cos), mul(swapped, rope.sinSigned));
}

/** keys or values [B, Hkv, S, D] → [B, Hkv·rep, S, D], each head repeated rep times in place (transformers' repeat_kv). */
export function repeatKv(x: Tensor, rep: number): Tensor {
  if (rep === 1) return x;
  const [B, Hkv, S, D] = x.shape;
  return reshape(expand(unsqueeze(x, 2), [B, Hkv, rep, S, D]), [B, Hkv * rep, S, D]); // (B, H, S, D)
}

/**
 * Which keys each query may see, [T, S] bool (true = attend): query i sits at absolute position
 * past + i, sees keys up to itself and, with a window, only the last `window` of them (transformers'
 * sliding_window_overlay: kv > q − window). Null where plain causal attention is the same.
 */
export function attentionMask(past: number, T: number, window: number | null, device?: string): Tensor | null {
  const S = past + T;
  if ((past === 0 || T === 1) && (window === null || S <= window)) return null;
  const m = new Uint8Array(T * S);
  for (let i = 0; i < T; i++) {
    const q = past + i,
      from = window === null ? 0 : Math.max(0, q - window + 1);
    for (let j = from; j <= q; j++) m[i * S + j] = 1;
  }
  return fromTypedArray(m, [T, S], 'bool', { device });
}
