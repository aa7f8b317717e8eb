// The continuous-batching engine: its tokens against GPT.generate, seeded sampling, stop sequences
// and EOS, aborts, the bounded queue, context checks, shutdown, embeddings; batched decoding equal
// to one request at a time; memory flat over many requests.
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import type { GPTConfig } from '../../src/models/gpt-config.js';
import type { GenerateOptions } from '../../src/models/generation.js';
import { fromPretrained, type PretrainedLM } from '../../src/models/pretrained.js';
import { createEngine } from '../../src/serve/engine.js';
import { EngineError, type EngineRequest, type StepInfo } from '../../src/serve/engine-api.js';

const vals = (t: nb.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};
/** Run the garbage collector now, and the FinalizationRegistry callbacks it queues. */
async function collectGarbage(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}
const live = (): number => nb.getBackend().liveBuffers();
const fixture = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/gpt/tiny-hf');

/**
 * A small GPT whose shapes reach every path of the matrix kernels: widths that are not multiples
 * of 4 or 8 (38, 114, 301 and a vocabulary of 101) and an inner dimension past 256 (the GEMM's K
 * block), so row-for-row equality of batched and single decoding is tested where it could break.
 */
const ODD: Partial<GPTConfig> = { vocabSize: 101, nPositions: 64, nEmbd: 38, nHead: 2, nLayer: 2, nInner: 301, tieWeights: false, dropout: 0, bosTokenId: null, eosTokenId: null };

/** Every parameter U(-scale, scale) (LayerNorm gains U(0.8, 1.2)) from a seeded generator: varied greedy runs. */
function randomModel(seed: number, extra: Partial<GPTConfig> = {}, scale = 0.5): GPT {
  nb.manualSeed(seed);
  const m = new GPT({ ...ODD, ...extra });
  const gen = new nb.Generator(seed + 100);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters()) {
    const gain = /ln_.*weight$/.test(k);
    sd[k] = nb.uniform([...p.shape], gain ? 0.8 : -scale, gain ? 1.2 : scale, { generator: gen, dtype: p.dtype });
  }
  m.loadStateDict(sd, { strict: false });
  for (const t of Object.values(sd)) t.dispose();
  return m;
}

/** The new tokens GPT.generate gives for one prompt. */
function generated(m: GPT, prompt: number[], opts: GenerateOptions): number[] {
  return vals(m.generate([prompt], opts)).slice(prompt.length);
}

/** Rejection code of a promise that must reject with an EngineError. */
async function refusal(p: Promise<unknown>): Promise<{ code: string; param: string | null; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    const { code, param, message } = e as EngineError;
    return { code, param, message };
  }
  throw new Error('expected a rejection');
}

const PROMPTS = [[5, 17, 3], [99, 2, 44, 8, 61, 7, 70], [1], [33, 33, 33, 33, 12], [80, 4, 9, 100, 55, 2], [7, 7], [64, 3, 90, 21], [11, 12, 13, 14, 15, 16, 17, 18, 19]];

