// The Llama family (Llama, Qwen2, Mistral): transformers' logits and greedy continuations on tiny
// random models (tests/fixtures/llama, made by tools/llama-golden.py), float16/bfloat16 and sharded
// files, the key/value cache against full recomputation, config.json parsing, savePretrained round
// trips, training, LoRA on the PEFT targets, and the serving slots against generate.
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nb from '../../src/index.js';
import { Llama } from '../../src/models/llama.js';
import { LLAMA_PRESETS, type LlamaConfig, llamaConfigFromHF, llamaConfigToHF } from '../../src/models/llama-config.js';
import { ropeInvFreq } from '../../src/models/llama-ops.js';
import type { LayerCache } from '../../src/models/generation.js';
import { fromPretrained, languageModelFrom } from '../../src/models/pretrained.js';
import { injectLora, loadAdapter, mergeAndUnload } from '../../src/nn/lora.js';
import { tempDir } from '../helpers/tmp.js';

const vals = (t: nb.Tensor): number[] => Array.from(t.dataSync());
const ids = (rows: number[][]): nb.Tensor => nb.tensor(rows, { dtype: 'int32' });
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/llama');

interface Golden {
  input_ids: number[][];
  logits: number[][][];
  loss: number;
  greedy: number[][];
  max_new_tokens: number;
  long?: { input_ids: number[][]; logits: number[][][] };
  variants?: Record<string, { rope_scaling: Record<string, unknown>; input_ids: number[][]; logits: number[][][] }>;
}
const golden = (name: string): Golden => JSON.parse(readFileSync(join(FIXTURES, name, 'golden.json'), 'utf8')) as Golden;

/** The largest |a − b| over two equally long lists. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A small random config: 2 layers, 4 query heads over 2 key/value heads, 16 wide. */
const SMALL: Partial<LlamaConfig> = { vocabSize: 23, nPositions: 24, nEmbd: 16, nLayer: 2, nHead: 4, nKvHead: 2, headDim: 4, nInner: 40, tieWeights: false };

/** Every parameter set to U(-scale, scale) from a seeded generator (init leaves zero biases and unit gains, which would hide bugs). */
function randomize(m: nb.nn.Module, seed: number, scale = 0.4, only: (name: string) => boolean = () => true): void {
  const gen = new nb.Generator(seed);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters()) if (only(k)) sd[k] = nb.uniform([...p.shape], -scale, scale, { generator: gen, dtype: p.dtype });
  m.loadStateDict(sd, { strict: false });
  nb.dispose(sd);
}

function smallModel(seed = 1, extra: Partial<LlamaConfig> = {}): Llama {
  nb.manualSeed(seed);
  const m = new Llama({ ...SMALL, ...extra });
  randomize(m, seed + 100);
  m.eval();
  return m;
}

const haveFixtures = existsSync(join(FIXTURES, 'mistral', 'golden.json'));
const skipNote = haveFixtures ? '' : ' (skipped: no tests/fixtures/llama; run tools/llama-golden.py with torch + transformers)';

