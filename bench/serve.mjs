// `npm run bench:serve`: `nabla serve` measured over HTTP, as a client sees it. For the `tiny` preset
// (its context raised to 128 so that 32 + 64 fits) and the 124M `gpt2` shape, random weights and a
// character tokenizer (one character per id, so every token is one SSE chunk) are saved to a
// temporary directory; `nabla serve DIR --port 0 --parallel 16` runs in a child process (one per
// model: every figure of a model comes from the same server) and is driven with streaming
// /v1/completions requests: 32-token prompts (token ids), max_tokens 64, temperature 0, EOS off
// (config.json has no eos_token_id) so every request runs its 64 tokens. Reported per model:
// single-stream tokens/s, time to first token, inter-token latency p50/p99 (gaps between SSE chunk
// arrivals) and aggregate tokens/s at 1, 4 and 16 concurrent streams; beside them, when a Python
// with torch and transformers is at hand (NABLA_HF_PYTHON, else python3), transformers' `generate`
// on the same weights, greedy, at batch 1/4/16 on the same number of threads.
// `--soak SECONDS` then keeps 16 streams running that long against one model's server and reports
// its resident memory (process_resident_memory_bytes of /metrics) at the start and the end.
// Prints a table, the targets of issue 17 that hold, and with --json one JSON object.
//   node bench/serve.mjs [--models tiny,gpt2] [--streams 1,4,16] [--rounds 3] [--threads N]
//                        [--ctx N] [--soak SECONDS] [--soak-model gpt2] [--no-hf] [--json]
// Imports the build (dist/): `npm run bench:serve` builds first.

import { Command } from 'commander';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const PROMPT = 32;
const NEW = 64;
/** The char tokenizer's characters: code points from U+0100 (50257 of them end at U+C550, below the surrogates). */
const FIRST_CHAR = 0x100;

const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);

if (process.argv[2] === '--make-model') {
  await makeModel(process.argv[3], process.argv[4]);
  process.exit(0);
}

const o = new Command()
  .name('bench:serve')
  .option('--models <list>', 'comma-separated GPT presets', 'tiny,gpt2')
  .option('--streams <list>', 'comma-separated numbers of concurrent streams', '1,4,16')
  .option('--rounds <n>', 'timed rounds per number of streams (the median is reported)', Number, 3)
  .option('--threads <n>', "the server's wasm threads, and torch's (default: all cores, at most 16)", Number)
  .option('--ctx <n>', "the server's --ctx (default: the model's context: 128 for tiny, 1024 for gpt2)", Number)
  .option('--soak <seconds>', 'after the measurements, keep 16 streams running this long and report resident memory', Number)
  .option('--soak-model <name>', 'the model of the soak', 'gpt2')
  .option('--no-hf', "skip transformers' generate")
  .option('--json', 'also print every figure as one JSON object (after the table)')
  .parse()
  .opts();