describe('engine: one request against GPT.generate', () => {
  it('greedy tokens equal GPT.generate, for the Hugging Face fixture and a random model', async () => {
    if (existsSync(join(fixture, 'model.safetensors'))) {
      const { model } = (await fromPretrained(fixture)) as PretrainedLM;
      const engine = createEngine(model, { parallel: 2 });
      expect(engine.ctx).toBe(16);
      expect(engine.eosTokenId).toBe(99);
      for (const prompt of [
        [3, 14, 15, 92],
        [65, 35],
        [8, 9, 7, 9, 3, 2, 3, 8],
      ]) {
        const want = generated(model, prompt, { maxNewTokens: 8, temperature: 0 });
        const eos = want.indexOf(99);
        const r = await engine.submit({ prompt, maxTokens: 8, temperature: 0 });
        expect(r.tokens).toEqual(eos >= 0 ? want.slice(0, eos) : want);
        expect(r.finishReason).toBe(eos >= 0 ? 'stop' : 'length');
        expect(r.promptTokens).toBe(prompt.length);
        expect(r.completionTokens).toBe(eos >= 0 ? eos + 1 : 8);
      }
      await engine.close();
    }
    const m = randomModel(1);
    const engine = createEngine(m, { parallel: 3, ctx: 40 });
    for (const prompt of PROMPTS.slice(0, 4)) {
      const r = await engine.submit({ prompt, maxTokens: 20, temperature: 0 });
      expect(r.tokens).toEqual(generated(m, prompt, { maxNewTokens: 20, temperature: 0 }));
      expect(r.finishReason).toBe('length');
      expect(r.timeToFirstTokenMs).toBeGreaterThan(0);
      expect(r.queuedMs).toBeGreaterThanOrEqual(0);
      expect(r.timeToFirstTokenMs).toBeGreaterThanOrEqual(r.promptMs);
    }
    expect(new Set((await engine.submit({ prompt: [1, 2], maxTokens: 20, temperature: 0 })).tokens).size).toBeGreaterThan(3);
    await engine.close();
  });

  it('a seeded sampled request is reproducible and equals GPT.generate with that seed', async () => {
    const m = randomModel(2);
    const engine = createEngine(m, { parallel: 2, ctx: 48 });
    const req = { prompt: [4, 8, 15], maxTokens: 24, temperature: 0.9, topK: 20, topP: 0.95, repetitionPenalty: 1.1, seed: 42 };
    const a = (await engine.submit(req)).tokens;
    expect((await engine.submit(req)).tokens).toEqual(a);
    expect(a).toEqual(generated(m, req.prompt, { maxNewTokens: 24, temperature: 0.9, topK: 20, topP: 0.95, repetitionPenalty: 1.1, seed: 42 }));
    const others = await Promise.all([1, 2, 3].map(async (seed) => (await engine.submit({ ...req, seed })).tokens.join()));
    expect(others.some((o) => o !== a.join())).toBe(true);
    await engine.close();
  });

  it('ends at a stop sequence (kept) and at the model EOS (left out, counted)', async () => {
    const m = randomModel(3);
    const engine = createEngine(m, { parallel: 2, ctx: 40 });
    const free = (await engine.submit({ prompt: [9, 10], maxTokens: 20, seed: 5 })).tokens;
    const stop = free.slice(6, 8);
    const full = [9, 10, ...free];
    const end = full.findIndex((_, i) => i >= 2 && full[i - 1] === stop[0] && full[i] === stop[1]); // where `stop` first ends after the prompt
    const r = await engine.submit({ prompt: [9, 10], maxTokens: 20, seed: 5, stopTokens: [[100, 100, 100], stop] });
    expect(r.finishReason).toBe('stop');
    expect(r.tokens).toEqual(free.slice(0, end - 1));
    expect(r.tokens.slice(-2)).toEqual(stop);
    await engine.close();

    // The same weights with an EOS id that the greedy run produces at its 4th token.
    const greedy = generated(m, [9, 10], { maxNewTokens: 12, temperature: 0 });
    const eos = greedy[3];
    const withEos = new GPT({ ...ODD, eosTokenId: eos });
    withEos.loadStateDict(m.stateDict());
    const e2 = createEngine(withEos, { parallel: 1, ctx: 40 });
    expect(e2.eosTokenId).toBe(eos);
    const seen: number[] = [];
    const r2 = await e2.submit({ prompt: [9, 10], maxTokens: 12, temperature: 0, onToken: (id) => seen.push(id) });
    const first = greedy.indexOf(eos);
    expect(r2.finishReason).toBe('stop');
    expect(r2.tokens).toEqual(greedy.slice(0, first));
    expect(seen).toEqual(r2.tokens);
    expect(r2.completionTokens).toBe(first + 1);
    await e2.close();
  });
});

