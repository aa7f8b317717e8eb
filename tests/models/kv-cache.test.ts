// GPT's slots for continuous batching (models/kv-cache.ts, GPT.allocSlots): a prefill and decoding
// steps give the logits of GPT's own cached forward; a slot's logits are the same bits whatever
// other slots share its decoding step; memory is taken once; misuse is refused.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import type { GPTConfig } from '../../src/models/gpt-config.js';
import type { LayerCache } from '../../src/models/generation.js';
import { GrowingSlotCache, type SlotCache } from '../../src/models/kv-cache.js';

const live = (): number => nb.getBackend().liveBuffers();

/**
 * Widths that are not multiples of 4 or 8 (38, 114, 301, a vocabulary of 101) and an inner
 * dimension past 256 (the GEMM's K block): every edge of the matrix kernels.
 */
const ODD: Partial<GPTConfig> = { vocabSize: 101, nPositions: 64, nEmbd: 38, nHead: 2, nLayer: 2, nInner: 301, tieWeights: false, dropout: 0, bosTokenId: null, eosTokenId: null };

function randomModel(seed: number, extra: Partial<GPTConfig> = {}): GPT {
  nb.manualSeed(seed);
  const m = new GPT({ ...ODD, ...extra });
  const gen = new nb.Generator(seed + 100);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters()) sd[k] = nb.uniform([...p.shape], /ln_.*weight$/.test(k) ? 0.8 : -0.5, /ln_.*weight$/.test(k) ? 1.2 : 0.5, { generator: gen });
  m.loadStateDict(sd, { strict: false });
  nb.dispose(sd);
  m.eval();
  return m;
}