describe('Llama family against transformers (tests/fixtures/llama)', () => {
  const cases: [string, string][] = [
    ['llama-tied', 'LlamaForCausalLM, tied, GQA, float32'],
    ['llama3-untied', 'LlamaForCausalLM, untied, llama3 rope scaling, head_dim 16, bfloat16 file'],
    ['qwen2', 'Qwen2ForCausalLM, q/k/v biases, one key/value head, float16 file'],
    ['mistral', 'MistralForCausalLM, sliding window 5, sharded file'],
  ];
  for (const [name, what] of cases) {
    it.skipIf(!haveFixtures)(`${name} (${what}): logits within 1e-4, the loss, and the greedy continuation${skipNote}`, async () => {
      const g = golden(name);
      const pre = await fromPretrained(join(FIXTURES, name));
      expect(pre.task).toBe('text-generation');
      const model = pre.model as Llama;
      expect(model).toBeInstanceOf(Llama);
      const x = ids(g.input_ids);
      const d = maxDiff(vals(model.forward(x).logits), g.logits.flat(2));
      console.log(`${name}: max |logit − transformers| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
      const T = g.input_ids[0].length;
      const inp = g.input_ids.map((r) => r.slice(0, T - 1)),
        tgt = g.input_ids.map((r) => r.slice(1));
      expect(model.forward(ids(inp), ids(tgt)).loss!.itemSync()).toBeCloseTo(g.loss, 4);
      // With the key/value cache (generate's default) and by full recomputation.
      expect(vals(model.generate(x, { maxNewTokens: g.max_new_tokens, temperature: 0 }))).toEqual(g.greedy.flat());
      expect(vals(model.generate(x, { maxNewTokens: g.max_new_tokens, temperature: 0, useCache: false }))).toEqual(g.greedy.flat());
      nb.dispose(Object.values(model.stateDict()));
    });
  }

  it.skipIf(!haveFixtures)(`rope scaling variants on the same weights: a 30-token sequence with default, linear and dynamic frequencies${skipNote}`, async () => {
    const g = golden('llama-tied');
    const base = await Llama.fromPretrained(join(FIXTURES, 'llama-tied'));
    const long = g.long!;
    const d = maxDiff(vals(base.forward(ids(long.input_ids)).logits), long.logits.flat(2));
    console.log(`llama-tied, 30 tokens: max diff ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
    for (const [type, v] of Object.entries(g.variants!)) {
      const json = { ...JSON.parse(readFileSync(join(FIXTURES, 'llama-tied', 'config.json'), 'utf8')), rope_scaling: v.rope_scaling };
      const m = new Llama(llamaConfigFromHF(json), { init: false });
      m.loadStateDict(base.stateDict());
      const dv = maxDiff(vals(m.forward(ids(v.input_ids)).logits), v.logits.flat(2));
      console.log(`llama-tied, ${type} rope scaling: max diff ${dv.toExponential(2)}`);
      expect(dv).toBeLessThan(1e-4);
    }
  });
});

describe('Llama: key/value cache', () => {
  it('generate with the cache equals full recomputation: greedy and seeded sampling, a batch, past the context', () => {
    const configs: Partial<LlamaConfig>[] = [{}, { slidingWindow: 6, nKvHead: 1 }, { nKvHead: 4, qkvBias: true, oBias: true, mlpBias: true }];
    configs.forEach((extra, i) => {
      const m = smallModel(2, extra);
      const prompt = [
        [3, 14, 15, 9, 2, 6],
        [1, 1, 2, 3, 5, 8],
      ];
      // 6 + 20 > nPositions 24: the window slides and the last steps recompute the last 24 tokens.
      const runs = [{ temperature: 0 }, ...(i === 0 ? [{ temperature: 0.9, topK: 10, topP: 0.95, repetitionPenalty: 1.2, seed: 7 }] : [])];
      for (const opts of runs) {
        const cached = vals(m.generate(prompt, { maxNewTokens: 20, ...opts }));
        const full = vals(m.generate(prompt, { maxNewTokens: 20, ...opts, useCache: false }));
        expect(cached, JSON.stringify(extra)).toEqual(full);
      }
    });
  });

  it('a chunk of several tokens after cached ones gives the logits of the whole sequence (the bottom-right causal and sliding-window masks)', () => {
    for (const extra of [{}, { slidingWindow: 4 }] as Partial<LlamaConfig>[]) {
      const m = smallModel(3, extra);
      const seq = [[4, 8, 15, 16, 22, 12, 7, 1, 9, 11, 3]];
      const full = nb.noGrad(() => m.forward(ids(seq)).logits); // (1, 11, V)
      const caches: LayerCache[] = m.model.layers.map(() => ({ k: null, v: null }));
      const V = m.config.vocabSize;
      nb.noGrad(() => {
        let at = 0;
        for (const n of [3, 1, 5, 2]) {
          const last = m.lastLogits(ids([seq[0].slice(at, at + n)]), caches);
          at += n;
          const want = vals(full).slice((at - 1) * V, at * V);
          expect(maxDiff(vals(last), want), `${JSON.stringify(extra)}: after ${at} tokens`).toBeLessThan(1e-5);
        }
      });
      expect(caches[0].k!.shape).toEqual([1, 2, 11, 4]); // nKvHead heads, not nHead: grouped-query attention keeps the cache small
      nb.dispose(caches.flatMap((c) => [c.k!, c.v!]));
    }
  });

  it('frees what it makes: live buffers return to where they were after generate and stream', async () => {
    const m = smallModel(4);
    const live = () => nb.getBackend().liveBuffers();
    const before = live();
    m.generate([[1, 2, 3]], { maxNewTokens: 5, temperature: 0 }).dispose();
    const streamed: number[] = [];
    for await (const id of m.stream([1, 2, 3], { maxNewTokens: 5, temperature: 0 })) streamed.push(id);
    expect(streamed).toHaveLength(5);
    expect(live()).toBe(before);
  });
});

describe('Llama: config.json', () => {
  const base = { model_type: 'llama', vocab_size: 50, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4 };

  it("reads transformers' defaults, rope_theta + rope_scaling (transformers 4) and rope_parameters (5)", () => {
    const c = llamaConfigFromHF(base);
    expect(c).toMatchObject({
      family: 'llama',
      nKvHead: 4,
      headDim: 4,
      nPositions: 2048,
      rmsNormEps: 1e-6,
      ropeTheta: 10000,
      ropeScaling: null,
      tieWeights: false,
      bosTokenId: 1,
      eosTokenId: 2,
    });
    const v4 = llamaConfigFromHF({ ...base, rope_theta: 500000, rope_scaling: { type: 'linear', factor: 4 } });
    expect(v4).toMatchObject({ ropeTheta: 500000, ropeScaling: { type: 'linear', factor: 4 } });
    const v5 = llamaConfigFromHF({
      ...base,
      rope_parameters: { rope_type: 'llama3', rope_theta: 5e5, factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    });
    expect(v5.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(v5.ropeTheta).toBe(5e5);
    expect(llamaConfigFromHF({ ...base, eos_token_id: [128001, 128008, 128009] })).toMatchObject({ eosTokenId: 128001, eosTokenIds: [128001, 128008, 128009] });
    const qwen = llamaConfigFromHF({ ...base, model_type: 'qwen2', use_sliding_window: true, sliding_window: 8, max_window_layers: 1 });
    expect(qwen).toMatchObject({ qkvBias: true, oBias: false, slidingWindow: 8, layerTypes: ['full_attention', 'sliding_attention'], bosTokenId: null });
    expect(llamaConfigFromHF({ ...base, model_type: 'qwen2', sliding_window: 8 }).slidingWindow).toBeNull(); // use_sliding_window false
    expect(llamaConfigFromHF({ ...base, model_type: 'mistral' }).slidingWindow).toBe(4096);
    expect(llamaConfigFromHF({ ...base, model_type: 'mistral', sliding_window: null }).slidingWindow).toBeNull();
  });

  it('refuses what it does not implement, naming the field', () => {
    const f = 'config.json';
    expect(() => llamaConfigFromHF({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(
      `${f}: rope_type "yarn" is not supported; supported: default, linear, dynamic, llama3`,
    );
    expect(() => llamaConfigFromHF({ ...base, hidden_act: 'gelu' })).toThrow(/hidden_act "gelu" is not supported/);
    expect(() => llamaConfigFromHF({ ...base, architectures: ['LlamaForSequenceClassification'] })).toThrow(/LlamaForCausalLM and LlamaModel/);
    expect(() => llamaConfigFromHF({ ...base, num_key_value_heads: 3 })).toThrow(/not a multiple of num_key_value_heads 3/);
    expect(() => llamaConfigFromHF({ ...base, partial_rotary_factor: 0.5 })).toThrow(/partial_rotary_factor 0.5 is not supported/);
    expect(() => llamaConfigFromHF({ ...base, final_logit_softcapping: 30 })).toThrow(/final_logit_softcapping/);
    expect(() => llamaConfigFromHF({ ...base, rope_scaling: { rope_type: 'linear' } })).toThrow(/factor must be a number >= 1/);
    expect(() => llamaConfigFromHF({ ...base, hidden_size: undefined })).toThrow(/hidden_size is missing/);
    expect(() => llamaConfigFromHF({ ...base, model_type: 'gemma' })).toThrow(/model_type "gemma" is not one of llama, qwen2, mistral/);
  });

  it('writes what it reads: config → config.json → config', () => {
    const configs: LlamaConfig[] = [
      { ...LLAMA_PRESETS.tiny },
      { ...LLAMA_PRESETS['smollm2-135m'] },
      {
        ...LLAMA_PRESETS.tiny,
        tieWeights: false,
        qkvBias: true,
        oBias: true,
        mlpBias: true,
        ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
      },
      { ...LLAMA_PRESETS.tiny, family: 'qwen2', qkvBias: true, slidingWindow: 16, layerTypes: ['full_attention', 'full_attention', 'sliding_attention', 'sliding_attention'] },
      { ...LLAMA_PRESETS.tiny, family: 'mistral', slidingWindow: 16, eosTokenId: 5, eosTokenIds: [5, 6], bosTokenId: 4 },
    ];
    for (const c of configs) {
      const back = llamaConfigFromHF(JSON.parse(JSON.stringify(llamaConfigToHF(c))));
      expect(back).toEqual(c.family === 'mistral' ? c : { ...c });
    }
    expect(() => llamaConfigToHF({ ...LLAMA_PRESETS.tiny, family: 'mistral', qkvBias: true })).toThrow(/a mistral config.json can only say no biases/);
  });

  it('rope frequencies: llama3 keeps the high ones, divides the low ones by factor and blends between', () => {
    const c: LlamaConfig = {
      ...LLAMA_PRESETS.tiny,
      headDim: 16,
      ropeTheta: 500000,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
    };
    const plain = ropeInvFreq({ ...c, ropeScaling: null }),
      scaled = ropeInvFreq(c);
    plain.forEach((p, i) => {
      const wavelen = (2 * Math.PI) / p;
      if (wavelen < 16) expect(scaled[i]).toBe(p);
      else if (wavelen > 64) expect(scaled[i]).toBeCloseTo(p / 8, 12);
      else expect(scaled[i] < p && scaled[i] > p / 8).toBe(true);
    });
  });
});

describe('Llama: Hugging Face directories', () => {
  it('savePretrained → fromPretrained gives the same logits, float32 exactly and bfloat16 to its rounding', async () => {
    for (const extra of [{ tieWeights: true }, { family: 'qwen2', qkvBias: true }, { family: 'mistral', slidingWindow: 5 }] as Partial<LlamaConfig>[]) {
      const m = smallModel(5, extra);
      const dir = await tempDir('nabla-llama-');
      await m.savePretrained(dir);
      const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      expect(json.architectures).toEqual([{ llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' }[m.config.family]]);
      const back = (await fromPretrained(dir)).model as Llama;
      expect(back.config).toEqual(m.config);
      const x = ids([[1, 5, 9, 2, 7, 3, 3, 0]]);
      expect(vals(back.forward(x).logits)).toEqual(vals(m.forward(x).logits));
      if (m.config.tieWeights) expect(back.lm_head.weight).toBe(back.model.embed_tokens.weight);
      const half = await tempDir('nabla-llama-bf16-');
      await m.savePretrained(half, { float32As: 'BF16' });
      expect(JSON.parse(readFileSync(join(half, 'config.json'), 'utf8')).dtype).toBe('bfloat16');
      const b16 = await Llama.fromPretrained(half);
      expect(maxDiff(vals(b16.forward(x).logits), vals(m.forward(x).logits))).toBeLessThan(0.05);
    }
  });

  it('checks the weights against config.json before reading them', async () => {
    const m = smallModel(6);
    const dir = await tempDir('nabla-llama-bad-');
    await m.savePretrained(dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, num_key_value_heads: 4 }));
    await expect(Llama.fromPretrained(dir)).rejects.toThrow(
      /'model.layers.0.self_attn.k_proj.weight' has shape \[8,16\] .* gives \[16,16\] \(hidden_size, num_key_value_heads, head_dim\)/,
    );
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, attention_bias: true }));
    await expect(Llama.fromPretrained(dir)).rejects.toThrow(/has no tensor 'model.layers.0.self_attn.q_proj.bias'.*attention_bias/);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
    await expect(Llama.fromPretrained(dir)).rejects.toThrow(/num_hidden_layers 3, but the weights in .* hold 2 layers/);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'falcon' }));
    await expect(fromPretrained(dir)).rejects.toThrow(/has model_type "falcon"; supported: gpt2, llama, qwen2, mistral/);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'gpt2' }));
    await expect(Llama.fromPretrained(dir)).rejects.toThrow(`Llama.fromPretrained: ${dir} holds a "gpt2" model; the Llama family's are llama, qwen2, mistral`);
    // A trunk saved without the `model.` prefix (LlamaModel.save_pretrained) loads too, when tied.
    const tied = smallModel(6, { tieWeights: true });
    const bare = await tempDir('nabla-llama-bare-');
    await tied.savePretrained(bare);
    const { readSafetensorsFile, saveSafetensors } = await import('../../src/io/safetensors.js');
    const file = await readSafetensorsFile(join(bare, 'model.safetensors'));
    await saveSafetensors(join(bare, 'model.safetensors'), Object.fromEntries([...file.tensors].map(([k, t]) => [k.replace(/^model\./, ''), t])));
    const x = ids([[1, 2, 3]]);
    expect(vals((await Llama.fromPretrained(bare)).forward(x).logits)).toEqual(vals(tied.forward(x).logits));
  });

  it.skipIf(!haveFixtures)(`languageModelFrom gives a Llama to callers that take one and names it to those that do not${skipNote}`, async () => {
    const dir = await tempDir('nabla-llama-tok-');
    const { cp } = await import('node:fs/promises');
    await cp(join(FIXTURES, 'qwen2'), dir, { recursive: true });
    await new nb.text.CharTokenizer([...'abcdefghijklmnopqrstuvwxyz .,']).save(join(dir, 'tokenizer.json'));
    await expect(languageModelFrom(dir, 'train gpt')).rejects.toThrow(`train gpt: ${dir} holds a 'qwen2' model (Qwen2ForCausalLM); train gpt supports model_type gpt2 only so far`);
    const { model, tokenizer } = await languageModelFrom(dir, 'generate', { llama: true });
    expect(model).toBeInstanceOf(Llama);
    const out = model.generate([tokenizer.encode('hello')], { maxNewTokens: 4, temperature: 0 });
    expect(out.shape).toEqual([1, 9]);
  });
});

