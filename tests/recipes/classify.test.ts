// The finetune --task classify recipe as a library: it fine-tunes a GPT into a classifier without
// reading anything synchronously (so it runs on webgpu), and the same seed gives the same run.
import { describe, it, expect, beforeAll } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { CharTokenizer } from '../../src/text/index.js';
import { finetuneClassifier } from '../../src/recipes/classify.js';
import { tempDir } from '../helpers/tmp.js';

describe('finetuneClassifier', () => {
  let dir = '',
    data = '';
  beforeAll(async () => {
    dir = await tempDir('nabla-classify-');
    const words = ['the king is kind', 'my lord is fair', 'the duke is vile', 'this knight is cruel'];
    const tokenizer = CharTokenizer.fromText(words.join(' '));
    nb.manualSeed(1);
    await new GPT({ vocabSize: tokenizer.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, dropout: 0 }).savePretrained(join(dir, 'base'), { tokenizer });
    data = join(dir, 'data.jsonl');
    await writeFile(data, Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: words[i % 4], label: i % 4 < 2 ? 'good' : 'bad' })).join('\n'));
  });

  it("trains and evaluates with the backend's readSync gone (as on webgpu), and a seed repeats the run", async () => {
    const run = () => finetuneClassifier({ model: join(dir, 'base'), data, epochs: 2, batchSize: 4, lr: 3e-3, seed: 5 });
    const backend = nb.getBackend() as { readSync?: unknown };
    const readSync = backend.readSync;
    backend.readSync = undefined;
    let first: Awaited<ReturnType<typeof run>>;
    try {
      first = await run();
    } finally {
      backend.readSync = readSync;
    }
    expect(first.labels).toEqual(['bad', 'good']);
    expect(Number.isFinite(first.loss)).toBe(true);
    const again = await run();
    expect([again.loss, again.accuracy, again.f1]).toEqual([first.loss, first.accuracy, first.f1]);
  });
});
