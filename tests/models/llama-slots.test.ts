// Llama's slots for continuous batching (models/llama-slots.ts, Llama.allocSlots): prefill and
// decoding steps give the logits of Llama's own cached forward, with grouped-query attention and
// sliding windows; slots decoded together give what each gives alone; the serving engine's greedy
// and seeded tokens equal Llama.generate's.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { Llama } from '../../src/models/llama.js';
import type { LlamaConfig } from '../../src/models/llama-config.js';
import type { LayerCache } from '../../src/models/generation.js';
import type { SlotCache } from '../../src/models/kv-cache.js';
import { createEngine } from '../../src/serve/engine.js';

const live = (): number => nb.getBackend().liveBuffers();

/** Odd widths (vocabulary 61, 20 wide, MLP 45) and 6 query heads over 2 or 3 key/value heads. */
const ODD: Partial<LlamaConfig> = { vocabSize: 61, nPositions: 48, nEmbd: 24, nLayer: 2, nHead: 6, nKvHead: 2, headDim: 4, nInner: 45, tieWeights: false };

function randomModel(seed: number, extra: Partial<LlamaConfig> = {}): Llama {
  nb.manualSeed(seed);
  const m = new Llama({ ...ODD, ...extra });
  const gen = new nb.Generator(seed + 100);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters()) sd[k] = nb.uniform([...p.shape], /norm\.weight$/.test(k) ? 0.8 : -0.4, /norm\.weight$/.test(k) ? 1.2 : 0.4, { generator: gen });
  m.loadStateDict(sd, { strict: false });
  nb.dispose(sd);
  m.eval();
  return m;
}

function take(t: nb.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

function expectNear(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  expect(m, what).toBeLessThan(2e-5);
}

const PROMPTS = [[5, 17, 3], [59, 2, 44, 8, 31, 7, 40], [1], [33, 33, 33, 33, 12], [50, 4, 9, 60, 55, 2]];

/** Multi-head (1 group), grouped-query, one key/value head with q/k/v biases, a sliding window in every or some layers. */
const VARIANTS: [string, Partial<LlamaConfig>][] = [
  ['multi-head', { nKvHead: 6 }],
  ['grouped-query', {}],
  ['one key/value head, q/k/v biases', { nKvHead: 1, qkvBias: true }],
  ['sliding window 4', { slidingWindow: 4 }],
  ['sliding window in layer 1 only, multi-head', { nKvHead: 6, family: 'qwen2', qkvBias: true, slidingWindow: 3, layerTypes: ['full_attention', 'sliding_attention'] }],
];

describe('Llama slots', () => {
  for (const [name, extra] of VARIANTS) {
    it(`${name}: a prefill and decoding steps give the logits of Llama's cached forward`, () => {
      const m = randomModel(1, extra);
      const slots = m.allocSlots(3, 20);
      const caches: LayerCache[] = m.model.layers.map(() => ({ k: null, v: null }));
      const ref = (ids: number[]) =>
        nb.noGrad(() => {
          const old = caches.map((c) => [c.k, c.v]);
          const out = nb.scope(() => ({ l: m.lastLogits(nb.tensor([ids], { dtype: 'int32' }), caches), caches })).l;
          nb.dispose(old.flat().filter((t): t is nb.Tensor => t !== null));
          return take(out);
        });
      const prompt = [4, 8, 15, 16, 23, 42];
      expectNear(take(slots.prefill(1, prompt)), ref(prompt), 'prefill');
      for (const t of [42, 7, 59, 0, 13, 21]) expectNear(take(slots.decode([1], [t])), ref([t]), `decode ${t}`);
      expect(slots.length(1)).toBe(12);
      nb.dispose(caches.flatMap((c) => [c.k!, c.v!]));
      slots.dispose();
    });
  }

  it("a slot's logits are the same bits alone or decoded with others, and prefillMany equals one prefill at a time", () => {
    for (const extra of [{}, { nKvHead: 6 }, { slidingWindow: 4 }] as Partial<LlamaConfig>[]) {
      const m = randomModel(2, extra);
      const P = PROMPTS.length;
      const together = m.allocSlots(P, 30),
        alone = m.allocSlots(P, 30);
      const rows = take(together.prefillMany!([...PROMPTS.keys()], PROMPTS));
      PROMPTS.forEach((p, i) => expectNear(rows.subarray(i * 61, (i + 1) * 61), take(alone.prefill(i, p)), `prefill ${i}`));
      let step = 0;
      for (const batch of [[0, 1, 2, 3, 4], [3], [4, 2], [1, 0, 4], [2, 3, 1, 0]]) {
        const tokens = batch.map((s) => (s * 13 + step++ * 7) % 61);
        const out = take(together.decode(batch, tokens));
        batch.forEach((s, b) => expect(out.subarray(b * 61, (b + 1) * 61), `${JSON.stringify(extra)}: slot ${s} in ${batch}`).toEqual(take(alone.decode([s], [tokens[b]]))));
      }
      together.dispose();
      alone.dispose();
    }
  });

  it('takes its memory once: nLayer buffers of parallel × ctx × 2·nKvHead·headDim', () => {
    const m = randomModel(3);
    const before = live();
    const slots: SlotCache = m.allocSlots(4, 32);
    expect(live()).toBe(before + 2);
    take(slots.prefill(0, [1, 2, 3]));
    for (let t = 0; t < 10; t++) take(slots.decode([0], [t]));
    expect(live()).toBe(before + 2);
    slots.dispose();
    expect(live()).toBe(before);
  });

  it("the serving engine's greedy and seeded tokens equal Llama.generate's", async () => {
    for (const extra of [{}, { slidingWindow: 5 }] as Partial<LlamaConfig>[]) {
      const m = randomModel(4, extra);
      const engine = createEngine(m, { parallel: 3, ctx: 40 });
      try {
        const generated = (prompt: number[], opts: Parameters<Llama['generate']>[1]) => Array.from(m.generate([prompt], opts).dataSync()).slice(prompt.length);
        const results = await Promise.all(PROMPTS.map((prompt) => engine.submit({ prompt, maxTokens: 12, temperature: 0 })));
        results.forEach((r, i) => expect(r.tokens, `prompt ${i}`).toEqual(generated(PROMPTS[i], { maxNewTokens: 12, temperature: 0 })));
        const req = { prompt: PROMPTS[1], maxTokens: 12, temperature: 0.9, topK: 20, topP: 0.95, seed: 42 };
        expect((await engine.submit(req)).tokens).toEqual(generated(req.prompt, { maxNewTokens: 12, temperature: 0.9, topK: 20, topP: 0.95, seed: 42 }));
      } finally {
        await engine.close();
      }
    }
  });
});
