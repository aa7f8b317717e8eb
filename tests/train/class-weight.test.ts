// Class and sample weights in the training loss, as Keras applies them: per-sample losses times the
// weights, summed and divided by the batch size. Checked against losses and SGD steps by hand.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { fitLoop, classSampleWeights, weightedMeanLoss, type Batches } from '../../src/train/supervised.js';
import { Linear } from '../../src/nn/layers/linear.js';

const { keras } = nb;
const F = nb.nn.functional;
const i32 = (v: number[]) => nb.tensor(v, { dtype: 'int32' });
const vals = (t: nb.Tensor) => Array.from(t.dataSync());

function close(a: ArrayLike<number>, b: ArrayLike<number>, digits = 5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i], `element ${i}`).toBeCloseTo(b[i], digits);
}

/** Four samples, three features, labels 0, 1, 2, 1. */
const X = [
    [1, 0.5, -1],
    [0.2, -0.3, 0.8],
    [-1, 1, 0.1],
    [0.4, 0.9, -0.6],
  ],
  Y = [0, 1, 2, 1];

describe('class weights to sample weights', () => {
  it('looks up integer labels, argmaxes one-hot rows, rounds [N, 1] floats; unlisted classes weigh 1', () => {
    close(vals(classSampleWeights(i32([0, 1, 2, 1, 7]), { 1: 5, 2: 0.5 })), [1, 5, 0.5, 5, 1]);
    close(
      vals(
        classSampleWeights(
          nb.tensor([
            [0, 1, 0],
            [1, 0, 0],
          ]),
          [3, 4],
        ),
      ),
      [4, 3],
    );
    close(vals(classSampleWeights(nb.tensor([[0], [1], [1]]), { 0: 1, 1: 5 })), [1, 5, 5]);
    close(vals(classSampleWeights(nb.tensor([0.9, 0.2]), { 1: 2 })), [2, 1]);
    expect(() => classSampleWeights(i32([0]), { [-1]: 2 } as Record<number, number>)).toThrow(/keys must be class indices/);
    expect(() => classSampleWeights(nb.zeros([2, 3, 4]), { 0: 2 })).toThrow(/not one class per sample/);
  });

  it('weightedMeanLoss is Σ loss·w / N (not / Σw)', () => {
    expect(weightedMeanLoss(nb.tensor([1, 2, 3]), nb.tensor([1, 0, 2])).itemSync()).toBeCloseTo((1 + 6) / 3, 6);
    // [N, T] losses: weights broadcast per sample, divided by N·T.
    expect(
      weightedMeanLoss(
        nb.tensor([
          [1, 2],
          [3, 4],
        ]),
        nb.tensor([2, 1]),
      ).itemSync(),
    ).toBeCloseTo((2 + 4 + 3 + 4) / 4, 6);
    expect(() => weightedMeanLoss(nb.tensor([1, 2, 3]), nb.tensor([1, 2]))).toThrow(/one weight per sample/);
  });
});

/** A fresh softmax classifier with fixed weights, compiled with SGD. */
function classifier(lr: number, loss = 'sparse_categorical_crossentropy'): nb.keras.Sequential {
  nb.manualSeed(7);
  const m = new keras.Sequential([new keras.Dense(3, { inputShape: [3], activation: 'softmax' })]);
  m.compile({ optimizer: keras.optimizers.SGD({ learningRate: lr }), loss });
  return m;
}

