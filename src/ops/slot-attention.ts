// One decoding step of attention over per-slot key/value caches, as a fused op: the generation
// engine (serve/engine.ts, through GPT's forwardSegments) decodes one token for each of B
// sequences, each at its own position in its own slot of a preallocated cache. The composed
// definition writes each new key and value with copy_ and runs each sequence's attention as
// GPT's cached forward does (split heads, scaled dot-product attention); a backend kernel does the
// same work in one call, with the same bits. In place on the cache; not differentiable.

import type { Tensor } from '../tensor/tensor.js';
import { allocTensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { dispatchFused } from './dispatch.js';
import { attention } from './attention.js';
import { concat, permute, reshape } from './movement.js';
import { copy_ } from './inplace.js';
import { isGradEnabled } from './tape.js';
import type { FusedRule } from './rule.js';

/** Where each sequence's new position goes and what it sees. */
export interface SlotAttentionParams {
  readonly nHead: number;
  /** Cache row that takes row b's key and value (its slot's first row + its position). */
  readonly rows: readonly number[];
  /** First cache row of row b's slot: its query sees rows starts[b] … rows[b]. */
  readonly starts: readonly number[];
}

/**
 * qkv [B, 3C] (q | k | v of one new token per sequence, nHead heads each) against cache [R, 2C]
 * (k | v per row): writes row b's key and value into cache row rows[b], then returns [B, C], row
 * b its query's attention (scale 1/√D) over cache rows starts[b] … rows[b], heads side by side.
 * @example const y = slotAttention(qkv, cache, { nHead: 12, rows: [5, 70], starts: [0, 64] })
 */
export function slotAttention(qkv: Tensor, cache: Tensor, p: SlotAttentionParams): Tensor {
  if (isGradEnabled() && (qkv.requiresGrad || cache.requiresGrad)) {
    throw new Error('slotAttention: it writes the cache in place and has no gradient; run it under noGrad() on tensors that do not need gradients');
  }
  const [B, C3] = qkv.shape;
  const C = C3 / 3;
  if (qkv.ndim !== 2 || cache.ndim !== 2 || !Number.isInteger(C) || cache.shape[1] !== 2 * C || C % p.nHead !== 0) {
    throw new Error(`slotAttention: qkv ${fmtShape(qkv.shape)} must be [B, 3C] and cache ${fmtShape(cache.shape)} [R, 2C], C divisible by nHead ${p.nHead}`);
  }
  if (p.rows.length !== B || p.starts.length !== B) throw new Error(`slotAttention: give rows and starts for each of the ${B} sequences`);
  const R = cache.shape[0];
  p.rows.forEach((r, b) => {
    const s = p.starts[b];
    if (!(Number.isInteger(r) && Number.isInteger(s) && s >= 0 && s <= r && r < R)) throw new Error(`slotAttention: sequence ${b} needs 0 <= start ${s} <= row ${r} < ${R}`);
  });
  if (new Set(p.rows).size !== B) throw new Error('slotAttention: two sequences write the same cache row');
  return dispatchFused(slotAttentionRule, [qkv, cache], p);
}

const slotAttentionRule: FusedRule<[Tensor, Tensor], SlotAttentionParams> = {
  name: 'slotAttention',
  kernel: 'slotAttention',
  composed: ([qkv, cache], { nHead: H, rows, starts }) => {
    const C = qkv.shape[1] / 3,
      D = C / H;
    const heads = (t: Tensor, n: number) => permute(reshape(t, [1, n, H, D]), [0, 2, 1, 3]); // (1, H, n, D)
    const ys = rows.map((r, b) => {
      const own = qkv.slice(0, b, b + 1); // (1, 3C)
      copy_(cache.slice(0, r, r + 1), own.slice(1, C, 3 * C)); // this position's k | v
      const seen = cache.slice(0, starts[b], r + 1); // (S, 2C)
      const S = r + 1 - starts[b];
      const y = attention(heads(own.slice(1, 0, C), 1), heads(seen.slice(1, 0, C), S), heads(seen.slice(1, C, 2 * C), S), 1 / Math.sqrt(D), false); // (1, H, 1, D)
      return reshape(permute(y, [0, 2, 1, 3]), [1, C]); // (1, C)
    });
    return ys.length === 1 ? ys[0] : concat(ys, 0); // (B, C)
  },
  forward: (fused, backend, [qkv, cache], { nHead, rows, starts }) => {
    const [B, C3] = qkv.shape;
    const out = allocTensor(backend, [B, C3 / 3], qkv.dtype);
    const D = C3 / 3 / nHead;
    if (fused.slotAttention!(qkv, cache, Int32Array.from(rows), Int32Array.from(starts), nHead, 1 / Math.sqrt(D), out.storage)) return { out, saved: [] };
    out.dispose();
    return null;
  },
  vjp: 'none',
};
