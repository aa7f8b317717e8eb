// float32 matmul on the webgpu backend: n×n @ n×n (plain, and x @ Wᵀ as Linear does it) for
// n = 1024, 2048, 4096, and one row against n×n (token-by-token generation: bandwidth, GB/s).
// Times repeated products between two GPU syncs, so the figures are the GPU's, not the submits'.
//
//   npm run build && node bench/webgpu-matmul.mjs [n ...]
//   (SwiftShader, no GPU: eval "$(node tools/swiftshader.mjs)"-style env, and n = 256 only)
import * as nb from '../dist/src/index.js';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
if (!sizes.length) sizes.push(1024, 2048, 4096);

await nb.setBackend('webgpu');
const gpu = nb.webgpuBackend();
const info = /** @type {Required<typeof gpu>} */ (gpu).info();
console.log(`webgpu: ${JSON.stringify(info.adapter)} via ${info.source}`);

const g = new nb.Generator(1);
const onGpu = (/** @type {number[]} */ shape) => nb.randn(shape, { device: 'js', generator: g }).to('webgpu');

/** Seconds per call of f (which returns a tensor), over enough calls to fill ~1 s of GPU time. @param {() => nb.Tensor} f */
async function time(f) {
  for (let i = 0; i < 2; i++) f().dispose(); // compile the pipeline, warm the pool
  await gpu.sync();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f().dispose();
    await gpu.sync();
    const s = (performance.now() - t0) / 1000;
    if (s > 0.5 || reps >= 4096) return s / reps;
    reps = Math.min(4096, Math.max(reps * 2, Math.ceil(reps / Math.max(s, 1e-3))));
  }
}

const rows = [];
for (const n of sizes) {
  const a = onGpu([n, n]),
    b = onGpu([n, n]),
    x = onGpu([1, n]);
  const flops = 2 * n ** 3;
  const ab = await time(() => nb.matmul(a, b));
  const abt = await time(() => nb.matmul(a, b.t()));
  const gemv = await time(() => nb.matmul(x, b.t()));
  rows.push({
    n,
    'A@B GFLOP/s': (flops / ab / 1e9).toFixed(1),
    'A@Bᵀ GFLOP/s': (flops / abt / 1e9).toFixed(1),
    'A@B ms': (ab * 1e3).toFixed(3),
    '1×n @ Wᵀ GB/s': ((4 * n * n) / gemv / 1e9).toFixed(1),
    '1×n @ Wᵀ µs': (gemv * 1e6).toFixed(1),
  });
  for (const t of [a, b, x]) t.dispose();
}
console.table(rows);
gpu.close();
