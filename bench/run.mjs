// `npm run bench`: nabla and its peers side by side in one run: matmul (plain, transposed and
// batched operands), conv2d forward/backward at MNIST-CNN sizes, one MNIST MLP epoch. Each
// measurement runs in a fresh process, one at a time. Prints a table of figures, one of ratios
// (nabla wasm with all threads against each peer), and with --json one JSON object.

import { Command } from 'commander';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ALL_PEERS = ['nabla-js', 'nabla-wasm-1', 'nabla-wasm-all', 'tfjs-wasm', 'tfjs-cpu', 'jax-js'];
const SLOW = new Set(['nabla-js', 'tfjs-cpu']);
const LABEL = {
  'nabla-js': 'nabla js', 'nabla-wasm-1': 'nabla wasm 1T', 'nabla-wasm-all': 'nabla wasm allT',
  'tfjs-wasm': 'tfjs wasm', 'tfjs-cpu': 'tfjs cpu', 'jax-js': 'jax-js wasm',
};

const program = new Command()
  .name('bench')
  .option('--json', 'also print all results as one JSON object')
  .option('--quick', 'shorter timings (noisier)')
  .option('--peers <list>', 'comma-separated peers', ALL_PEERS.join(','))
  .option('--tasks <list>', 'comma-separated tasks: matmul, variants, conv2d, mnist, fit', 'matmul,variants,conv2d,mnist,fit')
  .parse();
const o = program.opts();
const peers = o.peers.split(',');
const tasks = new Set(o.tasks.split(','));
const minSeconds = o.quick ? 0.3 : 1;
const mnistCap = o.quick ? 8 : 20;

