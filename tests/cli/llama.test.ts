// `nabla generate` and `nabla eval` on a Llama-family directory (a small random Qwen2-shaped model
// with a Qwen2-style tokenizer, saved as Hugging Face writes it): the CLI's greedy text and loss
// equal the model's own, computed here.
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import * as nb from '../../src/index.js';
import { Llama } from '../../src/models/llama.js';
import { evaluateText } from '../../src/recipes/gpt.js';
import { loadTokenizerFile, type Tokenizer } from '../../src/text/tokenizer.js';
import { nabla } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('nabla generate and eval on a Llama-family directory', () => {
  let dir = '';
  let model: Llama;
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    dir = await tempDir('nabla-cli-llama-');
    nb.manualSeed(7);
    model = new Llama({
      family: 'qwen2',
      vocabSize: 704,
      nPositions: 64,
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
    model.eval();
    tokenizer = await loadTokenizerFile(join(process.cwd(), 'tests/fixtures/text/qwen2-tokenizer.json'));
    await model.savePretrained(dir, { tokenizer });
  });

  it('generate --temperature 0 prints the greedy continuation; eval --text the loss', async () => {
    const text = join(dir, 'text.txt');
    await writeFile(text, (await readFile(join(process.cwd(), 'data/tinyshakespeare.txt'), 'utf8')).slice(0, 600));
    const [g, e] = await Promise.all([
      nabla('generate', dir, '--prompt', 'First Citizen:', '--max-new-tokens', '8', '--temperature', '0', '--json'),
      nabla('eval', dir, '--text', text, '--json'),
    ]);
    expect(g.code, g.stderr).toBe(0);
    expect(e.code, e.stderr).toBe(0);
    const prompt = tokenizer.encode('First Citizen:');
    const ids = nb.scope(() => Array.from(model.generate([prompt], { maxNewTokens: 8, temperature: 0 }).dataSync() as Int32Array).slice(prompt.length));
    expect(JSON.parse(g.stdout.trim().split('\n').at(-1)!).text).toBe(tokenizer.decode(ids));
    const mine = await evaluateText(model, tokenizer, await readFile(text, 'utf8'));
    const theirs = JSON.parse(e.stdout.trim().split('\n').at(-1)!);
    expect(theirs.tokens).toBe(mine.tokens);
    expect(theirs.loss).toBeCloseTo(mine.loss, 4);
  });
});