describe('Keras fit({ classWeight, sampleWeight })', () => {
  it('a weight of 2 on every class doubles the loss', async () => {
    const x = nb.tensor(X),
      y = i32(Y);
    const plain = await classifier(0).fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
    const doubled = await classifier(0).fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, classWeight: { 0: 2, 1: 2, 2: 2 } });
    expect(doubled.history.loss[0]).toBeCloseTo(2 * plain.history.loss[0], 5);
  });

  it('weights on one class: the loss and the SGD step match the hand-weighted cross-entropy', async () => {
    const lr = 0.3,
      cw = { 1: 5 };
    const model = classifier(lr);
    model.build([3]);
    const [w, b] = model.parameters();
    const w0 = nb.tensor(vals(w), { shape: w.shape, requiresGrad: true }),
      b0 = nb.tensor(vals(b), { requiresGrad: true });
    // By hand: per-sample cross-entropy times [1, 5, 1, 5], summed, divided by 4.
    const logits = nb.add(nb.matmul(nb.tensor(X), nb.transpose(w0)), b0);
    const per = F.crossEntropy(logits, i32(Y), { reduction: 'none' });
    const hand = nb.div(nb.sum(nb.mul(per, nb.tensor([1, 5, 1, 5]))), 4);
    hand.backward();
    const h = await model.fit(nb.tensor(X), i32(Y), { epochs: 1, batchSize: 4, verbose: 0, classWeight: cw });
    expect(h.history.loss[0]).toBeCloseTo(hand.itemSync(), 5);
    close(
      vals(w),
      vals(w0).map((v, i) => v - lr * w0.grad!.dataSync()[i]),
    );
    close(
      vals(b),
      vals(b0).map((v, i) => v - lr * b0.grad!.dataSync()[i]),
    );
  });

  it('sampleWeight multiplies with classWeight; one-hot and binary labels work; weights of 1 change nothing for any loss', async () => {
    const x = nb.tensor(X),
      y = i32(Y);
    const per = vals(F.crossEntropy(classifier(0).build([3]).module!.forward(x).log(), y, { reduction: 'none' }));
    const both = await classifier(0).fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, classWeight: { 2: 3 }, sampleWeight: nb.tensor([1, 0, 2, 1]) });
    expect(both.history.loss[0]).toBeCloseTo((per[0] * 1 + 0 + per[2] * 2 * 3 + per[3]) / 4, 5);

    const oneHot = nb.data.toCategorical(Y, 3);
    const cat = await classifier(0, 'categorical_crossentropy').fit(x, oneHot, { epochs: 1, batchSize: 4, verbose: 0, classWeight: [1, 5, 1] });
    expect(cat.history.loss[0]).toBeCloseTo((per[0] + 5 * per[1] + per[2] + 5 * per[3]) / 4, 5);

    // Every Keras loss: all-ones sample weights give the unweighted loss (the per-sample losses average to it).
    const cases: [string, nb.Tensor, number][] = [
      ['sparse_categorical_crossentropy', y, 3],
      ['categorical_crossentropy', oneHot, 3],
      [
        'binary_crossentropy',
        nb.tensor([
          [1, 0, 1],
          [0, 0, 1],
          [1, 1, 0],
          [0, 1, 1],
        ]),
        3,
      ],
      [
        'mse',
        nb.tensor([
          [1, 0],
          [2, 1],
          [0, 3],
          [1, 1],
        ]),
        2,
      ],
      [
        'mae',
        nb.tensor([
          [1, 0],
          [2, 1],
          [0, 3],
          [1, 1],
        ]),
        2,
      ],
      [
        'huber',
        nb.tensor([
          [1, 0],
          [2, 1],
          [0, 3],
          [1, 1],
        ]),
        2,
      ],
    ];
    for (const [loss, target, units] of cases) {
      for (const activation of ['softmax', 'sigmoid', 'linear']) {
        const run = async (sw?: nb.Tensor) => {
          nb.manualSeed(11);
          const m = new keras.Sequential([new keras.Dense(units, { inputShape: [3], activation })]);
          m.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0 }), loss });
          return (await m.fit(x, target, { epochs: 1, batchSize: 4, verbose: 0, sampleWeight: sw })).history.loss[0];
        };
        if (loss.includes('crossentropy') && activation === 'linear') continue;
        expect(await run(nb.ones([4])), `${loss} ${activation}`).toBeCloseTo(await run(), 5);
      }
    }
  });

  it('validation is not class-weighted; sampleWeight splits with validationSplit and weighs evaluate', async () => {
    const x = nb.tensor([...X, ...X]),
      y = i32([...Y, ...Y]);
    const plain = await classifier(0).fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, validationSplit: 0.5 });
    const cw = await classifier(0).fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, validationSplit: 0.5, classWeight: { 0: 9 } });
    expect(cw.history.val_loss[0]).toBeCloseTo(plain.history.val_loss[0], 6);
    expect(cw.history.loss[0]).not.toBeCloseTo(plain.history.loss[0], 3);

    const sw = nb.tensor([1, 1, 1, 1, 0, 2, 0, 2]);
    const split = await classifier(0).fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, validationSplit: 0.5, sampleWeight: sw });
    const per = vals(F.crossEntropy(classifier(0).build([3]).module!.forward(nb.tensor(X)).log(), i32(Y), { reduction: 'none' }));
    expect(split.history.val_loss[0]).toBeCloseTo((2 * per[1] + 2 * per[3]) / 4, 5);
    const model = classifier(0);
    expect((await model.evaluate(nb.tensor(X), i32(Y), { sampleWeight: nb.tensor([0, 2, 0, 2]) })).loss).toBeCloseTo((2 * per[1] + 2 * per[3]) / 4, 5);
  });

  it('clear errors: a regression loss, a custom loss without per-sample values, a wrong sampleWeight length', async () => {
    const x = nb.tensor(X);
    await expect(classifier(0, 'mse').fit(x, nb.zeros([4, 3]), { verbose: 0, classWeight: { 0: 2 } })).rejects.toThrow(
      /classWeight needs a classification loss, got 'mean_squared_error'/,
    );
    const m = classifier(0);
    m.compile({ optimizer: 'sgd', loss: (yt: nb.Tensor, yp: nb.Tensor) => nb.mean(nb.square(nb.sub(yp, yt))) });
    await expect(m.fit(x, nb.zeros([4, 3]), { verbose: 0, classWeight: { 0: 2 } })).rejects.toThrow(/custom loss to return one value per sample/);
    await expect(classifier(0).fit(x, i32(Y), { verbose: 0, sampleWeight: nb.ones([3]) })).rejects.toThrow(/sampleWeight \[3\] has 3 values for 4 samples/);
    // A custom loss returning per-sample values is averaged for the plain loss and weighted for class weights.
    const c = classifier(0);
    c.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0 }), loss: (yt: nb.Tensor, yp: nb.Tensor) => nb.sum(nb.square(nb.sub(yp, yt)), -1) });
    const oh = nb.data.toCategorical(Y, 3);
    const l1 = (await c.fit(x, oh, { epochs: 1, batchSize: 4, verbose: 0 })).history.loss[0];
    const l2 = (await c.fit(x, oh, { epochs: 1, batchSize: 4, verbose: 0, sampleWeight: nb.full([4], 3) })).history.loss[0];
    expect(l2).toBeCloseTo(3 * l1, 5);
  });
});

