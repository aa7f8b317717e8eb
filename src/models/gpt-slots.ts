// GPT's side of continuous batching (SlotLM, kv-cache.ts): the forward pass over a flat batch of
// segments, runs of positions of different slots (one new token per decoding sequence, or a whole
// prompt being prefilled), each writing its keys and values into its own slot of the preallocated
// cache. The modules are GPT's own (gpt.ts); this file only walks them differently, so gpt.ts stays
// the model as nanoGPT writes it. Typed structurally: gpt.ts imports this file, not the reverse.

import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { add } from '../ops/binary.js';
import { concat, permute, reshape } from '../ops/movement.js';
import { slotAttention } from '../ops/slot-attention.js';
import { scaledDotProductAttention } from '../nn/layers/attention.js';
import type { GPTConfig } from './gpt-config.js';
import { type Segment, SlotBatch, type SlotCache, SlotKV, checkSlotShape } from './kv-cache.js';

interface Layer {
  forward(x: Tensor): Tensor;
}
/** What this file uses of GPT (gpt.ts): its config and HF-named modules. */
export interface GptModules {
  readonly config: GPTConfig;
  transformer: {
    wte: Layer & { weight: Tensor };
    wpe: Layer;
    drop: Layer;
    h: readonly {
      ln_1: Layer;
      attn: { c_attn: Layer; c_proj: Layer; resid_dropout: Layer; readonly nHead: number };
      ln_2: Layer;
      mlp: Layer;
    }[];
    ln_f: Layer;
  };
  lm_head: Layer;
}

/** GPT.allocSlots: every slot's cache allocated once, [parallel·ctx, 2·nEmbd] per layer. */
export function allocGptSlots(model: GptModules, parallel: number, ctx: number): SlotCache {
  const c = model.config;
  checkSlotShape(c.nPositions, parallel, ctx);
  const w = model.transformer.wte.weight;
  // Per layer and position the keys and values of every head: 2·nEmbd wide.
  const kv = new SlotKV(c.nLayer, parallel, ctx, 2 * c.nEmbd, { device: w.device, dtype: w.dtype });
  return new SlotBatch(kv, (ids, segments) => segmentLogits(model, ids, segments, kv));
}

/** Next-token logits [segments, V] of the last position of each segment of a flat batch. */
function segmentLogits(model: GptModules, ids: readonly number[], segments: readonly Segment[], kv: SlotKV): Tensor {
  const t = model.transformer;
  const device = t.wte.weight.device;
  const pos = segments.flatMap((s) => Array.from({ length: s.length }, (_, j) => s.start + j));
  const idx = tensor([...ids], { dtype: 'int32', device }),
    at = tensor(pos, { dtype: 'int32', device });
  let x = t.drop.forward(add(t.wte.forward(idx), t.wpe.forward(at))); // (N, C)
  t.h.forEach((block, layer) => {
    const h = add(x, attentionSegments(block.attn, block.ln_1.forward(x), segments, kv, layer)); // (N, C)
    x = add(h, block.mlp.forward(block.ln_2.forward(h))); // (N, C)
  });
  const hidden = t.ln_f.forward(x); // (N, C)
  let end = 0;
  const ends = segments.map((s) => (end += s.length));
  // The last position of each segment: every row when each segment is one token.
  const last =
    ends.length === hidden.shape[0]
      ? hidden
      : concat(
          ends.map((e) => hidden.slice(0, e - 1, e)),
          0,
        ); // (S, C)
  return model.lm_head.forward(last); // (S, V)
}

/**
 * CausalSelfAttention over a flat batch x [N, C] of segments → [N, C]: one c_attn and one c_proj over
 * all N rows; each segment's keys and values are written into its slot of `kv` (layer `layer`, rows
 * of [k | v], 2C wide) and its queries attend to that slot's positions 0 … start + length − 1.
 * Single-token segments (decoding) go through one slotAttention op; a prefill (a segment from
 * position 0) through causal attention, as forward() with a cache. Either way a sequence gets the
 * same values alone or in any batch.
 */
function attentionSegments(attn: GptModules['transformer']['h'][number]['attn'], x: Tensor, segments: readonly Segment[], kv: SlotKV, layer: number): Tensor {
  const [N, C] = x.shape,
    H = attn.nHead,
    D = C / H;
  const qkv = attn.c_attn.forward(x); // (N, 3C)
  const cache = kv.layers[layer]; // (parallel·ctx, 2C)
  const decode = (rows: Tensor, segs: readonly Segment[]) =>
    slotAttention(rows, cache, { nHead: H, rows: segs.map((s) => s.slot * kv.ctx + s.start), starts: segs.map((s) => s.slot * kv.ctx) }); // (n, C)
  let y: Tensor;
  if (segments.every((s) => s.length === 1)) y = decode(qkv, segments);
  else {
    const heads = (t: Tensor, n: number) => permute(reshape(t, [1, n, H, D]), [0, 2, 1, 3]); // (1, H, n, D)
    let row = 0;
    const ys = segments.map((seg) => {
      const n = seg.length;
      const own = qkv.slice(0, row, row + n); // (n, 3C)
      row += n;
      if (n === 1) return decode(own, [seg]);
      if (seg.start > 0) throw new Error(`GPT slots: a segment of ${n} tokens must start at position 0 (a prefill), got ${seg.start}`);
      kv.write(layer, seg, own.slice(1, C, 3 * C)); // (n, 2C): keys and values of these positions
      const q = heads(own.slice(1, 0, C), n),
        k = heads(own.slice(1, C, 2 * C), n),
        v = heads(own.slice(1, 2 * C, 3 * C), n);
      const a = scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP: 0, training: false }); // (1, H, n, D)
      return reshape(permute(a, [0, 2, 1, 3]), [n, C]); // (n, C): heads side by side
    });
    y = ys.length === 1 ? ys[0] : concat(ys, 0); // (N, C)
  }
  if (y.shape[0] !== N) throw new Error(`GPT slots: the segments cover ${y.shape[0]} positions, x has ${N}`);
  return attn.resid_dropout.forward(attn.c_proj.forward(y));
}