const { GPT_PRESETS } = await import('../dist/src/models/gpt-config.js');
for (const name of String(o.models).split(',')) {
  if (!GPT_PRESETS[name]) throw new Error(`bench:serve: no GPT preset named ${name}; use some of ${Object.keys(GPT_PRESETS).join(', ')}`);
}
if (o.soak && !String(o.models).split(',').includes(o.soakModel)) {
  throw new Error(`bench:serve: --soak-model ${o.soakModel} is not among --models ${o.models}; add it, or name one of them`);
}
const threads = o.threads ?? Math.min(16, availableParallelism());
const streamCounts = String(o.streams).split(',').map(Number);
const models = String(o.models).split(',');
const maxStreams = Math.max(...streamCounts, o.soak ? 16 : 1);

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'nabla-bench-serve-'));
  /** @type {Record<string, any>} */
  const report = {
    machine: { cpus: availableParallelism(), threads, node: process.version, loadAverageAtStart: loadavg()[0] },
    prompt: PROMPT,
    maxTokens: NEW,
    models: {},
  };
  const python = o.hf ? findPython() : { skipped: 'left out by --no-hf' };
  report.transformers = python.skipped ? { skipped: python.skipped } : { python: python.path };
  try {
    for (const name of models) {
      const dir = join(tmp, name);
      log(`${name}: writing random weights and a character tokenizer to ${dir}`);
      const made = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--make-model', name, dir], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (made.status !== 0) throw new Error(`${name}: making the model directory failed (exit ${made.status})`);
      /** @type {Record<string, any>} */
      const m = { streams: {} };
      report.models[name] = m;
      const server = await startServer(dir, name);
      try {
        m.server = { ctx: server.ctx, parallel: server.parallel, threads };
        // Warm-up: the first requests pay for compiling and first-touching the caches.
        await Promise.all(Array.from({ length: maxStreams }, (_, i) => stream(server.url, name, prompt(name, 1000 + i), 8)));
        for (const n of streamCounts) m.streams[n] = await measure(server.url, name, n);
        if (o.soak && name === o.soakModel) m.soak = await soak(server.url, name, o.soak);
      } finally {
        await server.stop();
      }
      m.transformers = python.path ? runTransformers(python.path, dir, name) : { skipped: python.skipped };
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // Other work on the machine slows every figure: the load average (1 min) says how much there was.
  report.machine.loadAverageAtEnd = loadavg()[0];
  report.targets = targets(report);
  printTable(report);
  if (o.json) console.log(JSON.stringify(report));
}

/** The model directory of one preset (run in its own process: the weights are freed with it). */
async function makeModel(/** @type {string} */ preset, /** @type {string} */ dir) {
  const nb = await import('../dist/src/index.js');
  const { GPT } = await import('../dist/src/models/gpt.js');
  const { GPT_PRESETS } = await import('../dist/src/models/gpt-config.js');
  await nb.setBackend('wasm');
  nb.manualSeed(0);
  const base = GPT_PRESETS[preset];
  // No EOS: greedy decoding of random weights may pick any id, and every request must run 64 tokens.
  const model = new GPT({ ...base, nPositions: Math.max(base.nPositions, 128), dropout: 0, bosTokenId: null, eosTokenId: null });
  const chars = Array.from({ length: base.vocabSize }, (_, i) => String.fromCodePoint(FIRST_CHAR + i));
  await model.savePretrained(dir, { tokenizer: new nb.text.CharTokenizer(chars) });
  for (const t of Object.values(model.stateDict())) t.dispose();
}

/** A seeded 32-token prompt of ids below the vocabulary size (xorshift: the same prompts every run). */
function prompt(/** @type {string} */ model, /** @type {number} */ seed) {
  const vocab = GPT_PRESETS[model].vocabSize;
  let x = (seed * 2654435761) >>> 0 || 1;
  return Array.from({ length: PROMPT }, () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % vocab;
  });
}

/**
 * `nabla serve DIR` in a child process, once it has printed its "ready at" line.
 * @returns {Promise<{ url: string; ctx: number; parallel: number; pid: number; stop: () => Promise<void> }>}
 */