describe('fitLoop({ classWeight }) and [x, y, sampleWeight] batches', () => {
  it('weights the per-sample loss; without sampleLoss it says what is missing', async () => {
    nb.manualSeed(3);
    const lin = new Linear(3, 3);
    const opt = new nb.optim.SGD(lin.parameters(), { lr: 0 });
    const batches = (withWeights: boolean): Batches => {
      const b = [nb.tensor(X), i32(Y), ...(withWeights ? [nb.tensor([1, 2, 3, 4])] : [])];
      return { length: 1, [Symbol.iterator]: () => [b][Symbol.iterator]() };
    };
    const fns = {
      module: lin,
      optimizer: opt,
      epochs: 1,
      forward: (x: nb.Tensor) => lin.forward(x),
      loss: (o: nb.Tensor, y: nb.Tensor) => F.crossEntropy(o, y),
      sampleLoss: (o: nb.Tensor, y: nb.Tensor) => F.crossEntropy(o, y, { reduction: 'none' }),
    };
    const per = vals(F.crossEntropy(lin.forward(nb.tensor(X)), i32(Y), { reduction: 'none' }));
    const h = await fitLoop({ ...fns, train: () => batches(true), classWeight: { 1: 10 } });
    expect(h.history.loss[0]).toBeCloseTo((per[0] + 2 * 10 * per[1] + 3 * per[2] + 4 * 10 * per[3]) / 4, 5);
    const { sampleLoss: _unused, ...noSample } = fns;
    void _unused;
    await expect(fitLoop({ ...noSample, train: () => batches(false), classWeight: { 1: 10 } })).rejects.toThrow(/need a per-sample loss \(StepFns.sampleLoss\)/);
  });
});
