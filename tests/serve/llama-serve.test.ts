// `nabla serve` over a Llama-family decoder: a small random Qwen2-shaped model (grouped-query
// attention, qkv bias) saved with a Qwen2-style byte-level BPE tokenizer and a ChatML template, as
// a Hugging Face directory. The official client's chat answers equal the model's own greedy
// generation of the rendered prompt, stopping at the template's <|im_end|>.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import * as nb from '../../src/index.js';
import { Llama } from '../../src/models/llama.js';
import { loadTokenizerFile } from '../../src/text/tokenizer.js';
import { tempDir } from '../helpers/tmp.js';
import { startServer, type TestServer } from './helpers.js';

const TOKENIZER = join(process.cwd(), 'tests/fixtures/text/qwen2-tokenizer.json');
// Qwen2's template, cut to what this test needs (system, user, assistant turns).
const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe('nabla serve on a Qwen2-shaped Llama', () => {
  let s: TestServer;
  let dir = '';
  beforeAll(async () => {
    dir = await tempDir('nabla-serve-llama-');
    nb.manualSeed(5);
    const model = new Llama({
      family: 'qwen2',
      vocabSize: 704,
      nPositions: 128,
      nEmbd: 32,
      nLayer: 2,
      nHead: 4,
      nKvHead: 2,
      headDim: 8,
      nInner: 64,
      qkvBias: true,
      tieWeights: true,
      bosTokenId: null,
      eosTokenId: 0,
    });
    // Larger weights than the init: varied greedy text instead of one token repeated.
    const scaled: Record<string, nb.Tensor> = {};
    for (const [k, p] of model.namedParameters()) if (p.shape.length === 2) scaled[k] = nb.noGrad(() => nb.mul(p, 8));
    model.loadStateDict(scaled, { strict: false });
    for (const t of Object.values(scaled)) t.dispose();
    await model.savePretrained(dir, { tokenizer: await loadTokenizerFile(TOKENIZER) });
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: CHATML, eos_token: '<|im_end|>', bos_token: null }));
    s = await startServer(dir, { name: 'qwen-tiny', parallel: 2 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('loads the Llama with its tokenizer and template, and answers chat as its own greedy generation', async () => {
    expect(s.served.model).toBeInstanceOf(Llama);
    expect(s.served.chatTemplate.from).toBe('tokenizer_config.json');
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'Where is my parcel? ¿Dónde está?' },
    ];
    const chat = await s.client.chat.completions.create({ model: 'qwen-tiny', messages, max_tokens: 12, temperature: 0 });
    const { tokenizer, model } = s.served;
    const prompt = tokenizer.encode(s.served.chatTemplate.render(messages, { addGenerationPrompt: true }), { addSpecialTokens: false });
    expect(chat.usage?.prompt_tokens).toBe(prompt.length);
    const out = nb.scope(() => Array.from(model.generate([prompt], { maxNewTokens: 12, temperature: 0 }).dataSync() as Int32Array).slice(prompt.length));
    const end = out.indexOf(tokenizer.tokenToId('<|im_end|>')!);
    const expected = tokenizer.decode(end < 0 ? out : out.slice(0, end), { skipSpecialTokens: true });
    expect(expected.length).toBeGreaterThan(0);
    expect(chat.choices[0].message.content).toBe(expected);
    expect(chat.choices[0].finish_reason).toBe(end < 0 ? 'length' : 'stop');
    // Streamed: the same text, chunk by chunk.
    const stream = await s.client.chat.completions.create({ model: 'qwen-tiny', messages, max_tokens: 12, temperature: 0, stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe(expected);
  });
});
