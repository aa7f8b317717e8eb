// The Keras facade: build, compile, fit, evaluate, predict, summary, callbacks, NaN stop.
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
const { keras } = nb;

function blobs(n: number, seed: number): { x: nb.Tensor; y: nb.Tensor } {
  // Two separable 2-D clusters, labels 0/1.
  const g = new nb.Generator(seed);
  const x0 = nb.randn([n, 2], { generator: g }).sub(2),
    x1 = nb.randn([n, 2], { generator: g }).add(2);
  return { x: nb.concat([x0, x1]), y: nb.concat([nb.zeros([n], { dtype: 'int32' }), nb.ones([n], { dtype: 'int32' })]) };
}

describe('keras.Sequential', () => {
  it('clearSession starts the default layer names over', () => {
    new keras.Dense(3);
    keras.clearSession();
    expect([new keras.Dense(3).name, new keras.Dense(3).name, new keras.Dropout(0.1).name]).toEqual(['dense', 'dense_1', 'dropout']);
  });
  it('summary shows layers, output shapes and parameter counts like Keras', () => {
    keras.clearSession(); // the default names count from here (earlier files in this process made layers)
    const model = new keras.Sequential([
      new keras.Input({ shape: [784] }),
      new keras.Dense(512, { activation: 'relu' }),
      new keras.Dropout(0.2),
      new keras.Dense(10, { activation: 'softmax' }),
    ]);
    const s = model.summary({ print: false });
    expect(s).toMatch(/dense \(Dense\)\s+\(None, 512\)\s+401,920/);
    expect(s).toMatch(/dropout \(Dropout\)\s+\(None, 512\)\s+0/);
    expect(s).toMatch(/\(None, 10\)\s+5,130/);
    expect(s).toMatch(/Total params: 407,050/);
    // The built module is an nn.Sequential with PyTorch names.
    expect(Object.keys(model.module!.stateDict())).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
  });

  it('fits a classifier, reports history with validation, evaluates and predicts', async () => {
    nb.manualSeed(0);
    const { x, y } = blobs(100, 1);
    const model = new keras.Sequential([new keras.Dense(8, { activation: 'relu', inputShape: [2] }), new keras.Dense(2, { activation: 'softmax' })]);
    model.compile({ optimizer: keras.optimizers.Adam({ learningRate: 0.05 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const h = await model.fit(x, y, { epochs: 5, batchSize: 16, validationSplit: 0.2, verbose: 0, seed: 3 });
    expect(Object.keys(h.history)).toEqual(['loss', 'accuracy', 'val_loss', 'val_accuracy']);
    expect(h.history.loss).toHaveLength(5);
    expect(h.history.loss[4]).toBeLessThan(h.history.loss[0]);
    const r = await model.evaluate(x, y);
    expect(r.accuracy).toBeGreaterThan(0.95);
    const p = model.predict(x);
    expect(p.shape).toEqual([200, 2]);
    const sums = nb.sum(p, 1).dataSync();
    sums.forEach((s) => expect(s).toBeCloseTo(1, 5));
  });

  it('same seed, same run', async () => {
    const once = async () => {
      nb.manualSeed(5);
      const { x, y } = blobs(50, 2);
      const model = new keras.Sequential([new keras.Dense(4, { activation: 'tanh', inputShape: [2] }), new keras.Dropout(0.3), new keras.Dense(1, { activation: 'sigmoid' })]);
      model.compile({ optimizer: 'sgd', loss: 'binary_crossentropy', metrics: ['accuracy'] });
      const h = await model.fit(x, y.float(), { epochs: 3, batchSize: 10, verbose: 0 });
      return [h.history.loss, Array.from(model.parameters()[0].dataSync())];
    };
    expect(await once()).toEqual(await once());
  });

  it('EarlyStopping stops and restores the best weights; CSVLogger writes a row per epoch', async () => {
    nb.manualSeed(1);
    const { x, y } = blobs(40, 3);
    const flipped = nb.sub(1, y).int(); // validating on flipped labels: val_loss is best at epoch 1 and then rises
    const model = new keras.Sequential([new keras.Dense(2, { activation: 'softmax', inputShape: [2] })]);
    model.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0.5 }), loss: 'sparse_categorical_crossentropy' });
    const dir = await tempDir('nabla-keras-');
    const es = new keras.EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
    const csv = join(dir, 'log.csv');
    const h = await model.fit(x, y, { epochs: 30, batchSize: 80, validationData: [x, flipped], verbose: 0, callbacks: [es, new keras.CSVLogger(csv)] });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(es.bestEpoch).toBe(0);
    const r = await model.evaluate(x, flipped, { batchSize: 80 });
    expect(r.loss).toBeCloseTo(h.history.val_loss[0], 5);
    const rows = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(rows[0]).toBe('epoch,loss,val_loss');
    expect(rows).toHaveLength(4);
  });

  it('ModelCheckpoint saves the best epoch; loadModel rebuilds the model with the same outputs', async () => {
    nb.manualSeed(2);
    const { x, y } = blobs(30, 4);
    const model = new keras.Sequential([new keras.Input({ shape: [2] }), new keras.Dense(4, { activation: 'relu' }), new keras.Dense(2, { activation: 'softmax' })]);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const dir = join(await tempDir('nabla-keras-'), 'best');
    await model.fit(x, y, { epochs: 3, verbose: 0, validationData: [x, y], callbacks: [new keras.ModelCheckpoint({ filepath: dir, monitor: 'val_loss', saveBestOnly: true })] });
    const loaded = await keras.loadModel(dir);
    expect(loaded.summary({ print: false })).toBe(model.summary({ print: false }));
    const ck = await nb.io.loadCheckpoint(dir);
    expect(ck.trainerState).toHaveProperty('epoch');
    const again = await keras.loadModel(dir);
    expect(Array.from(again.predict(x).dataSync())).toEqual(Array.from(loaded.predict(x).dataSync()));
    await model.save(dir);
    const latest = await keras.loadModel(dir);
    expect(Array.from(latest.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
  });

  it("linear regression y = 2x (the articles' first example)", async () => {
    nb.manualSeed(0);
    const model = new keras.Sequential([new keras.Dense(1, { inputShape: [1] })]);
    model.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0.05 }), loss: 'mse' });
    await model.fit(nb.tensor([[1], [2], [3], [4]]), nb.tensor([[2], [4], [6], [8]]), { epochs: 500, batchSize: 4, verbose: 0 });
    expect(model.predict(nb.tensor([[5]])).itemSync()).toBeCloseTo(10, 1);
  });

  it('stops with epoch and step named when the loss becomes NaN', async () => {
    const x = nb.tensor([[1], [2], [NaN], [4]]),
      y = nb.tensor([[1], [2], [3], [4]]);
    const model = new keras.Sequential([new keras.Dense(1, { inputShape: [1] })]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(model.fit(x, y, { epochs: 2, batchSize: 1, shuffle: false, verbose: 0 })).rejects.toThrow('training stopped: the loss became NaN at epoch 1, step 3');
  });

  it('L2 kernel regularizer adds its penalty to the loss', async () => {
    nb.manualSeed(0);
    const model = new keras.Sequential([new keras.Dense(1, { inputShape: [1], kernelInitializer: 'ones', kernelRegularizer: keras.regularizers.l2(0.5) })]);
    model.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0 }), loss: 'mse' });
    const h = await model.fit(nb.tensor([[1]]), nb.tensor([[1]]), { epochs: 1, verbose: 0 });
    expect(h.history.loss[0]).toBeCloseTo(0.5, 6); // mse 0 + 0.5·1²
  });

  it('clear errors: no compile, wrong input shape, unknown names', async () => {
    const model = new keras.Sequential([new keras.Dense(1, { inputShape: [3] })]);
    await expect(model.fit(nb.zeros([2, 3]), nb.zeros([2, 1]))).rejects.toThrow('fit: call compile() first');
    model.compile({ optimizer: 'adam', loss: 'mse' });
    await expect(model.fit(nb.zeros([2, 4]), nb.zeros([2, 1]), { verbose: 0 })).rejects.toThrow('fit: input shape [2,4] does not match the model input [batch,3]');
    expect(() => model.compile({ loss: 'hinge_of_doom' })).toThrow(/unknown loss 'hinge_of_doom'/);
    expect(() => new keras.Dense(3, { activation: 'sparkle' }).build([2])).toThrow(/unknown name 'sparkle'/);
  });
});
