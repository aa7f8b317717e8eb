// MNIST handwritten digits, Keras style: Dense(512, relu) → Dropout → Dense(10, softmax),
// compile / fit / evaluate / predict.
// Run: node examples/mnist-keras.js [--epochs N] [--limit N]
import { keras, data, manualSeed } from 'nabla';

/** The number after `name` on the command line, or the default. @type {<T extends number | undefined>(name: string, dflt: T) => number | T} */
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const epochs = arg('--epochs', 5),
  limit = arg('--limit', undefined);

manualSeed(42);
const train = await data.loadMnist({ train: true, limit });
const test = await data.loadMnist({ train: false, limit: limit ? Math.ceil(limit / 6) : undefined });

const model = new keras.Sequential([
  new keras.Input({ shape: [784] }),
  new keras.Dense(512, { activation: 'relu' }),
  new keras.Dropout(0.2),
  new keras.Dense(10, { activation: 'softmax' }),
]);
model.summary();
model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
await model.fit(train.x, train.y, { epochs, batchSize: 128, validationSplit: 0.1 });

const result = await model.evaluate(test.x, test.y, { batchSize: 1000 });
console.log(`test loss ${result.loss.toFixed(4)}, test accuracy ${(100 * result.accuracy).toFixed(2)}%`);
const probs = model.predict(test.x.narrow(0, 0, 5));
console.log('first five predictions:', Array.from(probs.argmax(1).dataSync()).join(' '), 'true:', Array.from(test.y.narrow(0, 0, 5).dataSync()).join(' '));
