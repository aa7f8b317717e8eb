// Keras convolution, pooling, normalization, embedding and recurrent layers: channels-last shapes
// as Keras computes them, the same numbers as the nn layers they build, and training end to end.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
const { keras } = nb;

describe('keras conv, pooling, normalization and recurrent layers', () => {
  it('computes Keras output shapes (valid and same, strides) and parameter counts', () => {
    const model = new keras.Sequential([
      new keras.Input({ shape: [28, 28, 1] }),
      new keras.Conv2D(32, 3, { activation: 'relu' }),
      new keras.MaxPooling2D({ poolSize: 2 }),
      new keras.Conv2D(64, [3, 3], { activation: 'relu', padding: 'same', strides: 2 }),
      new keras.MaxPooling2D({ padding: 'same' }),
      new keras.BatchNormalization(),
      new keras.GlobalAveragePooling2D(),
      new keras.Dense(10, { activation: 'softmax' }),
    ]);
    const s = model.summary({ print: false });
    expect(s).toMatch(/\(None, 26, 26, 32\)\s+320/);
    expect(s).toMatch(/\(None, 13, 13, 32\)\s+0/);
    expect(s).toMatch(/\(None, 7, 7, 64\)\s+18,496/); // ceil(13 / 2) = 7
    expect(s).toMatch(/\(None, 4, 4, 64\)\s+0/); // ceil(7 / 2) = 4
    expect(s).toMatch(/\(None, 4, 4, 64\)\s+128/); // BatchNormalization: gamma, beta (+ running stats, not trained)
    expect(s).toMatch(/\(None, 64\)\s+0/);
    const y = model.predict(nb.rand([3, 28, 28, 1]));
    expect(y.shape).toEqual([3, 10]);
    expect(() => new keras.Sequential([new keras.Input({ shape: [28, 28] }), new keras.Conv2D(4, 3)]).summary({ print: false })).toThrow(
      'Conv2D: expects inputs of 3 dims per example (channels last), got [28,28]',
    );
  });

  it('Conv2D with padding same and stride 2 matches a hand-padded nn conv2d on NCHW', () => {
    nb.manualSeed(3);
    const model = new keras.Sequential([new keras.Input({ shape: [6, 5, 2] }), new keras.Conv2D(3, 3, { padding: 'same', strides: 2 })]);
    const x = nb.randn([2, 6, 5, 2]);
    const got = model.predict(x);
    expect(got.shape).toEqual([2, 3, 3, 3]);
    const sd = model.module!.stateDict();
    const w = Object.entries(sd).find(([k]) => k.endsWith('weight'))![1],
      b = Object.entries(sd).find(([k]) => k.endsWith('bias'))![1];
    // Keras 'same', stride 2: total padding max((3−1)·2 + 3 − 6, 0) = 1 rows (0 before, 1 after); columns (2·2 + 3 − 5) = 2 (1, 1)
    const nchw = nb.pad(nb.permute(x, [0, 3, 1, 2]), [1, 1, 0, 1]);
    const want = nb.permute(nb.nn.functional.conv2d(nchw, w, b, { stride: 2 }), [0, 2, 3, 1]);
    Array.from(got.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want.contiguous().dataSync()[i], 5));
  });

  it('LSTM returns the last step of the nn LSTM it builds, or the whole sequence', () => {
    nb.manualSeed(4);
    const last = new keras.Sequential([new keras.Input({ shape: [5, 3] }), new keras.LSTM(4)]);
    const x = nb.randn([2, 5, 3]);
    const y = last.predict(x);
    expect(y.shape).toEqual([2, 4]);
    const lstm = new nb.nn.LSTM(3, 4, { batchFirst: true });
    lstm.loadStateDict(Object.fromEntries(Object.entries(last.module!.stateDict()).map(([k, v]) => [k.split('.').pop()!, v])));
    const [out] = lstm.forward(x) as [nb.Tensor, unknown];
    const want = nb.select(out, 1, 4).dataSync();
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    const seq = new keras.Sequential([new keras.Input({ shape: [5, 3] }), new keras.GRU(6, { returnSequences: true }), new keras.SimpleRNN(2)]);
    expect(seq.summary({ print: false })).toMatch(/\(None, 5, 6\)\s+198/); // GRU: 3·(6·3 + 6·6 + 6 + 6), two biases as Keras reset_after
    expect(seq.predict(x).shape).toEqual([2, 2]);
  });

  it('an Embedding → LSTM → Dense text classifier learns which of two tokens a sequence contains', async () => {
    nb.manualSeed(5);
    const g = new nb.Generator(6);
    const n = 256,
      T = 6;
    const ids = nb.cast(nb.floor(nb.mul(nb.rand([n, T], { generator: g }), 8)), 'int32'); // tokens 0-7
    const label = nb.cast(nb.greater(nb.sum(nb.equal(ids, 7), 1), 0), 'int32'); // does the sequence contain a 7?
    const model = new keras.Sequential([new keras.Input({ shape: [T] }), new keras.Embedding(8, 8), new keras.LSTM(16), new keras.Dense(2, { activation: 'softmax' })]);
    model.compile({ optimizer: keras.optimizers.Adam({ learningRate: 0.02 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const h = await model.fit(ids, label, { epochs: 25, batchSize: 32, verbose: 0 });
    expect(h.history.accuracy.at(-1)!).toBeGreaterThan(0.95);
  });

  it('a small channels-last CNN fits, saves and reloads with the same predictions', async () => {
    nb.manualSeed(7);
    const g = new nb.Generator(8);
    // 8x8 images with a bright 2x2 block either in the left or the right half
    const n = 128;
    const imgs = new Float32Array(n * 64),
      labels = new Int32Array(n),
      u = g.uniformArray(2 * n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      const r = Math.floor(u[2 * i] * 7),
        c = (labels[i] ? 4 : 0) + Math.floor(u[2 * i + 1] * 3);
      for (const [dr, dc] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ])
        imgs[i * 64 + (r + dr) * 8 + c + dc] = 1;
    }
    const x = nb.tensor(imgs, { shape: [n, 8, 8, 1] }),
      y = nb.tensor(labels);
    const model = new keras.Sequential([
      new keras.Input({ shape: [8, 8, 1] }),
      new keras.Conv2D(4, 3, { activation: 'relu', padding: 'same' }),
      new keras.MaxPooling2D(),
      new keras.Flatten(),
      new keras.Dense(2, { activation: 'softmax' }),
    ]);
    model.compile({ optimizer: keras.optimizers.Adam({ learningRate: 0.03 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const h = await model.fit(x, y, { epochs: 15, batchSize: 32, verbose: 0 });
    expect(h.history.accuracy.at(-1)!).toBeGreaterThan(0.95);
    const dir = await tempDir('keras-cnn');
    await model.save(dir);
    const back = await keras.loadModel(dir);
    const a = model.predict(x).dataSync(),
      b = back.predict(x).dataSync();
    Array.from(a).forEach((v, i) => expect(b[i]).toBeCloseTo(v, 6));
  });
});
