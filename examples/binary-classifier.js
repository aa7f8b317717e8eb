// The articles' small binary classifier: 2 inputs, 3 hidden neurons, 1 output, trained by plain
// gradient descent on XOR, with every step spelled out: forward, loss, backward, update.
// Run: node examples/binary-classifier.js
import { tensor, randn, manualSeed, matmul, sigmoid, tanh, mean, noGrad, scope, sub, mul } from 'nabla';

manualSeed(3);
const x = tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
]);
const y = tensor([[0], [1], [1], [0]]);

// y = f(Σ wᵢxᵢ + b) for each neuron; weights as leaf tensors that require grad.
const w1 = randn([2, 3]).requiresGrad_();
const b1 = randn([3]).mul(0.1).detach().requiresGrad_();
const w2 = randn([3, 1]).requiresGrad_();
const b2 = randn([1]).mul(0.1).detach().requiresGrad_();
const params = [w1, b1, w2, b2];
const lr = 0.5;

for (let step = 1; step <= 3000; step++) {
  const loss = scope(() => {
    const hidden = tanh(matmul(x, w1).add(b1));
    const out = sigmoid(matmul(hidden, w2).add(b2));
    const l = mean(mul(sub(out, y), sub(out, y))); // mean squared error
    l.backward();
    noGrad(() => {
      for (const p of params) {
        const grad = /** @type {import('nabla').Tensor} */ (p.grad); // set by backward()
        p.assignStorage(sub(p, mul(grad, lr))); // gradient descent: w ← w − η ∂L/∂w
        grad.dispose();
        p.grad = null;
      }
    });
    return l.detach();
  });
  if (step % 1000 === 0) console.log(`step ${step}: loss ${loss.itemSync().toFixed(5)}`);
  loss.dispose();
}
const pred = noGrad(() => sigmoid(matmul(tanh(matmul(x, w1).add(b1)), w2).add(b2)));
console.log(
  'XOR predictions:',
  Array.from(pred.dataSync())
    .map((v) => v.toFixed(3))
    .join(' '),
);
