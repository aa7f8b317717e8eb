// What a continuous-batching server (serve/engine.ts) asks of a causal language model: a fixed
// number of sequence slots, each with its own key/value cache and length, filled by a prefill and
// extended by decoding steps that run every active slot in one batched forward. GPT implements it;
// any decoder-only model (Llama, issue 19) can, the engine knows nothing of layers or heads.

import type { Tensor } from '../tensor/tensor.js';
import { tensor as makeTensor, zeros } from '../tensor/creation.js';
import type { DType } from '../tensor/dtype.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { concat } from '../ops/movement.js';
import { copy_ } from '../ops/inplace.js';
import type { CausalLM, LayerCache } from './generation.js';

/** A causal language model that can decode many sequences together, each in a slot of its own. */
export interface SlotLM {
  readonly config: { readonly vocabSize: number; readonly nPositions: number; readonly eosTokenId: number | null };
  /**
   * Allocate `parallel` slots of `ctx` positions each (ctx ≤ nPositions). The caches' memory is
   * taken here, once: decoding never allocates more for them.
   */
  allocSlots(parallel: number, ctx: number): SlotCache;
  /** The last hidden states [B, T, C] (after the final norm) of token ids int32 [B, T], without a cache. */
  hiddenStates(idx: Tensor): Tensor;
}

/**
 * The slots of a SlotLM. Methods run without gradients and in eval mode (the engine sets both);
 * the returned logits belong to the caller, who disposes them.
 */
export interface SlotCache {
  readonly parallel: number;
  readonly ctx: number;
  /** Positions a slot holds now (0 when free). */
  length(slot: number): number;
  /**
   * Forget what `slot` holds and run `ids` (1 ≤ length ≤ ctx) from position 0: the next-token
   * logits [1, V] of the last position; the slot then holds ids.length positions.
   */
  prefill(slot: number, ids: readonly number[]): Tensor;
  /**
   * One token more for each of `slots` (distinct, each holding 1..ctx−1 positions), in one batched
   * forward: the next-token logits [slots.length, V], row b for slots[b]. Each slot grows by one.
   */
  decode(slots: readonly number[], tokens: readonly number[]): Tensor;
  /**
   * prefill() of several slots in one forward (distinct slots): the logits [slots.length, V], row i
   * for slots[i], the same values as one prefill at a time. Optional: the engine prefills one by one
   * without it.
   */
  prefillMany?(slots: readonly number[], prompts: readonly (readonly number[])[]): Tensor;
  /** Mark `slot` free (its length becomes 0); its memory stays allocated for the next request. */
  release(slot: number): void;
  /** Free every cache; the object is unusable afterwards. */
  dispose(): void;
}

/** Positions start … start + length − 1 of one slot: a run of tokens in a flat batch (SlotBatch). */
export interface Segment {
  readonly slot: number;
  readonly start: number;
  readonly length: number;
}

/**
 * The keys and values of every layer for `parallel` slots of `ctx` positions, allocated once (and
 * zeroed): per layer one [parallel·ctx, width] buffer, slot s in rows s·ctx … s·ctx + ctx − 1, one
 * row per position holding whatever the model keeps of it (GPT: the keys of every head, then the
 * values, as c_attn lays them out after the queries). Memory: nLayer·parallel·ctx·width elements.
 */
export class SlotKV {
  readonly layers: Tensor[];

  constructor(
    readonly nLayer: number,
    readonly parallel: number,
    readonly ctx: number,
    readonly width: number,
    opts: { device?: string; dtype?: DType } = {},
  ) {
    this.layers = Array.from({ length: nLayer }, () => zeros([parallel * ctx, width], opts).keep());
  }

  /** Positions [start, start + length) of a slot in `layer`: a [length, width] view of the buffer. */
  rows(layer: number, slot: number, start: number, length: number): Tensor {
    const r = slot * this.ctx + start;
    return this.layers[layer].slice(0, r, r + length);
  }

  /** Write the rows of a segment's positions in `layer` (src [length, width], any strides). */
  write(layer: number, seg: Segment, src: Tensor): void {
    const dst = this.rows(layer, seg.slot, seg.start, seg.length);
    try {
      copy_(dst, src);
    } finally {
      dst.dispose();
    }
  }

  dispose(): void {
    for (const t of this.layers) t.dispose();
  }
}

/**
 * Slots over a model that runs a flat batch of segments against a SlotKV: `run(ids, segments)`
 * computes the tokens `ids` (segment after segment, N in all) at their positions, writes their keys
 * and values into the slots, attends each segment to its own slot, and returns the next-token logits
 * [segments, V] of each segment's last position. A prefill is one segment from position 0; a
 * decoding step is one single-token segment per slot, so every matrix product runs once over all
 * of them. GPT.allocSlots builds one; any decoder-only model can, with its own `run`.
 */
export class SlotBatch implements SlotCache {
  private readonly lengths: Int32Array;

  constructor(
    readonly kv: SlotKV,
    private readonly run: (ids: readonly number[], segments: readonly Segment[]) => Tensor,
  ) {
    this.lengths = new Int32Array(kv.parallel);
  }

  get parallel(): number {
    return this.kv.parallel;
  }

  get ctx(): number {
    return this.kv.ctx;
  }

  length(slot: number): number {
    return this.lengths[this.check(slot)];
  }

