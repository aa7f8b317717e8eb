// The generation engine of `nabla serve` (src/serve/engine.ts) against `model.generate`: greedy
// decoding of 64 new tokens after 32-token prompts, aggregate tokens/s at 1, 4 and 16 concurrent
// requests, for the `tiny` preset (its context raised to 128 so that 32 + 64 fits) and the 124M
// `gpt2` shape, random weights, EOS off so every request runs its 64 tokens. Each measurement runs
// in a fresh process (the wasm heap of one does not affect the next). Imports the build (dist/):
// run `npm run build` first.
//   node bench/serve-engine.mjs [--models tiny,gpt2] [--streams 1,4,16] [--json]

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const opt = (/** @type {string} */ name, /** @type {string} */ dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const PROMPT = 32,
  NEW = 64;

if (args[0] === '--child') await child(args[1], args[2], Number(args[3]));
else main();

function main() {
  const models = opt('--models', 'tiny,gpt2').split(',');
  const streams = opt('--streams', '1,4,16').split(',').map(Number);
  /** @type {any[]} */
  const rows = [];
  for (const model of models) {
    for (const method of ['generate', 'engine']) {
      for (const n of streams) {
        const r = spawnSync(process.execPath, [here, '--child', model, method, String(n)], { encoding: 'utf8', maxBuffer: 1 << 24 });
        const line = r.stdout.trim().split('\n').pop() ?? '';
        let res;
        try {
          res = JSON.parse(line);
        } catch {
          res = { error: (r.stderr || line || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
        }
        rows.push({ model, method, streams: n, ...res });
        process.stderr.write(`${model} ${method} ×${n}: ${res.error ?? `${res.tokensPerSecond.toFixed(1)} tokens/s`}\n`);
      }
    }
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify(rows, null, 1));
    return;
  }
  const fmt = (/** @type {number | undefined} */ x, d = 1) => (x === undefined ? '' : x.toFixed(d));
  console.log('model  method    streams  tokens/s  ttft ms  itl p50 ms  itl p99 ms  heap MiB');
  for (const r of rows) {
    const cells = r.error
      ? [r.error.slice(0, 60)]
      : [fmt(r.tokensPerSecond).padStart(8), fmt(r.ttftMs).padStart(7), fmt(r.itlP50Ms, 2).padStart(10), fmt(r.itlP99Ms, 2).padStart(10), fmt(r.heapMiB, 0).padStart(8)];
    console.log(`${r.model.padEnd(6)} ${r.method.padEnd(9)} ${String(r.streams).padStart(7)}  ${cells.join('  ')}`);
  }
}

/** One measurement: prints a JSON line. */
async function child(/** @type {string} */ preset, /** @type {string} */ method, /** @type {number} */ n) {
  const nb = await import('../dist/src/index.js');
  const { GPT } = await import('../dist/src/models/gpt.js');
  const { GPT_PRESETS } = await import('../dist/src/models/gpt-config.js');
  const { createEngine } = await import('../dist/src/serve/engine.js');
  await nb.setBackend('wasm');
  nb.manualSeed(0);
  const base = GPT_PRESETS[preset];
  const model = new GPT({ ...base, nPositions: Math.max(base.nPositions, 128), dropout: 0, eosTokenId: null });
  model.eval();
  const gen = new nb.Generator(1);
  const prompts = Array.from({ length: n }, () => Array.from(gen.uniformArray(PROMPT), (u) => Math.floor(u * base.vocabSize)));
  const backend = /** @type {{ memoryStats?: () => { heapBytes: number } }} */ (/** @type {unknown} */ (nb.getBackend()));
  const heap = () => (backend.memoryStats?.().heapBytes ?? 0) / 2 ** 20;
  try {
    if (method === 'generate') {
      model
        .generate(
          prompts.map((p) => p.slice(0, 8)),
          { maxNewTokens: 4, temperature: 0 },
        )
        .dispose(); // warm-up
      const t0 = performance.now();
      model.generate(prompts, { maxNewTokens: NEW, temperature: 0 }).dispose();
      const s = (performance.now() - t0) / 1000;
      console.log(JSON.stringify({ tokensPerSecond: (n * NEW) / s, seconds: s, heapMiB: heap() }));
    } else {
      const engine = createEngine(model, { parallel: 16, ctx: PROMPT + NEW, maxQueue: 64 });
      await engine.submit({ prompt: prompts[0].slice(0, 8), maxTokens: 4, temperature: 0 }); // warm-up
      /** @type {number[]} */
      const gaps = [];
      const t0 = performance.now();
      const results = await Promise.all(
        prompts.map((prompt) => {
          let last = 0;
          return engine.submit({
            prompt,
            maxTokens: NEW,
            temperature: 0,
            onToken: () => {
              const t = performance.now();
              if (last) gaps.push(t - last);
              last = t;
            },
          });
        }),
      );
      const s = (performance.now() - t0) / 1000;
      const tokens = results.reduce((a, r) => a + r.completionTokens, 0);
      gaps.sort((a, b) => a - b);
      const q = (/** @type {number} */ p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))];
      const ttft = results.reduce((a, r) => a + r.timeToFirstTokenMs, 0) / results.length;
      console.log(JSON.stringify({ tokensPerSecond: tokens / s, seconds: s, ttftMs: ttft, itlP50Ms: q(0.5), itlP99Ms: q(0.99), heapMiB: heap() }));
      await engine.close();
    }
  } catch (e) {
    console.log(JSON.stringify({ error: String(/** @type {Error} */ (e).message ?? e).slice(0, 200) }));
  }
  process.exit(0);
}
