// The character-level LSTM example, run as a user runs it (node examples/char-lstm.js, importing
// 'nabla'), in short form: a slice of Tiny Shakespeare, a small model, a few dozen steps.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

const run = promisify(execFile);

describe('char-lstm example', () => {
  it('learns well below the uniform loss and prints a sample of the requested length', async () => {
    const prompt = 'ROMEO:\n';
    const { stdout: out } = await run(
      process.execPath,
      [
        join(process.cwd(), 'examples', 'char-lstm.js'),
        '--chars',
        '200000',
        '--steps',
        '60',
        '--seq',
        '32',
        '--batch',
        '16',
        '--hidden',
        '64',
        '--embed',
        '16',
        '--lr',
        '0.01',
        '--log',
        '20',
        '--sample',
        '120',
        '--prompt',
        prompt,
        // One thread: matrices this small gain nothing from the worker pool, which a busy machine stalls.
        '--threads',
        '1',
      ],
      { maxBuffer: 1 << 24, timeout: 60_000 },
    );

    const vocab = Number(/vocabulary of (\d+)/.exec(out)![1]);
    const uniform = Math.log(vocab);
    expect(Number(/uniform prediction loss ln\(\d+\) = ([\d.]+)/.exec(out)![1])).toBeCloseTo(uniform, 3);
    const train = [...out.matchAll(/step (\d+)\/60: train loss ([\d.]+)/g)].map((m) => Number(m[2]));
    expect(train).toHaveLength(3);
    expect(train[2]).toBeLessThan(train[0]);
    // predicting every character as equally likely costs ln(vocab) ≈ 4.1; 60 steps reach about 2.9
    const [, val, ppl] = /validation loss ([\d.]+), perplexity ([\d.]+)/.exec(out)!.map(Number);
    expect(val).toBeLessThan(uniform - 0.7);
    expect(ppl).toBeCloseTo(Math.exp(val), 1);

    const sample = /--- sample: 120 characters at temperature 0\.8 ---\n([\s\S]*)\n--- end of sample ---/.exec(out)![1];
    expect(sample.startsWith(prompt)).toBe(true);
    expect(sample.length).toBe(prompt.length + 120);
    expect(/[a-z]{2,}/.test(sample.slice(prompt.length))).toBe(true); // letters, not only spaces or one symbol
  });
});