describe('Llama: training and LoRA', () => {
  it('a few AdamW steps on one batch lower the loss; every parameter gets a gradient', () => {
    const m = smallModel(7, { tieWeights: true, qkvBias: true, oBias: true });
    m.train();
    const opt = m.configureOptimizer({ lr: 3e-2, weightDecay: 0 });
    const x = ids([
      [1, 2, 3, 4, 5, 6, 7, 8],
      [9, 8, 7, 6, 5, 4, 3, 2],
    ]);
    const y = ids([
      [2, 3, 4, 5, 6, 7, 8, 9],
      [8, 7, 6, 5, 4, 3, 2, 1],
    ]);
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) {
      opt.zeroGrad();
      nb.scope(() => {
        const { loss } = m.forward(x, y);
        loss!.backward();
        losses.push(loss!.itemSync());
      });
      if (step === 0) for (const [k, p] of m.namedParameters()) expect(p.grad, k).not.toBeNull();
      opt.step();
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    expect(losses[7]).toBeLessThan(losses[0] * 0.75);
  });

  it("LoRA on PEFT's Llama targets: the adapter saved in PEFT's layout loads back on the base (directly and through fromPretrained)", async () => {
    const m = smallModel(8);
    const baseDir = await tempDir('nabla-llama-base-');
    await m.savePretrained(baseDir);
    const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    const lora = injectLora(m, { r: 2, alpha: 4, targetModules: targets });
    expect(lora.loraModules()).toHaveLength(7 * m.config.nLayer);
    randomize(m, 9, 0.3, (k) => k.includes('lora_'));
    const x = ids([[3, 1, 4, 1, 5, 9, 2, 6]]);
    const adapted = vals(nb.noGrad(() => m.forward(x).logits));
    const adapterDir = await tempDir('nabla-llama-adapter-');
    await lora.saveAdapter(adapterDir, { baseModelNameOrPath: baseDir });
    const sd = lora.adapterStateDict();
    expect(Object.keys(sd)).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(Object.keys(sd)).toContain('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
    const fresh = await Llama.fromPretrained(baseDir);
    await loadAdapter(fresh, adapterDir);
    expect(maxDiff(vals(fresh.forward(x).logits), adapted)).toBeLessThan(1e-5);
    const viaDir = (await fromPretrained(adapterDir)).model;
    expect(viaDir).toBeInstanceOf(Llama);
    expect(maxDiff(vals((viaDir as Llama).forward(x).logits), adapted)).toBeLessThan(1e-5);
    mergeAndUnload(m);
    expect(maxDiff(vals(m.forward(x).logits), adapted)).toBeLessThan(1e-5);
    expect(Object.keys(m.stateDict()).every((k) => !k.includes('lora_'))).toBe(true);
  });
});
