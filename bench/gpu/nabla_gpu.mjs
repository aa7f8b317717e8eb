// nabla on webgpu: the measurements of bench/gpu/torch_ref.py, done the same way, one JSON line.
//   node bench/gpu/nabla_gpu.mjs [--tiny] [--shakespeare FILE [--minutes 5]]
// - matmul: n×n @ n×n float32 (n = 4096), TFLOP/s: products recorded back to back between two GPU syncs.
// - gpt: one training step of the `small-char` preset at batch 64, as src/recipes/gpt.ts runs it
//   (sampleBatch, forward + backward in a scope, the loss read, clip 1.0, AdamW step). ms/step.
// - mnist: one epoch of the 784-512-10 MLP, Adam, batch 128, on random data of MNIST's shape held
//   on the GPU, the loss read every 50 steps. Seconds.
// - shakespeare (with --shakespeare): `nabla train gpt`'s recipe on the small-char preset, with as
//   many steps as the measured step time fits into --minutes; validation loss at the end.
// --tiny: small sizes, for a software driver (SwiftShader) to check that everything runs.
import * as nb from '../../dist/src/index.js';
import { sampleBatch, trainGpt } from '../../dist/src/recipes/gpt.js';

const argv = process.argv.slice(2);
const TINY = argv.includes('--tiny');
/** @type {(name: string, dflt?: string | number) => string | number | undefined} */
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);

await nb.setBackend('webgpu'); // new tensors and models live on the GPU
const gpu = nb.webgpuBackend();
const sync = () => gpu.sync();

/** @param {number} n */
async function matmul(n) {
  const g = new nb.Generator(1);
  const a = nb.randn([n, n], { generator: g }),
    b = nb.randn([n, n], { generator: g });
  for (let i = 0; i < 3; i++) nb.matmul(a, b).dispose(); // compile, fill the buffer pool
  await sync();
  let reps = 1,
    s;
  for (;;) {
    // grow the batch until it lasts 0.5 s
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) nb.matmul(a, b).dispose();
    await sync();
    s = (performance.now() - t0) / 1000;
    if (s > 0.5 || TINY) break;
    reps = Math.min(1000, Math.max(2 * reps, Math.ceil((0.6 * reps) / s)));
  }
  a.dispose();
  b.dispose();
  const per = s / reps;
  return { n, ms: per * 1e3, tflops: (2 * n ** 3) / per / 1e12 };
}

/**
 * A training step as src/recipes/gpt.ts takes it: returns the loss.
 * @param {nb.models.GPT} model @param {nb.optim.Optimizer} opt @param {Int32Array} tokens @param {number} B @param {number} T @param {nb.Generator} gen
 */
function gptStepper(model, opt, tokens, B, T, gen) {
  return async () => {
    const l = nb.scope(() => {
      const [x, y] = sampleBatch(tokens, B, T, gen);
      const loss = /** @type {nb.Tensor} */ (model.forward(x, y).loss); // given targets, forward returns the loss
      loss.backward();
      return loss.detach();
    });
    const v = (await l.data())[0];
    l.dispose();
    nb.optim.clipGrads(model.parameters(), 1);
    opt.step();
    opt.zeroGrad();
    return v;
  };
}

/** @param {number} B @param {number} T @param {number} C @param {number} L @param {number} H @param {number} steps */
async function gpt(B, T, C, L, H, steps) {
  nb.manualSeed(0);
  const V = 65;
  const model = new nb.models.GPT({ ...nb.models.GPT_PRESETS['small-char'], vocabSize: V, nPositions: T, nEmbd: C, nLayer: L, nHead: H });
  model.train();
  const opt = model.configureOptimizer({ weightDecay: 0.1, lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8 });
  const gen = new nb.Generator(1);
  const tokens = Int32Array.from(gen.uniformArray(100_000), (u) => Math.floor(u * V)); // random text
  const step = gptStepper(model, opt, tokens, B, T, gen);
  let first, last;
  for (let i = 0; i < 3; i++) first = await step();
  await sync();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) last = await step();
  await sync();
  const s = (performance.now() - t0) / 1000 / steps;
  return { ms_per_step: s * 1e3, tokens_per_s: (B * T) / s, batch: B, context: T, steps, params: model.numParams(), loss_first: first, loss_last: last };
}

