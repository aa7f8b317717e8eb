// What nabla writes, read by the Python libraries themselves: transformers loads savePretrained's
// GPT-2 and classifier directories, peft loads saveAdapter's LoRA adapter, tokenizers loads a trained
// BPE's tokenizer.json, and each gives nabla's outputs (tools/hf-check.py). Needs a Python with torch,
// transformers, peft and tokenizers, named by NABLA_HF_PYTHON; CI has none, so there it is skipped.
// (The other direction, nabla reading what transformers wrote, is the golden test in gpt.test.ts.)
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import type { GPTConfig } from '../../src/models/gpt-config.js';
import { GPTClassifier } from '../../src/models/gpt-classifier.js';
import { injectLora } from '../../src/nn/lora.js';
import { BPETokenizer } from '../../src/text/index.js';
import { tempDir } from '../helpers/tmp.js';
import { SHAKESPEARE_PATH } from '../helpers/corpus.js';

const python = process.env.NABLA_HF_PYTHON;
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = SHAKESPEARE_PATH;

const rows = (t: nb.Tensor): number[][] => t.tolistSync() as number[][];
const ids = (r: number[][]): nb.Tensor => nb.tensor(r, { dtype: 'int32' });

/** Every parameter of m (or those named by `only`) set to U(-scale, scale) from a seeded generator. */
function randomize(m: nb.nn.Module, seed: number, scale: number, only: (name: string) => boolean = () => true): void {
  const gen = new nb.Generator(seed);
  const sd: Record<string, nb.Tensor> = {};
  for (const [k, p] of m.namedParameters()) if (only(k)) sd[k] = nb.uniform([...p.shape], -scale, scale, { generator: gen, dtype: p.dtype });
  m.loadStateDict(sd, { strict: false });
  nb.dispose(sd);
}

const CONFIG: Partial<GPTConfig> = { vocabSize: 50, nPositions: 24, nEmbd: 16, nLayer: 2, nHead: 2, dropout: 0, bosTokenId: null, eosTokenId: null };

describe('Hugging Face libraries load what nabla writes', () => {
  it.skipIf(!python)(
    `transformers, peft and tokenizers give nabla's outputs${python ? '' : ' (skipped: set NABLA_HF_PYTHON to a Python with torch, transformers, peft and tokenizers)'}`,
    async () => {
      const dir = await tempDir('nabla-hf-');
      const spec: Record<string, unknown> = { tolerance: 1e-4 };

      // GPT-2 language model: logits and the greedy continuation.
      nb.manualSeed(5);
      const gpt = new GPT(CONFIG);
      randomize(gpt, 105, 0.3);
      gpt.eval();
      const prompt = [
        [3, 14, 15, 9, 26, 5],
        [1, 2, 3, 4, 5, 6],
      ];
      const lmDir = join(dir, 'lm');
      await gpt.savePretrained(lmDir);
      spec.causal_lm = {
        dir: lmDir,
        input_ids: prompt,
        logits: gpt.forward(ids(prompt)).logits.tolistSync(),
        max_new_tokens: 10,
        greedy: rows(gpt.generate(ids(prompt), { maxNewTokens: 10, temperature: 0 })),
      };

      // LoRA on every projection, with non-zero B (fresh adapters are the identity), saved for PEFT.
      const lora = injectLora(gpt, { r: 4, alpha: 8, dropout: 0.1, targetModules: ['c_attn', 'c_proj', 'c_fc'] });
      randomize(gpt, 106, 0.2, (k) => k.includes('lora_'));
      gpt.eval();
      const adapterDir = join(dir, 'adapter');
      await lora.saveAdapter(adapterDir);
      spec.peft = { base: lmDir, dir: adapterDir, input_ids: prompt, logits: gpt.forward(ids(prompt)).logits.tolistSync() };
      lora.unload();

      // Sequence classifier on the same trunk, right-padded rows (pad id 0 never occurs in the text).
      nb.manualSeed(7);
      const clf = GPTClassifier.fromLanguageModel(gpt, ['negative', 'neutral', 'positive']);
      randomize(clf, 107, 0.3, (k) => k.startsWith('score'));
      clf.eval();
      const padded = [
        [4, 8, 15, 16, 23, 42],
        [7, 7, 9, 0, 0, 0],
        [11, 0, 0, 0, 0, 0],
      ];
      const clfDir = join(dir, 'classifier');
      await clf.savePretrained(clfDir);
      spec.classifier = { dir: clfDir, input_ids: padded, labels: clf.labels, logits: clf.forward(ids(padded), [6, 3, 1]).logits.tolistSync() };

      // Byte-level BPE trained here on Shakespeare, saved as tokenizer.json.
      const text = readFileSync(corpus, 'utf8').slice(0, 200_000);
      const tok = BPETokenizer.train(text, { vocabSize: 600, specialTokens: ['<|endoftext|>'] });
      const tokFile = join(dir, 'tokenizer.json');
      await tok.save(tokFile);
      const texts = ['ROMEO:\nBut, soft! what light through yonder window breaks?', '  spaces   and\ttabs\n\n', 'naïve café — 東京 🎭', "it's <|endoftext|>the end", ''];
      const encoded = texts.map((s) => tok.encode(s));
      spec.tokenizer = { file: tokFile, texts, ids: encoded, decoded: encoded.map((e) => tok.decode(e)) };

      const specFile = join(dir, 'spec.json');
      await writeFile(specFile, JSON.stringify(spec));
      let out: string;
      try {
        ({ stdout: out } = await promisify(execFile)(python!, [join(root, 'tools/hf-check.py'), specFile], { maxBuffer: 1 << 24 }));
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; message: string };
        throw new Error(`tools/hf-check.py failed: ${err.stdout || ''}\n${(err.stderr || err.message).slice(-3000)}`);
      }
      const res = JSON.parse(out.trim().split('\n').pop()!);
      expect(res.causal_lm.max_abs_diff).toBeLessThan(1e-4);
      expect(res.causal_lm.greedy).toEqual((spec.causal_lm as { greedy: number[][] }).greedy);
      expect(res.peft.max_abs_diff).toBeLessThan(1e-4);
      expect(res.peft.merged_max_abs_diff).toBeLessThan(1e-4);
      expect(res.classifier.max_abs_diff).toBeLessThan(1e-4);
      expect(res.classifier.labels).toEqual(['negative', 'neutral', 'positive']);
      expect(res.tokenizer).toEqual({ ids_equal: true, decode_equal: true });
      expect(res.ok).toBe(true);
    },
    120_000,
  );
});