describe('engine: scheduling and faults', () => {
  it('an abort ends a running request and frees its slot; a queued or already aborted one ends at once', async () => {
    const m = randomModel(4);
    const engine = createEngine(m, { parallel: 1, ctx: 64, maxQueue: 4 });
    const ctl = new AbortController();
    const seen: number[] = [];
    const a = engine.submit({
      prompt: [1, 2, 3],
      maxTokens: 50,
      temperature: 0,
      signal: ctl.signal,
      onToken: (id) => {
        seen.push(id);
        if (seen.length === 3) ctl.abort();
      },
    });
    const queued = new AbortController();
    const q = engine.submit({ prompt: [5], maxTokens: 5, signal: queued.signal });
    const b = engine.submit({ prompt: [4, 5], maxTokens: 6, temperature: 0 });
    expect(engine.waiting).toBe(3);
    queued.abort(); // still waiting for the one slot
    const rq = await q;
    expect(rq).toMatchObject({ finishReason: 'abort', tokens: [], completionTokens: 0 });
    const ra = await a;
    expect(ra.finishReason).toBe('abort');
    expect(ra.tokens).toEqual(seen);
    expect(seen.length).toBeLessThanOrEqual(4); // within one decoding step of the abort
    const rb = await b;
    expect(rb.finishReason).toBe('length');
    expect(rb.tokens).toEqual(generated(m, [4, 5], { maxNewTokens: 6, temperature: 0 }));
    expect(engine.running + engine.waiting).toBe(0);
    const pre = new AbortController();
    pre.abort();
    expect(await engine.submit({ prompt: [1], maxTokens: 5, signal: pre.signal })).toMatchObject({ finishReason: 'abort', tokens: [] });
    await engine.close();
  });

  it("refuses past the queue with 'queue_full', and bad requests with their code and field", async () => {
    const m = randomModel(5);
    const engine = createEngine(m, { parallel: 1, ctx: 20, maxQueue: 1 });
    const a = engine.submit({ prompt: [1, 2], maxTokens: 10 });
    const b = engine.submit({ prompt: [3, 4], maxTokens: 10 });
    expect(await refusal(engine.submit({ prompt: [5], maxTokens: 1 }))).toMatchObject({ code: 'queue_full' });
    await Promise.all([a, b]);
    const bad = async (req: Partial<EngineRequest>) => refusal(engine.submit({ prompt: [1], maxTokens: 1, ...req } as EngineRequest));
    expect(await bad({ prompt: Array(21).fill(1) })).toMatchObject({ code: 'context_length', param: 'prompt' });
    const long = await bad({ prompt: Array(15).fill(1), maxTokens: 6 });
    expect(long).toMatchObject({ code: 'context_length', param: 'max_tokens' });
    expect(long.message).toMatch(/at most 5 tokens/);
    expect(await bad({ prompt: [] })).toMatchObject({ code: 'invalid_request', param: 'prompt' });
    expect(await bad({ prompt: [101] })).toMatchObject({ code: 'invalid_request', param: 'prompt' });
    expect(await bad({ prompt: [1.5] })).toMatchObject({ code: 'invalid_request', param: 'prompt' });
    expect(await bad({ maxTokens: -1 })).toMatchObject({ code: 'invalid_request', param: 'max_tokens' });
    expect(await bad({ temperature: -0.5 })).toMatchObject({ code: 'invalid_request', param: 'temperature' });
    expect(await bad({ topP: 1.5 })).toMatchObject({ code: 'invalid_request', param: 'top_p' });
    expect(await bad({ topK: 2.5 })).toMatchObject({ code: 'invalid_request', param: 'top_k' });
    expect(await bad({ repetitionPenalty: 0 })).toMatchObject({ code: 'invalid_request', param: 'repetition_penalty' });
    expect(await bad({ seed: 0.5 })).toMatchObject({ code: 'invalid_request', param: 'seed' });
    expect(await bad({ stopTokens: [[1, 200]] })).toMatchObject({ code: 'invalid_request', param: 'stop' });
    // Still serving, and max_tokens 0 is an empty answer.
    expect(await engine.submit({ prompt: [1], maxTokens: 0 })).toMatchObject({ tokens: [], finishReason: 'length', completionTokens: 0 });
    expect((await engine.submit({ prompt: [1], maxTokens: 19, temperature: 0 })).tokens).toHaveLength(19);
    await engine.close();
  });

  it("close() lets running and queued requests finish, then refuses with 'shutting_down' and frees the caches", async () => {
    const m = randomModel(6);
    const before = live();
    const engine = createEngine(m, { parallel: 2, ctx: 32 });
    const jobs = PROMPTS.slice(0, 4).map((prompt) => engine.submit({ prompt, maxTokens: 8, temperature: 0 }));
    const closing = engine.close();
    expect(await refusal(engine.submit({ prompt: [1], maxTokens: 1 }))).toMatchObject({ code: 'shutting_down' });
    await expect(engine.embed([[1]])).rejects.toMatchObject({ code: 'shutting_down' });
    await closing;
    for (const r of await Promise.all(jobs)) expect(r).toMatchObject({ finishReason: 'length', completionTokens: 8 });
    expect(live()).toBe(before);
    expect([...m.modules()].every((x) => x.training)).toBe(true); // the training mode is restored

    // With no grace left, what is still running or queued ends with 'abort'.
    const e2 = createEngine(m, { parallel: 1, ctx: 64 });
    const long = [e2.submit({ prompt: [1], maxTokens: 60 }), e2.submit({ prompt: [2], maxTokens: 60 })];
    await new Promise((r) => setTimeout(r, 5));
    await e2.close(0);
    for (const r of await Promise.all(long)) expect(r.finishReason).toBe('abort');
    expect(live()).toBe(before);
  });

  it('embed: the mean over positions of the last hidden state, one vector per input', async () => {
    const m = randomModel(7);
    const engine = createEngine(m, { parallel: 1, ctx: 16 });
    const inputs = [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]]; // longer than ctx: the model's context counts
    const out = await engine.embed(inputs);
    expect(out.map((v) => v.length)).toEqual([38, 38, 38]);
    m.eval();
    inputs.forEach((ids, i) => {
      const h = nb.noGrad(() => vals(m.hiddenStates(nb.tensor([ids], { dtype: 'int32' }))));
      const want = Array.from({ length: 38 }, (_, c) => ids.reduce((s, _, t) => s + h[t * 38 + c], 0) / ids.length);
      out[i].forEach((v, c) => expect(v).toBeCloseTo(want[c], 5));
    });
    await expect(engine.embed([Array(65).fill(1)])).rejects.toMatchObject({ code: 'context_length', param: 'input' });
    await expect(engine.embed([[1], []])).rejects.toMatchObject({ code: 'invalid_request', param: 'input' });
    await engine.close();
  });
});

