// nabla as a benchmark peer, imported through the package as a user's script imports it: the js
// reference backend, wasm as `import 'nabla'` gives it ('all': no call at all) or on one thread
// (the public setThreads(1)), or webgpu. Same functions as the other peers: matmul, conv2d
// (forward and backward at MNIST-CNN sizes), one MNIST MLP training epoch (784-512-10, Adam, batch
// 128), and GPT `tiny` training steps. On webgpu the work is asynchronous: the clock starts and
// stops on a finished GPU (sync), and losses are read with `await` (reads are asynchronous only there).

import * as nb from 'nabla';
import { GPT_BENCH, timeTraining } from './gpt-common.mjs';

/** @import { BenchBatch, BenchWeights, MnistOptions, Peer, TrainingOptions } from './peer.js' */

/** Software Vulkan drivers (SwiftShader, lavapipe): fine for correctness, ~0.1-1 GFLOP/s. */
export const isSoftwareAdapter = (/** @type {any} */ a) => /swiftshader|llvmpipe|lavapipe/i.test(`${a?.architecture} ${a?.device} ${a?.description}`);

let gpu = false; // this process's peer runs on webgpu

/** @param {string} backend @param {number | 'all'} threads @returns {Peer} */
export function makePeer(backend, threads) {
  gpu = backend === 'webgpu';
  const name = backend === 'js' ? 'nabla js' : gpu ? 'nabla webgpu' : `nabla wasm ${threads === 'all' ? 'all threads' : `${threads} thread${threads > 1 ? 's' : ''}`}`;
  return {
    name,
    async init() {
      if (backend === 'wasm') {
        // The default backend, untouched for 'all'; the thread count is the only change otherwise.
        const b = nb.getBackend();
        if (b.name !== 'wasm') throw new Error(`the default backend here is ${b.name}, not wasm`);
        if (threads !== 'all') nb.setThreads(threads);
        const info = /** @type {Required<typeof b>} */ (b).info(); // the wasm backend has info()
        return { variant: info.variant, threads: info.threads };
      }
      const b = await nb.setBackend(backend);
      if (gpu) {
        const { adapter, source } = /** @type {Required<typeof b>} */ (b).info(); // so has webgpu's
        return { adapter, source, software: isSoftwareAdapter(adapter) };
      }
      return {};
    },
    matmul: (n, variant, minSeconds) => matmul(n, variant, minSeconds),
    conv2d: (minSeconds) => conv2d(minSeconds),
    mnistEpoch: (x, y, opts) => mnistEpoch(x, y, opts),
    mnistFit: (x, y, opts) => mnistFit(x, y, opts),
    gptTrain: (weights, batches, opts) => gptTrain(weights, batches, opts),
  };
}

/** Repeat fn until minSeconds have passed (after one warm-up call); seconds per call. @param {() => void} fn @param {number} minSeconds */
function timeIt(fn, minSeconds) {
  fn();
  let reps = 0;
  const t0 = performance.now();
  do {
    fn();
    reps++;
  } while (performance.now() - t0 < minSeconds * 1000);
  return (performance.now() - t0) / 1000 / reps;
}

/**
 * timeIt for the GPU: `reps` calls recorded back to back between two syncs, so the figure is the
 * GPU's throughput, not one submit-and-wait per call; reps grow until a batch lasts minSeconds.
 * @param {() => void} fn @param {number} minSeconds
 */
async function timeItGpu(fn, minSeconds) {
  const sync = () => nb.webgpuBackend().sync();
  fn(); // compiles the pipelines, fills the buffer pool
  await sync();
  for (let reps = 1; ; ) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    await sync();
    const s = (performance.now() - t0) / 1000;
    if (s >= minSeconds || reps >= 1 << 14) return s / reps;
    reps = Math.min(1 << 14, Math.max(2 * reps, Math.ceil((1.1 * reps * minSeconds) / Math.max(s, 1e-4))));
  }
}

/** @type {(fn: () => void, minSeconds: number) => number | Promise<number>} */
const time = (fn, minSeconds) => (gpu ? timeItGpu(fn, minSeconds) : timeIt(fn, minSeconds));
/** A scalar tensor's value: synchronous on the CPU backends, awaited on the GPU. */
const read = (/** @type {nb.Tensor} */ t) => (gpu ? t.item() : t.itemSync());

/** The operands of an n×n matmul variant and its flops. @param {number} n @param {string} variant */
export function operands(n, variant) {
  const g = new nb.Generator(1);
  switch (variant) {
    case 'plain':
      return { a: nb.randn([n, n], { generator: g }), b: nb.randn([n, n], { generator: g }), flops: 2 * n ** 3 };
    case 'transA':
      return { a: nb.randn([n, n], { generator: g }).t(), b: nb.randn([n, n], { generator: g }), flops: 2 * n ** 3 };
    case 'transB':
      return { a: nb.randn([n, n], { generator: g }), b: nb.randn([n, n], { generator: g }).t(), flops: 2 * n ** 3 };
    case 'batched': {
      const m = n / 2;
      return { a: nb.randn([8, m, m], { generator: g }), b: nb.randn([8, m, m], { generator: g }), flops: 8 * 2 * m ** 3 };
    }
    default:
      throw new Error(`unknown matmul variant ${variant}`);
  }
}

/** @param {number} n @param {string} variant @param {number} minSeconds */
async function matmul(n, variant, minSeconds) {
  const { a, b, flops } = operands(n, variant);
  const secondsPerOp = await time(() => nb.matmul(a, b).dispose(), minSeconds);
  a.dispose();
  b.dispose();
  return { secondsPerOp, flops };
}

