// @ts-nocheck: jax-js's types fight checkJs here (jit's JsTree results, trees of arrays by name); see tsconfig.check.json.
// jax-js as a benchmark peer, on its `wasm` device, written as its README teaches: arrays are
// reference counted (`.ref` to reuse one), and the step is one jit-compiled function. Same
// functions as the nabla peer: matmul, conv2d forward/backward at MNIST-CNN sizes (NCHW, like
// nabla), one MNIST MLP epoch with Adam, GPT `tiny` training steps with AdamW.

import { numpy as np, jit, valueAndGrad, grad, lax, nn, init, defaultDevice, tree } from '@jax-js/jax';
import { GPT_BENCH, timeTraining } from './gpt-common.mjs';

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

/** Normal-ish values from a seeded LCG (peers need no particular distribution, only data). */
function randArray(shape, seed = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return np.array(out).reshape(shape);
}

export function makePeer() {
  return {
    name: 'jax-js-wasm',
    async init() {
      const devices = await init('wasm');
      defaultDevice('wasm');
      return { devices, device: 'wasm' };
    },

    matmul(n, variant, minSeconds) {
      const m = variant === 'batched' ? n / 2 : n;
      const shape = variant === 'batched' ? [8, m, m] : [m, m];
      const a = randArray(shape, 1),
        b = randArray(shape, 2);
      const f = jit((x, y) => {
        if (variant === 'transA') return np.matmul(x.transpose(), y);
        if (variant === 'transB') return np.matmul(x, y.transpose());
        return np.matmul(x, y);
      });
      const secondsPerOp = timeIt(() => {
        f(a.ref, b.ref).dataSync();
      }, minSeconds);
      a.dispose();
      b.dispose();
      return { secondsPerOp, flops: (variant === 'batched' ? 8 : 1) * 2 * m ** 3 };
    },

    conv2d(minSeconds) {
      const layers = [
        { x: randArray([64, 1, 28, 28], 3), w: randArray([32, 1, 3, 3], 4), r: randArray([64, 32, 28, 28], 5) },
        { x: randArray([64, 32, 14, 14], 6), w: randArray([64, 32, 3, 3], 7), r: randArray([64, 64, 14, 14], 8) },
      ];
      const fwd = jit((x, w) => lax.conv(x, w, [1, 1], 'SAME'));
      const g = jit(grad((x, w, r) => lax.conv(x, w, [1, 1], 'SAME').mul(r).sum(), { argnums: [0, 1] }));
      const forwardSeconds = timeIt(() => {
        for (const l of layers) fwd(l.x.ref, l.w.ref).dataSync();
      }, minSeconds);
      const total = timeIt(() => {
        for (const l of layers) {
          const [gx, gw] = g(l.x.ref, l.w.ref, l.r.ref);
          gx.dataSync();
          gw.dataSync();
        }
      }, minSeconds);
      for (const l of layers) {
        l.x.dispose();
        l.w.dispose();
        l.r.dispose();
      }
      // grad recomputes the forward pass inside; subtract one forward to estimate the backward.
      return { forwardSeconds, backwardSeconds: Math.max(0, total - forwardSeconds), note: 'backward = grad(forward) − forward' };
    },

    mnistEpoch(x, y, { batchSize = 128, lr = 1e-3, maxSeconds = Infinity } = {}) {
      const glorot = (fanIn, fanOut, seed) => randArray([fanIn, fanOut], seed).mul(2 * Math.sqrt(6 / (fanIn + fanOut)));
      let params = { w1: glorot(784, 512, 11), b1: np.zeros([512]), w2: glorot(512, 10, 12), b2: np.zeros([10]) };
      let m = { w1: np.zeros([784, 512]), b1: np.zeros([512]), w2: np.zeros([512, 10]), b2: np.zeros([10]) };
      let v = { w1: np.zeros([784, 512]), b1: np.zeros([512]), w2: np.zeros([512, 10]), b2: np.zeros([10]) };
      const lossFn = (p, xb, yb) => {
        const h = nn.relu(np.matmul(xb, p.w1).add(p.b1));
        const logits = np.matmul(h, p.w2).add(p.b2);
        return nn
          .logSoftmax(logits, -1)
          .mul(yb)
          .sum()
          .mul(-1 / batchSize);
      };
      const keys = ['w1', 'b1', 'w2', 'b2'];
      // One jit-compiled training step: loss, gradients and the Adam update (PyTorch's rule).
      const step = jit((p, mm, vv, xb, yb, c1, c2) => {
        const [loss, gr] = valueAndGrad(lossFn)(tree.ref(p), xb, yb);
        const np2 = {},
          nm = {},
          nv = {};
        for (const k of keys) {
          const gk = gr[k];
          nm[k] = mm[k].mul(0.9).add(gk.ref.mul(0.1));
          nv[k] = vv[k].mul(0.999).add(gk.ref.mul(gk).mul(0.001));
          np2[k] = p[k].sub(nm[k].ref.mul(c1.ref).div(np.sqrt(nv[k].ref.mul(c2.ref)).add(1e-8)));
        }
        c1.dispose();
        c2.dispose();
        return [loss, np2, nm, nv];
      });
      const n = y.length,
        steps = Math.floor(n / batchSize); // full batches only (one jit shape)
      let loss = NaN,
        run = 0;
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) {
        const i0 = s * batchSize;
        const xb = np.array(x.slice(i0 * 784, (i0 + batchSize) * 784)).reshape([batchSize, 784]);
        const yh = new Float32Array(batchSize * 10);
        for (let i = 0; i < batchSize; i++) yh[i * 10 + y[i0 + i]] = 1;
        const yb = np.array(yh).reshape([batchSize, 10]);
        const t = s + 1;
        const c1 = lr / (1 - 0.9 ** t),
          c2 = 1 / (1 - 0.999 ** t);
        const [l, p2, m2, v2] = step(params, m, v, xb, yb, np.array([c1]), np.array([c2]));
        params = p2;
        m = m2;
        v = v2;
        if (s % 50 === 0 || s === steps - 1) loss = l.dataSync()[0];
        else l.dispose();
        run++;
        if ((performance.now() - t0) / 1000 > maxSeconds) break;
      }
      params.w1.ref.dataSync();
      const seconds = (performance.now() - t0) / 1000;
      for (const t of [params, m, v]) for (const k of keys) t[k].dispose();
      return { seconds: (seconds * Math.ceil(n / batchSize)) / run, stepsRun: run, extrapolated: run < steps, finalLoss: loss };
    },

    gptTrain: (weights, batches, opts) => gptTrain(weights, batches, opts),
  };
}

