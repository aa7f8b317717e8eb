// The Llama family's side of continuous batching (SlotLM, kv-cache.ts): the forward pass over a flat
// batch of segments (one new token per decoding sequence, or a whole prompt being prefilled), each
// writing its rotated keys and its values into its own slot of the preallocated cache. The modules
// are Llama's own (llama.ts); this file only walks them differently. Typed structurally: llama.ts
// imports this file, not the reverse.

import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { add } from '../ops/binary.js';
import { concat, permute, reshape, unsqueeze } from '../ops/movement.js';
import { attention } from '../ops/attention.js';
import { slotAttention } from '../ops/slot-attention.js';
import { scaledDotProductAttention } from '../nn/layers/attention.js';
import type { LlamaConfig } from './llama-config.js';
import { type Rope, applyRope, attentionMask, repeatKv, ropeTables } from './llama-ops.js';
import { type Segment, SlotBatch, type SlotCache, SlotKV, checkSlotShape } from './kv-cache.js';

interface Layer {
  forward(x: Tensor): Tensor;
}
/** What this file uses of a Llama (llama.ts): its config and transformers-named modules. */
export interface LlamaModules {
  readonly config: LlamaConfig;
  model: {
    embed_tokens: Layer & { weight: Tensor };
    layers: readonly {
      self_attn: { q_proj: Layer; k_proj: Layer; v_proj: Layer; o_proj: Layer; readonly window: number | null };
      mlp: Layer;
      input_layernorm: Layer;
      post_attention_layernorm: Layer;
    }[];
    norm: Layer;
  };
  lm_head: Layer;
}

/**
 * Llama.allocSlots: every slot's cache allocated once, [parallel·ctx, 2·nKvHead·headDim] per layer
 * (the rotated keys of every key/value head, then the values), so grouped-query attention keeps
 * nHead / nKvHead times less than GPT's layout would.
 */
export function allocLlamaSlots(model: LlamaModules, parallel: number, ctx: number): SlotCache {
  const c = model.config;
  checkSlotShape(c.nPositions, parallel, ctx);
  const w = model.model.embed_tokens.weight;
  const kv = new SlotKV(c.nLayer, parallel, ctx, 2 * c.nKvHead * c.headDim, { device: w.device, dtype: w.dtype });
  return new SlotBatch(kv, (ids, segments) => segmentLogits(model, ids, segments, kv));
}

/** Next-token logits [segments, V] of the last position of each segment of a flat batch. */
function segmentLogits(model: LlamaModules, ids: readonly number[], segments: readonly Segment[], kv: SlotKV): Tensor {
  const m = model.model,
    c = model.config;
  const device = m.embed_tokens.weight.device;
  const pos = segments.flatMap((s) => Array.from({ length: s.length }, (_, j) => s.start + j));
  const rope = ropeTables(c, pos, device); // (N, D) each: every row its own position
  let x = m.embed_tokens.forward(tensor([...ids], { dtype: 'int32', device })); // (N, C)
  m.layers.forEach((layer, li) => {
    const h = add(x, attentionSegments(model, layer.self_attn, layer.input_layernorm.forward(x), rope, segments, kv, li)); // (N, C)
    x = add(h, layer.mlp.forward(layer.post_attention_layernorm.forward(h))); // (N, C)
  });
  const hidden = m.norm.forward(x); // (N, C)
  let end = 0;
  const ends = segments.map((s) => (end += s.length));
  const last =
    ends.length === hidden.shape[0]
      ? hidden
      : concat(
          ends.map((e) => hidden.slice(0, e - 1, e)),
          0,
        ); // (S, C): the last position of each segment
  return model.lm_head.forward(last); // (S, V)
}

/**
 * LlamaAttention over a flat batch x [N, C] of segments → [N, C]: one projection each over all N
 * rows, rotary embeddings at each row's own position; each segment's keys and values are written
 * into its slot of `kv` and its queries attend to that slot's positions (the last `window` of them
 * in a sliding-window layer). With as many key/value heads as query heads, single-token segments go
 * through one slotAttention op (GPT's decoding kernel); with grouped-query attention each attends on
 * its own, the group's query heads as rows against its one key/value head. A prefill (a segment
 * from position 0) takes causal attention, as forward() does.
 */
