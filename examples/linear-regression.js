// Linear regression, Keras style: learn y = 2x from four points, then predict x = 5 (about 10).
// Run: node examples/linear-regression.js
import { keras, tensor, manualSeed } from 'nabla';

manualSeed(0);
const xs = tensor([[1], [2], [3], [4]]);
const ys = tensor([[2], [4], [6], [8]]);

const model = new keras.Sequential([new keras.Dense(1, { inputShape: [1] })]);
model.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0.05 }), loss: 'mse' });
await model.fit(xs, ys, { epochs: 500, batchSize: 4, verbose: 0 });

const y5 = model.predict(tensor([[5]])).itemSync();
console.log(`prediction for x = 5: ${y5.toFixed(4)}`);
const [w, b] = model.parameters().map((p) => p.dataSync()[0]);
console.log(`learned y = ${w.toFixed(4)}·x + ${b.toFixed(4)}`);
