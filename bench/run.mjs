// `npm run bench`: nabla and its peers side by side in one run: matmul (plain, transposed and
// batched operands), conv2d forward/backward at MNIST-CNN sizes, one MNIST MLP epoch, GPT `tiny`
// training tokens/s (same weights and batches for every peer; `--tasks gpt` for that row alone). Each
// measurement runs in a fresh process, one at a time. Prints a table of figures, one of ratios
// (nabla wasm with all threads against each peer), and with --json one JSON object. 'nabla wasm
// allT' is exactly what a script that imports 'nabla' gets (no call); 'nabla wasm 1T' adds setThreads(1).
//
// nabla webgpu joins the default peers when a hardware GPU adapter is found; `--peers nabla-webgpu`
// forces it. On a software adapter (SwiftShader, lavapipe: ~0.1 GFLOP/s) it runs matmul up to
// n = 256 (or --max-n) and a time-capped MNIST epoch only: enough to see that it works.

import { Command } from 'commander';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {{ ok: true; result: any } | { ok: false; error: string }} ChildReply What child.mjs prints: its task's result (JSON), or why it failed.
 * @typedef {{ value?: number; skipped?: string; error?: string; note?: string; params?: number; initialLoss?: number; finalLoss?: number; losses?: number[]; timedSteps?: number; warmupSteps?: number }} Cell
 *   One peer's figure in a row, or why there is none (the GPT row adds its losses).
 * @typedef {{ row: string; unit: string; values: Record<string, Cell> }} Row
 */

const here = dirname(fileURLToPath(import.meta.url));
const ALL_PEERS = ['nabla-js', 'nabla-wasm-1', 'nabla-wasm-all', 'nabla-webgpu', 'tfjs-wasm', 'tfjs-cpu', 'jax-js'];
const SLOW = new Set(['nabla-js', 'tfjs-cpu']);
/** @type {Record<string, string>} */
const LABEL = {
  'nabla-js': 'nabla js',
  'nabla-wasm-1': 'nabla wasm 1T',
  'nabla-wasm-all': 'nabla wasm allT',
  'nabla-webgpu': 'nabla webgpu',
  'tfjs-wasm': 'tfjs wasm',
  'tfjs-cpu': 'tfjs cpu',
  'jax-js': 'jax-js wasm',
};

const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);

const program = new Command()
  .name('bench')
  .option('--json', 'also print all results as one JSON object')
  .option(
    '--quick',
    'a check in under 2 minutes: shorter timings (noisier), fewer and smaller matmuls, the slow peers (nabla js, tfjs cpu) left out unless --peers names them, and jax-js without conv2d',
  )
  .option('--peers <list>', `comma-separated peers (default: ${ALL_PEERS.join(',')}; nabla-webgpu only on a hardware GPU)`)
  .option('--max-n <n>', 'largest matmul n to run (default: all; 256 on a software GPU)', Number)
  .option('--tasks <list>', 'comma-separated tasks: matmul, variants, conv2d, mnist, fit, gpt', 'matmul,variants,conv2d,mnist,fit,gpt')
  .parse();
const o = program.opts();
/** @type {string[]} */
let peers = (o.peers ?? ALL_PEERS.filter((p) => !(o.quick && SLOW.has(p))).join(',')).split(',');
if (o.quick && !o.peers) log(`--quick: ${[...SLOW].join(', ')} left out (seconds per step; name them with --peers to include them)`);
const tasks = new Set(o.tasks.split(','));
const minSeconds = o.quick ? 0.3 : 1;
const mnistCap = o.quick ? 3 : 20;
const matmulSizes = o.quick ? [256, 1024] : [256, 512, 1024, 2048];
/** n of the transposed and batched matmul rows (the batched one is 8 products of n/2): tfjs wasm takes seconds per call at 1024. */
const variantN = o.quick ? 512 : 1024;

