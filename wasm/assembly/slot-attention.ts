// One decoding step of attention over per-slot key/value caches (the generation engine's batched
// step, src/ops/slot-attention.ts): for each sequence, its new key and value go into its cache row,
// then its query attends to its own cached positions, head by head. Built from the very functions
// the composed path reaches on this backend (q·scale, gemvT for q·Kᵀ, softmax_rows_f32, gemvN for
// P·V), so it gives the composed path's bits: a sequence gets the same values alone, in a batch, or
// through GPT.generate.

import { gemvN, gemvT } from './gemv';
import { softmax_rows_f32 } from './softmax';

/**
 * qkv: B rows (qRs floats apart) of [q | k | v], each C = H·D floats; cache: rows of [k | v] (2C
 * floats, contiguous); rows, starts: int32 [B], the cache row that takes row b's key and value and
 * the first row of its slot (its query sees rows starts[b] … rows[b]); out: B rows of C floats.
 * scratch: (2·D + 2·S) floats for the longest S = rows[b] − starts[b] + 1.
 */
export function slot_attention_f32(
  qkv: usize, qRs: i32, cache: usize, rows: usize, starts: usize, B: i32, H: i32, D: i32, scale: f32, out: usize, scratch: usize,
): void {
  const C = H * D, ldc = <usize>(2 * C) << 2;
  const qs = scratch;
  for (let b = 0; b < B; b++) {
    const q = qkv + (<usize>b * <usize>qRs << 2);
    const r = load<i32>(rows + (<usize>b << 2)), s0 = load<i32>(starts + (<usize>b << 2));
    const S = r - s0 + 1;
    memory.copy(cache + <usize>r * ldc, q + (<usize>C << 2), ldc); // this position's k | v
    const scores = scratch + (<usize>D << 2), probs = scores + (<usize>S << 2), t = probs + (<usize>S << 2);
    for (let h = 0; h < H; h++) {
      const qh = q + (<usize>(h * D) << 2);
      for (let d = 0; d < D; d++) store<f32>(qs + (<usize>d << 2), load<f32>(qh + (<usize>d << 2)) * scale);
      const kh = cache + <usize>s0 * ldc + (<usize>(h * D) << 2), vh = kh + (<usize>C << 2);
      gemvT(qs, D, kh, 2 * C, scores, 1, S, D, 0, S); // (1, S) = q·Kᵀ
      softmax_rows_f32(scores, probs, 1, S, 0);
      gemvN(probs, S, 1, vh, 2 * C, out + ((<usize>b * <usize>C + <usize>(h * D)) << 2), t, 1, D, S, 0, D); // (1, D) = P·V
    }
  }
}