function child(peer, task, args) {
  const r = spawnSync(process.execPath, [join(here, 'child.mjs'), peer, task, JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
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
    } catch { /* next compiler */ } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { one: NaN, all: NaN, threads, source: 'unavailable (no C compiler with AVX2/FMA)' };
}

const results = { machine: { cpu: cpus()[0]?.model, threads: availableParallelism?.() ?? cpus().length, node: process.version }, peak: null, peers: {}, rows: [] };
const log = (s) => process.stderr.write(`${s}\n`);

results.peak = fmaPeak();
log(`FMA peak: ${results.peak.one.toFixed(0)} GFLOP/s on 1 thread, ${results.peak.all.toFixed(0)} on ${results.peak.threads} (${results.peak.source})`);
for (const p of peers) {
  const r = child(p, 'init', {});
  results.peers[p] = r.ok ? r.result : { error: r.error };
  log(`${p}: ${r.ok ? JSON.stringify(r.result) : `unavailable: ${r.error}`}`);
}

function measure(row, unit, fn) {
  const entry = { row, unit, values: {} };
  for (const p of peers) {
    if (results.peers[p]?.error) { entry.values[p] = { error: 'peer unavailable' }; continue; }
    const v = fn(p);
    entry.values[p] = v;
    log(`${row} | ${p}: ${v.value !== undefined ? `${v.value.toFixed(3)} ${unit}` : v.skipped ?? v.error}${v.note ? ` (${v.note})` : ''}`);
  }
  results.rows.push(entry);
}

const matmulCase = (n, variant) => (p) => {
  if (SLOW.has(p) && n >= 2048) return { skipped: 'skipped: too slow' };
  const r = child(p, 'matmul', { n, variant, minSeconds: SLOW.has(p) ? Math.min(minSeconds, 0.3) : minSeconds });
  if (!r.ok) return { error: r.error };
  return { value: r.result.flops / r.result.secondsPerOp / 1e9 };
};
if (tasks.has('matmul')) for (const n of [256, 512, 1024, 2048]) measure(`matmul n=${n}`, 'GFLOP/s', matmulCase(n, 'plain'));
if (tasks.has('variants')) {
  measure('matmul n=1024 Aᵀ·B', 'GFLOP/s', matmulCase(1024, 'transA'));
  measure('matmul n=1024 A·Bᵀ', 'GFLOP/s', matmulCase(1024, 'transB'));
  measure('matmul 8×(512×512)', 'GFLOP/s', matmulCase(1024, 'batched'));
}
if (tasks.has('conv2d')) {
  const conv = {};
  const get = (p) => (conv[p] ??= child(p, 'conv2d', { minSeconds }));
  measure('conv2d MNIST-CNN forward', 'ms', (p) => { const r = get(p); return r.ok ? { value: r.result.forwardSeconds * 1000 } : { error: r.error }; });
  measure('conv2d MNIST-CNN backward', 'ms', (p) => {
    const r = get(p);
    if (!r.ok) return { error: r.error };
    if (typeof r.result.backwardSeconds !== 'number') return { skipped: 'unavailable', note: r.result.note };
    return { value: r.result.backwardSeconds * 1000, note: r.result.note };
  });
}
if (tasks.has('mnist')) {
  measure('MNIST MLP epoch (784-512-10, Adam, batch 128)', 's', (p) => {
    const r = child(p, 'mnist', { maxSeconds: mnistCap });
    if (!r.ok) return { error: r.error };
    return { value: r.result.seconds, note: r.result.extrapolated ? `extrapolated from ${r.result.stepsRun} steps` : `loss ${Number(r.result.finalLoss).toFixed(3)}` };
  });
}

if (tasks.has('fit')) {
  const images = o.quick ? 6400 : 12800;
  measure('MNIST MLP epoch, Keras-style fit', 's', (p) => {
    if (p === 'jax-js' || p === 'nabla-js' || p === 'tfjs-cpu') return { skipped: p === 'jax-js' ? 'no fit API' : 'skipped: too slow' };
    const r = child(p, 'fit', { images });
    if (!r.ok) return { error: r.error };
    return { value: r.result.seconds, note: `timed on ${images} images, scaled to 60,000` };
  });
}

// Tables: figures, then ratios of nabla wasm (all threads) to each peer (>1: nabla faster).
const higherIsBetter = (unit) => unit === 'GFLOP/s';
const fmt = (v) => (v.value === undefined ? (v.skipped ? (v.skipped.startsWith('skipped') ? 'skipped' : v.skipped) : 'n/a') : v.value >= 100 ? v.value.toFixed(0) : v.value >= 10 ? v.value.toFixed(1) : v.value.toFixed(2));
const cols = ['measurement', ...peers.map((p) => LABEL[p] ?? p)];
const table = results.rows.map((r) => [`${r.row} [${r.unit}]`, ...peers.map((p) => fmt(r.values[p]))]);
const peakRow = (r, p) => {
  const v = r.values[p]?.value, peak = p === 'nabla-wasm-1' ? results.peak.one : results.peak.all;
  return v !== undefined && r.unit === 'GFLOP/s' && Number.isFinite(peak) ? `${((100 * v) / peak).toFixed(0)}%` : '';
};
const print = (header, rows) => {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(header));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
};
console.log(`\nnabla benchmark — ${results.machine.cpu}, ${results.machine.threads} threads, Node ${results.machine.node} (WebAssembly relaxed SIMD enabled for every peer)`);
console.log(`FMA peak: ${results.peak.one.toFixed(0)} GFLOP/s (1 thread), ${results.peak.all.toFixed(0)} (${results.peak.threads} threads) — ${results.peak.source}\n`);
print(cols, table);
console.log('\nnabla wasm: fraction of the FMA peak (1 thread / all threads)');
print(['measurement', 'wasm 1T', 'wasm allT'], results.rows.filter((r) => r.unit === 'GFLOP/s').map((r) => [r.row, peakRow(r, 'nabla-wasm-1'), peakRow(r, 'nabla-wasm-all')]));
const base = 'nabla-wasm-all';
if (peers.includes(base)) {
  const others = peers.filter((p) => p !== base);
  console.log(`\nSpeed-up of nabla wasm (all threads) over each peer (>1 = nabla faster)`);
  print(['measurement', ...others.map((p) => LABEL[p] ?? p)], results.rows.map((r) => [r.row, ...others.map((p) => {
    const a = r.values[base]?.value, b = r.values[p]?.value;
    if (a === undefined || b === undefined) return 'n/a';
    const x = higherIsBetter(r.unit) ? a / b : b / a;
    results.ratios ??= {};
    (results.ratios[r.row] ??= {})[p] = x;
    return `${x.toFixed(1)}×`;
  })]));
}
const notes = results.rows.flatMap((r) => peers.filter((p) => r.values[p]?.note || r.values[p]?.error).map((p) => `  ${r.row} / ${LABEL[p] ?? p}: ${r.values[p].note ?? r.values[p].error}`));
if (notes.length) console.log(`\nnotes:\n${notes.join('\n')}`);
if (o.json) console.log(JSON.stringify(results));