/** @param {number} n */
async function mnist(n) {
  nb.manualSeed(0);
  const g = new nb.Generator(2);
  const x = nb.rand([n, 784], { generator: g }),
    y = nb.randint(0, 10, [n], { generator: g });
  const model = new nb.nn.Sequential(new nb.nn.Linear(784, 512), new nb.nn.ReLU(), new nb.nn.Linear(512, 10));
  const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
  const epoch = async () => {
    const steps = Math.ceil(n / 128);
    let loss = NaN;
    for (let s = 0; s < steps; s++) {
      const i0 = s * 128,
        i1 = Math.min(n, i0 + 128);
      const l = nb.scope(() => {
        opt.zeroGrad();
        const out = nb.nn.functional.crossEntropy(model.forward(nb.slice(x, 0, i0, i1)), nb.slice(y, 0, i0, i1));
        out.backward();
        opt.step();
        return out.detach();
      });
      if (s % 50 === 0 || s === steps - 1) loss = (await l.data())[0];
      l.dispose();
    }
    return loss;
  };
  await epoch(); // warm-up: pipelines, buffer pool
  await sync();
  const t0 = performance.now();
  const loss = await epoch();
  await sync();
  return { seconds: (performance.now() - t0) / 1000, images: n, loss };
}

/** `nabla train gpt` on a text file for as many steps as fit into `minutes` at `msPerStep`. @param {string} text @param {number} minutes @param {number} msPerStep */
async function shakespeare(text, minutes, msPerStep) {
  const size = TINY ? { preset: 'tiny', batchSize: 4, context: 32 } : { preset: 'small-char', batchSize: 64 };
  const steps = Math.max(2, Math.floor((minutes * 60e3 * 0.95) / msPerStep));
  log(`shakespeare: ${steps} steps of ${size.preset} at ~${msPerStep.toFixed(1)} ms`);
  let trainSeconds = 0; // at the last step, before the final evaluation
  const r = await trainGpt({
    text,
    ...size,
    steps,
    lr: 1e-3,
    warmup: Math.min(100, Math.ceil(steps / 10)),
    evalEvery: steps,
    evalIters: TINY ? 2 : 20,
    sampleTokens: 0,
    seed: 1337,
    onStep: (i) => {
      trainSeconds = i.seconds;
      if (i.step % 500 === 0) log(`  step ${i.step}: loss ${i.loss.toFixed(3)}, ${i.tokensPerSecond.toFixed(0)} tok/s`);
    },
  });
  return { steps, val_loss: r.valLoss, train_loss: r.trainLoss, train_seconds: trainSeconds, seconds: r.seconds, minutes_budget: minutes };
}

const info = /** @type {Required<typeof gpu>} */ (gpu).info();
/** @type {Record<string, any>} */
const out = { peer: 'nabla-webgpu', adapter: info.adapter, source: info.source, node: process.version, tiny: TINY };
log(`nabla webgpu on ${JSON.stringify(info.adapter)} via ${info.source}`);
out.matmul = await matmul(TINY ? 256 : 4096);
log(`matmul ${JSON.stringify(out.matmul)}`);
out.gpt = await gpt(.../** @type {[number, number, number, number, number, number]} */ (TINY ? [4, 64, 128, 2, 4, 3] : [64, 256, 384, 6, 6, 20]));
log(`gpt ${JSON.stringify(out.gpt)}`);
out.mnist = await mnist(TINY ? 1280 : 60000);
log(`mnist ${JSON.stringify(out.mnist)}`);
const text = opt('--shakespeare');
if (text) {
  out.shakespeare = await shakespeare(String(text), Number(opt('--minutes', 5)), out.gpt.ms_per_step);
  log(`shakespeare ${JSON.stringify(out.shakespeare)}`);
}
console.log(JSON.stringify(out));
gpu.close();
process.exit(0);