/**
 * GPT `tiny` (vocabulary 65) as a jax-js user writes it: parameters in one tree by HF name,
 * loss = cross-entropy of the tied-head logits, one jit-compiled step with valueAndGrad and an
 * AdamW update written out (PyTorch's rule: p ← p(1 − lr·wd) on matrices, then the Adam step).
 */
async function gptTrain(weights, batches, opts) {
  const c = GPT_BENCH,
    B = c.batch,
    T = c.context,
    C = c.nEmbd,
    H = c.nHead,
    D = C / H,
    V = c.vocabSize;
  const keys = Object.keys(weights);
  const decays = Object.fromEntries(keys.map((k) => [k, weights[k].shape.length >= 2]));
  let params = Object.fromEntries(keys.map((k) => [k, np.array(weights[k].data).reshape(weights[k].shape)]));
  let m = Object.fromEntries(keys.map((k) => [k, np.zeros(weights[k].shape)]));
  let v = Object.fromEntries(keys.map((k) => [k, np.zeros(weights[k].shape)]));
  const layerNorm = (x, g, b) => nn.standardize(x, -1, { epsilon: c.layerNormEps }).mul(g).add(b);
  const lossFn = (p, x, y) => {
    const causal = np.tril(np.ones([T, T], { dtype: np.bool })); // (T, T): true = may attend
    const wte = p['transformer.wte.weight'];
    let h = np.take(wte.ref, x, 0).add(p['transformer.wpe.weight']); // (B, T, C)
    for (let l = 0; l < c.nLayer; l++) {
      const q = (n) => p[`transformer.h.${l}.${n}`];
      const qkv = np.matmul(layerNorm(h.ref, q('ln_1.weight'), q('ln_1.bias')), q('attn.c_attn.weight')).add(q('attn.c_attn.bias')); // (B, T, 3C)
      const [qh, kh, vh] = np.split(qkv, 3, -1).map((t) => t.reshape([B, T, H, D]).transpose([0, 2, 1, 3])); // (B, H, T, D)
      // Attention written out: nn.dotProductAttention goes through einsum, whose parser needs
      // iterator helpers (Node ≥ 22), and this runs on Node 20 too.
      const att = np.where(causal.ref, np.matmul(qh, kh.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(D)), -Infinity); // (B, H, T, T)
      const y = np.matmul(nn.softmax(att, -1), vh).transpose([0, 2, 1, 3]).reshape([B, T, C]); // (B, T, C)
      h = h.add(np.matmul(y, q('attn.c_proj.weight')).add(q('attn.c_proj.bias')));
      const f = nn.gelu(np.matmul(layerNorm(h.ref, q('ln_2.weight'), q('ln_2.bias')), q('mlp.c_fc.weight')).add(q('mlp.c_fc.bias'))); // (B, T, 4C)
      h = h.add(np.matmul(f, q('mlp.c_proj.weight')).add(q('mlp.c_proj.bias')));
    }
    causal.dispose();
    h = layerNorm(h, p['transformer.ln_f.weight'], p['transformer.ln_f.bias']);
    const logits = np.matmul(h, wte.transpose()); // (B, T, V), tied lm_head
    return nn
      .logSoftmax(logits, -1)
      .mul(nn.oneHot(y, V))
      .sum()
      .mul(-1 / (B * T));
  };
  const [beta1, beta2] = c.betas;
  const step = jit((p, mm, vv, x, y, c1, c2) => {
    const [loss, gr] = valueAndGrad(lossFn)(tree.ref(p), x, y);
    const np2 = {},
      nm = {},
      nv = {};
    for (const k of keys) {
      const gk = gr[k];
      nm[k] = mm[k].mul(beta1).add(gk.ref.mul(1 - beta1));
      nv[k] = vv[k].mul(beta2).add(gk.ref.mul(gk).mul(1 - beta2));
      const pk = decays[k] ? p[k].mul(1 - c.lr * c.weightDecay) : p[k];
      np2[k] = pk.sub(nm[k].ref.mul(c1.ref).div(np.sqrt(nv[k].ref.mul(c2.ref)).add(c.eps)));
    }
    c1.dispose();
    c2.dispose();
    return [loss, np2, nm, nv];
  });
  const data = batches.map(({ x, y }) => ({
    x: np.array(x, { dtype: np.int32 }).reshape([B, T]),
    y: np.array(y, { dtype: np.int32 }).reshape([B, T]),
  }));
  let t = 0;
  const one = ({ x, y }) => {
    t++;
    const c1 = c.lr / (1 - beta1 ** t),
      c2 = 1 / (1 - beta2 ** t);
    const [l, p2, m2, v2] = step(params, m, v, x.ref, y.ref, np.array([c1]), np.array([c2]));
    params = p2;
    m = m2;
    v = v2;
    return l.dataSync()[0];
  };
  const r = await timeTraining(one, data, opts);
  for (const tr of [params, m, v]) for (const k of keys) tr[k].dispose();
  for (const d of data) {
    d.x.dispose();
    d.y.dispose();
  }
  return { ...r, params: keys.reduce((s, k) => s + weights[k].data.length, 0), note: 'jit(valueAndGrad + AdamW written out)' };
}
