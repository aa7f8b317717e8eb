// Runs one benchmark task for one peer in a fresh process and prints one JSON line:
//   node bench/child.mjs <peer> <task> <json-args>
// peers: nabla-js, nabla-wasm-1, nabla-wasm-all, nabla-webgpu, tfjs-wasm, tfjs-cpu, jax-js
// tasks: init, matmul {n, variant, minSeconds}, conv2d {minSeconds}, mnist {maxSeconds, readEvery}, fit {images},
//        gpt {warmup, minSeconds, minSteps, maxSteps, maxSeconds}

import { enableRelaxedSimd } from '../dist/src/platform/relaxed-simd.js';
import { data } from 'nabla';
import { gptWeights, gptBatches, countParams } from './peers/gpt-common.mjs';

/** @import { Peer } from './peers/peer.js' */

// The same runtime for every peer: relaxed SIMD on (a flag on Node 20-21, the default from 22).
// nabla's wasm backend sets it itself, as in a user's script; the others are given it here.
const [id, task, argJson] = process.argv.slice(2);
if (!id.startsWith('nabla-')) enableRelaxedSimd();

/** @param {string} id @returns {Promise<Peer>} */
async function peerFor(id) {
  if (id.startsWith('nabla-')) {
    const { makePeer } = await import('./peers/nabla.mjs');
    const [, backend, threads] = id.split('-');
    return makePeer(backend, threads === 'all' ? 'all' : Number(threads ?? 1));
  }
  if (id.startsWith('tfjs-')) {
    const m = await import('./peers/tfjs.mjs');
    return /** @type {Peer} */ (m.makePeer(id.slice(5)));
  }
  if (id === 'jax-js') {
    const m = await import('./peers/jaxjs.mjs');
    return /** @type {Peer} */ (m.makePeer());
  }
  throw new Error(`unknown peer ${id}`);
}

const args = JSON.parse(argJson ?? '{}');
try {
  const peer = await peerFor(id);
  const info = (await peer.init(id.startsWith('tfjs-') ? id.slice(5) : 'wasm')) ?? {};
  let result;
  if (task === 'init') result = info;
  else if (task === 'matmul') result = await peer.matmul(args.n, args.variant, args.minSeconds);
  else if (task === 'conv2d') result = await peer.conv2d(args.minSeconds);
  else if (task === 'mnist') {
    const raw = await data.loadMnistRaw({ train: true });
    const x = new Float32Array(raw.images.length);
    for (let i = 0; i < x.length; i++) x[i] = raw.images[i] / 255;
    const y = Int32Array.from(raw.labels);
    result = await peer.mnistEpoch(x, y, { batchSize: 128, lr: 1e-3, epochs: 1, maxSeconds: args.maxSeconds, readEvery: args.readEvery });
  } else if (task === 'fit') {
    // Keras-style fit on the first `images` training images (timed, then scaled to 60,000).
    const raw = await data.loadMnistRaw({ train: true });
    const n = args.images;
    const x = new Float32Array(n * 784);
    for (let i = 0; i < x.length; i++) x[i] = raw.images[i] / 255;
    const y = Int32Array.from(raw.labels.subarray(0, n));
    if (!peer.mnistFit) throw new Error('no Keras-style fit in this library');
    const r = await peer.mnistFit(x, y, { batchSize: 128 });
    result = { ...r, seconds: (r.seconds * raw.count) / n, timedSeconds: r.seconds, images: n };
  } else if (task === 'gpt') {
    // GPT `tiny` training from the same initial weights and token batches for every peer.
    if (!peer.gptTrain) throw new Error('no GPT training in this peer');
    const weights = gptWeights();
    const r = await peer.gptTrain(weights, gptBatches(), args);
    result = { ...r, sharedParams: countParams(weights) };
  } else throw new Error(`unknown task ${task}`);
  console.log(JSON.stringify({ ok: true, info, result }));
  process.exit(0);
} catch (e) {
  console.log(
    JSON.stringify({
      ok: false,
      error: String(/** @type {Error | undefined} */ (e)?.stack ?? e)
        .split('\n')
        .slice(0, 3)
        .join(' | '),
    }),
  );
  process.exit(0);
}