  prefill(slot: number, ids: readonly number[]): Tensor {
    return this.prefillMany([slot], [ids]);
  }

  prefillMany(slots: readonly number[], prompts: readonly (readonly number[])[]): Tensor {
    if (slots.length === 0 || prompts.length !== slots.length) throw new Error(`prefill: give one prompt per slot, got ${prompts.length} prompts for ${slots.length} slots`);
    if (new Set(slots).size !== slots.length) throw new Error(`prefill: slots must be distinct, got [${slots}]`);
    for (const s of slots) this.lengths[this.check(s)] = 0;
    for (const ids of prompts) {
      if (ids.length < 1 || ids.length > this.ctx) throw new Error(`prefill: ${ids.length} tokens do not fit a slot of ${this.ctx} positions`);
    }
    const logits = this.forward(
      prompts.flat(),
      slots.map((slot, i) => ({ slot, start: 0, length: prompts[i].length })),
    );
    slots.forEach((s, i) => {
      this.lengths[s] = prompts[i].length;
    });
    return logits;
  }

  decode(slots: readonly number[], tokens: readonly number[]): Tensor {
    if (slots.length === 0 || tokens.length !== slots.length) throw new Error(`decode: give one token per slot, got ${tokens.length} tokens for ${slots.length} slots`);
    if (new Set(slots).size !== slots.length) throw new Error(`decode: slots must be distinct, got [${slots}]`);
    const segments = slots.map((s) => {
      const len = this.lengths[this.check(s)];
      if (len < 1 || len >= this.ctx) throw new Error(`decode: slot ${s} is ${len ? 'full' : 'empty (prefill it first)'}`);
      return { slot: s, start: len, length: 1 };
    });
    const logits = this.forward(tokens, segments);
    for (const s of slots) this.lengths[s]++;
    return logits;
  }

  release(slot: number): void {
    this.lengths[this.check(slot)] = 0;
  }

  dispose(): void {
    this.kv.dispose();
  }

  private forward(ids: readonly number[], segments: readonly Segment[]): Tensor {
    return noGrad(() => scope(() => this.run(ids, segments)));
  }

  private check(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.parallel) throw new Error(`slot ${slot} is not one of 0..${this.parallel - 1}`);
    return slot;
  }
}

/**
 * Slots over any CausalLM, each decoded on its own with caches that grow by concatenation: the
 * reference the batched caches are tested against, and a fallback for models without them.
 */
export class GrowingSlotCache implements SlotCache {
  private readonly caches: (LayerCache[] | null)[];

  constructor(
    private readonly model: CausalLM,
    readonly parallel: number,
    readonly ctx: number,
  ) {
    checkSlotShape(model.config.nPositions, parallel, ctx);
    this.caches = new Array(parallel).fill(null);
  }

  length(slot: number): number {
    return this.caches[this.check(slot)]?.[0]?.k?.shape[2] ?? 0;
  }

  prefill(slot: number, ids: readonly number[]): Tensor {
    this.release(slot);
    if (ids.length < 1 || ids.length > this.ctx) throw new Error(`prefill: ${ids.length} tokens do not fit a slot of ${this.ctx} positions`);
    const caches: LayerCache[] = Array.from({ length: this.model.config.nLayer }, () => ({ k: null, v: null }));
    this.caches[slot] = caches;
    return this.run(caches, [ids]);
  }

  decode(slots: readonly number[], tokens: readonly number[]): Tensor {
    const rows = slots.map((s, b) => {
      const caches = this.caches[this.check(s)];
      if (!caches || this.length(s) >= this.ctx) throw new Error(`decode: slot ${s} is ${caches ? 'full' : 'empty'}`);
      return this.run(caches, [[tokens[b]]]);
    });
    if (rows.length === 1) return rows[0];
    const out = concat(rows, 0); // (B, V)
    for (const r of rows) r.dispose();
    return out;
  }

  release(slot: number): void {
    for (const lc of this.caches[this.check(slot)] ?? []) {
      lc.k?.dispose();
      lc.v?.dispose();
    }
    this.caches[slot] = null;
  }

  dispose(): void {
    for (let s = 0; s < this.parallel; s++) this.release(s);
  }

  /** lastLogits over the slot's caches, which are replaced by the grown ones. */
  private run(caches: LayerCache[], rows: (readonly number[])[]): Tensor {
    const device = this.model.parameters()[0]?.device;
    const old = caches.map((lc) => ({ ...lc }));
    const logits = scope(() => {
      const idx = makeTensor(
        rows.map((r) => [...r]),
        { dtype: 'int32', device },
      );
      return { logits: this.model.lastLogits(idx, caches), caches };
    }).logits;
    for (const lc of old) {
      lc.k?.dispose();
      lc.v?.dispose();
    }
    return logits;
  }

  private check(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.parallel) throw new Error(`slot ${slot} is not one of 0..${this.parallel - 1}`);
    return slot;
  }
}

/** Checks the slot shape a model's context allows. */
export function checkSlotShape(nPositions: number, parallel: number, ctx: number): void {
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`allocSlots: parallel must be a positive integer, got ${parallel}`);
  if (!Number.isInteger(ctx) || ctx < 1 || ctx > nPositions) throw new Error(`allocSlots: ctx must be an integer in 1..${nPositions} (the model's context), got ${ctx}`);
}
