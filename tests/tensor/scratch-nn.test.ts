import { it } from 'vitest';
import * as nb from '../../src/index.js';
import { loadMnistRaw } from '../../src/data/mnist.js';

it('mlp speed', async () => {
  nb.manualSeed(0);
  const raw = await loadMnistRaw({ train: true });
  const n = 6400;
  const xs = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; i++) xs[i] = raw.images[i] / 255;
  const X = nb.tensor(xs, { shape: [n, 784] });
  const Y = nb.tensor(Int32Array.from(raw.labels.subarray(0, n)));
  const model = new nb.nn.Sequential(new nb.nn.Linear(784, 512), new nb.nn.ReLU(), new nb.nn.Linear(512, 10));
  console.log(model.toString());
  const params = model.parameters();
  const prof = nb.startProfiling();
  const t0 = performance.now();
  const B = 128;
  let live0 = 0;
  for (let s = 0; s < n / B; s++) {
    const loss = nb.scope(() => {
      const xb = X.narrow(0, s * B, B), yb = Y.narrow(0, s * B, B);
      const l = nb.nn.functional.crossEntropy(model.forward(xb), yb);
      l.backward();
      nb.noGrad(() => { for (const p of params) { p.assignStorage(p.sub(p.grad!.mul(0.1))); p.grad!.dispose(); p.grad = null; } });
      return l;
    });
    if (s === 2) live0 = nb.getBackend().liveBuffers();
    if (s % 10 === 0) console.log(s, loss.itemSync(), nb.getBackend().liveBuffers());
    loss.dispose();
  }
  const dt = (performance.now() - t0) / 1000;
  console.log([...prof.entries()].sort((a,b)=>b[1].ms-a[1].ms).map(([k,v])=>`${k} ${v.calls} ${v.ms.toFixed(0)}ms`).join('\n'));
  console.log('steps', n / B, 'sec', dt, 'epoch est', dt * 60000 / n, 'live', live0, nb.getBackend().liveBuffers());
});