/** @param {string} peer @param {string} task @param {object} args @returns {ChildReply} */
function child(peer, task, args) {
  const r = spawnSync(process.execPath, [join(here, 'child.mjs'), peer, task, JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) return { ok: false, error: (r.stderr || 'no output').trim().split('\n').slice(-3).join(' | ') };
  return JSON.parse(line);
}

/** Native FMA peak (GFLOP/s) for 1 and all threads, if a C compiler is here. */
function fmaPeak() {
  const threads = availableParallelism?.() ?? cpus().length;
  for (const cc of ['cc', 'gcc', 'clang']) {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-fma-'));
    try {
      const exe = join(dir, 'fma');
      execFileSync(cc, ['-O2', '-mavx2', '-mfma', '-pthread', join(here, 'fma-peak.c'), '-o', exe], { stdio: 'ignore' });
      const one = Number(execFileSync(exe, ['1'], { encoding: 'utf8' }));
      const all = Number(execFileSync(exe, [String(threads)], { encoding: 'utf8' }));
      return { one, all, threads, source: `native AVX2 FMA probe (${cc})` };
    } catch {
      /* next compiler */
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { one: NaN, all: NaN, threads, source: 'unavailable (no C compiler with AVX2/FMA)' };
}

/**
 * Everything measured (printed with --json).
 * @type {{ machine: { cpu: string; threads: number; node: string }; peak: ReturnType<typeof fmaPeak>; peers: Record<string, any>; rows: Row[];
 *   gptCheck?: { reference: string; params: number; mismatches: string[] }; ratios?: Record<string, Record<string, number>> }}
 */
const results = { machine: { cpu: cpus()[0]?.model, threads: availableParallelism?.() ?? cpus().length, node: process.version }, peak: fmaPeak(), peers: {}, rows: [] };

log(`FMA peak: ${results.peak.one.toFixed(0)} GFLOP/s on 1 thread, ${results.peak.all.toFixed(0)} on ${results.peak.threads} (${results.peak.source})`);
for (const p of peers) {
  const r = child(p, 'init', {});
  results.peers[p] = r.ok ? r.result : { error: r.error };
  log(`${p}: ${r.ok ? JSON.stringify(r.result) : `unavailable: ${r.error}`}`);
}
// Unasked for, webgpu stays only on a hardware adapter.
if (!o.peers && (results.peers['nabla-webgpu']?.error || results.peers['nabla-webgpu']?.software)) {
  log('nabla-webgpu: left out (no hardware GPU adapter; --peers nabla-webgpu forces it)');
  peers = peers.filter((p) => p !== 'nabla-webgpu');
  delete results.peers['nabla-webgpu'];
}
const software = (/** @type {string} */ p) => results.peers[p]?.software === true;
const maxN = (/** @type {string} */ p) => o.maxN ?? (software(p) ? 256 : Infinity);
const softwareSkip = { skipped: 'skipped: software GPU' };

/** @param {string} row @param {string} unit @param {(p: string) => Cell} fn */
function measure(row, unit, fn) {
  /** @type {Row} */
  const entry = { row, unit, values: {} };
  for (const p of peers) {
    if (results.peers[p]?.error) {
      entry.values[p] = { error: 'peer unavailable' };
      continue;
    }
    const v = fn(p);
    entry.values[p] = v;
    log(`${row} | ${p}: ${v.value !== undefined ? `${v.value.toFixed(3)} ${unit}` : (v.skipped ?? v.error)}${v.note ? ` (${v.note})` : ''}`);
  }
  results.rows.push(entry);
}

/** @type {(n: number, variant: string) => (p: string) => Cell} */
const matmulCase = (n, variant) => (p) => {
  if (SLOW.has(p) && n >= 2048) return { skipped: 'skipped: too slow' };
  if (n > maxN(p)) return o.maxN === undefined ? softwareSkip : { skipped: `skipped: n > --max-n ${o.maxN}` };
  const r = child(p, 'matmul', { n, variant, minSeconds: SLOW.has(p) ? Math.min(minSeconds, 0.3) : minSeconds });
  if (!r.ok) return { error: r.error };
  return { value: r.result.flops / r.result.secondsPerOp / 1e9 };
};
if (tasks.has('matmul')) for (const n of matmulSizes) measure(`matmul n=${n}`, 'GFLOP/s', matmulCase(n, 'plain'));
if (tasks.has('variants')) {
  measure(`matmul n=${variantN} Aᵀ·B`, 'GFLOP/s', matmulCase(variantN, 'transA'));
  measure(`matmul n=${variantN} A·Bᵀ`, 'GFLOP/s', matmulCase(variantN, 'transB'));
  measure(`matmul 8×(${variantN / 2}×${variantN / 2})`, 'GFLOP/s', matmulCase(variantN, 'batched'));
}
if (tasks.has('conv2d')) {
  /** @type {Record<string, ChildReply>} */
  const conv = {};
  const get = (/** @type {string} */ p) => (conv[p] ??= child(p, 'conv2d', { minSeconds }));
  // jax-js takes seconds per convolution (and as long again to compile): 26 s of a 2-minute --quick run.
  const quickSkip = (/** @type {string} */ p) => o.quick && p === 'jax-js';
  measure('conv2d MNIST-CNN forward', 'ms', (p) => {
    if (software(p)) return softwareSkip;
    if (quickSkip(p)) return { skipped: 'skipped: --quick (seconds per call)' };
    const r = get(p);
    return r.ok ? { value: r.result.forwardSeconds * 1000 } : { error: r.error };
  });
  measure('conv2d MNIST-CNN backward', 'ms', (p) => {
    if (software(p)) return softwareSkip;
    if (quickSkip(p)) return { skipped: 'skipped: --quick (seconds per call)' };
    const r = get(p);
    if (!r.ok) return { error: r.error };
    if (typeof r.result.backwardSeconds !== 'number') return { skipped: 'unavailable', note: r.result.note };
    return { value: r.result.backwardSeconds * 1000, note: r.result.note };
  });
}
if (tasks.has('mnist')) {
  measure('MNIST MLP epoch (784-512-10, Adam, batch 128)', 's', (p) => {
    const r = child(p, 'mnist', { maxSeconds: mnistCap, readEvery: software(p) ? 1 : 50 });
    if (!r.ok) return { error: r.error };
    return { value: r.result.seconds, note: r.result.extrapolated ? `extrapolated from ${r.result.stepsRun} steps` : `loss ${Number(r.result.finalLoss).toFixed(3)}` };
  });
}

if (tasks.has('fit')) {
  const images = o.quick ? 3200 : 12800;
  measure('MNIST MLP epoch, Keras-style fit', 's', (p) => {
    if (p === 'jax-js' || p === 'nabla-js' || p === 'tfjs-cpu') return { skipped: p === 'jax-js' ? 'no fit API' : 'skipped: too slow' };
    if (software(p)) return softwareSkip;
    const r = child(p, 'fit', { images });
    if (!r.ok) return { error: r.error };
    return { value: r.result.seconds, note: `timed on ${images} images, scaled to 60,000` };
  });
}

if (tasks.has('gpt')) {
  // GPT `tiny` (4 layers, 4 heads, width 128, vocabulary 65), batch 32, context 64, AdamW: every
  // peer starts from the same weights and batches, so the losses of the first steps must agree.
  // The slow peers (seconds per step) run one warm-up step and a capped number of timed steps.
  const slow = new Set(['nabla-js', 'tfjs-cpu', 'tfjs-wasm']);
  const row = 'GPT tiny training (B 32, T 64, AdamW)';
  measure(row, 'tokens/s', (p) => {
    if (software(p)) return softwareSkip;
    const args = slow.has(p)
      ? { warmup: 1, minSeconds: o.quick ? 0 : 3, minSteps: 1, maxSteps: o.quick ? 1 : 3, maxSeconds: 60 }
      : { warmup: 3, minSeconds: o.quick ? 1 : 3, minSteps: 2, maxSeconds: 120 };
    const r = child(p, 'gpt', args);
    if (!r.ok) return { error: r.error };
    const g = r.result;
    return {
      value: g.tokensPerSecond,
      params: g.params,
      initialLoss: g.initialLoss,
      finalLoss: g.finalLoss,
      losses: g.losses,
      timedSteps: g.timedSteps,
      warmupSteps: g.warmupSteps,
      note: `loss ${g.initialLoss.toFixed(4)} → ${g.finalLoss.toFixed(4)} over ${g.warmupSteps}+${g.timedSteps} steps, ${g.params.toLocaleString('en-US')} params${g.note ? `; ${g.note}` : ''}`,
    };
  });
  // Same work: equal parameter counts, and per-step losses that agree with the first peer's.
  const done = /** @type {[string, Required<Cell>][]} */ (Object.entries(results.rows[results.rows.length - 1].values).filter(([, v]) => v.value !== undefined));
  if (done.length) {
    const [refPeer, ref] = done.reduce((a, b) => (b[1].losses.length > a[1].losses.length ? b : a)); // the longest run
    const check = { reference: refPeer, params: ref.params, mismatches: /** @type {string[]} */ ([]) };
    for (const [p, v] of done) {
      if (v.params !== ref.params) check.mismatches.push(`${p}: ${v.params} params`);
      const n = Math.min(v.losses.length, ref.losses.length);
      const d = Math.max(...v.losses.slice(0, n).map((l, i) => Math.abs(l - ref.losses[i])));
      if (!(d < 2e-3)) check.mismatches.push(`${p}: losses differ from ${refPeer}'s by ${d.toFixed(4)}`);
      if (!(v.finalLoss < v.initialLoss)) check.mismatches.push(`${p}: loss did not decrease`);
    }
    results.gptCheck = check;
    log(`${row}: ${check.mismatches.length ? `CHECK FAILED: ${check.mismatches.join('; ')}` : `same params (${ref.params}) and same per-step losses on every peer; loss decreases`}`);
  }
}

// Tables: figures, then ratios of nabla wasm (all threads) to each peer (>1: nabla faster).
const higherIsBetter = (/** @type {string} */ unit) => unit === 'GFLOP/s' || unit === 'tokens/s';
const fmt = (/** @type {Cell} */ v) =>
  v.value === undefined
    ? v.skipped
      ? v.skipped.startsWith('skipped')
        ? 'skipped'
        : v.skipped
      : 'n/a'
    : v.value >= 100
      ? v.value.toFixed(0)
      : v.value >= 10
        ? v.value.toFixed(1)
        : v.value.toFixed(2);
const cols = ['measurement', ...peers.map((p) => LABEL[p] ?? p)];
const table = results.rows.map((r) => [`${r.row} [${r.unit}]`, ...peers.map((p) => fmt(r.values[p]))]);
const peakRow = (/** @type {Row} */ r, /** @type {string} */ p) => {
  const v = r.values[p]?.value,
    peak = p === 'nabla-wasm-1' ? results.peak.one : results.peak.all;
  return v !== undefined && r.unit === 'GFLOP/s' && Number.isFinite(peak) ? `${((100 * v) / peak).toFixed(0)}%` : '';
};
const print = (/** @type {string[]} */ header, /** @type {string[][]} */ rows) => {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (/** @type {string[]} */ r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(header));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
};
console.log(`\nnabla benchmark — ${results.machine.cpu}, ${results.machine.threads} threads, Node ${results.machine.node} (WebAssembly relaxed SIMD enabled for every peer)`);
console.log(`FMA peak: ${results.peak.one.toFixed(0)} GFLOP/s (1 thread), ${results.peak.all.toFixed(0)} (${results.peak.threads} threads) — ${results.peak.source}`);
const allT = results.peers['nabla-wasm-all'];
if (allT?.variant) console.log(`nabla wasm allT: ${allT.variant} on ${allT.threads} threads, as \`import 'nabla'\` gives with no call`);
const gpuInfo = results.peers['nabla-webgpu'];
if (gpuInfo?.adapter)
  console.log(
    `GPU (nabla webgpu): ${[gpuInfo.adapter.vendor, gpuInfo.adapter.architecture, gpuInfo.adapter.description].filter(Boolean).join(' / ')} via ${gpuInfo.source}${gpuInfo.software ? ' — a software driver: correctness only, not speed' : ''}`,
  );
console.log('');
print(cols, table);
const gflopRows = results.rows.filter((r) => r.unit === 'GFLOP/s');
if (gflopRows.length) {
  console.log('\nnabla wasm: fraction of the native 256-bit FMA peak (1 thread / all threads); 128-bit Wasm SIMD tops out at 50% of it');
  print(
    ['measurement', 'wasm 1T', 'wasm allT'],
    gflopRows.map((r) => [r.row, peakRow(r, 'nabla-wasm-1'), peakRow(r, 'nabla-wasm-all')]),
  );
}
const base = 'nabla-wasm-all';
if (peers.includes(base)) {
  const others = peers.filter((p) => p !== base);
  console.log(`\nSpeed-up of nabla wasm (all threads) over each peer (>1 = nabla faster)`);
  print(
    ['measurement', ...others.map((p) => LABEL[p] ?? p)],
    results.rows.map((r) => [
      r.row,
      ...others.map((p) => {
        const a = r.values[base]?.value,
          b = r.values[p]?.value;
        if (a === undefined || b === undefined) return 'n/a';
        const x = higherIsBetter(r.unit) ? a / b : b / a;
        results.ratios ??= {};
        (results.ratios[r.row] ??= {})[p] = x;
        return `${x.toFixed(1)}×`;
      }),
    ]),
  );
}
const notes = results.rows.flatMap((r) =>
  peers.filter((p) => r.values[p]?.note || r.values[p]?.error).map((p) => `  ${r.row} / ${LABEL[p] ?? p}: ${r.values[p].note ?? r.values[p].error}`),
);
if (notes.length) console.log(`\nnotes:\n${notes.join('\n')}`);
if (results.gptCheck)
  console.log(
    `\nGPT check: ${results.gptCheck.mismatches.length ? `FAILED: ${results.gptCheck.mismatches.join('; ')}` : `every peer trained ${results.gptCheck.params.toLocaleString('en-US')} parameters and its per-step losses match ${LABEL[results.gptCheck.reference] ?? results.gptCheck.reference}'s (within 2e-3)`}`,
  );
if (o.json) console.log(JSON.stringify(results));
