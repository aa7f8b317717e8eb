// What nabla writes for the Llama family, read by the Python libraries themselves: transformers'
// AutoModelForCausalLM loads savePretrained's Llama, Qwen2 and Mistral directories (float32 and
// bfloat16), peft loads saveAdapter's LoRA adapter on the seven projections, and each gives nabla's
// logits and greedy tokens (tools/llama-check.py). Needs a Python with torch, transformers and peft,
// named by NABLA_HF_PYTHON; CI has none, so there it is skipped. (The other direction, nabla reading
// what transformers wrote, is the golden test in llama.test.ts.)
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as nb from '../../src/index.js';
import { Llama } from '../../src/models/llama.js';
import type { LlamaConfig } from '../../src/models/llama-config.js';
import { injectLora } from '../../src/nn/lora.js';
import { tempDir } from '../helpers/tmp.js';

const python = process.env.NABLA_HF_PYTHON;
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

const ids = (r: number[][]): nb.Tensor => nb.tensor(r, { dtype: 'int32' });

/** Every parameter (or those named by `only`) set to U(-scale, scale) from a seeded generator. */
function randomize(m: nb.nn.Module, seed: number, scale: number, only: (name: string) => boolean = () => true): void {
  const gen = new nb.Generator(seed);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters())
    if (only(k)) sd[k] = nb.uniform([...p.shape], /norm\.weight$/.test(k) ? 0.7 : -scale, /norm\.weight$/.test(k) ? 1.3 : scale, { generator: gen });
  m.loadStateDict(sd, { strict: false });
  nb.dispose(sd);
}

const BASE: Partial<LlamaConfig> = { vocabSize: 60, nPositions: 64, nEmbd: 24, nLayer: 2, nHead: 4, nKvHead: 2, headDim: 6, nInner: 40, bosTokenId: null, eosTokenId: null };
const MODELS: Record<string, Partial<LlamaConfig>> = {
  llama: {
    tieWeights: false,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    headDim: 8,
    ropeTheta: 500000,
    ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 32 },
  },
  'llama-bf16': { tieWeights: true },
  qwen2: { family: 'qwen2', qkvBias: true, tieWeights: true, nKvHead: 1, slidingWindow: 3, layerTypes: ['full_attention', 'sliding_attention'] },
  mistral: { family: 'mistral', slidingWindow: 4, tieWeights: false, ropeScaling: { type: 'linear', factor: 2 } },
};

describe('Hugging Face libraries load the Llama family nabla writes', () => {
  it.skipIf(!python)(
    `transformers and peft give nabla's logits and greedy tokens${python ? '' : ' (skipped: set NABLA_HF_PYTHON to a Python with torch, transformers and peft)'}`,
    async () => {
      const dir = await tempDir('nabla-llama-hf-');
      const prompt = [
        [3, 14, 15, 9, 26, 5, 35, 8],
        [1, 2, 3, 4, 5, 6, 7, 8],
      ];
      const spec: { tolerance: number; models: Record<string, unknown>; peft?: unknown } = { tolerance: 1e-4, models: {} };
      let seed = 10;
      for (const [name, extra] of Object.entries(MODELS)) {
        nb.manualSeed(seed);
        let m = new Llama({ ...BASE, ...extra });
        randomize(m, seed++ + 100, 0.3);
        const out = join(dir, name);
        if (name.endsWith('bf16')) {
          await m.savePretrained(out, { float32As: 'BF16' });
          m = await Llama.fromPretrained(out); // the rounded weights, as transformers reads them
        } else await m.savePretrained(out);
        m.eval();
        spec.models[name] = {
          dir: out,
          input_ids: prompt,
          logits: m.forward(ids(prompt)).logits.tolistSync(),
          max_new_tokens: 10,
          greedy: m.generate(prompt, { maxNewTokens: 10, temperature: 0 }).tolistSync(),
        };
      }

      // LoRA on PEFT's seven Llama targets, with non-zero B (fresh adapters are the identity).
      const base = await Llama.fromPretrained(join(dir, 'llama'));
      const lora = injectLora(base, { r: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
      randomize(base, 99, 0.2, (k) => k.includes('lora_'));
      base.eval();
      const adapterDir = join(dir, 'adapter');
      await lora.saveAdapter(adapterDir);
      spec.peft = { base: join(dir, 'llama'), dir: adapterDir, input_ids: prompt, logits: base.forward(ids(prompt)).logits.tolistSync() };

      const specFile = join(dir, 'spec.json');
      await writeFile(specFile, JSON.stringify(spec));
      let out: string;
      try {
        ({ stdout: out } = await promisify(execFile)(python!, [join(root, 'tools/llama-check.py'), specFile], { maxBuffer: 1 << 24 }));
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; message: string };
        throw new Error(`tools/llama-check.py failed: ${err.stdout || ''}\n${(err.stderr || err.message).slice(-3000)}`);
      }
      const res = JSON.parse(out.trim().split('\n').pop()!);
      console.log(JSON.stringify({ models: Object.fromEntries(Object.entries(res.models).map(([k, v]) => [k, (v as { max_abs_diff: number }).max_abs_diff])), peft: res.peft }));
      for (const [name, r] of Object.entries(res.models) as [string, { max_abs_diff: number; greedy: number[][]; class: string }][]) {
        expect(r.max_abs_diff, name).toBeLessThan(1e-4);
        expect(r.greedy, name).toEqual((spec.models[name] as { greedy: number[][] }).greedy);
      }
      expect(res.models.qwen2.class).toBe('Qwen2ForCausalLM');
      expect(res.models.mistral.class).toBe('MistralForCausalLM');
      expect(res.peft.max_abs_diff).toBeLessThan(1e-4);
      expect(res.peft.merged_max_abs_diff).toBeLessThan(1e-4);
      expect(res.ok).toBe(true);
    },
    120_000,
  );
});
