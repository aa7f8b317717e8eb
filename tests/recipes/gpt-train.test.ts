// The train gpt recipe as a library: a run cut after a checkpoint and resumed ends exactly where the
// uninterrupted run ends (weights, optimizer, schedule and RNG all restored).
import { describe, it, expect, beforeAll } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { trainGpt, type GptTrainOptions } from '../../src/recipes/gpt.js';
import { tempDir } from '../helpers/tmp.js';
import { SHAKESPEARE_PATH } from '../helpers/corpus.js';

const corpus = SHAKESPEARE_PATH;

describe('trainGpt', () => {
  let dir = '',
    text = '';
  beforeAll(async () => {
    dir = await tempDir('nabla-gpt-train-');
    text = join(dir, 'slice.txt');
    await writeFile(text, (await readFile(corpus, 'utf8')).slice(0, 30_000));
  });
  const base = (): GptTrainOptions => ({
    text,
    layers: 1,
    heads: 2,
    dim: 32,
    context: 16,
    batchSize: 4,
    steps: 12,
    evalEvery: 6,
    evalIters: 2,
    sampleTokens: 8,
    warmup: 3,
    dropout: 0.1,
  });

  it('a run interrupted after its step-6 checkpoint and resumed matches the uninterrupted run', async () => {
    const whole = await trainGpt(base());
    const ckpt = join(dir, 'cut');
    await expect(
      trainGpt({
        ...base(),
        save: ckpt,
        onStep: (s) => {
          if (s.step === 7) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    const resumed = await trainGpt({ text, resume: ckpt });
    expect(resumed.step).toBe(12);
    expect(resumed.valLoss).toBe(whole.valLoss);
    const a = whole.model.stateDict(),
      b = resumed.model.stateDict();
    for (const k of Object.keys(a)) expect(Array.from(b[k].dataSync()), k).toEqual(Array.from(a[k].dataSync()));
    expect(resumed.history.map((h) => h.step)).toEqual([6, 12]);
  });

  it('stops with the step named when the loss becomes NaN', async () => {
    await expect(trainGpt({ ...base(), lr: 1e30, warmup: 0 })).rejects.toThrow(/loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+/);
  });

  it('keeps memory flat over training steps', async () => {
    const live: number[] = [];
    await trainGpt({
      ...base(),
      steps: 30,
      evalEvery: 30,
      sampleTokens: 0,
      onStep: (s) => {
        if (s.step >= 10) live.push(nb.getBackend().liveBuffers());
      },
    });
    expect(Math.max(...live)).toBe(Math.min(...live));
  });
});

describe('trainGpt on any text', () => {
  it('samples from a text without newlines (the sample prompt is a newline when the text has one)', async () => {
    const dir = await tempDir('nabla-gpt-nonl-');
    const text = join(dir, 'one-line.txt');
    await writeFile(text, 'to be or not to be, that is the question. '.repeat(50));
    const r = await trainGpt({ text, layers: 1, heads: 2, dim: 16, context: 8, batchSize: 2, steps: 2, evalEvery: 2, evalIters: 1, sampleTokens: 6 });
    expect(r.history.length).toBe(1);
    expect(typeof r.history[0].sample).toBe('string');
    expect(r.history[0].sample.length).toBeGreaterThan(0);
  });
});
