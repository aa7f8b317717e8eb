// @ts-nocheck: tfjs's types fight checkJs here (Variable<Rank> for Tensor4D, tidy's TensorContainer); see tsconfig.check.json.
// TensorFlow.js as a benchmark peer, on its `wasm` backend (XNNPACK; the .wasm files load from
// node_modules, offline) or its `cpu` backend (plain JavaScript). Same functions as the nabla
// peer: matmul, conv2d forward/backward at MNIST-CNN sizes (NHWC, as TensorFlow.js lays them out),
// one MNIST MLP epoch with Adam written as a user would (variableGrads + optimizer), and GPT
// `tiny` training steps (tf ops, variableGrads, tf.train.adam with decoupled weight decay).

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs'; // registers the gradients and the cpu backend
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

export function makePeer(backend) {
  return {
    name: `tfjs-${backend}`,
    async init() {
      if (backend === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        const dir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
        wasm.setWasmPaths(`${join(dir, 'dist')}/`);
      }
      await tf.setBackend(backend);
      await tf.ready();
      const info = { backend: tf.getBackend(), version: tf.version_core };
      if (backend === 'wasm') {
        info.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        info.threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      }
      return info;
    },

    matmul(n, variant, minSeconds) {
      const m = variant === 'batched' ? n / 2 : n;
      const shape = variant === 'batched' ? [8, m, m] : [m, m];
      const a = tf.randomNormal(shape),
        b = tf.randomNormal(shape);
      const tA = variant === 'transA',
        tB = variant === 'transB';
      // Explicit dispose rather than tf.tidy: around a lone matMul, tidy makes the wasm backend
      // about 8x slower here (its XNNPACK path loses its cached operator), and we report its best.
      const run = () => {
        const c = tf.matMul(a, b, tA, tB);
        c.dataSync();
        c.dispose();
      };
      const secondsPerOp = timeIt(run, minSeconds);
      a.dispose();
      b.dispose();
      return { secondsPerOp, flops: (variant === 'batched' ? 8 : 1) * 2 * m ** 3 };
    },

    conv2d(minSeconds) {
      const layers = [
        { x: tf.randomNormal([64, 28, 28, 1]), w: tf.variable(tf.randomNormal([3, 3, 1, 32])) },
        { x: tf.randomNormal([64, 14, 14, 32]), w: tf.variable(tf.randomNormal([3, 3, 32, 64])) },
      ].map((l) => ({ ...l, x: tf.variable(l.x), r: tf.randomNormal([64, l.x.shape[1], l.x.shape[2], l.w.shape[3]]) }));
      const fwd = () =>
        tf.tidy(() => {
          for (const l of layers) tf.conv2d(l.x, l.w, 1, 'same').dataSync();
        });
      const both = () =>
        tf.tidy(() => {
          for (const l of layers) {
            const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.conv2d(l.x, l.w, 1, 'same'), l.r)), [l.x, l.w]);
            for (const g of Object.values(grads)) g.dataSync();
          }
        });
      const forwardSeconds = timeIt(fwd, minSeconds);
      let total = NaN,
        note;
      try {
        total = timeIt(both, minSeconds);
      } catch (e) {
        note = `backward unavailable: ${String(e.message ?? e).split('\n')[0]}`;
      }
      for (const l of layers) {
        l.x.dispose();
        l.w.dispose();
        l.r.dispose();
      }
      return { forwardSeconds, backwardSeconds: note ? undefined : Math.max(0, total - forwardSeconds), note };
    },

    /** The same network as a user of tf.layers writes it: sequential + compile + fit. */
    async mnistFit(x, y, { batchSize = 128, lr = 1e-3 } = {}) {
      const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [784], units: 512, activation: 'relu' }), tfl.layers.dense({ units: 10, activation: 'softmax' })] });
      model.compile({ optimizer: tfl.train.adam(lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const xs = tfl.tensor2d(x, [y.length, 784]),
        ys = tfl.oneHot(tfl.tensor1d(y, 'int32'), 10);
      const t0 = performance.now();
      const h = await model.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
      const seconds = (performance.now() - t0) / 1000;
      xs.dispose();
      ys.dispose();
      model.dispose();
      return { seconds, finalLoss: h.history.loss.at(-1) };
    },

    mnistEpoch(x, y, { batchSize = 128, lr = 1e-3, maxSeconds = Infinity } = {}) {
      // PyTorch's default Linear init is not needed for timing; Glorot-uniform like Keras.
      const glorot = (fanIn, fanOut) => tf.variable(tf.randomUniform([fanIn, fanOut], -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut))));
      const w1 = glorot(784, 512),
        b1 = tf.variable(tf.zeros([512])),
        w2 = glorot(512, 10),
        b2 = tf.variable(tf.zeros([10]));
      const opt = tf.train.adam(lr, 0.9, 0.999, 1e-8);
      const n = y.length,
        steps = Math.ceil(n / batchSize);
      let loss = NaN,
        run = 0;
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) {
        const i0 = s * batchSize,
          i1 = Math.min(n, i0 + batchSize);
        const l = tf.tidy(() => {
          const xb = tf.tensor2d(x.subarray(i0 * 784, i1 * 784), [i1 - i0, 784]);
          const yb = tf.oneHot(tf.tensor1d(y.subarray(i0, i1), 'int32'), 10);
          return opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(xb, w1), b1)), w2), b2)), true);
        });
        if (s % 50 === 0 || s === steps - 1) loss = l.dataSync()[0];
        l.dispose();
        run++;
        if ((performance.now() - t0) / 1000 > maxSeconds) break;
      }
      // One read at the end makes sure all queued work is done.
      w1.dataSync();
      const seconds = (performance.now() - t0) / 1000;
      for (const v of [w1, b1, w2, b2]) v.dispose();
      opt.dispose();
      return { seconds: (seconds * steps) / run, stepsRun: run, extrapolated: run < steps, finalLoss: loss };
    },

    gptTrain: (weights, batches, opts) => gptTrain(weights, batches, opts),
  };
}

