// Logistic regression with a PyTorch-style loop: nn.Linear + sigmoid, binary cross-entropy,
// loss.backward() and optimizer.step(), on two Gaussian clusters.
// Run: node examples/logistic-regression.js [--epochs N]
import { nn, optim, randn, concat, zeros, ones, manualSeed, noGrad, scope, sigmoid, greater, mean, equal } from 'nabla';

const epochs = Number(process.argv[process.argv.indexOf('--epochs') + 1]) || 200;
manualSeed(1);
// Class 0 around (-1, -1), class 1 around (1, 1).
const n = 200;
const x = concat([randn([n, 2]).sub(1), randn([n, 2]).add(1)], 0);
const y = concat([zeros([n, 1]), ones([n, 1])], 0);

const model = new nn.Linear(2, 1);
const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
for (let epoch = 1; epoch <= epochs; epoch++) {
  const loss = scope(() => {
    const logits = model.forward(x);
    const l = nn.functional.binaryCrossEntropyWithLogits(logits, y);
    optimizer.zeroGrad();
    l.backward();
    optimizer.step();
    return l.detach();
  });
  if (epoch % 50 === 0 || epoch === epochs) console.log(`epoch ${epoch}: loss ${loss.itemSync().toFixed(4)}`);
  loss.dispose();
}
const acc = noGrad(() => mean(equal(greater(sigmoid(model.forward(x)), 0.5), y.bool()).float())).itemSync();
console.log(`training accuracy: ${(100 * acc).toFixed(1)}%`);
const [w, b] = [model.weight.tolistSync(), model.bias?.tolistSync()];
console.log(`weights ${JSON.stringify(w)}, bias ${JSON.stringify(b)}`);