function startServer(/** @type {string} */ dir, /** @type {string} */ name) {
  const args = [join(root, 'dist/cli/nabla.js'), 'serve', dir, '--name', name, '--port', '0', '--parallel', '16', '--max-queue', '256', '--threads', String(threads)];
  if (o.ctx) args.push('--ctx', String(o.ctx));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (/** @type {Buffer} */ d) => {
      out += d;
      const m = /ready at (http:\/\/\S+)\/v1 \((\d+) parallel, context (\d+)/.exec(out);
      if (!m) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      log(`${name}: server ready at ${m[1]} (${m[2]} parallel, context ${m[3]}, ${threads} threads)`);
      resolve({
        url: m[1],
        parallel: Number(m[2]),
        ctx: Number(m[3]),
        pid: /** @type {number} */ (child.pid),
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${name}: nabla serve exited with ${code} before it was ready: ${err.trim().split('\n').slice(-5).join(' | ')}`)));
  });
}

/**
 * One streamed completion: when it was sent, when each text chunk arrived, and its usage.
 * @returns {Promise<{ t0: number; arrivals: number[]; end: number; completionTokens: number; text: string }>}
 */
async function stream(/** @type {string} */ url, /** @type {string} */ model, /** @type {number[]} */ ids, maxTokens = NEW) {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: ids, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok || !res.body) throw new Error(`POST /v1/completions: ${res.status} ${await res.text()}`);
  /** @type {number[]} */
  const arrivals = [];
  let completionTokens = -1;
  let text = '';
  let buf = '';
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  for (;;) {
    const { done, value: bytes } = await reader.read();
    if (done) break;
    const t = performance.now();
    buf += decoder.decode(bytes, { stream: true });
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, at);
      buf = buf.slice(at + 2);
      const data = event.startsWith('data: ') ? event.slice(6) : '';
      if (data === '' || data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(`stream error: ${chunk.error.message}`);
      const piece = chunk.choices?.[0]?.text;
      if (piece) {
        arrivals.push(t);
        text += piece;
      }
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    }
  }
  return { t0, arrivals, end: performance.now(), completionTokens, text };
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : Number.NaN;
};
const quantile = (/** @type {number[]} */ sorted, /** @type {number} */ p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** `rounds` rounds of n concurrent streams: aggregate tokens/s (median round), TTFT, ITL. */
async function measure(/** @type {string} */ url, /** @type {string} */ model, /** @type {number} */ n) {
  /** @type {number[]} */
  const rates = [];
  /** @type {number[]} */
  const gaps = [];
  /** @type {number[]} */
  const ttfts = [];
  /** @type {number[]} */
  const perStream = [];
  let short = 0;
  let chunkShort = 0;
  for (let round = 0; round < o.rounds; round++) {
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: n }, (_, i) => stream(url, model, prompt(model, round * 100 + i))));
    const seconds = (Math.max(...results.map((r) => r.end)) - t0) / 1000;
    const tokens = results.reduce((a, r) => a + r.completionTokens, 0);
    rates.push(tokens / seconds);
    for (const r of results) {
      if (r.completionTokens !== NEW) short++;
      if (r.arrivals.length !== NEW) chunkShort++;
      ttfts.push(r.arrivals[0] - r.t0);
      perStream.push(r.completionTokens / ((r.end - r.t0) / 1000));
      for (let k = 1; k < r.arrivals.length; k++) gaps.push(r.arrivals[k] - r.arrivals[k - 1]);
    }
  }
  gaps.sort((a, b) => a - b);
  const row = {
    tokensPerSecond: median(rates),
    rounds: rates,
    perStreamTokensPerSecond: median(perStream),
    ttftMs: median(ttfts),
    itlP50Ms: quantile(gaps, 0.5),
    itlP99Ms: quantile(gaps, 0.99),
    requests: n * o.rounds,
    notFullLength: short,
    streamsWithFewerChunks: chunkShort,
  };
  log(
    `${model} ×${n}: ${row.tokensPerSecond.toFixed(1)} tokens/s aggregate, ttft ${row.ttftMs.toFixed(0)} ms, itl p50 ${row.itlP50Ms.toFixed(1)} ms, p99 ${row.itlP99Ms.toFixed(1)} ms`,
  );
  if (short) log(`${model} ×${n}: ${short} of ${n * o.rounds} requests did not return ${NEW} completion tokens`);
  return row;
}

/** The server's resident memory, bytes, from /metrics. */
async function rss(/** @type {string} */ url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m.exec(text);
  if (!m) throw new Error('/metrics has no process_resident_memory_bytes');
  return Number(m[1]);
}

/** 16 streams back to back for `seconds`: resident memory sampled every 10 s, start to end. */
async function soak(/** @type {string} */ url, /** @type {string} */ model, /** @type {number} */ seconds) {
  log(`${model}: soak of ${seconds} s with 16 streams`);
  const start = await rss(url);
  /** @type {{ s: number; rssMiB: number }[]} */
  const samples = [{ s: 0, rssMiB: start / 2 ** 20 }];
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let tokens = 0;
  let requests = 0;
  let errors = 0;
  let short = 0;
  const sampler = setInterval(async () => {
    const mib = (await rss(url).catch(() => Number.NaN)) / 2 ** 20;
    samples.push({ s: Math.round((performance.now() - t0) / 1000), rssMiB: mib });
    log(`${model} soak: ${Math.round((performance.now() - t0) / 1000)} s, ${requests} requests, rss ${mib.toFixed(0)} MiB`);
  }, 10_000);
  await Promise.all(
    Array.from({ length: 16 }, async (_, i) => {
      for (let k = 0; performance.now() < until; k++) {
        try {
          const r = await stream(url, model, prompt(model, 10_000 + i * 1000 + k));
          tokens += r.completionTokens;
          requests++;
          if (r.completionTokens !== NEW) short++;
        } catch (e) {
          errors++;
          log(`${model} soak: ${/** @type {Error} */ (e).message}`);
        }
      }
    }),
  );
  clearInterval(sampler);
  const end = await rss(url);
  const elapsed = (performance.now() - t0) / 1000;
  samples.push({ s: Math.round(elapsed), rssMiB: end / 2 ** 20 });
  const peak = Math.max(...samples.map((x) => x.rssMiB).filter(Number.isFinite));
  // The first seconds take the JS heap from an idle server's to a busy one's: also the change from the first sample on.
  const ramped = samples.length > 2 ? samples[1].rssMiB : Number.NaN;
  return {
    seconds: elapsed,
    requests,
    errors,
    notFullLength: short,
    tokensPerSecond: tokens / elapsed,
    rssStartMiB: start / 2 ** 20,
    rssEndMiB: end / 2 ** 20,
    rssPeakMiB: peak,
    rssChangePercent: ((end - start) / start) * 100,
    rssAt10sMiB: ramped,
    rssChangeFrom10sPercent: ((end / 2 ** 20 - ramped) / ramped) * 100,
    samples,
  };
}

/**
 * A Python with torch and transformers: NABLA_HF_PYTHON, else python3; or why there is none.
 * @returns {{ path?: string; skipped?: string }}
 */
function findPython() {
  const path = process.env.NABLA_HF_PYTHON || 'python3';
  const r = spawnSync(path, ['-c', 'import torch, transformers'], { encoding: 'utf8' });
  if (r.status === 0) return { path };
  const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
  return { skipped: `${path} cannot import torch and transformers (${why}); set NABLA_HF_PYTHON to a Python that can` };
}

/** transformers' generate on the model directory: batch sizes as our stream counts. */
function runTransformers(/** @type {string} */ python, /** @type {string} */ dir, /** @type {string} */ name) {
  log(`${name}: transformers generate at batch ${streamCounts.join(', ')} (${threads} threads)`);
  const r = spawnSync(
    python,
    [
      join(here, 'serve-transformers.py'),
      dir,
      '--threads',
      String(threads),
      '--batches',
      streamCounts.join(','),
      '--prompt',
      String(PROMPT),
      '--new',
      String(NEW),
      '--rounds',
      String(o.rounds),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    return { error: (r.stderr || line || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
  }
}

/** Which of issue 17's targets hold. */
function targets(/** @type {Record<string, any>} */ report) {
  /** @type {Record<string, any>[]} */
  const out = [];
  for (const [name, m] of Object.entries(report.models)) {
    const single = m.streams[1]?.tokensPerSecond;
    const at16 = m.streams[16]?.tokensPerSecond;
    if (single && at16) {
      const need = name === 'tiny' ? 5 : 3;
      out.push({ target: `${name}: aggregate at 16 ≥ ${need}× single stream`, value: `${(at16 / single).toFixed(2)}×`, holds: at16 >= need * single });
      const hf16 = m.transformers?.batches?.[16]?.tokensPerSecond;
      if (hf16) out.push({ target: `${name}: aggregate at 16 ≥ transformers batch 16`, value: `${at16.toFixed(0)} vs ${hf16.toFixed(0)} tokens/s`, holds: at16 >= hf16 });
    }
    if (name === 'gpt2' && single) out.push({ target: 'gpt2: single stream ≥ 28 tokens/s', value: `${single.toFixed(1)} tokens/s`, holds: single >= 28 });
    if (m.soak) {
      const ch = m.soak.rssChangePercent;
      const what = `${name}: resident memory flat within 5% over ${Math.round(m.soak.seconds)} s of 16 streams`;
      out.push({ target: what, value: `${m.soak.rssStartMiB.toFixed(0)} → ${m.soak.rssEndMiB.toFixed(0)} MiB (${ch >= 0 ? '+' : ''}${ch.toFixed(1)}%)`, holds: Math.abs(ch) <= 5 });
    }
  }
  return out;
}

function printTable(/** @type {Record<string, any>} */ report) {
  const f = (/** @type {number | undefined} */ x, d = 1) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(d));
  console.log(
    `nabla serve over HTTP: ${PROMPT}-token prompts, ${NEW} new tokens, greedy; ${report.machine.threads} threads on ${report.machine.cpus} cores; median of ${o.rounds} rounds; load average ${f(report.machine.loadAverageAtStart, 1)} at the start, ${f(report.machine.loadAverageAtEnd, 1)} at the end`,
  );
  console.log('model  streams  tokens/s  per stream  ttft ms  itl p50 ms  itl p99 ms  transformers tokens/s');
  for (const [name, m] of Object.entries(report.models)) {
    for (const n of streamCounts) {
      const r = m.streams[n];
      const hf = m.transformers?.batches?.[n]?.tokensPerSecond;
      const hfCell = hf !== undefined ? f(hf) : m.transformers?.skipped ? 'skipped' : m.transformers?.error ? 'error' : '';
      const cells = [
        f(r.tokensPerSecond).padStart(8),
        f(r.perStreamTokensPerSecond).padStart(10),
        f(r.ttftMs, 0).padStart(7),
        f(r.itlP50Ms, 2).padStart(10),
        f(r.itlP99Ms, 2).padStart(10),
        hfCell.padStart(21),
      ];
      console.log(`${name.padEnd(6)} ${String(n).padStart(7)}  ${cells.join('  ')}`);
      if (r.notFullLength) console.log(`       ${r.notFullLength} of ${r.requests} requests stopped before ${NEW} tokens`);
    }
    if (m.soak) {
      const s = m.soak;
      console.log(
        `${name} soak: ${f(s.seconds, 0)} s, ${s.requests} requests (${s.errors} errors), ${f(s.tokensPerSecond)} tokens/s; rss ${f(s.rssStartMiB, 0)} → ${f(s.rssEndMiB, 0)} MiB (${f(s.rssChangePercent, 1)}%; ${f(s.rssChangeFrom10sPercent, 1)}% from ${f(s.rssAt10sMiB, 0)} MiB at 10 s), peak ${f(s.rssPeakMiB, 0)} MiB`,
      );
    }
  }
  if (report.transformers.skipped) console.log(`transformers: skipped: ${report.transformers.skipped}`);
  for (const m of Object.values(report.models)) if (m.transformers?.error) console.log(`transformers: error: ${m.transformers.error}`);
  console.log('targets (issue 17):');
  for (const t of report.targets) console.log(`  ${t.holds ? 'holds ' : 'MISSED'}  ${t.target}: ${t.value}`);
}

await main();