/**
 * GPT `tiny` (vocabulary 65) written with tf ops as a TensorFlow.js user would: tf.variable
 * weights by HF name, a causal mask from bandPart, softmaxCrossEntropy on the tied-head logits,
 * gradients from tf.variableGrads inside tf.tidy; the token embedding is a one-hot matmul. TensorFlow.js has no AdamW, so the step is
 * PyTorch's AdamW assembled from its parts: the matrices decay p ← p(1 − lr·wd), then
 * tf.train.adam applies the gradients (its update is PyTorch's Adam update).
 */
async function gptTrain(weights, batches, opts) {
  const c = GPT_BENCH,
    B = c.batch,
    T = c.context,
    C = c.nEmbd,
    H = c.nHead,
    D = C / H,
    V = c.vocabSize;
  const p = Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, tf.variable(tf.tensor(w.data, w.shape), true, k)]));
  const decayed = Object.entries(weights)
    .filter(([, w]) => w.shape.length >= 2)
    .map(([k]) => p[k]);
  const opt = tf.train.adam(c.lr, c.betas[0], c.betas[1], c.eps);
  const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).cast('bool'); // (T, T): true = may attend
  const negInf = tf.fill([B, H, T, T], -1e9);
  const layerNorm = (x, g, b) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, c.layerNormEps))), g), b);
  };
  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
  const linear = (x, w, b) => tf.add(tf.matMul(x.reshape([-1, x.shape.at(-1)]), w), b).reshape([...x.shape.slice(0, -1), w.shape[1]]);
  const lossFn = (xOneHot, yOneHot) => {
    const wte = p['transformer.wte.weight'];
    // The token embedding as oneHot·wte: the gradient of tf.gather needs UnsortedSegmentSum,
    // which the wasm backend lacks. Positions 0..T−1 are all of wpe (T = nPositions).
    let h = tf.add(tf.matMul(xOneHot, wte).reshape([B, T, C]), p['transformer.wpe.weight']); // (B, T, C)
    for (let l = 0; l < c.nLayer; l++) {
      const q = (n) => p[`transformer.h.${l}.${n}`];
      const qkv = linear(layerNorm(h, q('ln_1.weight'), q('ln_1.bias')), q('attn.c_attn.weight'), q('attn.c_attn.bias')); // (B, T, 3C)
      const [qh, kh, vh] = tf.split(qkv, 3, -1).map((t) => t.reshape([B, T, H, D]).transpose([0, 2, 1, 3])); // (B, H, T, D)
      const att = tf.where(tf.broadcastTo(causal, [B, H, T, T]), tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(D)), negInf); // (B, H, T, T)
      const y = tf.matMul(tf.softmax(att, -1), vh).transpose([0, 2, 1, 3]).reshape([B, T, C]); // (B, T, C)
      h = tf.add(h, linear(y, q('attn.c_proj.weight'), q('attn.c_proj.bias')));
      const f = gelu(linear(layerNorm(h, q('ln_2.weight'), q('ln_2.bias')), q('mlp.c_fc.weight'), q('mlp.c_fc.bias'))); // (B, T, 4C)
      h = tf.add(h, linear(f, q('mlp.c_proj.weight'), q('mlp.c_proj.bias')));
    }
    h = layerNorm(h, p['transformer.ln_f.weight'], p['transformer.ln_f.bias']).reshape([B * T, C]);
    const logits = tf.matMul(h, wte, false, true); // (B·T, V), tied lm_head
    return tf.losses.softmaxCrossEntropy(yOneHot, logits); // mean over the B·T positions
  };
  const oneHot = (ids) => tf.oneHot(tf.tensor1d(ids, 'int32'), V).cast('float32'); // (B·T, V)
  const data = batches.map(({ x, y }) => ({ x: oneHot(x), y: oneHot(y) }));
  const step = ({ x, y }) => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => lossFn(x, y));
      for (const w of decayed) w.assign(tf.mul(w, 1 - c.lr * c.weightDecay));
      opt.applyGradients(grads);
      return value;
    });
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  const r = await timeTraining(step, data, opts);
  const params = Object.values(p).reduce((s, w) => s + w.size, 0);
  for (const t of [...Object.values(p), causal, negInf, ...data.flatMap((d) => [d.x, d.y])]) t.dispose();
  opt.dispose();
  return { ...r, params, note: 'AdamW = decay by hand + tf.train.adam' };
}