function attentionSegments(
  model: LlamaModules,
  attn: LlamaModules['model']['layers'][number]['self_attn'],
  x: Tensor,
  rope: Rope,
  segments: readonly Segment[],
  kv: SlotKV,
  layer: number,
): Tensor {
  const c = model.config,
    N = x.shape[0],
    H = c.nHead,
    Hkv = c.nKvHead,
    D = c.headDim,
    rep = H / Hkv,
    K = Hkv * D;
  const rows: Rope = { cos: unsqueeze(rope.cos, 1), sinSigned: unsqueeze(rope.sinSigned, 1) }; // (N, 1, D): one position per row
  const q = reshape(applyRope(reshape(attn.q_proj.forward(x), [N, H, D]), rows), [N, H * D]); // (N, H·D)
  const k = reshape(applyRope(reshape(attn.k_proj.forward(x), [N, Hkv, D]), rows), [N, K]); // (N, K)
  const kvRows = concat([k, attn.v_proj.forward(x)], 1); // (N, 2K): what the cache keeps of each position
  const cache = kv.layers[layer]; // (parallel·ctx, 2K)
  const win = attn.window;
  // The first cache row a query at `pos` of `slot` sees: its slot's start, or the window's.
  const firstRow = (slot: number, pos: number) => slot * kv.ctx + (win === null ? 0 : Math.max(0, pos - win + 1));
  let y: Tensor;
  if (rep === 1 && segments.every((s) => s.length === 1)) {
    y = slotAttention(concat([q, kvRows], 1), cache, {
      nHead: H,
      rows: segments.map((s) => s.slot * kv.ctx + s.start),
      starts: segments.map((s) => firstRow(s.slot, s.start)),
    }); // (N, H·D)
  } else {
    const heads = (t: Tensor, n: number, h: number) => permute(reshape(t, [1, n, h, D]), [0, 2, 1, 3]); // (1, h, n, D)
    let row = 0;
    const ys = segments.map((seg) => {
      const n = seg.length;
      const own = kvRows.slice(0, row, row + n),
        qs = q.slice(0, row, row + n); // (n, 2K), (n, H·D)
      row += n;
      kv.write(layer, seg, own);
      if (n === 1) {
        // The group's rep query heads as rep rows against its key/value head, over the cached rows.
        const from = firstRow(seg.slot, seg.start),
          to = seg.slot * kv.ctx + seg.start + 1;
        const seen = cache.slice(0, from, to); // (S, 2K)
        const S = to - from;
        const keys = heads(seen.slice(1, 0, K), S, Hkv),
          values = heads(seen.slice(1, K, 2 * K), S, Hkv); // (1, Hkv, S, D)
        const a = attention(reshape(qs, [1, Hkv, rep, D]), keys, values, 1 / Math.sqrt(D), false); // (1, Hkv, rep, D)
        return reshape(a, [1, H * D]); // (1, H·D)
      }
      if (seg.start > 0) throw new Error(`Llama slots: a segment of ${n} tokens must start at position 0 (a prefill), got ${seg.start}`);
      const mask = attentionMask(0, n, win, x.device);
      const keys = repeatKv(heads(own.slice(1, 0, K), n, Hkv), rep),
        values = repeatKv(heads(own.slice(1, K, 2 * K), n, Hkv), rep); // (1, H, n, D)
      const opts = mask ? { attnMask: mask, dropoutP: 0, training: false } : { isCausal: true, dropoutP: 0, training: false };
      const a = scaledDotProductAttention(heads(qs, n, H), keys, values, opts); // (1, H, n, D)
      return reshape(permute(a, [0, 2, 1, 3]), [n, H * D]); // (n, H·D): heads side by side
    });
    y = ys.length === 1 ? ys[0] : concat(ys, 0); // (N, H·D)
  }
  if (y.shape[0] !== N) throw new Error(`Llama slots: the segments cover ${y.shape[0]} positions, x has ${N}`);
  return attn.o_proj.forward(y); // (N, C)
}