describe('engine: continuous batching', () => {
  it('greedy outputs of concurrent requests equal the same requests run one at a time', async () => {
    const m = randomModel(8);
    const alone = createEngine(m, { parallel: 1, ctx: 64 });
    const lens = [30, 12, 25, 40, 7, 33, 18, 26];
    const want: number[][] = [];
    for (let i = 0; i < PROMPTS.length; i++) want.push((await alone.submit({ prompt: PROMPTS[i], maxTokens: lens[i], temperature: 0 })).tokens);
    await alone.close();
    for (const parallel of [3, 8]) {
      const engine = createEngine(m, { parallel, ctx: 64 });
      const steps: StepInfo[] = [];
      engine.onStep((s) => steps.push(s));
      const got = await Promise.all(PROMPTS.map((prompt, i) => engine.submit({ prompt, maxTokens: lens[i], temperature: 0 })));
      expect(got.map((r) => r.tokens)).toEqual(want);
      expect(Math.max(...steps.map((s) => s.batchSize))).toBe(parallel);
      expect(steps.reduce((s, x) => s + x.prefilled, 0)).toBe(PROMPTS.length);
      await engine.close();
    }
    // A prompt budget of 8 tokens a step: the requests join over six steps (a longer prompt alone).
    const staggered = createEngine(m, { parallel: 8, ctx: 64, prefillTokens: 8 });
    const prefilled: number[] = [];
    staggered.onStep((s) => {
      if (s.prefilled) prefilled.push(s.prefilled);
    });
    const got = await Promise.all(PROMPTS.map((prompt, i) => staggered.submit({ prompt, maxTokens: lens[i], temperature: 0 })));
    expect(prefilled).toEqual([1, 2, 1, 2, 1, 1]); // prompt lengths 3 | 7 1 | 5 | 6 2 | 4 | 9
    expect(got.map((r) => r.tokens)).toEqual(want);
    await staggered.close();
  });

  it('a seeded sampled request gives the same tokens whatever else is running', async () => {
    const m = randomModel(9);
    const req = { prompt: [3, 1, 4, 1, 5], maxTokens: 30, temperature: 1.1, topP: 0.9, seed: 1234 };
    const engine = createEngine(m, { parallel: 6, ctx: 64 });
    const alone = (await engine.submit(req)).tokens;
    // Joined mid-way by others (sampled unseeded, greedy, other seeds), some ending before it.
    const others = PROMPTS.slice(0, 5).map((prompt, i) => engine.submit({ prompt, maxTokens: 5 + 7 * i, temperature: i % 2 ? 0 : 0.8, seed: i === 2 ? undefined : i }));
    const mine = engine.submit(req);
    await new Promise((r) => setTimeout(r, 1));
    const late = engine.submit({ prompt: [2, 2, 2], maxTokens: 12 });
    expect((await mine).tokens).toEqual(alone);
    await Promise.all([...others, late]);
    await engine.close();
  });

  it('keeps live memory flat over many requests (buffers, and the wasm heap)', async () => {
    const m = randomModel(10);
    const engine = createEngine(m, { parallel: 4, ctx: 48 });
    const round = (k: number) => Promise.all(PROMPTS.map((prompt, i) => engine.submit({ prompt, maxTokens: 10 + ((i * 7 + k) % 20), temperature: 0.7, seed: k * 10 + i })));
    const heap = () => (nb.getBackend() as { memoryStats?: () => { liveBytes: number; heapBytes: number } }).memoryStats?.();
    await round(0); // warm-up
    await collectGarbage(); // tensors earlier tests left to the collector would be freed during the count
    const before = live(),
      heapBefore = heap();
    for (let k = 1; k <= 4; k++) {
      await round(k);
      expect(live()).toBe(before);
      if (heapBefore) expect(heap()).toEqual(heapBefore);
    }
    await engine.close();
  });
});
