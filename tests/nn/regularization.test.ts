// Weight penalties: values against plain sums, gradients by finite differences, module parameters
// with and without 1-D ones, and Keras' kernelRegularizer (l1: λ·Σ|w|, l2: λ·Σw²) in the loss and
// the update.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { l1Penalty, l2Penalty, l1l2Penalty } from '../../src/nn/regularization.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { Sequential } from '../../src/nn/layers/container.js';
import { BatchNorm1d } from '../../src/nn/layers/norm.js';

const { keras } = nb;
const f64 = { dtype: 'float64' as const };

const absSum = (t: nb.Tensor) => Array.from(t.dataSync()).reduce((s, v) => s + Math.abs(v), 0);
const sqSum = (t: nb.Tensor) => Array.from(t.dataSync()).reduce((s, v) => s + v * v, 0);

describe('l1Penalty / l2Penalty', () => {
  it('are λ·Σ|w| and λ·Σw² over a list of tensors', () => {
    const a = nb.tensor([
        [1, -2],
        [3, -4],
      ]),
      b = nb.tensor([0.5, -0.25]);
    expect(l1Penalty([a, b], 0.1).itemSync()).toBeCloseTo(0.1 * (10 + 0.75), 6);
    expect(l2Penalty([a, b], 0.1).itemSync()).toBeCloseTo(0.1 * (30 + 0.3125), 6);
    expect(l1l2Penalty([a, b], { l1: 0.1, l2: 0.01 }).itemSync()).toBeCloseTo(0.1 * 10.75 + 0.01 * 30.3125, 6);
    expect(l2Penalty([], 0.5).itemSync()).toBe(0);
    expect(() => l2Penalty([a], -1)).toThrow(/lambda must be a finite number >= 0/);
    expect(() => l1Penalty([nb.tensor([1], { dtype: 'int32' })], 1)).toThrow(/int32; penalties apply to floating-point weights/);
  });

  it("take a Module's parameters, optionally without 1-D ones (biases, norm scales)", () => {
    nb.manualSeed(1);
    const m = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 2));
    const [w1, b1, g, beta, w2, b2] = m.parameters();
    expect(l2Penalty(m, 0.5).itemSync()).toBeCloseTo(0.5 * [w1, b1, g, beta, w2, b2].reduce((s, p) => s + sqSum(p), 0), 5);
    expect(l2Penalty(m, 0.5, { skip1d: true }).itemSync()).toBeCloseTo(0.5 * (sqSum(w1) + sqSum(w2)), 5);
    expect(l1Penalty(m, 2, { skip1d: true }).itemSync()).toBeCloseTo(2 * (absSum(w1) + absSum(w2)), 5);
  });

  it('have the gradients 2λw and λ·sign(w) (gradcheck, and on module parameters)', () => {
    const w = nb.tensor(
        [
          [0.3, -1.2, 2.0],
          [-0.7, 0.1, 0.9],
        ],
        f64,
      ),
      v = nb.tensor([1.5, -0.4], f64);
    expect(nb.gradcheck((a, b) => l2Penalty([a, b], 0.3), [w, v]).ok).toBe(true);
    expect(nb.gradcheck((a, b) => l1Penalty([a, b], 0.3), [w, v]).ok).toBe(true);
    expect(nb.gradcheck((a, b) => l1l2Penalty([a, b], { l1: 0.2, l2: 0.7 }), [w, v]).ok).toBe(true);

    nb.manualSeed(2);
    const lin = new Linear(3, 2);
    l2Penalty(lin, 0.25, { skip1d: true }).backward();
    const W = Array.from(lin.weight.dataSync());
    Array.from(lin.weight.grad!.dataSync()).forEach((gv, i) => expect(gv).toBeCloseTo(2 * 0.25 * W[i], 6));
    expect(lin.bias!.grad).toBeNull();
    lin.weight.grad = null;
    l1Penalty(lin, 0.5).backward();
    Array.from(lin.weight.grad!.dataSync()).forEach((gv, i) => expect(gv).toBeCloseTo(0.5 * Math.sign(W[i]), 6));
  });

  it('an l2Penalty of wd/2 gives the same SGD step as weightDecay wd', () => {
    const run = (useDecay: boolean) => {
      nb.manualSeed(3);
      const lin = new Linear(2, 1);
      const opt = new nb.optim.SGD(lin.parameters(), { lr: 0.1, weightDecay: useDecay ? 0.2 : 0 });
      const x = nb.tensor([
          [1, 2],
          [3, -1],
        ]),
        y = nb.tensor([[1], [0]]);
      nb.scope(() => {
        let loss = nb.nn.functional.mseLoss(lin.forward(x), y);
        if (!useDecay) loss = nb.add(loss, l2Penalty(lin, 0.1));
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
      return [...lin.weight.dataSync(), ...lin.bias!.dataSync()];
    };
    const a = run(true),
      b = run(false);
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 6));
  });
});

describe('Keras kernelRegularizer', () => {
  it('l1(λ) adds λ·Σ|w| to the loss, and l2(λ) adds 2λw to the kernel gradient but nothing to the bias', async () => {
    nb.manualSeed(0);
    const l1 = new keras.Sequential([new keras.Dense(2, { inputShape: [3], kernelInitializer: 'ones', kernelRegularizer: keras.regularizers.l1(0.1) })]);
    l1.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0 }), loss: 'mse' });
    const x = nb.tensor([[1, 0, -1]]),
      y = nb.tensor([[0, 0]]);
    const h = await l1.fit(x, y, { epochs: 1, verbose: 0 });
    expect(h.history.loss[0]).toBeCloseTo(0 + 0.1 * 6, 6); // output 0 - 0 + bias 0; Σ|w| = 6
    // evaluate's loss includes the penalty too, as in Keras.
    expect((await l1.evaluate(x, y)).loss).toBeCloseTo(0.6, 6);

    const lr = 0.5,
      lam = 0.05;
    const l2 = new keras.Sequential([new keras.Dense(1, { inputShape: [2], kernelRegularizer: keras.regularizers.l2(lam) })]);
    l2.compile({ optimizer: keras.optimizers.SGD({ learningRate: lr }), loss: 'mse' });
    l2.build([2]);
    const [w, b] = l2.parameters();
    const w0 = Array.from(w.dataSync()),
      b0 = b.dataSync()[0];
    const xs = [[1, 2]],
      ys = [3];
    await l2.fit(nb.tensor(xs), nb.tensor([ys]), { epochs: 1, verbose: 0 });
    const out = w0[0] * xs[0][0] + w0[1] * xs[0][1] + b0,
      dOut = 2 * (out - ys[0]);
    const w1 = Array.from(w.dataSync());
    expect(w1[0]).toBeCloseTo(w0[0] - lr * (dOut * xs[0][0] + 2 * lam * w0[0]), 5);
    expect(w1[1]).toBeCloseTo(w0[1] - lr * (dOut * xs[0][1] + 2 * lam * w0[1]), 5);
    expect(b.dataSync()[0]).toBeCloseTo(b0 - lr * dOut, 5);
  });
});
