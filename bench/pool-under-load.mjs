// The wasm thread pool on a busy machine (issue 17): a 256² matmul and an LSTM step on 1 thread and
// on every core, first on an idle machine, then with another process spinning on one core (what a
// server's own HTTP work or a neighbour does). Before the pool took units of work from a shared
// counter, a late worker made the host wait a whole OS time slice: 2 threads ran ~6× slower than 1.
// Usage: npm run build && node bench/pool-under-load.mjs [--json]

import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as nb from '../dist/src/index.js';

const json = process.argv.includes('--json');
const cores = Math.min(availableParallelism(), 16);

/**
 * Median ms per call of f over `reps` calls after a warm-up.
 * @param {() => unknown} f
 * @param {number} reps
 */
function timeIt(f, reps) {
  for (let i = 0; i < 3; i++) f();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

const g = new nb.Generator(0);
const a = nb.randn([256, 256], { generator: g }),
  b = nb.randn([256, 256], { generator: g });
const matmul = () => nb.scope(() => nb.matmul(a, b).dataSync());
const lstm = new nb.nn.LSTM(64, 128);
const x = nb.randn([32, 16, 64], { generator: g }); // [T, B, I]
const lstmStep = () => nb.scope(() => nb.noGrad(() => lstm.forward(x)[0].dataSync()));

/** @returns {Record<number, { matmul256: number, lstm: number }>} */
function measure() {
  /** @type {Record<number, { matmul256: number, lstm: number }>} */
  const out = {};
  for (const threads of [1, cores]) {
    nb.setThreads(threads);
    out[threads] = { matmul256: timeIt(matmul, 200), lstm: timeIt(lstmStep, 20) };
  }
  return out;
}

await nb.setBackend('wasm');
const idle = measure();
const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
/** @type {Record<number, { matmul256: number, lstm: number }>} */
let loaded;
try {
  loaded = measure();
} finally {
  busy.kill();
}
const rows = [];
/** @type {[string, Record<number, { matmul256: number, lstm: number }>][]} */
const runs = [
  ['idle', idle],
  ['one core busy', loaded],
];
for (const [what, m] of runs) {
  for (const k of /** @type {const} */ (['matmul256', 'lstm'])) {
    rows.push({ machine: what, op: k, ms1: m[1][k], msN: m[cores][k], slowdown: m[cores][k] / m[1][k] });
  }
}
if (json) console.log(JSON.stringify({ cores, rows }));
else {
  console.log(`wasm pool, ${cores} threads vs 1 (ms per call, median; slowdown = ${cores} threads / 1 thread, below 1 is a gain)`);
  for (const r of rows)
    console.log(
      `${r.machine.padEnd(14)} ${r.op.padEnd(10)} 1 thread ${r.ms1.toFixed(3).padStart(8)}  ${cores} threads ${r.msN.toFixed(3).padStart(8)}  slowdown ${r.slowdown.toFixed(2)}×`,
    );
}
