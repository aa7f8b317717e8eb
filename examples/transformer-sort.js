// Sorting with a Transformer encoder: the input is a sequence of T digits (0-9) and the model
// outputs, at each position t, the t-th smallest digit, i.e. the sorted sequence, as T independent
// 10-way classifications. Nothing tells a position what its neighbours hold: attention has to
// compare every digit with every other to count how many are smaller.
//
// Model: token embedding + learned positional embedding → nn.TransformerEncoder (2 pre-norm
// layers, dModel 64, 4 heads, feed-forward 128, batch-first, final LayerNorm) → Linear to 10 logits per position. Trained with AdamW (warm-up
// then cosine decay) on fresh random batches; evaluated on a held-out set of sequences.
// Result (defaults: 400 steps of 64 sequences, seed 0, wasm backend): held-out token accuracy 99.99%,
// sequences fully right 99.90% (of 2000; seed 1: 100%), against 33% per token for a model blind to
// the input; 112 s on 2 CPU cores shared with other jobs (60 s of CPU time). About 95% of
// sequences are right by step 200.
// Run: node examples/transformer-sort.js [--steps N] [--batch N] [--len T] [--test N] [--seed N]
import * as nb from 'nabla';

/** The number after `name` on the command line, or the default. @type {<T extends number | undefined>(name: string, dflt: T) => number | T} */
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const steps = arg('--steps', 400),
  batch = arg('--batch', 64),
  T = arg('--len', 8),
  testSize = arg('--test', 2000),
  seed = arg('--seed', 0);
const VOCAB = 10,
  D_MODEL = 64,
  HEADS = 4,
  LAYERS = 2,
  FF = 128,
  LOG_EVERY = 100;

/** A small seeded generator of integers (mulberry32) for the data; the model's init uses nb.manualSeed. @param {number} s */
function rng(s) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n random digit sequences and their sorted versions, as int32 tensors [n, T]. @param {number} n @param {() => number} rand */
function makeBatch(n, rand) {
  const x = new Int32Array(n * T),
    y = new Int32Array(n * T);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: T }, () => Math.floor(rand() * VOCAB));
    x.set(row, i * T);
    y.set(
      row.sort((a, b) => a - b),
      i * T,
    );
  }
  return { x: nb.tensor(x, { shape: [n, T], dtype: 'int32' }), y: nb.tensor(y, { shape: [n, T], dtype: 'int32' }) };
}

class Sorter extends nb.nn.Module {
  constructor() {
    super();
    this.tok_emb = new nb.nn.Embedding(VOCAB, D_MODEL);
    this.pos_emb = new nb.nn.Embedding(T, D_MODEL);
    const layer = new nb.nn.TransformerEncoderLayer(D_MODEL, HEADS, { dimFeedforward: FF, dropout: 0, batchFirst: true, normFirst: true });
    this.encoder = new nb.nn.TransformerEncoder(layer, LAYERS, { norm: new nb.nn.LayerNorm(D_MODEL) });
    this.head = new nb.nn.Linear(D_MODEL, VOCAB);
  }
  /** idx [B, T] int32 → logits [B, T, VOCAB] @param {nb.Tensor} idx */
  forward(idx) {
    const pos = nb.arange(0, idx.shape[1]);
    const h = nb.add(this.tok_emb.forward(idx), this.pos_emb.forward(pos)); // (B, T, C)
    return this.head.forward(this.encoder.forward(h)); // (B, T, VOCAB)
  }
}

/** Token and sequence accuracy of the predictions [n, T] against the targets [n, T]. @param {nb.Tensor} pred @param {nb.Tensor} y */
function accuracy(pred, y) {
  const p = pred.dataSync(),
    t = y.dataSync(),
    n = y.shape[0];
  let tokens = 0,
    seqs = 0;
  for (let i = 0; i < n; i++) {
    let all = true;
    for (let j = 0; j < T; j++) {
      if (p[i * T + j] === t[i * T + j]) tokens++;
      else all = false;
    }
    if (all) seqs++;
  }
  return { token: tokens / (n * T), seq: seqs / n };
}

nb.manualSeed(seed);
const model = new Sorter();
console.log(`Sorter: ${model.numParams().toLocaleString('en-US')} parameters, sequences of ${T} digits, backend ${nb.getBackend().name}`);
const opt = new nb.optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.01 });
const sched = nb.optim.cosineWithWarmup(opt, { warmupSteps: Math.min(100, Math.floor(steps / 10)), totalSteps: steps, minLr: 1e-4 });
const trainRand = rng(seed * 2 + 1),
  test = makeBatch(testSize, rng(seed * 2 + 2));

const evaluate = () => {
  model.eval();
  const pred = nb.noGrad(() => nb.scope(() => nb.argmax(model.forward(test.x), -1)));
  const acc = accuracy(pred, test.y);
  pred.dispose();
  model.train();
  return acc;
};

const t0 = performance.now();
let runLoss = 0;
for (let step = 1; step <= steps; step++) {
  const { x, y } = makeBatch(batch, trainRand);
  const loss = nb.scope(() => {
    const logits = model.forward(x); // (B, T, VOCAB)
    const l = nb.nn.functional.crossEntropy(nb.reshape(logits, [-1, VOCAB]), nb.reshape(y, [-1]));
    opt.zeroGrad();
    l.backward();
    nb.optim.clipGradNorm(model.parameters(), 1.0);
    opt.step();
    return l.detach();
  });
  sched.step();
  runLoss += loss.itemSync();
  loss.dispose();
  x.dispose();
  y.dispose();
  if (step % LOG_EVERY === 0 || step === steps) {
    const every = step % LOG_EVERY === 0 ? LOG_EVERY : step % LOG_EVERY;
    const acc = evaluate();
    console.log(
      `step ${step}: train loss ${(runLoss / every).toFixed(4)}, held-out token accuracy ${(100 * acc.token).toFixed(2)}%, ` +
        `sequences ${(100 * acc.seq).toFixed(2)}%, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    runLoss = 0;
  }
}

// What a model that ignores the input would get: the most frequent digit at each sorted position.
const ty = test.y.dataSync();
let base = 0;
for (let j = 0; j < T; j++) {
  const counts = new Array(VOCAB).fill(0);
  for (let i = 0; i < testSize; i++) counts[ty[i * T + j]]++;
  base += Math.max(...counts);
}
const acc = evaluate();
console.log(`baseline token accuracy ${((100 * base) / (testSize * T)).toFixed(2)}% (the most frequent digit at each position)`);
console.log(`token accuracy ${(100 * acc.token).toFixed(2)}%`);
console.log(`sequence accuracy ${(100 * acc.seq).toFixed(2)}%`);
console.log(`time ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// A few held-out examples.
model.eval();
const show = makeBatch(5, rng(seed + 99));
const pred = nb.noGrad(() => nb.scope(() => nb.argmax(model.forward(show.x), -1)));
const xs = show.x.dataSync(),
  ps = pred.dataSync(),
  ys = show.y.dataSync();
for (let i = 0; i < 5; i++) {
  const row = (/** @type {nb.TypedArray} */ a) => Array.from(a.subarray(i * T, (i + 1) * T)).join(' ');
  console.log(`input ${row(xs)} → predicted ${row(ps)}${row(ps) === row(ys) ? '' : `  (sorted: ${row(ys)})`}`);
}
