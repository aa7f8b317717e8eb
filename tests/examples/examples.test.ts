// The articles' worked examples run as a user runs them (node examples/X.js, importing 'nabla').
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

const run = promisify(execFile);
const example = async (name: string, ...args: string[]) => (await run(process.execPath, [join(process.cwd(), 'examples', name), ...args], { maxBuffer: 1 << 24 })).stdout;

describe('examples', () => {
  it('linear regression learns y = 2x and predicts about 10 for x = 5', async () => {
    const out = await example('linear-regression.js');
    const y5 = Number(/prediction for x = 5: (-?[\d.]+)/.exec(out)![1]);
    expect(y5).toBeGreaterThan(9.8);
    expect(y5).toBeLessThan(10.2);
  });

  it('logistic regression with a PyTorch-style loop separates two clusters', async () => {
    const out = await example('logistic-regression.js', '--epochs', '100');
    expect(Number(/training accuracy: ([\d.]+)%/.exec(out)![1])).toBeGreaterThan(90);
  });

  it('the 2-3-1 binary classifier learns XOR', async () => {
    const out = await example('binary-classifier.js');
    const preds = /XOR predictions: (.*)/.exec(out)![1].split(' ').map(Number);
    expect(preds[0]).toBeLessThan(0.2);
    expect(preds[1]).toBeGreaterThan(0.8);
    expect(preds[2]).toBeGreaterThan(0.8);
    expect(preds[3]).toBeLessThan(0.2);
  });

  it('MNIST Keras style (short form)', async () => {
    const out = await example('mnist-keras.js', '--epochs', '1', '--limit', '6000');
    expect(out).toMatch(/Total params: 407,050/);
    expect(Number(/test accuracy ([\d.]+)%/.exec(out)![1])).toBeGreaterThan(85);
  });

  it('MNIST PyTorch style (short form)', async () => {
    const out = await example('mnist-pytorch.js', '--epochs', '1', '--limit', '6000');
    expect(Number(/test accuracy ([\d.]+)%/.exec(out)![1])).toBeGreaterThan(85);
  });
});
