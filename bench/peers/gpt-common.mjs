// The GPT training benchmark's shared inputs, built without any tensor library so every peer
// starts from the same numbers: the `tiny` GPT-2 config (vocabulary 65), its initial weights
// (GPT-2's init: N(0, 0.02), c_proj N(0, 0.02/√(2·nLayer)), zero biases, LayerNorm 1 and 0) by
// Hugging Face name and layout (Conv1D weights [in, out]), and a few token batches drawn from a
// seeded Markov chain, so the loss can fall from ln 65 ≈ 4.17 within a few steps.

/** @import { BenchBatch, BenchWeights, TrainingOptions, TrainingResult } from './peer.js' */

export const GPT_BENCH = {
  vocabSize: 65,
  nPositions: 64,
  nEmbd: 128,
  nLayer: 4,
  nHead: 4,
  batch: 32,
  context: 64,
  lr: 1e-3,
  betas: /** @type {[number, number]} */ ([0.9, 0.95]),
  eps: 1e-8,
  weightDecay: 0.1,
  layerNormEps: 1e-5,
  batches: 4,
};

/** mulberry32: a small seeded uniform generator in [0, 1). @param {number} seed */
function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n normal samples of deviation std (Box-Muller). @param {() => number} rand @param {number} n @param {number} std */
function normal(rand, n, std) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand())),
      th = 2 * Math.PI * rand();
    out[i] = r * Math.cos(th) * std;
    if (i + 1 < n) out[i + 1] = r * Math.sin(th) * std;
  }
  return out;
}

/** Initial weights by HF name: { name: { shape, data: Float32Array } } (lm_head is tied to wte and not listed). @returns {BenchWeights} */
export function gptWeights(c = GPT_BENCH, seed = 1234) {
  const rand = uniform(seed),
    C = c.nEmbd,
    I = 4 * C,
    /** @type {BenchWeights} */
    w = {};
  /** @type {(name: string, shape: number[], data: Float32Array) => void} */
  const put = (name, shape, data) => {
    w[name] = { shape, data };
  };
  /** @type {(name: string, shape: number[], std: number) => void} */
  const randn = (name, shape, std) =>
    put(
      name,
      shape,
      normal(
        rand,
        shape.reduce((a, b) => a * b, 1),
        std,
      ),
    );
  /** @type {(name: string, n: number, v: number) => void} */
  const fill = (name, n, v) => put(name, [n], new Float32Array(n).fill(v));
  const residStd = 0.02 / Math.sqrt(2 * c.nLayer);
  randn('transformer.wte.weight', [c.vocabSize, C], 0.02);
  randn('transformer.wpe.weight', [c.nPositions, C], 0.02);
  for (let l = 0; l < c.nLayer; l++) {
    const p = `transformer.h.${l}.`;
    fill(`${p}ln_1.weight`, C, 1);
    fill(`${p}ln_1.bias`, C, 0);
    randn(`${p}attn.c_attn.weight`, [C, 3 * C], 0.02);
    fill(`${p}attn.c_attn.bias`, 3 * C, 0);
    randn(`${p}attn.c_proj.weight`, [C, C], residStd);
    fill(`${p}attn.c_proj.bias`, C, 0);
    fill(`${p}ln_2.weight`, C, 1);
    fill(`${p}ln_2.bias`, C, 0);
    randn(`${p}mlp.c_fc.weight`, [C, I], 0.02);
    fill(`${p}mlp.c_fc.bias`, I, 0);
    randn(`${p}mlp.c_proj.weight`, [I, C], residStd);
    fill(`${p}mlp.c_proj.bias`, C, 0);
  }
  fill('transformer.ln_f.weight', C, 1);
  fill('transformer.ln_f.bias', C, 0);
  return w;
}

export const countParams = (/** @type {BenchWeights} */ w) => Object.values(w).reduce((s, t) => s + t.data.length, 0);

/**
 * `count` batches { x, y } of int32 [batch, context] (y = x shifted by one), cut from one stream
 * of a seeded Markov chain in which each token has four possible successors.
 * @returns {BenchBatch[]}
 */
export function gptBatches(c = GPT_BENCH, seed = 99) {
  const rand = uniform(seed),
    V = c.vocabSize,
    B = c.batch,
    T = c.context;
  const next = Array.from({ length: V }, () => Array.from({ length: 4 }, () => Math.floor(rand() * V)));
  const batches = [];
  let tok = 0;
  for (let k = 0; k < c.batches; k++) {
    const x = new Int32Array(B * T),
      y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t <= T; t++) {
        if (t < T) x[b * T + t] = tok;
        if (t > 0) y[b * T + t - 1] = tok;
        if (t < T) tok = next[tok][Math.floor(rand() * 4)];
      }
    }
    batches.push({ x, y });
  }
  return batches;
}

/**
 * Runs `step(batch) → loss` for `warmup` steps, then times steps until `minSeconds` have passed
 * and at least `minSteps` were run, stopping early past `maxSeconds`. Returns tokens/s with the
 * loss at the start (first warm-up step, on the shared initial weights) and at the end.
 * @template B
 * @param {(batch: B) => Promise<number>} step @param {B[]} batches @param {TrainingOptions} opts
 * @returns {Promise<TrainingResult>}
 */
export async function timeTraining(step, batches, { warmup = 3, minSeconds = 3, minSteps = 2, maxSteps = Infinity, maxSeconds = Infinity } = {}, c = GPT_BENCH) {
  /** @type {number[]} */
  const losses = [];
  let s = 0;
  const t0 = performance.now();
  for (; s < warmup; s++) losses.push(await step(batches[s % batches.length]));
  const warmupSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  let timed = 0;
  for (;;) {
    losses.push(await step(batches[s % batches.length]));
    s++;
    timed++;
    const el = (performance.now() - t1) / 1000;
    if (timed >= maxSteps || el > maxSeconds || (el >= minSeconds && timed >= minSteps)) break;
  }
  const seconds = (performance.now() - t1) / 1000;
  const tokens = c.batch * c.context * timed;
  return {
    tokensPerSecond: tokens / seconds,
    timedSteps: timed,
    warmupSteps: warmup,
    seconds,
    warmupSeconds,
    initialLoss: losses[0],
    finalLoss: losses[losses.length - 1],
    losses: losses.map((l) => Number(l.toFixed(4))),
  };
}
