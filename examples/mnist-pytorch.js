// MNIST handwritten digits, PyTorch style: an nn.Module, a DataLoader, and the classic loop of
// optimizer.zeroGrad(), loss.backward(), optimizer.step().
// Run: node examples/mnist-pytorch.js [--epochs N] [--limit N]
import { nn, optim, data, manualSeed, Generator, noGrad, scope } from 'nabla';

/** The number after `name` on the command line, or the default. @type {<T extends number | undefined>(name: string, dflt: T) => number | T} */
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const epochs = arg('--epochs', 5),
  limit = arg('--limit', undefined);

class Net extends nn.Module {
  constructor() {
    super();
    this.fc1 = new nn.Linear(784, 512);
    this.fc2 = new nn.Linear(512, 10);
  }
  /** @param {import('nabla').Tensor} x images [B, 784] */
  forward(x) {
    return this.fc2.forward(nn.functional.relu(this.fc1.forward(x)));
  }
}

manualSeed(42);
const train = await data.loadMnist({ train: true, limit });
const test = await data.loadMnist({ train: false, limit: limit ? Math.ceil(limit / 6) : undefined });
const loader = new data.DataLoader(new data.TensorDataset(train.x, train.y), { batchSize: 128, shuffle: true, generator: new Generator(7) });

const model = new Net();
console.log(model.toString());
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });

for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  let total = 0,
    count = 0;
  const t0 = performance.now();
  for (const [x, y] of loader) {
    const loss = scope(() => {
      const l = nn.functional.crossEntropy(model.forward(x), y);
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      return l.detach();
    });
    total += loss.itemSync() * x.shape[0];
    count += x.shape[0];
    loss.dispose();
    x.dispose();
    y.dispose();
  }
  // Test accuracy: argmax of the logits against the labels, without the tape.
  model.eval();
  const acc = noGrad(() => scope(() => model.forward(test.x).argmax(1).eq(test.y).float().mean())).itemSync();
  console.log(`epoch ${epoch}: train loss ${(total / count).toFixed(4)}, test accuracy ${(100 * acc).toFixed(2)}%, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