/** Read and free a logits tensor. */
function take(t: nb.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

const PROMPTS = [[5, 17, 3], [99, 2, 44, 8, 61, 7, 70], [1], [33, 33, 33, 33, 12], [80, 4, 9, 100, 55, 2], [7, 7], [64, 3, 90, 21], [11, 12, 13, 14, 15, 16, 17, 18, 19]];

describe('GPT slots', () => {
  it("a prefill and decoding steps give the logits of GPT's cached forward, bit for bit", () => {
    const m = randomModel(1);
    const slots = m.allocSlots(2, 20);
    const prompt = [4, 8, 15, 16, 23];
    const caches: LayerCache[] = m.transformer.h.map(() => ({ k: null, v: null }));
    const ref = (ids: number[]) =>
      nb.noGrad(() => {
        const old = caches.map((c) => [c.k, c.v]);
        const out = nb.scope(() => ({ l: m.lastLogits(nb.tensor([ids], { dtype: 'int32' }), caches), caches })).l;
        nb.dispose(old);
        return take(out);
      });
    expect(take(slots.prefill(1, prompt))).toEqual(ref(prompt));
    expect(slots.length(1)).toBe(5);
    for (const t of [42, 7, 99, 0]) expect(take(slots.decode([1], [t]))).toEqual(ref([t]));
    expect(slots.length(1)).toBe(9);
    nb.dispose(caches.map((c) => [c.k, c.v]));
    slots.dispose();
  });

  it("a slot's logits are the same bits alone or decoded with any others (the matrix products are row-independent)", () => {
    const m = randomModel(2);
    const P = PROMPTS.length;
    const fill = (s: SlotCache) => PROMPTS.forEach((p, i) => take(s.prefill(i, p)));
    const together = m.allocSlots(P, 40),
      alone = m.allocSlots(P, 40);
    fill(together);
    fill(alone);
    // Batches of every size across the few-row (M <= 4) and GEMM paths, slots in scrambled orders.
    const batches = [[0, 1, 2, 3, 4, 5, 6, 7], [3], [5, 2], [7, 0, 4], [1, 6, 3, 2], [6, 5, 4, 3, 2], [2, 0, 7, 1, 5, 3], [4, 5, 6, 7, 0, 1, 2]];
    let step = 0;
    for (const batch of batches) {
      const tokens = batch.map((s) => (s * 13 + step * 7) % 101);
      step++;
      const rows = take(together.decode(batch, tokens));
      const V = 101;
      batch.forEach((s, b) => {
        const single = take(alone.decode([s], [tokens[b]]));
        expect(rows.subarray(b * V, (b + 1) * V), `slot ${s} in a batch of ${batch.length}`).toEqual(single);
      });
    }
    together.dispose();
    alone.dispose();
  });

  it('prefillMany gives each slot the bits of its prefill alone, and the same cache', () => {
    const m = randomModel(6);
    const many = m.allocSlots(4, 40),
      one = m.allocSlots(4, 40);
    const slots = [2, 0, 3],
      prompts = [PROMPTS[1], PROMPTS[2], PROMPTS[7]];
    const rows = take(many.prefillMany!(slots, prompts));
    slots.forEach((s, i) => {
      expect(rows.subarray(i * 101, (i + 1) * 101)).toEqual(take(one.prefill(s, prompts[i])));
      expect(many.length(s)).toBe(prompts[i].length);
    });
    expect(take(many.decode(slots, [1, 2, 3]))).toEqual(take(one.decode(slots, [1, 2, 3])));
    expect(() => many.prefillMany!([1, 1], [[1], [2]])).toThrow(/slots must be distinct/);
    many.dispose();
    one.dispose();
  });

  it('equal the slots of growing caches (the concatenating reference) to float rounding', () => {
    const m = randomModel(3);
    const batched = m.allocSlots(3, 30),
      growing = new GrowingSlotCache(m, 3, 30);
    nb.noGrad(() => {
      for (const s of [0, 1, 2]) {
        const a = take(batched.prefill(s, PROMPTS[s])),
          b = take(growing.prefill(s, PROMPTS[s]));
        a.forEach((x, j) => expect(x).toBeCloseTo(b[j], 4));
      }
      for (let t = 0; t < 5; t++) {
        const a = take(batched.decode([2, 0, 1], [t, t + 1, t + 2])),
          b = take(growing.decode([2, 0, 1], [t, t + 1, t + 2]));
        a.forEach((x, j) => expect(x).toBeCloseTo(b[j], 4));
      }
    });
    batched.dispose();
    growing.dispose();
  });

  it('takes its memory once: nLayer buffers of parallel × ctx × 2C, nothing more while decoding', () => {
    const m = randomModel(4);
    const before = live();
    const slots = m.allocSlots(4, 32);
    expect(live()).toBe(before + 2);
    take(slots.prefill(0, [1, 2, 3]));
    take(slots.prefill(3, [4]));
    for (let t = 0; t < 20; t++) take(slots.decode([3, 0], [t, t]));
    slots.release(0);
    take(slots.prefill(0, PROMPTS[7]));
    expect(live()).toBe(before + 2);
    slots.dispose();
    expect(live()).toBe(before);
  });

  it('refuses what does not fit', () => {
    const m = randomModel(5);
    expect(() => m.allocSlots(0, 8)).toThrow(/parallel must be a positive integer/);
    expect(() => m.allocSlots(2, 65)).toThrow(/ctx must be an integer in 1..64/);
    const slots = m.allocSlots(2, 4);
    expect(() => slots.prefill(2, [1])).toThrow(/slot 2 is not one of 0..1/);
    expect(() => slots.prefill(0, [1, 2, 3, 4, 5])).toThrow(/5 tokens do not fit a slot of 4 positions/);
    expect(() => slots.decode([1], [3])).toThrow(/slot 1 is empty/);
    take(slots.prefill(0, [1, 2, 3]));
    take(slots.prefill(1, [1]));
    expect(() => slots.decode([0, 0], [3, 3])).toThrow(/slots must be distinct/);
    take(slots.decode([0], [3]));
    expect(() => slots.decode([0], [3])).toThrow(/slot 0 is full/);
    slots.dispose();
  });
});