/** Two conv layers of the MNIST CNN: [64,1,28,28] → 32 filters 3×3 same; [64,32,14,14] → 64 filters. @param {number} minSeconds */
async function conv2d(minSeconds) {
  const g = new nb.Generator(2);
  const layers = [
    { x: nb.randn([64, 1, 28, 28], { generator: g }), w: nb.randn([32, 1, 3, 3], { generator: g }) },
    { x: nb.randn([64, 32, 14, 14], { generator: g }), w: nb.randn([64, 32, 3, 3], { generator: g }) },
  ].map(({ x, w }) => ({ x: x.requiresGrad_(), w: w.requiresGrad_(), r: nb.randn([x.shape[0], w.shape[0], x.shape[2], x.shape[3]], { generator: g }) }));
  const fwd = () =>
    nb.scope(() => {
      for (const l of layers) nb.nn.functional.conv2d(l.x, l.w, null, { padding: 'same' });
    });
  const fwdBwd = () =>
    nb.scope(() => {
      for (const l of layers) {
        nb.sum(nb.mul(nb.nn.functional.conv2d(l.x, l.w, null, { padding: 'same' }), l.r)).backward();
        l.x.grad?.dispose();
        l.x.grad = null;
        l.w.grad?.dispose();
        l.w.grad = null;
      }
    });
  const forwardSeconds = await time(fwd, minSeconds);
  const both = await time(fwdBwd, minSeconds);
  return { forwardSeconds, backwardSeconds: Math.max(0, both - forwardSeconds) };
}

/**
 * One epoch of the 784-512-10 MLP with Adam; stops at maxSeconds and extrapolates. The loss is
 * read every `readEvery` steps (a software GPU reads every step, so the time cap can act).
 * @param {Float32Array} x @param {Int32Array} y @param {MnistOptions} opts
 */
async function mnistEpoch(x, y, { batchSize = 128, lr = 1e-3, maxSeconds = Infinity, readEvery = 50 } = {}) {
  nb.manualSeed(0);
  const model = new nb.nn.Sequential(new nb.nn.Linear(784, 512), new nb.nn.ReLU(), new nb.nn.Linear(512, 10));
  const opt = new nb.optim.Adam(model.parameters(), { lr });
  const n = y.length,
    steps = Math.ceil(n / batchSize);
  let loss = NaN,
    run = 0;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const i0 = s * batchSize,
      i1 = Math.min(n, i0 + batchSize);
    const l = nb.scope(() => {
      const xb = nb.tensor(x.subarray(i0 * 784, i1 * 784)).reshape([i1 - i0, 784]);
      const yb = nb.tensor(y.subarray(i0, i1));
      opt.zeroGrad();
      const out = nb.nn.functional.crossEntropy(model.forward(xb), yb);
      out.backward();
      opt.step();
      return out.detach();
    });
    // Read the loss every 50 steps, as a training loop that logs would.
    if (s % readEvery === 0 || s === steps - 1) loss = await read(l);
    l.dispose();
    run++;
    if ((performance.now() - t0) / 1000 > maxSeconds) break;
  }
  if (gpu) await nb.webgpuBackend().sync(); // steps recorded since the last read
  const seconds = (performance.now() - t0) / 1000;
  return { seconds: (seconds * steps) / run, stepsRun: run, extrapolated: run < steps, finalLoss: loss };
}

/** The same network trained Keras-style (Sequential.compile/fit) on the images given; seconds. @param {Float32Array} x @param {Int32Array} y @param {{ batchSize?: number }} opts */
async function mnistFit(x, y, { batchSize = 128 } = {}) {
  nb.manualSeed(0);
  const { keras } = nb;
  const model = new keras.Sequential([new keras.Input({ shape: [784] }), new keras.Dense(512, { activation: 'relu' }), new keras.Dense(10, { activation: 'softmax' })]);
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const xs = nb.tensor(x).reshape([y.length, 784]),
    ys = nb.tensor(y);
  const t0 = performance.now();
  const h = await model.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
  if (gpu) await nb.webgpuBackend().sync();
  return { seconds: (performance.now() - t0) / 1000, finalLoss: h.history.loss.at(-1) };
}

/** GPT `tiny` (vocabulary 65) from the shared weights, AdamW via configureOptimizer; tokens/s. @param {BenchWeights} weights @param {BenchBatch[]} batches @param {TrainingOptions} opts */
async function gptTrain(weights, batches, opts) {
  const c = GPT_BENCH;
  const model = new nb.models.GPT({ ...nb.models.GPT_PRESETS.tiny, vocabSize: c.vocabSize, nPositions: c.nPositions }, { init: false });
  const sd = Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, nb.tensor(w.data, { shape: w.shape })]));
  model.loadStateDict({ ...sd, 'lm_head.weight': sd['transformer.wte.weight'] });
  for (const t of Object.values(sd)) t.dispose();
  const opt = model.configureOptimizer({ lr: c.lr, weightDecay: c.weightDecay, betas: c.betas, eps: c.eps });
  const data = batches.map(({ x, y }) => ({
    x: nb.tensor(x, { shape: [c.batch, c.context], dtype: 'int32' }),
    y: nb.tensor(y, { shape: [c.batch, c.context], dtype: 'int32' }),
  }));
  const step = async (/** @type {{ x: nb.Tensor; y: nb.Tensor }} */ { x, y }) => {
    const l = nb.scope(() => {
      const loss = /** @type {nb.Tensor} */ (model.forward(x, y).loss); // given targets, forward returns the loss
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.detach();
    });
    const v = await read(l);
    l.dispose();
    return v;
  };
  const r = await timeTraining(step, data, opts);
  return { ...r, params: model.numParams() };
}
